#!/usr/bin/env bash
# Installs the build into a scratch prefix, then builds and runs a consumer that only knows
# find_package(tritium). Usage: run.sh BUILD_DIR CONSUMER_SOURCE_DIR CXX_COMPILER
set -euo pipefail
build=$1
source_dir=$2
cxx=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$build" --prefix "$work/prefix" >/dev/null
cmake -S "$source_dir" -B "$work/build" -DCMAKE_PREFIX_PATH="$work/prefix" \
      -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$work/build" >/dev/null
"$work/build/consumer"
