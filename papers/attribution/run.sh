#!/usr/bin/env bash
# Regenerates the reference-LM tables of papers/attribution.md §7 (issue 15): quality and the global
# test against single-key KGW (texts and 5% students), tracing in corpus mode for clusters of
# c in {1, 2, 4, 8} accounts among 10,000, innocent accounts and human text, the radioactivity-mode
# curve of the best colluder, and the bench figures of account tracing.
# CSV files are written into papers/attribution/; WORK_DIR keeps keys, texts and models (about 1 GB)
# and lets an interrupted run resume. Python 3 standard library only.
# Usage: papers/attribution/run.sh BUILD_DIR WORK_DIR [JOBS]   (about 35 minutes with JOBS = 2)
# ATTRIBUTION_SMOKE=1 runs every code path on small sizes in a few minutes, writing the CSV files
# into WORK_DIR instead (the numbers mean nothing).
set -euo pipefail
build=$(cd "$1" && pwd)
mkdir -p "$2"
work=$(cd "$2" && pwd)
jobs=${3:-2}
here=$(cd "$(dirname "$0")" && pwd)
start=$SECONDS
cmake --build "$build" --target tritium attribution_quality -j "$jobs" > /dev/null
for part in trace student read quality; do
  t=$SECONDS
  python3 "$here/experiment.py" "$part" "$build" "$work" "$jobs"
  echo "experiment.py $part: $((SECONDS - t)) s" >&2
done
out=$here
[[ -n "${ATTRIBUTION_SMOKE:-}" ]] && out=$work
# The bench's tracing lines: the embedding kernels (dense bias with and without the account), the scan
# against radioactivity on the same tokens, and ranking 10^6 accounts.
"$build/cli/tritium" bench > "$out/bench.txt"
echo "papers/attribution: done in $((SECONDS - start)) s" >&2
