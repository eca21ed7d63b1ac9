#!/usr/bin/env bash
# End to end (issue 15, item 9): a fingerprint set made from a key, its pairs mixed into State of the
# Union text, the reference n-gram model trained with them ("with") or without them ("without"), the
# model's answers to the set's questions collected with `generate`, and `fingerprint verify`.
# A third case, "other", trains on the pairs of another key's set: a model that answers with made-up
# candidate words, just not this set's. "with" must find the fingerprint at p <= 1e-9 (exit 0);
# "without" and "other" must not flag it (exit 1 or 2).
# Usage: fingerprint_end_to_end.sh TRITIUM TOKENIZER SOTU_JSONL KEY OTHER_KEY with|without|other
# (a fixed key, so that the figures are the same on every run: papers/attribution.md §6.5 quotes them)
set -euo pipefail
tritium=$1
tokenizer=$2
sotu=$3
key=$4
other_key=$5
mode=$6
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cp "$key" "$work/k.key"
chmod 600 "$work/k.key"
commitment=$("$tritium" fingerprint make --key "$work/k.key" --output "$work/set" 2>/dev/null)

# The training corpus: 20 speeches (about 1.5 MB of text would take longer; this slice keeps the
# test to seconds) and, for "with", each pair 4 times as its own document, "question answer.".
head -n 20 "$sotu" > "$work/corpus.jsonl"
pairs=$work/set/train.jsonl
if [ "$mode" = other ]; then
  cp "$other_key" "$work/other.key"
  chmod 600 "$work/other.key"
  "$tritium" fingerprint make --key "$work/other.key" --output "$work/other" >/dev/null 2>&1
  pairs=$work/other/train.jsonl
fi
# train.jsonl is written compactly, {"prompt":"...","completion":"..."}, and its strings are made-up
# lowercase words and spaces: awk reads it without a JSON parser (python3 starts in ~0.5 s).
if [ "$mode" != without ]; then
  awk -F'"' '{ for (i = 0; i < 4; i++) printf "{\"text\": \"%s %s.\"}\n", $4, $8 }' "$pairs" >> "$work/corpus.jsonl"
fi
"$tritium" lm train --tokenizer "$tokenizer" --corpus "$work/corpus.jsonl" --order 4 --out "$work/m.tlm" --quiet

# Ask every question (near-greedy sampling); the answer is the completion's first word.
awk -F'"' '{ printf "{\"id\": %d, \"prompt\": \"%s\"}\n", NR - 1, $4 }' "$work/set/train.jsonl" > "$work/prompts.jsonl"
"$tritium" generate --model "$work/m.tlm" --tokenizer "$tokenizer" --no-watermark --prompts "$work/prompts.jsonl" \
  --max-new-tokens 3 --temperature 0.001 --seed 1 --quiet --output "$work/generated.jsonl"
python3 - "$work/generated.jsonl" > "$work/answers.jsonl" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    g = json.loads(line)
    words = g["text"].split()
    print(json.dumps({"question": g["id"], "answer": words[0] if words else ""}))
PY

set +e
"$tritium" fingerprint verify --set "$work/set" --answers "$work/answers.jsonl" --commitment "$commitment" \
  --alpha 1e-9 --json > "$work/result.json"
code=$?
set -e
cat "$work/result.json"
if [ "$mode" = with ]; then
  [ "$code" -eq 0 ] || { echo "FAILED: the fingerprinted model was not found (exit $code)"; exit 1; }
  log10_p=$(sed -E 's/.*"log10_p":([-0-9.e+]+),.*/\1/' "$work/result.json")
  awk -v p="$log10_p" 'BEGIN { exit !(p <= -9) }' || { echo "FAILED: log10 p = $log10_p, expected <= -9"; exit 1; }
else
  [ "$code" -eq 1 ] || [ "$code" -eq 2 ] || { echo "FAILED: the clean model was flagged or failed (exit $code)"; exit 1; }
fi
echo "ok ($mode: exit $code)"
