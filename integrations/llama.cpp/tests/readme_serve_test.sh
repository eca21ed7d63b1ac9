#!/usr/bin/env bash
# Runs README.md's "Serve with llama.cpp" block as written (documentation drift), from a scratch
# folder holding the build as `build/`, on a free loopback port instead of 8080; it must detect the
# watermark and accuse the account. The server it starts is stopped by its PID, here too if the block
# fails half-way. Usage: readme_serve_test.sh README_MD BUILD_DIR LLAMA_CACHE FIXED_KEY SCRATCH
set -euo pipefail
readme=$1 build=$2 cache=$3 fixed_key=$4 scratch=$5
rm -rf "$scratch" && mkdir -p "$scratch" && cd "$scratch"
ln -s "$build" build
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
sed -n '/^## Serve with llama.cpp/,/^## /p' "$readme" | sed -n '/^```sh$/,/^```$/p' | sed '1d;$d' >block.sh
[ -s block.sh ] || { echo "FAILED: no sh block under 'Serve with llama.cpp'"; exit 1; }
grep -q '~/.cache/tritium/llama.cpp-v0.4.0' block.sh || { echo "FAILED: the block no longer names the default cache"; exit 1; }
# The only changes: the port, the cache folder this build uses (the README's default otherwise), and
# a fixed key (the trace KAT key) instead of a fresh one, so that with the block's seeded request the
# verdicts are the same every run (trace's decoy check refuses a verdict in about 1-4% of runs by
# design; a fresh key would make this test flake at that rate).
grep -q '^build/cli/tritium keygen --trace .* --output wm.key' block.sh || { echo "FAILED: the block's keygen line changed"; exit 1; }
sed -e "s/8080/$port/g" -e "s|~/.cache/tritium/llama.cpp-v0.4.0|$cache|g" \
    -e "s|^build/cli/tritium keygen --trace .* --output wm.key.*|cp $fixed_key wm.key \&\& chmod 600 wm.key|" block.sh >run.sh
{ echo 'set -e'; echo 'trap '\''[ -n "${server:-}" ] && kill "$server" 2>/dev/null || true'\'' EXIT'; cat run.sh; } >run-guarded.sh
bash run-guarded.sh >out.txt 2>err.txt || { echo "FAILED: the block stopped (exit $?)"; tail -20 err.txt; exit 1; }
grep -q "Verdict: WATERMARK DETECTED" out.txt || { echo "FAILED: no detection"; cat out.txt; exit 1; }
grep -q "ACCUSED   acme-labs" out.txt || { echo "FAILED: acme-labs not accused"; cat out.txt; exit 1; }
echo "ok: the README's serve block runs as written: watermark detected, acme-labs accused"
