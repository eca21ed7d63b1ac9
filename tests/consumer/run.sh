#!/usr/bin/env bash
# Installs the build into a scratch prefix, then builds and runs a consumer that only knows
# find_package(tritium). Usage: run.sh BUILD_DIR CONSUMER_SOURCE_DIR CXX_COMPILER [SANITIZERS]
set -euo pipefail
build=$1
source_dir=$2
cxx=$3
sanitizers=${4:-}
extra=()
# A library built with sanitizers needs their runtime in whatever links it.
[ -z "$sanitizers" ] || extra=(-DCMAKE_EXE_LINKER_FLAGS="-fsanitize=$sanitizers")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$build" --prefix "$work/prefix" >/dev/null
cmake -S "$source_dir" -B "$work/build" -DCMAKE_PREFIX_PATH="$work/prefix" \
      -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=Release "${extra[@]}" >/dev/null
cmake --build "$work/build" >/dev/null
"$work/build/consumer"
