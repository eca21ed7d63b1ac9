#!/usr/bin/env bash
# Regenerates every table and plot of papers/radioactivity.md: Sander et al. (NeurIPS 2024) with
# tritium's reference model as the watermarked teacher (KGW, gamma 0.25) and order-3 n-gram students.
#   - for delta in {2, 3} and h in {1, 2}: the rho grid (0, 1, 5, 10, 25, 100%) in closed and reading
#     modes, -log10 p curves, the dedup ablation, the filter ablation and the planner check
#     (experiment.py config);
#   - the null at rho = 0 over 120 fresh keys (delta 3, h 1) and 100 keys (delta 2, h 2), with KS
#     tests per mode and per ablation (experiment.py null);
#   - the SVG plots (plot.py).
# CSV and SVG files are written into papers/radioactivity/; WORK_DIR keeps the models and texts
# (about 1.5 GB) and lets an interrupted run resume. Python 3 standard library only.
# Usage: papers/radioactivity/run.sh BUILD_DIR WORK_DIR [JOBS]   (about 30 minutes with JOBS = 2)
set -euo pipefail
build=$(cd "$1" && pwd)
mkdir -p "$2"
work=$(cd "$2" && pwd)
jobs=${3:-2}
here=$(cd "$(dirname "$0")" && pwd)
start=$SECONDS
step() {
  local t=$SECONDS
  python3 "$here/experiment.py" "$@"
  echo "experiment.py $*: $((SECONDS - t)) s" >&2
}
for config in "3 1" "2 1" "3 2" "2 2"; do
  # shellcheck disable=SC2086
  step config "$build" "$work" $config "$jobs"
done
step null "$build" "$work" 3 1 120 "$jobs"
step null "$build" "$work" 2 2 100 "$jobs"
python3 "$here/plot.py"
echo "papers/radioactivity: done in $((SECONDS - start)) s" >&2
