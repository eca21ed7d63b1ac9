#!/usr/bin/env bash
# Fetches the pinned llama.cpp (v0.4.0, commit 80fb11a) from the npm registry into a cache outside
# the clone, checks each tarball against the integrity hash recorded here, and unpacks it:
#   CACHE/npm/*.tgz            the two tarballs (never committed)
#   CACHE/prebuilt/            @node-llama-cpp/linux-x64: libllama.v0.4.0.so, libggml*.so, libllama-common.so
#   CACHE/llama.cpp/           the source tree, cloned from node-llama-cpp's git bundle
# Prints CACHE. Idempotent: what is present and verified is kept.
# Usage: integrations/llama.cpp/fetch.sh [CACHE]   (default ${TRITIUM_CACHE:-$HOME/.cache/tritium}/llama.cpp-v0.4.0)
set -euo pipefail
cache=${1:-${TRITIUM_CACHE:-$HOME/.cache/tritium}/llama.cpp-v0.4.0}
mkdir -p "$cache/npm"
# package@version  sha512 integrity as the registry records it (npm view PACKAGE@VERSION dist.integrity)
packages=(
  "node-llama-cpp@3.21.1 sha512-E3N0Ev2Va0wzydvXYFwM9Hvyo07PoWjt8T/9GMc43Cvt8YkV/NU/tYUgEMC1grTPv2o9PRjQi0G3Wb5P/awiMg=="
  "@node-llama-cpp/linux-x64@3.21.1 sha512-Totj6RTDMGo3FoK2yNUaz/oGmZD0olAqTrRluFUWmu0kW2i9TOzHSW0OWCAiGkzRCVX0WsU2CyUQo/W2NYtdPA=="
)
integrity_of() { echo "sha512-$(openssl dgst -sha512 -binary "$1" | base64 -w0)"; }
for entry in "${packages[@]}"; do
  read -r spec expected <<<"$entry"
  name=${spec%@*}
  version=${spec##*@}
  tgz="$cache/npm/$(echo "${name#@}" | tr / -)-$version.tgz"
  if [ ! -f "$tgz" ] || [ "$(integrity_of "$tgz")" != "$expected" ]; then
    rm -f "$tgz"
    (cd "$cache/npm" && npm pack --silent "$spec" >/dev/null)
  fi
  got=$(integrity_of "$tgz")
  if [ "$got" != "$expected" ]; then
    rm -f "$tgz"
    echo "fetch.sh: $spec: integrity $got, expected $expected; nothing unpacked" >&2
    exit 3
  fi
done
if [ ! -f "$cache/prebuilt/libllama.v0.4.0.so" ]; then
  tmp=$(mktemp -d "$cache/.unpack.XXXXXX")
  tar xzf "$cache/npm/node-llama-cpp-linux-x64-3.21.1.tgz" -C "$tmp"
  rm -rf "$cache/prebuilt"
  mv "$tmp/package/bins/linux-x64" "$cache/prebuilt"
  rm -rf "$tmp"
fi
if [ ! -f "$cache/llama.cpp/include/llama.h" ]; then
  tmp=$(mktemp -d "$cache/.unpack.XXXXXX")
  tar xzf "$cache/npm/node-llama-cpp-3.21.1.tgz" -C "$tmp" package/llama/gitRelease.bundle package/llama/llama.cpp.info.json
  grep -q '"tag": "v0.4.0"' "$tmp/package/llama/llama.cpp.info.json"
  rm -rf "$cache/llama.cpp"
  git clone -q "$tmp/package/llama/gitRelease.bundle" "$tmp/llama.cpp" 2>/dev/null
  [ "$(git -C "$tmp/llama.cpp" rev-parse --short=7 HEAD)" = 80fb11a ] || { echo "fetch.sh: the bundle is not commit 80fb11a" >&2; exit 3; }
  mv "$tmp/llama.cpp" "$cache/llama.cpp"
  rm -rf "$tmp"
fi
echo "$cache"
