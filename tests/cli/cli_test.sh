#!/usr/bin/env bash
# Command-line tests: golden outputs, pinned error messages and documented exit codes.
# Usage: cli_test.sh TRITIUM_BINARY FIXTURES_CLI_DIR   (set UPDATE_GOLDEN=1 to rewrite golden files)
set -uo pipefail
tritium=$1
fixtures=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0
failed=0

check() {  # check NAME STATUS — STATUS must be captured before NAME is built (it may run commands)
  if [ "$2" -eq 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAILED: $1"; fi
}

run() {  # run NAME EXPECTED_EXIT -- ARGS... ; leaves stdout in $work/out, stderr in $work/err
  local name=$1 expected=$2
  shift 3
  "$tritium" "$@" >"$work/out" 2>"$work/err"
  local code=$?
  local rc=0
  [ "$code" -eq "$expected" ] || rc=1
  check "$name: exit $code, expected $expected ($(head -c 300 "$work/err"))" $rc
}

golden() {  # golden NAME FILE: compares $work/out with the golden file
  if [ "${UPDATE_GOLDEN:-0}" = 1 ]; then cp "$work/out" "$fixtures/$2"; fi
  local rc=0
  diff -u "$fixtures/$2" "$work/out" >"$work/diff" || rc=1
  check "$1: output differs from $2: $(head -c 2000 "$work/diff")" $rc
}

stderr_has() {  # stderr_has NAME TEXT
  local rc=0
  grep -qF -- "$2" "$work/err" || rc=1
  check "$1: stderr lacks '$2' (got: $(head -c 300 "$work/err"))" $rc
}

cp "$fixtures/test.key" "$work/test.key"
chmod 600 "$work/test.key"
key=$work/test.key
docs=$fixtures/docs.jsonl

# Help documents the exit codes.
run help 0 -- --help
grep -q "Exit codes: 0" "$work/out"; check "help lists exit codes" $?

# keygen: mode 0600, never overwrites, the secret is not printed.
run keygen 0 -- keygen --out "$work/new.key" --vocab-size 50257 --gamma 0.25 --delta 2
[ "$(stat -c %a "$work/new.key")" = 600 ]; check "keygen mode 0600" $?
secret=$(grep '"secret"' "$work/new.key" | sed 's/.*"secret": "\([0-9a-f]*\)".*/\1/')
[ ${#secret} -eq 64 ]; check "key file holds a 64-digit secret" $?
! grep -q "$secret" "$work/out" "$work/err"; check "keygen does not print the secret" $?
run keygen-no-overwrite 5 -- keygen --out "$work/new.key" --vocab-size 50257
stderr_has keygen-no-overwrite "refusing to overwrite the existing key file"
run keygen-bad-gamma 3 -- keygen --out "$work/g.key" --vocab-size 100 --gamma 1.5
stderr_has keygen-bad-gamma "gamma: expected a value in (0, 1), got 1.5"
[ ! -e "$work/g.key" ]; check "no key file after a failed keygen" $?

# key show prints the public part only.
run key-show 0 -- key show "$key"
golden key-show key_show.txt
! grep -q '"secret"\|secret' "$work/out"; check "key show prints no secret" $?
cp "$key" "$work/open.key"; chmod 644 "$work/open.key"
run key-show-warn 0 -- key show "$work/open.key"
stderr_has key-show-warn "is readable by group or others"

# detect: golden human, JSON Lines and pooled outputs; exit 0 when something is detected.
run detect-text 0 -- detect --key "$key" --input "$docs"
golden detect-text detect.txt
run detect-json 0 -- detect --key "$key" --input "$docs" --json
golden detect-json detect.jsonl
run detect-pool 0 -- detect --key "$key" --input "$docs" --json --pool
golden detect-pool detect_pool.jsonl
run detect-stdin 0 -- detect --key "$key" --input - --json < "$docs"
golden detect-stdin detect.jsonl
run detect-outfile 0 -- detect --key "$key" --input "$docs" --json --output "$work/result.jsonl"
diff -q "$fixtures/detect.jsonl" "$work/result.jsonl" >/dev/null; check "detect --output writes the same JSONL" $?

# Exit 1 for no evidence, 2 for too little to conclude.
grep plain-3 "$docs" > "$work/plain.jsonl"
run detect-no-evidence 1 -- detect --key "$key" --input "$work/plain.jsonl"
echo '{"id": "short", "tokens": [1, 2, 3]}' > "$work/short.jsonl"
run detect-insufficient 2 -- detect --key "$key" --input "$work/short.jsonl"

# Bad input: exit 3 with file and line named, and no partial output file.
{ head -n 2 "$docs"; echo '{"id": "broken", "tokens": [1, 2,'; } > "$work/bad.jsonl"
run detect-malformed 3 -- detect --key "$key" --input "$work/bad.jsonl" --json --output "$work/partial.jsonl"
stderr_has detect-malformed "bad.jsonl:3:"
stderr_has detect-malformed "expected an integer token id"
[ ! -e "$work/partial.jsonl" ] && [ -z "$(ls -A "$work" | grep tmp)" ]; check "no partial output file" $?
echo '{"id": "big", "tokens": [1, 2, 1000]}' > "$work/range.jsonl"
run detect-range 3 -- detect --key "$key" --input "$work/range.jsonl"
stderr_has detect-range "range.jsonl:1: token 2: expected 0 <= id < 1000, got 1000"
run detect-missing-key 3 -- detect --key "$work/none.key" --input "$docs"
stderr_has detect-missing-key "key file $work/none.key: No such file or directory"
head -c 100 "$key" > "$work/trunc.key"
run detect-truncated-key 3 -- detect --key "$work/trunc.key" --input "$docs"
stderr_has detect-truncated-key "not valid JSON (truncated or edited?)"
sed 's/"delta": 2.0/"delta": 4.0/' "$key" > "$work/edited.key"
run detect-edited-key 3 -- detect --key "$work/edited.key" --input "$docs"
stderr_has detect-edited-key "the parameters fail their integrity check"
run detect-vocab-mismatch 3 -- detect --key "$key" --input "$docs" --vocab-size 151936
stderr_has detect-vocab-mismatch "was made for V = 1000, got V = 151936"
run detect-missing-input 3 -- detect --key "$key" --input "$work/none.jsonl"
# The run's verdict corrects for the number of documents; rows test each document alone.
run detect-verdict 0 -- detect --key "$key" --input "$docs" --json
stderr_has detect-verdict "WATERMARK DETECTED at alpha = 0.001 across 6 document(s) (Bonferroni"
# Without deduplication no verdict is given and every row says its p-value is not valid.
run detect-dedup-none 1 -- detect --key "$key" --input "$docs" --json --dedup none
stderr_has detect-dedup-none "no verdict is given"
[ "$(grep -c '"p_value_valid":false' "$work/out")" -eq 6 ] && ! grep -q '"detected":true' "$work/out"
check "dedup none: no row detected, every row marked invalid" $?
# Ids are copied verbatim, so ids that differ stay different.
printf '%s\n' '{"id": 123456789012345678901, "tokens": [1, 2, 3, 4, 5, 6]}' \
  '{"id": 123456789012345678902, "tokens": [1, 2, 3, 4, 5, 6]}' > "$work/ids.jsonl"
run detect-big-ids 2 -- detect --key "$key" --input "$work/ids.jsonl" --json
grep -q '"id":123456789012345678901,' "$work/out" && grep -q '"id":123456789012345678902,' "$work/out"
check "big numeric ids are kept verbatim" $?
printf '{"id": "\xff", "tokens": [1]}\n' > "$work/badutf8.jsonl"
run detect-invalid-utf8-id 3 -- detect --key "$key" --input "$work/badutf8.jsonl"
stderr_has detect-invalid-utf8-id "badutf8.jsonl:1:9: invalid UTF-8"
printf '{"id": "\\ud800", "tokens": [1]}\n' > "$work/surrogate.jsonl"
run detect-surrogate-id 3 -- detect --key "$key" --input "$work/surrogate.jsonl"
stderr_has detect-surrogate-id "unpaired high surrogate"
echo '{"tokens": [007]}' > "$work/zeros.jsonl"
run detect-leading-zeros 3 -- detect --key "$key" --input "$work/zeros.jsonl"
stderr_has detect-leading-zeros "leading zeros are not valid JSON"
run detect-directory-input 3 -- detect --key "$key" --input "$work"
run detect-usage 4 -- detect --key "$key"
run detect-bad-dedup 4 -- detect --key "$key" --input "$docs" --dedup sometimes

# Text input with a real tokenizer (GPT-2): a key bound to it, tokenize, detect from text.
tok=$fixtures/../tokenizers/gpt2/tokenizer.json
other=$fixtures/../tokenizers/o200k/tokenizer.json
run keygen-tokenizer 0 -- keygen --out "$work/gpt2.key" --tokenizer "$tok"
grep -q '"tokenizer_vocab_size": 50257' "$work/gpt2.key"; check "keygen --tokenizer records the id count" $?
grep -q '"vocab_size": 50257' "$work/gpt2.key"; check "keygen --tokenizer defaults V to the id count" $?
mkdir -p "$work/texts/sub"
printf 'The quick brown fox jumps over the lazy dog.\n' > "$work/texts/a.txt"
printf 'Hello, world! It'"'"'s 2026.\n' > "$work/texts/sub/b.txt"
run tokenize-folder 0 -- tokenize --tokenizer "$tok" --input "$work/texts" --json
printf '%s\n' '{"id":"a.txt","tokens":[464,2068,7586,21831,18045,625,262,16931,3290,13,198]}' \
  '{"id":"sub/b.txt","tokens":[15496,11,995,0,632,338,1160,2075,13,198]}' > "$work/expected_tokens.jsonl"
diff -q "$work/expected_tokens.jsonl" "$work/out" >/dev/null; check "tokenize a folder: ids as tiktoken gives them" $?
cp "$work/out" "$work/tokens.jsonl"
# Detection from text equals detection from the ids of that text.
run detect-from-text 1 -- detect --key "$work/gpt2.key" --tokenizer "$tok" --input "$work/texts" --json
cut -d, -f2- "$work/out" > "$work/from_text"
run detect-from-ids 1 -- detect --key "$work/gpt2.key" --input "$work/tokens.jsonl" --json
cut -d, -f2- "$work/out" > "$work/from_ids"
diff -q "$work/from_text" "$work/from_ids" >/dev/null; check "detect from text == detect from its ids" $?
# A key bound to one tokenizer refuses another unless told.
run detect-other-tokenizer 3 -- detect --key "$work/gpt2.key" --tokenizer "$other" --input "$work/texts"
stderr_has detect-other-tokenizer "tokenizer: the key"
stderr_has detect-other-tokenizer "use --allow-tokenizer-mismatch"
run keygen-big 0 -- keygen --out "$work/o200k.key" --vocab-size 200019 --tokenizer "$tok"
run detect-allowed-mismatch 1 -- detect --key "$work/o200k.key" --tokenizer "$other" --input "$work/texts" --allow-tokenizer-mismatch
stderr_has detect-allowed-mismatch "proceeding as asked"
# Invalid UTF-8 in a text file: an error naming the file and byte, or replacement on request.
printf 'ok \xff bad\n' > "$work/bad.txt"
run tokenize-bad-utf8 3 -- tokenize --tokenizer "$tok" --input "$work/bad.txt" --json
stderr_has tokenize-bad-utf8 "bad.txt: invalid UTF-8 at byte 3"
run tokenize-replace 0 -- tokenize --tokenizer "$tok" --input "$work/bad.txt" --json --invalid-utf8 replace
printf '{"id": 1, "text": "x"}\n{"id": 2}\n' > "$work/notext.jsonl"
run tokenize-missing-text 3 -- tokenize --tokenizer "$tok" --input "$work/notext.jsonl"
stderr_has tokenize-missing-text "notext.jsonl:2: missing field \"text\""
printf '{"model": {"type": "WordPiece", "vocab": {}}}' > "$work/wordpiece.json"
run tokenize-unsupported 3 -- tokenize --tokenizer "$work/wordpiece.json" --input "$work/texts"
stderr_has tokenize-unsupported "model.type: unsupported model type 'WordPiece'"

# Radioactivity: a corpus of our own watermarked documents is radioactive; bad input is refused.
run rad-corpus 0 -- radioactivity corpus --key "$key" --input "$docs" --controls 10 --json
grep -q '"detected":true' "$work/out"; check "radioactivity corpus: our own watermarked documents" $?
grep -q '"controls":{"count":10' "$work/out"; check "radioactivity corpus: control keys reported" $?
run rad-filter 0 -- radioactivity filter --key "$key" --input "$docs" --out "$work/ours.filter"
run rad-filtered 0 -- radioactivity corpus --key "$key" --input "$docs" --filter "$work/ours.filter" --controls 0
cp "$key" "$work/other.key"
run keygen-other 0 -- keygen --out "$work/other2.key" --vocab-size 1000
run rad-filter-other-key 3 -- radioactivity corpus --key "$work/other2.key" --input "$docs" --filter "$work/ours.filter"
stderr_has rad-filter-other-key "ours.filter: made for key"
head -c 100 "$work/ours.filter" > "$work/broken.filter"
run rad-filter-truncated 3 -- radioactivity corpus --key "$key" --input "$docs" --filter "$work/broken.filter"
stderr_has rad-filter-truncated "not a tritium filter file (or truncated)"
echo '{"tokens": [1, 2, 5000]}' > "$work/suspect.jsonl"
run rad-out-of-range 3 -- radioactivity corpus --key "$key" --input "$work/suspect.jsonl"
stderr_has rad-out-of-range "token 2: expected 0 <= id < 1000, got 5000"
echo '{"tokens": [1, 2, 3], "predictions": [4, 5]}' > "$work/predictions.jsonl"
run rad-bad-predictions 3 -- radioactivity read --key "$key" --predictions "$work/predictions.jsonl"
stderr_has rad-bad-predictions "expected one entry per token"
# Reading mode with a model reads every --input file, not only the first.
run rad-lm 0 -- lm train --tokenizer "$tok" --corpus "$work/texts" --order 2 --out "$work/small.tlm"
echo '{"tokens": [464, 3290, 318, 257, 1332, 286, 262, 3290, 13, 198]}' > "$work/read_a.jsonl"
echo '{"tokens": [40, 588, 257, 1332, 13, 632, 318, 845, 922, 13]}' > "$work/read_b.jsonl"
run rad-read-two-files 1 -- radioactivity read --key "$work/gpt2.key" --model "$work/small.tlm" --input "$work/read_a.jsonl" "$work/read_b.jsonl" --json --controls 0
grep -q '"counts":{"read":20,' "$work/out"; check "radioactivity read: both input files read" $?
run rad-plan 0 -- radioactivity plan --scored 100000 --green 27000 --gamma 0.25 --target-log10-p -10 --json
grep -q '"scored_needed":' "$work/out"; check "radioactivity plan prints the tuples needed" $?

# ---- Issue 10, toolchain and sanitizers: the document pipeline with several workers --------------
# 9000 small documents make three batches (4096 documents each at most), so the batch reader runs
# alongside four workers; .ci/sanitizers runs this file under ThreadSanitizer too. The output must be
# the single worker's, in input order.
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

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
