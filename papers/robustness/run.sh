#!/usr/bin/env bash
# Regenerates the tables and figures of papers/robustness.md §2–4 (issue 17, items 8–10): every
# scheme's answers from the reference model, their quality, their detection after attacks, and
# students trained with 5% of each scheme's answers. Writes quality.csv, attacks.csv,
# radioactivity.csv and three SVG figures into papers/robustness/; WORK_DIR keeps the second model,
# the answers and the students. Python 3 standard library only.
# Usage: papers/robustness/run.sh BUILD_DIR WORK_DIR [TEXTS] [THREADS]   (about 12 minutes on 2 cores
# with the default 60 answers per configuration)
set -euo pipefail
build=$(cd "$1" && pwd)
mkdir -p "$2"
work=$(cd "$2" && pwd)
texts=${3:-60}
threads=${4:-2}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
start=$SECONDS
cmake --build "$build" --target tritium reference_model robustness_evaluate -j "$threads" > /dev/null
qwen3=$root/fixtures/tokenizers/qwen3/tokenizer.json
# The second model: order 3 on the held-out addresses, which the reference model never saw.
"$build/cli/tritium" lm train --tokenizer "$qwen3" --corpus "$root/fixtures/corpus/sotu_heldout.jsonl" --order 3 \
  --vocab-size 151936 --output "$work/second.tlm" --force 2> /dev/null
"$build/papers/robustness/robustness_evaluate" "$build/reference-model/sotu-moby-qwen3-4gram.tlm" "$work/second.tlm" \
  "$qwen3" "$root/fixtures/tokenizers/gpt2/tokenizer.json" "$root/fixtures/corpus/prompts.jsonl" "$here" "$texts" "$threads" "$work"
# §4: order-4 students on the reference model's human text with 5% of one scheme's answers (the human
# text is subsampled to make the share), and a control on the human text alone.
human=("$root/fixtures/corpus/sotu_train.jsonl" "$root/fixtures/corpus/moby_dick.jsonl")
train() {  # train OUTPUT [WATERMARKED]
  local extra=()
  [[ $# -gt 1 ]] && extra=(--watermarked "$2" --fraction 0.05)
  "$build/cli/tritium" lm train --tokenizer "$qwen3" --corpus "${human[@]}" "${extra[@]}" --order 4 --vocab-size 151936 \
    --output "$1" --force 2> /dev/null
}
train "$work/student_control.tlm"
students=()
for config in kgw_d_2 kgw-selfhash_h_3_d_2 unigram_d_2 gumbel_h_3 synthid_m_30 transformers-kgw_d_2; do
  train "$work/student_$config.tlm" "$work/answers_$config.jsonl"
  students+=("$work/student_$config.tlm")
done
"$build/papers/robustness/robustness_evaluate" students "$qwen3" "$root/fixtures/corpus/prompts.jsonl" "$here" "$threads" \
  "$work/student_control.tlm" "${students[@]}"
python3 "$here/figures.py"
echo "papers/robustness: done in $((SECONDS - start)) s" >&2
