#!/usr/bin/env bash
# Compiles the patched llama-server sources (server/server.patch on llama.cpp v0.4.0) into
# CACHE/server-DIGEST/libllama_server_patched.a, where DIGEST covers the source commit, the patch,
# the build recipe (server/CMakeLists.txt) and the hooks header the patch includes. The result lives
# outside the clone and is reused by every later build with the same inputs (a cold build takes
# about 2.5 minutes on 2 cores; a cached one, nothing). Prints the directory.
# Usage: integrations/llama.cpp/build-server.sh CACHE [--print-dir]   (CACHE: what fetch.sh printed;
#        --print-dir: only print the directory the library goes to, building nothing)
set -euo pipefail
cache=${1:?usage: build-server.sh CACHE}
here=$(cd "$(dirname "$0")" && pwd)
commit=$(git -C "$cache/llama.cpp" rev-parse HEAD)
digest=$( { echo "$commit"; cat "$here/server/server.patch" "$here/server/CMakeLists.txt" "$here/server/tritium_server_hooks.h"; } \
          | sha256sum | cut -c1-16)
out="$cache/server-$digest"
if [ "${2:-}" = --print-dir ]; then echo "$out"; exit 0; fi
if [ -f "$out/libllama_server_patched.a" ]; then
  touch "$out/libllama_server_patched.a"  # newer than a fresh clone's sources, so make does not rerun this
  echo "$out"
  exit 0
fi
tmp=$(mktemp -d "$cache/.server.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/src"
git -C "$cache/llama.cpp" archive HEAD tools/server tools/mtmd tools/ui/embed.cpp vendor common include ggml/include src \
  | tar x -C "$tmp/src"
# GIT_CEILING_DIRECTORIES: apply relative to $tmp/src even if the cache sits inside some repository
(cd "$tmp/src" && GIT_CEILING_DIRECTORIES="$tmp" git apply "$here/server/server.patch")
cmake -S "$here/server" -B "$tmp/build" -DLLAMA_SRC="$tmp/src" -DHOOKS_DIR="$here/server" >/dev/null
nice cmake --build "$tmp/build" -j"${JOBS:-2}" >/dev/null
mkdir "$tmp/out"
cp "$tmp/build/libllama_server_patched.a" "$tmp/out/"
mv -T "$tmp/out" "$out" 2>/dev/null || [ -f "$out/libllama_server_patched.a" ]  # a concurrent build won
echo "$out"
