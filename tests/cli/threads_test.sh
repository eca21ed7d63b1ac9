#!/usr/bin/env bash
# The commands that run on several workers give the single worker's output, byte for byte: the document
# pipeline (tokenize, detect; issue 10) and the model's queries on every core (generate, radioactivity
# closed/read --model, report verify --recompute; issue 14, item 8). .ci/sanitizers runs this script
# under ThreadSanitizer (cli.threads), so it holds only what exercises threads and keeps its own set-up.
# Usage: threads_test.sh TRITIUM_BINARY FIXTURES_CLI_DIR
set -uo pipefail
source "$(dirname "$0")/lib.sh" "$@"  # $tritium, $fixtures, $work and the helpers

tok=$fixtures/../tokenizers/gpt2/tokenizer.json
# A fixed key (fixtures/cli/gpt2.key, a public test secret): the null verdicts below must not depend on
# a key drawn at random, which would fail them one run in a thousand (alpha).
cp "$fixtures/gpt2.key" "$work/gpt2.key"; chmod 600 "$work/gpt2.key"
mkdir -p "$work/texts/sub"
printf 'The quick brown fox jumps over the lazy dog.\n' > "$work/texts/a.txt"
printf 'Hello, world! It'"'"'s 2026.\n' > "$work/texts/sub/b.txt"
run small-lm 0 -- lm train --tokenizer "$tok" --corpus "$work/texts" --order 2 --out "$work/small.tlm"
run signer 0 -- report keygen --out "$work/i13-signer.key"

# ---- Issue 10: the document pipeline with several workers ------------------------------------------
# 9000 small documents make three batches (4096 documents each at most), so the batch reader runs
# alongside four workers. The output must be the single worker's, in input order.
seq 1 9000 | awk '{printf "{\"id\": \"d%d\", \"text\": \"Document %d: the quick brown fox, %d times.\"}\n", $1, $1, $1 * 7}' \
  > "$work/many.jsonl"
run tokenize-threads-1 0 -- tokenize --tokenizer "$tok" --input "$work/many.jsonl" --json --threads 1
cp "$work/out" "$work/many.tokens.1"
run tokenize-threads-4 0 -- tokenize --tokenizer "$tok" --input "$work/many.jsonl" --json --threads 4
cmp -s "$work/many.tokens.1" "$work/out"; check "tokenize: four workers give the single worker's output" $?
[ "$(wc -l < "$work/out")" -eq 9000 ] && [ "$(tail -n 1 "$work/out" | cut -c1-13)" = '{"id":"d9000"' ]
check "tokenize: every document of three batches, in input order" $?
run detect-threads-1 1 -- detect --key "$work/gpt2.key" --tokenizer "$tok" --input "$work/many.jsonl" --json --threads 1
cp "$work/out" "$work/many.detect.1"
run detect-threads-4 1 -- detect --key "$work/gpt2.key" --tokenizer "$tok" --input "$work/many.jsonl" --json --threads 4
cmp -s "$work/many.detect.1" "$work/out"; check "detect: four workers give the single worker's output" $?

# ==== issue 14: item 8 — the model's queries on every core; the output is the single worker's ====
# 1100 prompts make two batches of model queries (1024 at most each), answered by three workers while
# the answers are written (generate) or scored (radioactivity) in prompt order.
python3 -c "
import json
for i in range(1100): print(json.dumps({'id': i, 'prompt': 'The %d quick brown foxes, number %d.' % (i * 7, i)}))" > "$work/i14-many-prompts.jsonl"
for n in 1 3; do
  run i14-generate-threads-$n 0 -- generate --model "$work/small.tlm" --tokenizer "$tok" --key "$work/gpt2.key" --prompts "$work/i14-many-prompts.jsonl" --max-new-tokens 4 --seed 7 --threads $n --output "$work/i14-gen-$n.jsonl"
done
cmp -s "$work/i14-gen-1.jsonl" "$work/i14-gen-3.jsonl"; check "issue 14: item 8: generate with three workers writes the single worker's bytes" $?
[ "$(wc -l < "$work/i14-gen-3.jsonl")" -eq 1100 ] && [ "$(tail -n 1 "$work/i14-gen-3.jsonl" | cut -c1-10)" = '{"id":1099' ]
check "issue 14: item 8: generate answers every prompt of both batches, in prompt order" $?
for n in 1 3; do
  # The model never saw text marked with gpt2.key: "no evidence" (1; under the fixed key, log10 p -0.68 and
  # KS p 0.106 for closed, -0.26 and 0.841 for read). What is tested is that every worker count gives the same figures.
  run i14-closed-threads-$n 1 -- radioactivity closed --key "$work/gpt2.key" --tokenizer "$tok" --model "$work/small.tlm" --prompts "$work/i14-many-prompts.jsonl" --max-new-tokens 4 --seed 7 --json --threads $n --report "$work/i14-closed-$n.report.json" --signing-key "$work/i13-signer.key"
  cp "$work/out" "$work/i14-closed-$n.json"
  run i14-read-threads-$n 1 -- radioactivity read --key "$work/gpt2.key" --tokenizer "$tok" --model "$work/small.tlm" --input "$work/i14-gen-1.jsonl" --json --threads $n
  cp "$work/out" "$work/i14-read-$n.json"
done
cmp -s "$work/i14-closed-1.json" "$work/i14-closed-3.json"; check "issue 14: item 8: radioactivity closed --model with three workers gives the single worker's figures" $?
grep -q '"counts":{"read":' "$work/i14-closed-3.json" && ! grep -q '"scored":0,' "$work/i14-closed-3.json"
check "issue 14: item 8: radioactivity closed --model scored the answers" $?
cmp -s "$work/i14-read-1.json" "$work/i14-read-3.json"; check "issue 14: item 8: radioactivity read --model with three workers gives the single worker's figures" $?
# A report made with three workers recomputes with one, and the other way round.
run i14-verify-recompute-threads-1 0 -- report verify "$work/i14-closed-3.report.json" --public-key "$work/i13-signer.key.pub" --key "$work/gpt2.key" --recompute --threads 1
run i14-verify-recompute-threads-3 0 -- report verify "$work/i14-closed-1.report.json" --public-key "$work/i13-signer.key.pub" --key "$work/gpt2.key" --recompute --threads 3 --quiet
# "No evidence", as above; what matters is stderr.
run i14-no-progress-off-terminal 1 -- radioactivity closed --key "$work/gpt2.key" --tokenizer "$tok" --model "$work/small.tlm" --prompts "$work/i14-many-prompts.jsonl" --max-new-tokens 4
! grep -q $'\r' "$work/err"; check "issue 14: item 8: no progress line on a stderr that is not a terminal" $?

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
