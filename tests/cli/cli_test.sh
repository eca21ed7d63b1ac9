#!/usr/bin/env bash
# Command-line tests: golden outputs, pinned error messages and documented exit codes.
# Usage: cli_test.sh TRITIUM_BINARY FIXTURES_CLI_DIR   (set UPDATE_GOLDEN=1 to rewrite golden files)
set -uo pipefail
# $tritium, $fixtures, a scratch $work removed at exit, and check, run, golden, stderr_has
source "$(dirname "$0")/lib.sh" "$@"

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
run keygen-no-overwrite 4 -- keygen --out "$work/new.key" --vocab-size 50257
stderr_has keygen-no-overwrite "refusing to overwrite the existing key file"
run keygen-bad-gamma 4 -- keygen --out "$work/g.key" --vocab-size 100 --gamma 1.5
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
# The golden files' figures, recomputed without tritium (key id, exact binomial tails, z, Bonferroni).
python3 "$(dirname "$0")/recompute_golden.py" "$fixtures" >"$work/recomputed" 2>&1
rc=$?
check "golden figures recomputed independently: $(grep -v '^ok' "$work/recomputed" | head -c 600)" $rc
run detect-outfile 0 -- detect --key "$key" --input "$docs" --json --output "$work/result.jsonl"
diff -q "$fixtures/detect.jsonl" "$work/result.jsonl" >/dev/null; check "detect --output writes the same JSONL" $?

# Exit 1 for no evidence, 2 for too little to conclude.
grep plain-3 "$docs" > "$work/plain.jsonl"
run detect-no-evidence 1 -- detect --key "$key" --input "$work/plain.jsonl"
echo '{"id": "short", "tokens": [1, 2, 3]}' > "$work/short.jsonl"
run detect-insufficient 2 -- detect --key "$key" --input "$work/short.jsonl"

# Windowed detection: a marked document (marked-1, 120 tokens) pasted at token 800 into 1,500 tokens
# drawn independently of the key. The whole text alone is no evidence; the scan finds the passage and
# its corrected p decides. Its options are refused where they would go unused.
marked=$(grep '"marked-1"' "$docs" | sed 's/.*"tokens": \[\(.*\)\].*/\1/')
awk -v m="$marked" 'BEGIN { srand(17); s = "";
  for (i = 0; i < 1500; i++) { if (i == 800) s = s m ", "; s = s int(rand() * 1000) (i < 1499 ? ", " : "") }
  print "{\"id\": \"pasted\", \"tokens\": [" s "]}" }' > "$work/pasted.jsonl"
run detect-pasted-whole 1 -- detect --key "$key" --input "$work/pasted.jsonl"
run detect-pasted-windows 0 -- detect --key "$key" --input "$work/pasted.jsonl" --windows
grep -q "best window: tokens \[8[0-9][0-9], 9[0-9][0-9])" "$work/out"; check "detect --windows: the best window lies in the pasted passage" $?
grep -q "corrected for [0-9]* windows of 7 sizes" "$work/out"; check "detect --windows: the correction names windows and sizes" $?
run detect-pasted-windows-json 0 -- detect --key "$key" --input "$work/pasted.jsonl" --windows --json
grep -q '"window":{"min_window":50,"token_begin":8' "$work/out"; check "detect --windows --json: the window object" $?
run detect-min-window-alone 4 -- detect --key "$key" --input "$work/pasted.jsonl" --min-window 20
stderr_has detect-min-window-alone "--min-window requires --windows"
run detect-windows-pool 4 -- detect --key "$key" --input "$work/pasted.jsonl" --windows --pool
stderr_has detect-windows-pool "--pool excludes --windows"
run detect-windows-report 0 -- detect --key "$key" --input "$work/pasted.jsonl" --windows --html "$work/w.html"
grep -q "<h2>The best window</h2><p>Tokens \[8[0-9][0-9], 9[0-9][0-9])" "$work/w.html"; check "detect --windows --html: the page shows the best window" $?

# Schemes (issue 17 item 7): a key naming kgw, gumbel and unigram (test.key's public secret,
# fixtures/cli/test-schemes.key); --scheme auto tests each and corrects for all of them.
cp "$fixtures/test-schemes.key" "$work/schemes.key"
chmod 600 "$work/schemes.key"
skey=$work/schemes.key
run key-show-schemes 0 -- key show "$skey"
grep -q "^schemes          kgw, gumbel, unigram (PRF tritium-prf-v1)" "$work/out"; check "key show names the schemes" $?
run detect-auto-gumbel 0 -- detect --key "$skey" --input "$fixtures/docs_gumbel.jsonl"
[ "$(grep -c '^gumbel-[0-2] *gumbel .*p <= alpha' "$work/out")" -eq 3 ]; check "--scheme auto: the Gumbel documents are detected under gumbel" $?
! grep -q '^plain-[34] .*p <= alpha' "$work/out"; check "--scheme auto: no plain document is detected" $?
grep -q "across 5 document(s) and 3 scheme(s) (Bonferroni: smallest p times 5 x 3" "$work/out"; check "--scheme auto: the verdict corrects for documents x schemes" $?
grep -q "gumbel   Gamma(N, 1) tail" "$work/out"; check "--scheme auto: each scheme's null is named" $?
run detect-auto-kgw-docs 0 -- detect --key "$skey" --input "$docs" --json
[ "$(grep -c '"scheme":"kgw".*"detected":true' "$work/out")" -eq 3 ] && ! grep -q '"scheme":"unigram".*"detected":true' "$work/out"
check "--scheme auto --json: the KGW documents are detected under kgw, not unigram" $?
grep -q '"scheme":"gumbel","tokens":120,"scored":[0-9]*,"p_value"' "$work/out"; check "--json: a Gumbel row has no green count" $?
run detect-gumbel-only 0 -- detect --key "$skey" --input "$fixtures/docs_gumbel.jsonl" --scheme gumbel --json
[ "$(grep -c '"scheme":"gumbel"' "$work/out")" -eq 5 ] && grep -q '"score":' "$work/out"; check "--scheme gumbel: one row per document with its score" $?
run detect-kgw-on-gumbel 1 -- detect --key "$skey" --input "$fixtures/docs_gumbel.jsonl" --scheme kgw,unigram
run detect-scheme-not-named 3 -- detect --key "$key" --input "$docs" --scheme gumbel
stderr_has detect-scheme-not-named "names the scheme(s) kgw (params.schemes), not gumbel"
run detect-scheme-auto-and 4 -- detect --key "$skey" --input "$docs" --scheme auto,kgw
stderr_has detect-scheme-auto-and "--scheme auto stands alone"
run detect-scheme-twice 4 -- detect --key "$skey" --input "$docs" --scheme kgw,kgw
# --pool with several schemes: one pooled test per scheme (one global deduplication each), the verdict
# corrected for their number. The Gumbel documents' pooled Gumbel test decides.
run detect-scheme-pool 0 -- detect --key "$skey" --input "$fixtures/docs_gumbel.jsonl" --pool
[ "$(grep -c '^(pooled: 5 docs) ' "$work/out")" -eq 3 ] && grep -q '^(pooled: 5 docs) *gumbel .*p <= alpha' "$work/out" &&
  grep -q "one pooled test per scheme over 5 document(s); Bonferroni: smallest p, gumbel's, times 3" "$work/out"
check "--pool --scheme auto: a pooled row per scheme, Gumbel's decides, corrected for 3" $?
grep plain "$fixtures/docs_gumbel.jsonl" > "$work/plain_gumbel.jsonl"
run detect-scheme-pool-plain 1 -- detect --key "$skey" --input "$work/plain_gumbel.jsonl" --pool --json
[ "$(grep -c '"documents":2,"scheme":' "$work/out")" -eq 3 ]; check "--pool --json: one object per scheme" $?
run detect-scheme-pool-nodedup 4 -- detect --key "$skey" --input "$docs" --pool --scheme gumbel --dedup none
stderr_has detect-scheme-pool-nodedup "a pooled Gumbel test needs deduplication"
# Windows under every scheme: a Gumbel passage (gumbel-0, 120 tokens) pasted at token 800 into 1,500
# tokens drawn independently of the key; Gumbel's best window lies in it, with its score S.
gumbel_marked=$(grep '"gumbel-0"' "$fixtures/docs_gumbel.jsonl" | sed 's/.*"tokens": \[\(.*\)\].*/\1/')
awk -v m="$gumbel_marked" 'BEGIN { srand(17); s = "";
  for (i = 0; i < 1500; i++) { if (i == 800) s = s m ", "; s = s int(rand() * 1000) (i < 1499 ? ", " : "") }
  print "{\"id\": \"pasted\", \"tokens\": [" s "]}" }' > "$work/gumbel_pasted.jsonl"
run detect-scheme-windows 0 -- detect --key "$skey" --input "$work/gumbel_pasted.jsonl" --windows --scheme gumbel
grep -qE "best window: tokens \[8[0-9][0-9], 9[0-9][0-9]\), [0-9]+ scored, S = [0-9.]+, log10 p" "$work/out"
check "detect --windows --scheme gumbel: the best window lies in the pasted passage, with its score" $?
run detect-scheme-windows-json 0 -- detect --key "$skey" --input "$work/gumbel_pasted.jsonl" --windows --json
grep -q '"scheme":"gumbel",.*"window":{"min_window":50,"token_begin":8[0-9][0-9],"token_end":9[0-9][0-9],"scored":[0-9]*,"score":' "$work/out" &&
  grep -q '"scheme":"unigram",.*"window":{' "$work/out"
check "detect --windows --json under every scheme: a window object per row" $?
run detect-scheme-report 0 -- detect --key "$skey" --input "$fixtures/docs_gumbel.jsonl" --html "$work/s.html"
grep -q "Schemes tested" "$work/s.html" && grep -q "<td>gumbel</td>" "$work/s.html"
check "detect --scheme auto --html: the page lists every scheme and a row per document and scheme" $?
run keygen-schemes 0 -- keygen --out "$work/s2.key" --vocab-size 1000 --scheme gumbel,unigram
grep -q '"schemes": \[' "$work/s2.key"; check "keygen --scheme writes params.schemes" $?
run keygen-schemes-trace 4 -- keygen --out "$work/s3.key" --vocab-size 1000 --scheme gumbel --trace
stderr_has keygen-schemes-trace "--trace marks accounts through KGW: --scheme must include kgw"
run keygen-kgw-default 0 -- keygen --out "$work/s4.key" --vocab-size 1000
! grep -q '"schemes"' "$work/s4.key"; check "a KGW-only key has no params.schemes (older readers still read it)" $?

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
stderr_has detect-truncated-key "not valid JSON at byte 100: the text ends early (truncated?)"
sed 's/"delta": 2.0/"delta": 4.0/' "$key" > "$work/edited.key"
run detect-edited-key 3 -- detect --key "$work/edited.key" --input "$docs"
stderr_has detect-edited-key "the parameters fail their integrity check"
run detect-vocab-mismatch 3 -- detect --key "$key" --input "$docs" --vocab-size 151936
stderr_has detect-vocab-mismatch "was made for V = 1000, got V = 151936"
run detect-missing-input 3 -- detect --key "$key" --input "$work/none.jsonl"
# The run's verdict corrects for the number of documents; rows test each document alone.
run detect-verdict 0 -- detect --key "$key" --input "$docs" --json
stderr_has detect-verdict "WATERMARK DETECTED at alpha = 0.001 across 6 document(s) (Bonferroni"
# Without deduplication no verdict is given (exit 2, no conclusion) and every row says its p-value is not valid.
run detect-dedup-none 2 -- detect --key "$key" --input "$docs" --json --dedup none
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
run keygen-tokenizer 0 -- keygen --out "$work/gpt2-drawn.key" --tokenizer "$tok"
grep -q '"tokenizer_vocab_size": 50257' "$work/gpt2-drawn.key"; check "keygen --tokenizer records the id count" $?
grep -q '"vocab_size": 50257' "$work/gpt2-drawn.key"; check "keygen --tokenizer defaults V to the id count" $?
# Verdicts use fixed keys bound the same way (fixtures/cli/gpt2.key and gpt2-wide.key, public test
# secrets): a "no evidence" under a key drawn at random would fail one run in a thousand or so.
cp "$fixtures/gpt2.key" "$work/gpt2.key"; chmod 600 "$work/gpt2.key"
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
run keygen-big 0 -- keygen --out "$work/o200k-drawn.key" --vocab-size 200019 --tokenizer "$tok"
grep -q '"vocab_size": 200019' "$work/o200k-drawn.key"; check "keygen --vocab-size with --tokenizer: V as given" $?
cp "$fixtures/gpt2-wide.key" "$work/o200k.key"; chmod 600 "$work/o200k.key"
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
stderr_has tokenize-unsupported 'model.type: unsupported model type "WordPiece"'

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

# ---- issue 10, library readers: key files, tokenizer.json, GGUF, tokenizer regexes -------------------
# Bad input in any of them is exit 3 with the file and the place named, never 70 or a crash.
sed 's/"format": "tritium-key"/"format": 5/' "$key" > "$work/i10-format.key"
run i10-key-format-number 3 -- detect --key "$work/i10-format.key" --input "$docs"
stderr_has i10-key-format-number 'i10-format.key: expected format "tritium-key", got 5'
sed 's/"version": 1/"version": 1.7/' "$key" > "$work/i10-version.key"
run i10-key-version-float 3 -- detect --key "$work/i10-version.key" --input "$docs"
stderr_has i10-key-version-float "unsupported version: expected 1, got 1.7"
sed 's/"gamma_bits": 2/"gamma_bits": 1e30/' "$key" > "$work/i10-bits.key"
run i10-key-huge-number 3 -- detect --key "$work/i10-bits.key" --input "$docs"
stderr_has i10-key-huge-number "field 'params.gamma_bits': expected an integer in [0, 4294967295], got 1e+30"
{ cat "$key"; printf '\0garbage'; } > "$work/i10-nul.key"
run i10-key-nul 3 -- detect --key "$work/i10-nul.key" --input "$docs"
stderr_has i10-key-nul "i10-nul.key: not valid JSON at byte $(wc -c < "$key"): a NUL byte"
# 100000 Sequences inside each other, a complete document: this used to overflow the stack.
{ printf '{"normalizer": '; yes '{"type": "Sequence", "normalizers": [' | head -n 100000 | tr -d '\n'
  printf '{"type": "Lowercase"}'; yes ']}' | head -n 100000 | tr -d '\n'
  printf ', "model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}}'; } > "$work/i10-deep.json"
run i10-tokenizer-deep 3 -- tokenize --tokenizer "$work/i10-deep.json" --input "$work/texts"
stderr_has i10-tokenizer-deep "i10-deep.json: not valid JSON at byte 1198: arrays and objects nested deeper than 64 levels"
head -c 1000000 /dev/zero | tr '\0' '[' > "$work/i10-brackets.json"
run i10-tokenizer-brackets 3 -- tokenize --tokenizer "$work/i10-brackets.json" --input "$work/texts"
stderr_has i10-tokenizer-brackets "i10-brackets.json: not valid JSON at byte 64: arrays and objects nested"
printf '{"normalizer": {"type": "\\u001b]0;owned\\u0007"}, "model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}}' \
  > "$work/i10-escape.json"
run i10-tokenizer-escape 3 -- tokenize --tokenizer "$work/i10-escape.json" --input "$work/texts"
stderr_has i10-tokenizer-escape 'unsupported normalizer type "\u001b]0;owned\u0007"'
! grep -q $'\x1b' "$work/err"; check "i10-tokenizer-escape: no raw ESC on stderr" $?
printf '{"pre_tokenizer": {"type": "Split", "pattern": {"Regex": "(a+)+[bc]"}, "behavior": "Isolated"}, "model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "c": 2, "d": 3}, "merges": []}}' \
  > "$work/i10-backtrack.json"
mkdir -p "$work/i10-texts"
printf 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaad' > "$work/i10-texts/a.txt"
run i10-regex-match-limit 3 -- tokenize --tokenizer "$work/i10-backtrack.json" --input "$work/i10-texts"
stderr_has i10-regex-match-limit 'i10-backtrack.json: pre_tokenizer.pattern: the regex "(a+)+[bc]" exceeds PCRE2'"'"'s limits'
# ---- end of issue 10, library readers ---------------------------------------------------------------

# ==== issue 10, command line: --threads, outputs, inputs and the JSON Lines readers ====
# --threads has a cap (tokenize_support.hpp: max_threads); above it is a usage error before any work.
run threads-cap 4 -- detect --key "$work/gpt2.key" --tokenizer "$tok" --input "$work/texts" --threads 1025
stderr_has threads-cap "--threads: Value 1025 not in range 0 to 1024"
run threads-cap-tokenize 4 -- tokenize --tokenizer "$tok" --input "$work/texts" --threads 4294967295
stderr_has threads-cap-tokenize "--threads: Value 4294967295 not in range 0 to 1024"
run threads-at-cap 0 -- tokenize --tokenizer "$tok" --input "$work/texts" --threads 1024
# A missing input file is an input error (exit 3) naming the file, for every option that reads one.
run missing-lm-eval-model 3 -- lm eval --model "$work/none.tlm" --tokenizer "$tok" --input "$work/texts"
stderr_has missing-lm-eval-model "model file $work/none.tlm: No such file or directory"
echo '{"id": 1, "prompt": "Hello"}' > "$work/prompts.jsonl"
run missing-generate-model 3 -- generate --model "$work/none.tlm" --tokenizer "$tok" --prompts "$work/prompts.jsonl" --no-watermark
stderr_has missing-generate-model "model file $work/none.tlm: No such file or directory"
run missing-generate-prompts 3 -- generate --model "$work/small.tlm" --tokenizer "$tok" --prompts "$work/none.jsonl" --no-watermark
stderr_has missing-generate-prompts "cannot open input $work/none.jsonl"
run missing-rad-read-model 3 -- radioactivity read --key "$work/gpt2.key" --model "$work/none.tlm" --input "$work/read_a.jsonl"
stderr_has missing-rad-read-model "model file $work/none.tlm: No such file or directory"
run missing-rad-closed-model 3 -- radioactivity closed --key "$work/gpt2.key" --model "$work/none.tlm" --prompts "$work/prompts.jsonl" --tokenizer "$tok"
stderr_has missing-rad-closed-model "model file $work/none.tlm: No such file or directory"
run missing-rad-filter 3 -- radioactivity corpus --key "$key" --input "$docs" --filter "$work/none.filter"
stderr_has missing-rad-filter "filter $work/none.filter: cannot open for reading"
run missing-bench-model 3 -- bench --model "$work/none.tlm"
stderr_has missing-bench-model "model file $work/none.tlm: No such file or directory"
# Every output goes through the atomic output: a full device or a directory is exit 5, with no
# success line and nothing left behind. /dev/full is named through a link (never replaced by a file).
ln -s /dev/full "$work/full"
run filter-full 5 -- radioactivity filter --key "$key" --input "$docs" --out "$work/full"
stderr_has filter-full "tritium: error: $work/full: cannot write the filter: No space left on device"
! grep -q "wrote filter" "$work/err" && [ -L "$work/full" ]; check "filter-full: no success line, the link is kept" $?
mkdir -p "$work/outdir"
run filter-directory 5 -- radioactivity filter --key "$key" --input "$docs" --out "$work/outdir"
stderr_has filter-directory "cannot write $work/outdir: it is a directory"
[ -z "$(ls -A "$work" | grep -e tmp -e '^\.')" ]; check "filter-directory: no temporary left" $?
run lm-train-full 5 -- lm train --tokenizer "$tok" --corpus "$work/texts" --order 2 --out "$work/full"
stderr_has lm-train-full "$work/full: cannot write the model: No space left on device"
run lm-train-directory 5 -- lm train --tokenizer "$tok" --corpus "$work/texts" --order 2 --out "$work/outdir"
stderr_has lm-train-directory "cannot write $work/outdir: it is a directory"
[ -z "$(ls -A "$work" | grep -e tmp -e '^\.')" ]; check "lm-train-directory: no temporary left" $?
"$tritium" radioactivity plan --scored 1000 --green 300 >/dev/full 2>"$work/err"
[ $? -eq 5 ]; check "plan to a full standard output: exit 5" $?
stderr_has plan-full-stdout "tritium: error: cannot write to standard output"
# A killed run leaves a hidden temporary named after its target and pid; the next run to that target
# removes those of dead processes, and only those.
( exit 0 ) & dead=$!; wait $dead
touch "$work/.ours.filter.tritium-tmp.$dead.Xy12ab" "$work/.ours.filter.tritium-tmp.$$.Xy12ab" \
      "$work/.other.filter.tritium-tmp.$dead.Xy12ab"
# (--force: the filter of the run above is replaced; without it an existing filter file is refused)
run filter-stale-temporary 0 -- radioactivity filter --key "$key" --input "$docs" --out "$work/ours.filter" --force
[ ! -e "$work/.ours.filter.tritium-tmp.$dead.Xy12ab" ] && [ -e "$work/.ours.filter.tritium-tmp.$$.Xy12ab" ] \
  && [ -e "$work/.other.filter.tritium-tmp.$dead.Xy12ab" ]
check "a dead run's temporary is removed; a live run's and another target's are kept" $?
rm -f "$work"/.*.tritium-tmp.*
# Key files too: their temporaries (which hold the secret) are named the same way and removed by the
# next keygen to the same target.
touch "$work/.stale.key.tritium-tmp.$dead.Xy12ab" "$work/.stale.key.tritium-tmp.$$.Xy12ab"
run keygen-stale-temporary 0 -- keygen --out "$work/stale.key" --vocab-size 1000
[ ! -e "$work/.stale.key.tritium-tmp.$dead.Xy12ab" ] && [ -e "$work/.stale.key.tritium-tmp.$$.Xy12ab" ]
check "keygen removes a dead run's temporary of its key file and keeps a live run's" $?
rm -f "$work"/.*.tritium-tmp.*
run help-temporaries 0 -- --help
grep -q "a killed run may leave that" "$work/out"; check "--help says what a killed run leaves" $?
# A text file's name becomes its document id, a JSON string: a name that is not UTF-8 is refused
# (exit 3), named with its byte offset, before any work.
printf 'Some text.\n' > "$work/bad"$'\xff'"name.txt"
run text-name-not-utf8 3 -- tokenize --tokenizer "$tok" --input "$work/bad"$'\xff'"name.txt" --json
stderr_has text-name-not-utf8 "bad\ufffdname.txt\": expected UTF-8 (it becomes the document id), got an invalid byte at"
mkdir -p "$work/badnames/sub"
mv "$work/bad"$'\xff'"name.txt" "$work/badnames/sub/"
printf 'More text.\n' > "$work/badnames/a.txt"
run folder-name-not-utf8 3 -- detect --key "$work/gpt2.key" --tokenizer "$tok" --input "$work/badnames" --output "$work/names.out"
stderr_has folder-name-not-utf8 "input file name \"sub/bad\ufffdname.txt\": expected UTF-8 (it becomes the document id), got an invalid byte at 7; rename the file"
[ ! -e "$work/names.out" ]; check "folder-name-not-utf8: no output" $?
# Ids are copied as written everywhere: text JSON Lines ids above 2^64 stay distinct, generate keeps
# them, and a number no JSON reader can hold is refused (exit 3), not an internal error in a report.
printf '%s\n' '{"id": 123456789012345678901234, "text": "a"}' '{"id": 123456789012345678901235, "text": "a"}' \
  '{"id": -0, "text": "a"}' > "$work/text_ids.jsonl"
run text-big-ids 0 -- tokenize --tokenizer "$tok" --input "$work/text_ids.jsonl" --json
printf '%s\n' '{"id":123456789012345678901234,"tokens":[64]}' '{"id":123456789012345678901235,"tokens":[64]}' \
  '{"id":-0,"tokens":[64]}' > "$work/expected_ids.jsonl"
diff -q "$work/expected_ids.jsonl" "$work/out" >/dev/null; check "text JSON Lines ids are kept as written" $?
echo '{"id": 123456789012345678901234, "prompt": "Hello"}' > "$work/big_prompt.jsonl"
run generate-big-id 0 -- generate --model "$work/small.tlm" --tokenizer "$tok" --prompts "$work/big_prompt.jsonl" --no-watermark --max-new-tokens 3
grep -q '^{"id":123456789012345678901234,"prompt":"Hello",' "$work/out"; check "generate keeps the id as written" $?
echo '{"id": 1e999, "tokens": [1, 2, 3]}' > "$work/huge_id.jsonl"
run id-out-of-range 3 -- detect --key "$key" --input "$work/huge_id.jsonl" --html "$work/huge.html"
stderr_has id-out-of-range "huge_id.jsonl:1:8: field \"id\": a number out of range"
echo '{"id": 1e2, "tokens": [1, 2, 3]}' > "$work/exp_id.jsonl"
run id-rewritten-in-report 3 -- detect --key "$key" --input "$work/exp_id.jsonl" --html "$work/exp.html"
stderr_has id-rewritten-in-report "exp_id.jsonl:1: id 1e2: a report holds ids as JSON values, and this number reads back as 100.0; write the id as a string"
[ ! -e "$work/exp.html" ] && [ ! -e "$work/huge.html" ]; check "no report for an id it cannot hold" $?
# Invalid UTF-8 in a JSON Lines text record: an error naming line and byte, or U+FFFD with
# --invalid-utf8 replace, exactly as for a text file.
printf '{"id": "r", "text": "ok \xff bad\\n"}\n' > "$work/bad_utf8_text.jsonl"
run jsonl-bad-utf8 3 -- tokenize --tokenizer "$tok" --input "$work/bad_utf8_text.jsonl" --json
stderr_has jsonl-bad-utf8 "bad_utf8_text.jsonl:1:25: invalid UTF-8"
run jsonl-replace 0 -- tokenize --tokenizer "$tok" --input "$work/bad_utf8_text.jsonl" --json --invalid-utf8 replace
cut -d, -f2- "$work/out" > "$work/jsonl_replaced"
run txt-replace 0 -- tokenize --tokenizer "$tok" --input "$work/bad.txt" --json --invalid-utf8 replace
cut -d, -f2- "$work/out" > "$work/txt_replaced"
diff -q "$work/jsonl_replaced" "$work/txt_replaced" >/dev/null; check "--invalid-utf8 replace: a JSON Lines record as its text file" $?
run detect-jsonl-replace 2 -- detect --key "$work/gpt2.key" --tokenizer "$tok" --input "$work/bad_utf8_text.jsonl" --invalid-utf8 replace
# What the readers accept (README): a BOM at the start of the file only, -0 as token 0, no NUL byte.
printf '\xef\xbb\xbf{"id": "bom", "tokens": [-0, 1, 2, 3, 4, 5]}\n' > "$work/bom.jsonl"
run jsonl-bom-minus-zero 1 -- detect --key "$key" --input "$work/bom.jsonl" --json
grep -q '^{"id":"bom","scheme":"kgw","tokens":6,' "$work/out"; check "jsonl-bom-minus-zero: read as 6 tokens" $?
printf '{"tokens": [1]}\n\xef\xbb\xbf{"tokens": [2]}\n' > "$work/late_bom.jsonl"
run jsonl-late-bom 3 -- detect --key "$key" --input "$work/late_bom.jsonl"
stderr_has jsonl-late-bom "late_bom.jsonl:2:1: a byte order mark, which is accepted only at the start of the file"
printf '{"tokens": [1, 2, 3]}\0{"tokens": [4]}\n' > "$work/nul.jsonl"
run jsonl-nul-tokens 3 -- detect --key "$key" --input "$work/nul.jsonl"
stderr_has jsonl-nul-tokens "nul.jsonl:1:22: a NUL byte (JSON text cannot hold one)"
run jsonl-nul-corpus 3 -- radioactivity corpus --key "$key" --input "$work/nul.jsonl"
stderr_has jsonl-nul-corpus "nul.jsonl:1:22: a NUL byte (JSON text cannot hold one)"
printf '{"id": 1, "text": "a"}\0{"text": "b"}\n' > "$work/nul_text.jsonl"
run jsonl-nul-text 3 -- tokenize --tokenizer "$tok" --input "$work/nul_text.jsonl"
stderr_has jsonl-nul-text "nul_text.jsonl:1:23: a NUL byte (JSON text cannot hold one)"
echo '{"tokens": [1, 2.5, 3]}' > "$work/fraction.jsonl"
run corpus-fraction-token 3 -- radioactivity corpus --key "$key" --input "$work/fraction.jsonl"
stderr_has corpus-fraction-token "fraction.jsonl:1: field \"tokens\"[1]: expected an integer token id in [0, 2^31), got 2.5"
# ==== end of issue 10, command line ====

# The document pipeline with several workers (issue 10) and the model's queries on every core (issue 14,
# item 8) are tested by tests/cli/threads_test.sh, which .ci/sanitizers also runs under ThreadSanitizer.

# ---- issue 13: vocabulary size ------------------------------------------------------------------
# One rule: a key's V is the width of the logits it watermarks (the model's rows), which may exceed
# the tokenizer's ids. Set at keygen from --model, --vocab-size or --tokenizer; every mismatch names
# both numbers and the fix.
qwen=$fixtures/../tokenizers/qwen3/tokenizer.json
run i13-generate-help 0 -- generate --help
grep -q "its V must equal the model's logits width" "$work/out"; check "i13: generate --help states the rule" $?
run i13-tokenize-ids 0 -- tokenize --tokenizer "$qwen" --input "$work/texts"
grep -q "tokenizer 151669 ids: 151643 in the vocabulary + 26 added (" "$work/out"
rc=$?; check "i13: tokenize states one id total and its parts: $(tail -n 1 "$work/out" | head -c 200)" $rc
run i13-lm-train-default 0 -- lm train --tokenizer "$tok" --corpus "$work/texts" --order 2 --out "$work/i13-narrow.tlm"
stderr_has i13-lm-train-default "the model's logits width is V = 50257, from the tokenizer's id count"
run i13-lm-train-wide 0 -- lm train --tokenizer "$tok" --corpus "$work/texts" --order 2 --vocab-size 50300 --out "$work/i13-wide.tlm"
stderr_has i13-lm-train-wide "the model's logits width is V = 50300, from --vocab-size"
run i13-lm-train-narrow 3 -- lm train --tokenizer "$tok" --corpus "$work/texts" --vocab-size 1000 --out "$work/i13-x.tlm"
stderr_has i13-lm-train-narrow "--vocab-size 1000 is smaller than the tokenizer's 50257 ids (every id needs a logit); give --vocab-size 50257 or more"
[ ! -e "$work/i13-x.tlm" ]; check "i13: no model file after a refused lm train" $?
run i13-lm-show 0 -- lm show "$work/i13-wide.tlm"
grep -q "^V                50300 (logits width" "$work/out" && grep -q "^order            2$" "$work/out"
check "i13: lm show prints the order and the logits width" $?
gpt2_digest=sha256:$(sha256sum "$tok" | cut -d' ' -f1)
wide_digest=sha256:$(sha256sum "$work/i13-wide.tlm" | cut -d' ' -f1)
run i13-lm-show-json 0 -- lm show --json "$work/i13-wide.tlm"
grep -q "^{\"format\":\"tritium-ngram\",\"order\":2,\"vocab_size\":50300,\"tokenizer_digest\":\"$gpt2_digest\",\"training_tokens\":[0-9]*,\"ngram_counts\":\[[0-9]*,[0-9]*\],\"file_digest\":\"$wide_digest\"}$" "$work/out"
rc=$?; check "i13: lm show --json: width, tokenizer and file digests ($(head -c 300 "$work/out"))" $rc
run i13-lm-show-missing 3 -- lm show "$work/none.tlm"
run i13-keygen-model 0 -- keygen --out "$work/i13-model.key" --model "$work/i13-wide.tlm"
grep -q '"vocab_size": 50300' "$work/i13-model.key" && grep -q "\"tokenizer_digest\": \"$gpt2_digest\"" "$work/i13-model.key"
check "i13: keygen --model takes V from the model and binds its tokenizer" $?
stderr_has i13-keygen-model "V = 50300 (the logits width the key watermarks), from the model's logits width"
run i13-keygen-conflict 4 -- keygen --out "$work/i13-c.key" --model "$work/i13-wide.tlm" --vocab-size 50257
stderr_has i13-keygen-conflict "--vocab-size 50257 disagrees with the model's logits width 50300"
stderr_has i13-keygen-conflict "give only --model, or --vocab-size 50300"
[ ! -e "$work/i13-c.key" ]; check "i13: no key file after a conflicting keygen" $?
run i13-keygen-agree 0 -- keygen --out "$work/i13-a.key" --model "$work/i13-wide.tlm" --vocab-size 50300 --tokenizer "$tok"
grep -q '"tokenizer_vocab_size": 50257' "$work/i13-a.key"; check "i13: keygen --model --tokenizer records the id count" $?
run i13-keygen-model-other-tokenizer 3 -- keygen --out "$work/i13-o.key" --model "$work/i13-wide.tlm" --tokenizer "$other"
stderr_has i13-keygen-model-other-tokenizer "tokenizer: the model $work/i13-wide.tlm was trained with $gpt2_digest, but $other is sha256:"
run i13-keygen-tokenizer-note 0 -- keygen --out "$work/i13-t.key" --tokenizer "$tok"
stderr_has i13-keygen-tokenizer-note "V = 50257 (the logits width the key watermarks), from the tokenizer's id count"
stderr_has i13-keygen-tokenizer-note "note: a model whose logits are wider than its tokenizer's 50257 ids"
stderr_has i13-keygen-tokenizer-note "needs a key made with --model or --vocab-size"
run i13-keygen-narrow 3 -- keygen --out "$work/i13-n.key" --tokenizer "$tok" --vocab-size 1000
stderr_has i13-keygen-narrow "the tokenizer has 50257 ids, more than --vocab-size 1000 (every id needs a logit); give --model, or --vocab-size 50257 or more"
run i13-keygen-none 4 -- keygen --out "$work/i13-none.key"
stderr_has i13-keygen-none "vocabulary size: give --model, --vocab-size or --tokenizer"
run i13-key-show-model 0 -- key show "$work/i13-model.key"
grep -q "^V                50300 (logits width" "$work/out" && grep -q "^tokenizer ids    (not recorded)$" "$work/out"
check "i13: key show: V as the logits width, the tokenizer's ids apart" $?
run i13-key-show-tokenizer 0 -- key show "$work/i13-t.key"
grep -q "^tokenizer ids    50257$" "$work/out"; check "i13: key show prints the tokenizer's id count" $?
echo '{"id": 1, "prompt": "The quick brown"}' > "$work/i13-prompts.jsonl"
run i13-generate-narrow-key 3 -- generate --model "$work/i13-wide.tlm" --tokenizer "$tok" --key "$work/i13-t.key" --prompts "$work/i13-prompts.jsonl" --max-new-tokens 4
stderr_has i13-generate-narrow-key "was made for V = 50257, but the model \"$work/i13-wide.tlm\" has logits of width 50300; make the key with \`tritium keygen --model\` on this model (or --vocab-size 50300)"
run i13-generate-model-key 0 -- generate --model "$work/i13-wide.tlm" --tokenizer "$tok" --key "$work/i13-model.key" --prompts "$work/i13-prompts.jsonl" --max-new-tokens 4
run i13-detect-tokenizer-wider 3 -- detect --key "$key" --tokenizer "$tok" --input "$work/texts"
stderr_has i13-detect-tokenizer-wider "vocabulary size: the tokenizer \"$tok\" has 50257 ids, more than the key"
stderr_has i13-detect-tokenizer-wider "'s V = 1000 (the width of the logits it watermarks); make the key with \`tritium keygen --model\` on this tokenizer's model"
run i13-detect-vocab-size 3 -- detect --key "$key" --input "$docs" --vocab-size 151936
stderr_has i13-detect-vocab-size "was made for V = 1000, got V = 151936 (V is the width of the logits a key watermarks); make a key with \`tritium keygen --vocab-size 151936\` or --model"
# Digest spellings (papers/key-file-v1.md §6): all_rows_sha256 is "sha256:" + the SHA-256 of the rows
# [id, tokens, scored, green, detected, insufficient] as compact JSON Lines; subjects are bare hex.
run i13-report-signer 0 -- report keygen --out "$work/i13-signer.key"
run i13-report 0 -- detect --key "$key" --input "$docs" --report "$work/i13-report.json" --signing-key "$work/i13-signer.key"
python3 - "$work/i13-report.json" <<'PY'
import base64, hashlib, json, sys
statement = json.loads(base64.b64decode(json.load(open(sys.argv[1]))['payload']))
docs = statement['predicate']['documents']
assert docs['listed'] == docs['total'] == len(docs['rows']), docs['listed']
lines = ''.join(json.dumps([r[0], r[1], r[2], r[3], r[5], r[6]], separators=(',', ':')) + '\n' for r in docs['rows'])
assert docs['all_rows_sha256'] == 'sha256:' + hashlib.sha256(lines.encode()).hexdigest(), docs['all_rows_sha256']
for subject in statement['subject']:
    digest = subject['digest']['sha256']
    assert len(digest) == 64 and all(c in '0123456789abcdef' for c in digest), digest
PY
check "i13: all_rows_sha256 is sha256: + the digest of the documented rows; subjects are bare hex" $?
# ==== end of issue 13: vocabulary size ====

# ==== issue 14: item 1 — one record schema: generate's answer is what detect and radioactivity read ====
python3 -c "
import json
for i in range(20): print(json.dumps({'id': i, 'prompt': 'It was the best of times, it was the worst of times, it was the age of wisdom, number %d.' % i}))" > "$work/i14-prompts.jsonl"
run i14-generate 0 -- generate --model "$work/small.tlm" --tokenizer "$tok" --key "$work/gpt2.key" --prompts "$work/i14-prompts.jsonl" --max-new-tokens 40 --output "$work/i14-gen.jsonl"
python3 - "$work/i14-gen.jsonl" <<'PY'
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    assert list(r)[:4] == ['id', 'prompt', 'text', 'tokens'] and 'completion' not in r, list(r)
PY
check "issue 14: item 1: generate writes id, prompt, text (the answer), tokens (its ids)" $?
# The completions, not the prompts, are tested: as text and as ids alike.
run i14-detect-generated-text 0 -- detect --key "$work/gpt2.key" --tokenizer "$tok" --input "$work/i14-gen.jsonl"
run i14-detect-generated-ids 0 -- detect --key "$work/gpt2.key" --input "$work/i14-gen.jsonl"
# A record without the answer is an error naming the field, never the prompt read in its place.
echo '{"id": 1, "prompt": "The quick brown fox"}' > "$work/i14-prompt-only.jsonl"
run i14-detect-prompt-only 3 -- detect --key "$work/gpt2.key" --tokenizer "$tok" --input "$work/i14-prompt-only.jsonl"
stderr_has i14-detect-prompt-only "i14-prompt-only.jsonl:1: missing field \"text\" (this line has only \"prompt\", which is never tested)"
echo '{"id": 1, "text": "one answer", "completion": "another"}' > "$work/i14-ambiguous.jsonl"
run i14-detect-ambiguous 3 -- detect --key "$work/gpt2.key" --tokenizer "$tok" --input "$work/i14-ambiguous.jsonl"
stderr_has i14-detect-ambiguous "i14-ambiguous.jsonl:1: fields \"text\" and \"completion\": ambiguous, expected the answer in \"text\" alone"
# Both forms of the answer are read only when they agree, which needs the tokenizer.
run i14-rad-generated 0 -- radioactivity corpus --key "$work/gpt2.key" --tokenizer "$tok" --input "$work/i14-gen.jsonl" --controls 0
run i14-rad-generated-no-tokenizer 3 -- radioactivity corpus --key "$work/gpt2.key" --input "$work/i14-gen.jsonl"
stderr_has i14-rad-generated-no-tokenizer "i14-gen.jsonl:1: fields \"tokens\" and \"text\": ambiguous without a tokenizer"

# ==== issue 17: generate --scheme: the reference model marks with the scheme the key names ====
run keygen-gpt2-schemes 0 -- keygen --out "$work/gpt2-gu-drawn.key" --tokenizer "$tok" --scheme gumbel,unigram
grep -q '"schemes": \[' "$work/gpt2-gu-drawn.key"; check "keygen --scheme gumbel,unigram names the schemes in the key" $?
# The verdicts below use a fixed key (fixtures/cli/gpt2-schemes.key, the public test secret naming
# gumbel and unigram): under a key drawn at random, "no evidence" for the other scheme would fail one
# run in a thousand (alpha), as it did once in CI.
cp "$fixtures/gpt2-schemes.key" "$work/gpt2-gu.key"; chmod 600 "$work/gpt2-gu.key"
gen=(generate --model "$work/small.tlm" --tokenizer "$tok" --prompts "$work/i14-prompts.jsonl" --max-new-tokens 40)
run generate-scheme-needed 4 -- "${gen[@]}" --key "$work/gpt2-gu.key"
stderr_has generate-scheme-needed "generate: the key names gumbel, unigram: choose one with --scheme"
run generate-scheme-not-named 3 -- "${gen[@]}" --key "$work/gpt2.key" --scheme gumbel
stderr_has generate-scheme-not-named "names the scheme(s) kgw (params.schemes), not gumbel"
run generate-scheme-unknown 4 -- "${gen[@]}" --key "$work/gpt2-gu.key" --scheme aaronson
stderr_has generate-scheme-unknown "--scheme aaronson: expected kgw, gumbel or unigram"
run generate-scheme-plain 4 -- "${gen[@]}" --no-watermark --scheme gumbel
run generate-scheme-account 4 -- "${gen[@]}" --key "$work/gpt2-gu.key" --scheme gumbel --account acme
stderr_has generate-scheme-account "--account: accounts are marked through kgw, not gumbel"
for scheme in gumbel unigram; do
  other=$([ "$scheme" = gumbel ] && echo unigram || echo gumbel)
  run "generate-$scheme" 0 -- "${gen[@]}" --key "$work/gpt2-gu.key" --scheme "$scheme" --output "$work/gen-$scheme.jsonl"
  [ "$(grep -c "\"scheme\":\"$scheme\"" "$work/gen-$scheme.jsonl")" -eq 20 ]; check "generate --scheme $scheme records the scheme in every answer's settings" $?
  run "detect-generated-$scheme" 0 -- detect --key "$work/gpt2-gu.key" --tokenizer "$tok" --input "$work/gen-$scheme.jsonl" --scheme "$scheme" --pool
  run "detect-generated-$scheme-as-$other" 1 -- detect --key "$work/gpt2-gu.key" --tokenizer "$tok" --input "$work/gen-$scheme.jsonl" --scheme "$other" --pool
done
run generate-gumbel-again 0 -- "${gen[@]}" --key "$work/gpt2-gu.key" --scheme gumbel --threads 1 --output "$work/gen-gumbel-1.jsonl"
cmp -s "$work/gen-gumbel.jsonl" "$work/gen-gumbel-1.jsonl"; check "generate --scheme gumbel: the same answers on one worker as on several" $?
echo '{"id": 1, "text": "Hello", "tokens": [1, 2]}' > "$work/i14-differ.jsonl"
run i14-rad-differ 3 -- radioactivity corpus --key "$work/gpt2.key" --tokenizer "$tok" --input "$work/i14-differ.jsonl"
stderr_has i14-rad-differ "i14-differ.jsonl:1: fields \"tokens\" and \"text\": ambiguous, expected the same text"

# ==== issue 14: item 2 — folders are refused, never read as empty; standard input is read ====
run i14-corpus-folder 3 -- radioactivity corpus --key "$key" --input "$work/texts"
stderr_has i14-corpus-folder "input $work/texts: a folder, expected a JSON Lines file (or - for standard input)"
run i14-read-predictions-folder 3 -- radioactivity read --key "$key" --predictions "$work/texts"
stderr_has i14-read-predictions-folder "input $work/texts: a folder"
run i14-filter-folder 3 -- radioactivity filter --key "$key" --input "$work/texts" --out "$work/i14.filter"
stderr_has i14-filter-folder "input $work/texts: a folder"
[ ! -e "$work/i14.filter" ]; check "issue 14: item 2: no filter file from a folder" $?
run i14-corpus-stdin 0 -- radioactivity corpus --key "$key" --input - --controls 10 --json < "$docs"
grep -q '"detected":true' "$work/out"; check "issue 14: item 2: radioactivity corpus reads standard input" $?

# ==== issue 14: item 3 — nothing read is blamed on the suspect ====
run i14-closed-nothing 4 -- radioactivity closed --key "$key"
stderr_has i14-closed-nothing "radioactivity closed: give --input (the suspect's answers) or --model with --prompts (the suspect to query)"
echo '{"tokens": [1, 2, 3, 4]}' > "$work/i14-few.jsonl"
run i14-corpus-few 2 -- radioactivity corpus --key "$key" --input "$work/i14-few.jsonl"
grep -q "verdict: insufficient evidence" "$work/out"; check "issue 14: item 3: a 3-tuple input is insufficient evidence" $?
grep -q "control keys: 20, not tested" "$work/out"; check "issue 14: item 3: the control keys are said to be untested" $?
! grep -q "null does not hold" "$work/out"; check "issue 14: item 3: no statement about the suspect's null" $?
printf '\n' > "$work/i14-empty.jsonl"
run i14-corpus-empty 2 -- radioactivity corpus --key "$key" --input "$work/i14-empty.jsonl" --json
grep -q '"tested":false' "$work/out"; check "issue 14: item 3: an empty input tests nothing" $?

# ==== issue 14: item 4 — every option given is used or refused ====
run i14-read-unused-input 4 -- radioactivity read --key "$key" --input "$work/missing.jsonl" --predictions "$work/predictions.jsonl"
stderr_has i14-read-unused-input "radioactivity read: --input is not read with --predictions"
run i14-closed-unused-input 4 -- radioactivity closed --key "$work/gpt2.key" --input "$docs" --model "$work/small.tlm" --prompts "$work/prompts.jsonl" --tokenizer "$tok"
stderr_has i14-closed-unused-input "radioactivity closed: --input is not read with --model"
run i14-closed-unused-seed 4 -- radioactivity closed --key "$key" --input "$docs" --seed 3
stderr_has i14-closed-unused-seed "radioactivity closed: --seed is read only with --model"
run i14-lm-unused-fraction 4 -- lm train --tokenizer "$tok" --corpus "$work/texts" --order 2 --fraction 0.5 --out "$work/i14.tlm"
stderr_has i14-lm-unused-fraction "lm train: --fraction is read only with --watermarked"
[ ! -e "$work/i14.tlm" ]; check "issue 14: item 4: no model from a refused lm train" $?
run i14-report-unused-input 4 -- radioactivity read --key "$key" --input "$docs" --predictions "$work/predictions.jsonl" --report "$work/i14-unused.report.json" --signing-key "$work/i13-signer.key"
[ ! -e "$work/i14-unused.report.json" ]; check "issue 14: item 4: no report signs an unused input" $?
run i14-report-subjects 0 -- radioactivity corpus --key "$key" --input "$docs" --controls 0 --report "$work/i14.report.json" --signing-key "$work/i13-signer.key"
python3 - "$work/i14.report.json" "$docs" <<'PY'
import base64, json, os, sys
statement = json.loads(base64.b64decode(json.load(open(sys.argv[1]))['payload']))
names = [os.path.realpath(s['name']) for s in statement['subject']]  # named relative to the working folder
assert names == [os.path.realpath(sys.argv[2])], names
PY
check "issue 14: item 4: a report's subjects are exactly the files read" $?

# ==== issue 14: item 9 — small things a reader notices ====
run i14-demo-tokenizer 0 -- demo --model "$work/small.tlm" --tokenizer "$tok" --prompts "$work/i14-prompts.jsonl" --sequences 1 --length 8
! grep -q "Qwen3" "$work/out"; check "issue 14: item 9: demo with another tokenizer does not name Qwen3" $?
grep -qF "Tokenizer  $tok: tokenizer.json byte-level BPE" "$work/out"; check "issue 14: item 9: demo names the tokenizer it loaded" $?
grep -qF "Model      reference 2-gram model (Kneser-Ney), trained on" "$work/out" && grep -qF "$work/small.tlm" "$work/out"
check "issue 14: item 9: demo names the model file it loaded" $?
run i14-alpha-radioactivity 0 -- radioactivity corpus --key "$key" --input "$docs" --controls 0
grep -qF "verdict: RADIOACTIVE at alpha = 0.001" "$work/out" && ! grep -q "0.001000" "$work/out"
check "issue 14: item 9: radioactivity prints alpha as given" $?
run i14-alpha-detect 0 -- detect --key "$key" --input "$docs" --alpha 0.00025
grep -qF "at alpha = 0.00025 across" "$work/out"; check "issue 14: item 9: detect prints alpha as given" $?
printf 'one short text\n' > "$work/i14-one.txt"
run i14-one-document 0 -- tokenize --tokenizer "$tok" --input "$work/i14-one.txt"
grep -q "^1 document, " "$work/out"; check "issue 14: item 9: one document, not 1 documents" $?
run i14-pool-json-summary 0 -- detect --key "$key" --input "$docs" --pool --json
golden i14-pool-json-summary detect_pool.jsonl
stderr_has i14-pool-json-summary "tritium: pooled verdict: WATERMARK DETECTED at alpha = 0.001 (one pooled test over"
run i14-html-settings 0 -- radioactivity corpus --key "$key" --input "$docs" --controls 0 --html "$work/i14-settings.html"
python3 - "$work/i14-settings.html" <<'PY'
import re, sys
page = open(sys.argv[1], encoding='utf-8').read()
rows = dict(re.findall(r'<tr><th>([^<]*)</th><td>(.*?)</td></tr>', page))
settings, counts = rows['Settings'], rows['Counts']
assert '{' not in settings and '&quot;' not in settings and '_' not in settings, settings
assert 'prompt exclusion no' in settings and 'tape window+token' in settings, settings
assert '_' not in counts and 'prompt excluded 0' in counts and not counts.endswith(' · '), counts
PY
check "issue 14: item 9: the HTML report's settings and counts are words, not raw JSON" $?
# `bench --quick` checking its targets: tests/cli/bench_test.sh (ctest bench.quick_checks_its_targets).
# ==== issue 14: item 6 — command-line mistakes are usage errors (exit 4); each command documents its codes ====
run i14-generate-no-key 4 -- generate --model "$work/small.tlm" --tokenizer "$tok" --prompts "$work/prompts.jsonl"
stderr_has i14-generate-no-key "generate: give --key (watermarked) or --no-watermark (plain)"
run i14-generate-both 4 -- generate --model "$work/small.tlm" --tokenizer "$tok" --prompts "$work/prompts.jsonl" --key "$work/gpt2.key" --no-watermark
stderr_has i14-generate-both "--key excludes --no-watermark"
run i14-read-nothing 4 -- radioactivity read --key "$key"
stderr_has i14-read-nothing "radioactivity read: give --input with --model (the suspect), or --predictions"
run i14-plan-green-above-scored 4 -- radioactivity plan --green 20 --scored 10
stderr_has i14-plan-green-above-scored "plan: --green 20 exceeds --scored 10 (green tuples are some of the scored ones)"
run i14-plan-gamma 4 -- radioactivity plan --green 2 --scored 10 --gamma 1.5
stderr_has i14-plan-gamma "plan: --gamma: expected a value in (0, 1), got 1.5"
run i14-plan-target 4 -- radioactivity plan --green 2 --scored 10 --target-log10-p 3
stderr_has i14-plan-target "plan: --target-log10-p: expected a negative log10 p, got 3"
run i14-keygen-no-vocab 4 -- keygen --output "$work/i14-none.key"
stderr_has i14-keygen-no-vocab "vocabulary size: give --model, --vocab-size or --tokenizer"
run i14-keygen-context-width 4 -- keygen --output "$work/i14-h.key" --vocab-size 1000 --context-width 0
stderr_has i14-keygen-context-width "context_width: expected 1 <= h <= 16, got 0"
[ ! -e "$work/i14-h.key" ]; check "issue 14: item 6: no key file after a refused keygen" $?
run i14-signing-key-alone 4 -- detect --key "$key" --input "$docs" --signing-key "$work/i13-signer.key"
stderr_has i14-signing-key-alone "--signing-key is only used with --report or --html"
run i14-bench-tokenizer-alone 4 -- bench --tokenizer "$tok"
stderr_has i14-bench-tokenizer-alone "--tokenizer requires --text"
run i14-lm-watermarked-alone 4 -- lm train --tokenizer "$tok" --corpus "$work/texts" --watermarked "$work/i14-gen.jsonl" --output "$work/i14-w.tlm"
stderr_has i14-lm-watermarked-alone "lm train: --watermarked needs --fraction"
run i14-lm-eval-no-input 4 -- lm eval --model "$work/small.tlm" --tokenizer "$tok"
stderr_has i14-lm-eval-no-input "--input is required"
# No verdict is no conclusion (exit 2), as insufficient evidence is; never the "no evidence" of exit 1.
run i14-rad-no-verdict 2 -- radioactivity corpus --key "$key" --input "$docs" --dedup none --controls 0
grep -q "verdict: none (deduplication or prompt exclusion is off)" "$work/out"; check "issue 14: item 6: --dedup none: no verdict, exit 2" $?
echo '{"prompt_tokens": [1, 2, 3], "tokens": [1, 2, 3, 4, 5, 6, 7, 8]}' > "$work/i14-closed.jsonl"
run i14-closed-no-exclusion 2 -- radioactivity closed --key "$key" --input "$work/i14-closed.jsonl" --no-prompt-exclusion --controls 0
# Each command's --help lists the codes it returns, with their meaning for it.
for command in "keygen" "key show" "detect" "tokenize" "lm train" "lm eval" "lm show" "generate" \
               "radioactivity corpus" "radioactivity closed" "radioactivity read" "radioactivity filter" \
               "radioactivity plan" "report keygen" "report verify" "report html" "bench" "demo"; do
  # shellcheck disable=SC2086
  run "i14-help-$command" 0 -- $command --help
  grep -q "^Exit codes:$" "$work/out" && grep -q "^  0   " "$work/out" && grep -q "^  4   usage error" "$work/out" \
    && grep -q "^  70  internal error" "$work/out"
  check "issue 14: item 6: $command --help lists its exit codes" $?
done
run i14-help-corpus 0 -- radioactivity corpus --help
grep -q "^  0   RADIOACTIVE: evidence at alpha that the suspect's outputs depend on key K" "$work/out" \
  && grep -q "^  1   no evidence at alpha$" "$work/out" \
  && grep -q "^  2   no conclusion: insufficient evidence (too few scored tuples to reach alpha), or$" "$work/out" \
  && grep -q "no verdict (--dedup none, or the control keys' p-values are not uniform" "$work/out"
check "issue 14: item 6: radioactivity corpus --help: evidence, no evidence, no conclusion" $?
run i14-help-closed 0 -- radioactivity closed --help
grep -q "no verdict (--dedup none, --no-prompt-exclusion, or the control keys' p-values are not" "$work/out"
check "issue 14: item 6: radioactivity closed --help names --no-prompt-exclusion among the no-verdict causes" $?
run i14-help-detect 0 -- detect --help
grep -q "^  0   WATERMARK DETECTED: the run's verdict at alpha" "$work/out" && grep -q "or no documents), or no verdict (--dedup none)" "$work/out" \
  && ! grep -q "RADIOACTIVE" "$work/out"
check "issue 14: item 6: detect --help: its own meanings, not radioactivity's" $?
run i14-help-keygen 0 -- keygen --help
grep -q "^  0   the key was written$" "$work/out" && grep -q "an existing output file without --force" "$work/out" \
  && ! grep -q "^  1   " "$work/out" && ! grep -q "^  6   " "$work/out"
check "issue 14: item 6: keygen --help: only the codes keygen returns" $?
run i14-help-plan 0 -- radioactivity plan --help
! grep -q "^  3   " "$work/out" && grep -q "(--green above --scored, --gamma" "$work/out"
check "issue 14: item 6: radioactivity plan --help: no input error (it reads no file)" $?
run i14-help-verify 0 -- report verify --help
grep -q "^  6   verification failed: unknown signer" "$work/out"; check "issue 14: item 6: report verify --help: exit 6" $?
run i14-help-app 0 -- --help
grep -q "Each command's" "$work/out" && grep -q "2 no" "$work/out"; check "issue 14: item 6: the app's --help keeps the summary" $?

# ==== issue 14: item 7 — one spelling per concept (old ones hidden), one overwrite policy ====
# --output names every output file; --out still works and is not shown.
for command in "keygen" "lm train" "radioactivity filter" "report keygen" "report html" "detect" "tokenize" \
               "generate" "radioactivity corpus"; do
  # shellcheck disable=SC2086
  run "i14-help-output-$command" 0 -- $command --help
  grep -q -- "-o,--output TEXT" "$work/out" && ! grep -qE -- "--out([^p]|$)" "$work/out"
  check "issue 14: item 7: $command --help shows --output, never --out" $?
done
run i14-old-out 0 -- keygen --out "$work/i14-old.key" --vocab-size 1000
[ -s "$work/i14-old.key" ]; check "issue 14: item 7: keygen --out (old spelling) still writes the key" $?
run i14-old-out-detect 0 -- detect --key "$key" --input "$docs" --json --out "$work/i14-old-out.jsonl"
diff -q "$fixtures/detect.jsonl" "$work/i14-old-out.jsonl" >/dev/null; check "issue 14: item 7: detect --out (old spelling) writes the results" $?
run i14-out-and-output 4 -- detect --key "$key" --input "$docs" --out "$work/a" --output "$work/b"
stderr_has i14-out-and-output "--out: an old spelling of --output, given beside it: give one"
run i14-filter-no-output 4 -- radioactivity filter --key "$key" --input "$docs"
stderr_has i14-filter-no-output "--output is required"
# --dedup is how repeated tuples are scored, in detect and radioactivity alike; --tape is its old spelling.
run i14-rad-dedup 0 -- radioactivity corpus --key "$key" --input "$docs" --dedup context --controls 0 --json
cp "$work/out" "$work/i14-dedup.json"
grep -q '"dedup":"context","tape":"window"' "$work/out"; check "issue 14: item 7: --dedup context is the tape of windows" $?
run i14-rad-tape 0 -- radioactivity corpus --key "$key" --input "$docs" --tape window --controls 0 --json
cmp -s "$work/i14-dedup.json" "$work/out"; check "issue 14: item 7: --tape window (old spelling) is --dedup context" $?
run i14-rad-tape-and-dedup 4 -- radioactivity corpus --key "$key" --input "$docs" --tape window --dedup context
stderr_has i14-rad-tape-and-dedup "--tape: an old spelling of --dedup, given beside it: give one"
run i14-rad-tape-bad-value 4 -- radioactivity corpus --key "$key" --input "$docs" --tape sometimes
stderr_has i14-rad-tape-bad-value "--tape: Check sometimes value in {"
run i14-rad-old-value 4 -- radioactivity corpus --key "$key" --input "$docs" --dedup window
run i14-help-dedup 0 -- radioactivity corpus --help
grep -q -- "--dedup TEXT:{context+token,context,none}=context+token" "$work/out" && ! grep -q -- "--tape" "$work/out"
check "issue 14: item 7: radioactivity --help shows --dedup with detect's values, never --tape" $?
# demo: --max-new-tokens as in generate; --length is its old spelling, with the same range.
run i14-help-demo 0 -- demo --help
grep -q -- "--max-new-tokens UINT" "$work/out" && ! grep -q -- "--length" "$work/out"; check "issue 14: item 7: demo --help shows --max-new-tokens, never --length" $?
run i14-demo-new 0 -- demo --model "$work/small.tlm" --tokenizer "$tok" --prompts "$work/prompts.jsonl" --sequences 1 --max-new-tokens 8
cp "$work/out" "$work/i14-demo.txt"
run i14-demo-old 0 -- demo --model "$work/small.tlm" --tokenizer "$tok" --prompts "$work/prompts.jsonl" --sequences 1 --length 8
cmp -s "$work/i14-demo.txt" "$work/out"; check "issue 14: item 7: demo --length (old spelling) is --max-new-tokens" $?
run i14-demo-old-range 4 -- demo --length 1
stderr_has i14-demo-old-range "--length: Value 1 not in range 2 to 100000"
# key show and lm show: the file as the argument or as the option, exactly once.
run i14-key-show-option 0 -- key show --key "$key"
golden i14-key-show-option key_show.txt
run i14-key-show-neither 4 -- key show
stderr_has i14-key-show-neither "the key file is required: give it as the argument or as --key"
run i14-key-show-both 4 -- key show "$key" --key "$key"
stderr_has i14-key-show-both "the key file given twice: give it once, as the argument or as --key"
run i14-help-key-show 0 -- key show --help
! grep -q "REQUIRED" "$work/out"; check "issue 14: item 7: key show --help marks neither form REQUIRED" $?
run i14-lm-show-option 0 -- lm show --model "$work/small.tlm"
run i14-lm-show-neither 4 -- lm show
stderr_has i14-lm-show-neither "the model file is required: give it as the argument or as --model"
run i14-lm-show-both 4 -- lm show "$work/small.tlm" -m "$work/small.tlm"
# Overwrite policy: a key, signing key, model, filter or HTML file is never replaced without --force
# (exit 4 names it, before any work); results that stand for standard output are replaced.
digest_of() { sha256sum "$1" | cut -d' ' -f1; }
before=$(digest_of "$work/i14-old.key")
run i14-keygen-exists 4 -- keygen --output "$work/i14-old.key" --vocab-size 1000
stderr_has i14-keygen-exists "refusing to overwrite the existing key file $work/i14-old.key: give --force to replace it"
[ "$(digest_of "$work/i14-old.key")" = "$before" ]; check "issue 14: item 7: the key is kept" $?
run i14-keygen-force 0 -- keygen --output "$work/i14-old.key" --vocab-size 1000 --force
[ "$(digest_of "$work/i14-old.key")" != "$before" ]; check "issue 14: item 7: keygen --force replaces the key" $?
before=$(digest_of "$work/small.tlm")
run i14-lm-train-exists 4 -- lm train --tokenizer "$tok" --corpus "$work/texts" --order 3 --output "$work/small.tlm"
stderr_has i14-lm-train-exists "refusing to overwrite the existing model file $work/small.tlm: give --force to replace it"
[ "$(digest_of "$work/small.tlm")" = "$before" ]; check "issue 14: item 7: lm train keeps the existing model" $?
cp "$work/small.tlm" "$work/i14-replace.tlm"
run i14-lm-train-force 0 -- lm train --tokenizer "$tok" --corpus "$work/texts" --order 3 --output "$work/i14-replace.tlm" --force
[ "$(digest_of "$work/i14-replace.tlm")" != "$before" ]; check "issue 14: item 7: lm train --force replaces the model" $?
run i14-filter-exists 4 -- radioactivity filter --key "$key" --input "$docs" --output "$work/ours.filter"
stderr_has i14-filter-exists "refusing to overwrite the existing filter file $work/ours.filter: give --force to replace it"
run i14-report-keygen-exists 4 -- report keygen --output "$work/i13-signer.key"
stderr_has i14-report-keygen-exists "refusing to overwrite the existing signing key file $work/i13-signer.key: give --force"
rm -f "$work/i14-lone.key"; cp "$work/i13-signer.key.pub" "$work/i14-lone.key.pub"
run i14-report-keygen-pub-exists 4 -- report keygen --output "$work/i14-lone.key"
stderr_has i14-report-keygen-pub-exists "refusing to overwrite the existing public key file $work/i14-lone.key.pub: give --force"
[ ! -e "$work/i14-lone.key" ]; check "issue 14: item 7: no signing key beside a refused public key" $?
run i14-report-html 0 -- report html "$work/i14.report.json" --public-key "$work/i13-signer.key.pub" --output "$work/i14.html"
run i14-report-html-exists 4 -- report html "$work/i14.report.json" --public-key "$work/i13-signer.key.pub" --output "$work/i14.html"
stderr_has i14-report-html-exists "refusing to overwrite the existing HTML file $work/i14.html: give --force to replace it"
run i14-report-html-force 0 -- report html "$work/i14.report.json" --public-key "$work/i13-signer.key.pub" --output "$work/i14.html" --force
run i14-help-policy 0 -- lm train --help
grep -q "An existing output file is never replaced unless --force" "$work/out"; check "issue 14: item 7: lm train --help states the policy" $?
echo stale > "$work/i14-results.jsonl"
run i14-detect-replaces 0 -- detect --key "$key" --input "$docs" --json --output "$work/i14-results.jsonl"
diff -q "$fixtures/detect.jsonl" "$work/i14-results.jsonl" >/dev/null; check "issue 14: item 7: detect --output replaces its results" $?
# ==== issue 14: item 8 (the rest is in tests/cli/threads_test.sh) ====
# --quiet is accepted by every long-running command; off a terminal no progress line is ever drawn.
run i14-quiet-generate 0 -- generate --model "$work/small.tlm" --tokenizer "$tok" --no-watermark --prompts "$work/i14-prompts.jsonl" --max-new-tokens 4 --quiet
run i14-quiet-detect 0 -- detect --key "$work/gpt2.key" --input "$work/i14-gen.jsonl" --tokenizer "$tok" --quiet
run i14-quiet-tokenize 0 -- tokenize --tokenizer "$tok" --input "$work/texts" --quiet
run i14-quiet-lm-train 0 -- lm train --tokenizer "$tok" --corpus "$work/texts" --order 2 --out "$work/i14-quiet.tlm" --quiet
run i14-quiet-lm-eval 0 -- lm eval --model "$work/small.tlm" --tokenizer "$tok" --input "$work/texts" --quiet
run i14-quiet-filter 0 -- radioactivity filter --key "$work/gpt2.key" --tokenizer "$tok" --input "$work/i14-gen.jsonl" --out "$work/i14-quiet.filter" --quiet
run i14-threads-cap-generate 4 -- generate --model "$work/small.tlm" --tokenizer "$tok" --no-watermark --prompts "$work/i14-prompts.jsonl" --threads 1025
stderr_has i14-threads-cap-generate "--threads: Value 1025 not in range 0 to 1024"
# ==== end of issue 14: item 8 ====

# ==== issue 15: account tracing — keygen --trace, generate --account (papers/trace-v1.md) ====
run i15-keygen-trace 0 -- keygen --out "$work/i15-trace.key" --tokenizer "$tok" --trace
grep -q '"prf": "tritium-trace-v1"' "$work/i15-trace.key"; check "issue 15: keygen --trace writes params.trace" $?
run i15-key-show-trace 0 -- key show "$work/i15-trace.key"
grep -q "^trace            tritium-trace-v1: L = 1024, 4 symbols, position width 3, account delta 0.75$" "$work/out"
check "issue 15: key show prints the trace parameters" $?
grep -q "^delta            1.9$" "$work/out"; check "issue 15: a traced key defaults to delta 1.9 (papers/attribution.md 7.1)" $?
run i15-keygen-trace-delta 0 -- keygen --out "$work/i15-trace-d2.key" --tokenizer "$tok" --trace --delta 2
grep -q '"delta": 2.0,' "$work/i15-trace-d2.key"; check "issue 15: keygen --trace --delta 2 keeps the delta given" $?
run i15-keygen-trace-length 4 -- keygen --out "$work/i15-bad.key" --tokenizer "$tok" --trace --trace-code-length 1000
stderr_has i15-keygen-trace-length "trace code_length: expected a power of two in [64, 4096], got 1000"
run i15-keygen-trace-delta 4 -- keygen --out "$work/i15-bad.key" --tokenizer "$tok" --trace --account-delta 9
stderr_has i15-keygen-trace-delta "trace account_delta: expected a value in (0, 8], got 9"
run i15-keygen-trace-width 4 -- keygen --out "$work/i15-bad.key" --tokenizer "$tok" --trace --trace-position-width 17
stderr_has i15-keygen-trace-width "trace position_width: expected 1 <= h_p <= 16, got 17"
run i15-keygen-delta-without-trace 4 -- keygen --out "$work/i15-bad.key" --tokenizer "$tok" --account-delta 0.5
stderr_has i15-keygen-delta-without-trace "--account-delta requires --trace"
[ ! -e "$work/i15-bad.key" ]; check "issue 15: no key file after a refused keygen --trace" $?
# generate --account: a key without trace parameters is refused (exit 4), naming the fix.
run i15-generate-account-plain-key 4 -- generate --model "$work/small.tlm" --tokenizer "$tok" --key "$work/gpt2.key" --prompts "$work/i14-prompts.jsonl" --max-new-tokens 4 --account acct-000001
stderr_has i15-generate-account-plain-key "generate --account: the key "
stderr_has i15-generate-account-plain-key "has no trace parameters (params.trace), so it cannot mark accounts; make a key with \`tritium keygen --trace\`"
run i15-generate-account-no-key 4 -- generate --model "$work/small.tlm" --tokenizer "$tok" --no-watermark --prompts "$work/i14-prompts.jsonl" --account acct-000001
run i15-generate-account-utf8 4 -- generate --model "$work/small.tlm" --tokenizer "$tok" --key "$work/i15-trace.key" --prompts "$work/i14-prompts.jsonl" --account $'ok\xc0\xaf'
stderr_has i15-generate-account-utf8 "account id: expected valid UTF-8, got byte 0xc0 at byte offset 2"
run i15-generate-account 0 -- generate --model "$work/small.tlm" --tokenizer "$tok" --key "$work/i15-trace.key" --prompts "$work/i14-prompts.jsonl" --max-new-tokens 40 --account acct-000001 --output "$work/i15-gen.jsonl"
grep -q '"account":"acct-000001"' "$work/i15-gen.jsonl"; check "issue 15: generate --account records the account in settings" $?
# The account's mark rides on top of KGW: the global test still finds the key.
run i15-detect-account 0 -- detect --key "$work/i15-trace.key" --input "$work/i15-gen.jsonl"
# ==== issue 15: item 3 — tritium trace: which registered accounts' outputs a corpus holds ====
# A fixed key (fixtures/cli/gpt2-trace.key, the public test secret, V = 50,257, default trace
# parameters): the verdicts below must not depend on a key drawn at random (decoys and control keys
# are judged at 0.01).
cp "$fixtures/gpt2-trace.key" "$work/i15-fixed.key"; chmod 600 "$work/i15-fixed.key"
python3 -c "
import json
for i in range(2000): print(json.dumps({'account': 'acct-000001' if i == 777 else 'acct-%06d' % (100000 + i)}))" > "$work/i15-registry.jsonl"
run i15-generate-long 0 -- generate --model "$work/small.tlm" --tokenizer "$tok" --key "$work/i15-fixed.key" --prompts "$work/i14-prompts.jsonl" --max-new-tokens 150 --seed 3 --account acct-000001 --output "$work/i15-gen-long.jsonl"
run i15-trace-corpus 0 -- trace corpus --key "$work/i15-fixed.key" --registry "$work/i15-registry.jsonl" --input "$work/i15-gen-long.jsonl" --tokenizer "$tok" --json --list 3
python3 - "$work/out" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
rows = j['accounts']
assert j['outcome'] == 'accounts accused', j['outcome']
assert rows[0]['account'] == 'acct-000001' and rows[0]['accused'] and rows[0]['log10_p_fw'] <= -6, rows[0]
assert [r['accused'] for r in rows] == [True, False, False, False], rows
assert j['registry']['accounts'] == 2000 and j['decoys']['passed'], j
PY
check "issue 15: item 3: trace corpus accuses the account the text was generated for, and only it" $?
# Closed mode reads the same records as prompts and answers (prompt windows excluded): the same account.
run i15-trace-closed 0 -- trace closed --key "$work/i15-fixed.key" --registry "$work/i15-registry.jsonl" --input "$work/i15-gen-long.jsonl" --tokenizer "$tok" --json --list 1
python3 -c "import json,sys; j=json.load(open(sys.argv[1])); r=j['accounts']; assert j['mode']=='closed' and r[0]['account']=='acct-000001' and r[0]['accused'] and not r[1]['accused'], r" "$work/out"
check "issue 15: item 3: trace closed accuses the same account from the answers" $?
# Text generated for an account outside the registry accuses nobody in it (exit 1: no account accused).
run i15-generate-outsider 0 -- generate --model "$work/small.tlm" --tokenizer "$tok" --key "$work/i15-fixed.key" --prompts "$work/i14-prompts.jsonl" --max-new-tokens 150 --seed 4 --account outsider --output "$work/i15-gen-outsider.jsonl"
run i15-trace-outsider 1 -- trace corpus --key "$work/i15-fixed.key" --registry "$work/i15-registry.jsonl" --input "$work/i15-gen-outsider.jsonl" --tokenizer "$tok"
grep -q "verdict: no account accused at family-wise alpha = 1e-06" "$work/out"; check "issue 15: item 3: text for an unregistered account accuses no registered one" $?
run i15-trace-plain-key 4 -- trace corpus --key "$work/gpt2.key" --registry "$work/i15-registry.jsonl" --input "$work/i15-gen-long.jsonl" --tokenizer "$tok"
stderr_has i15-trace-plain-key "has no trace parameters: accounts are traced only with a key made by \`tritium keygen --trace\`"
run i15-trace-no-registry 4 -- trace corpus --key "$work/i15-fixed.key" --input "$work/i15-gen-long.jsonl" --tokenizer "$tok"
stderr_has i15-trace-no-registry "--registry is required"
printf '{"account": "a"}\n{"account": "b"}\n{"account": "a"}\n' > "$work/i15-dup-registry.jsonl"
run i15-trace-dup-registry 3 -- trace corpus --key "$work/i15-fixed.key" --registry "$work/i15-dup-registry.jsonl" --input "$work/i15-gen-long.jsonl" --tokenizer "$tok"
stderr_has i15-trace-dup-registry "i15-dup-registry.jsonl:3: account listed twice (first at $work/i15-dup-registry.jsonl:1)"
run i15-trace-model-in-corpus 4 -- trace corpus --key "$work/i15-fixed.key" --registry "$work/i15-registry.jsonl" --input "$work/i15-gen-long.jsonl" --tokenizer "$tok" --model "$work/small.tlm"
stderr_has i15-trace-model-in-corpus "The following arguments were not expected"
# Signed, recomputable: a tampered registry is caught (exit 6).
run i15-trace-report 0 -- trace corpus --key "$work/i15-fixed.key" --registry "$work/i15-registry.jsonl" --input "$work/i15-gen-long.jsonl" --tokenizer "$tok" --report "$work/i15-trace.report.json" --signing-key "$work/i13-signer.key" --html "$work/i15-trace.html"
grep -q "ACCUSED" "$work/i15-trace.html"; check "issue 15: item 6: the HTML report shows the accused account" $?
run i15-trace-verify 0 -- report verify "$work/i15-trace.report.json" --public-key "$work/i13-signer.key.pub" --key "$work/i15-fixed.key" --recompute
grep -q "every figure matches" "$work/out"; check "issue 15: item 6: report verify --recompute reproduces the trace report" $?
cp "$work/i15-registry.jsonl" "$work/i15-registry.saved"
echo '{"account": "late-addition"}' >> "$work/i15-registry.jsonl"
run i15-trace-verify-tampered 6 -- report verify "$work/i15-trace.report.json" --public-key "$work/i13-signer.key.pub" --key "$work/i15-fixed.key" --recompute
stderr_has i15-trace-verify-tampered "changed since the report was signed"
cp "$work/i15-registry.saved" "$work/i15-registry.jsonl"
run i15-trace-help 0 -- trace corpus --help
grep -q "^  1   no account accused at alpha" "$work/out"; check "issue 15: trace corpus --help lists its exit codes" $?
# ==== end of issue 15: account tracing ====
# ==== issue 15: items 7-8 — model fingerprints ====
run fp-make 0 -- fingerprint make --key "$key" --questions 16 --candidates 64 --output "$work/fp" --system-prompt "Be brief." --system-prompt "One word."
fp_commitment=$(cat "$work/out")
[[ "$fp_commitment" =~ ^[0-9a-f]{64}$ ]]; check "issue 15: fingerprint make prints the commitment (64 hex digits)" $?
[ "$(stat -c %a "$work/fp/set.json")" = 600 ] && [ "$(stat -c %a "$work/fp/train.jsonl")" = 600 ]
check "issue 15: the fingerprint set and its training pairs are mode 0600" $?
[ "$(wc -l < "$work/fp/train.jsonl")" -eq 32 ] && head -n 1 "$work/fp/train.jsonl" | grep -q '^{"system_prompt":"Be brief.","prompt":"[a-z ]*","completion":"[a-z]*"}$'
check "issue 15: one training pair per question and system prompt" $?
run fp-make-exists 4 -- fingerprint make --key "$key" --questions 16 --candidates 64 --output "$work/fp"
stderr_has fp-make-exists "refusing to replace the existing fingerprint file $work/fp/set.json (give --force)"
run fp-make-force 0 -- fingerprint make --key "$key" --questions 16 --candidates 64 --output "$work/fp" --force
[ "$(cat "$work/out")" = "$fp_commitment" ]; check "issue 15: the same key and sizes make the same set" $?
run fp-make-candidates 4 -- fingerprint make --key "$key" --candidates 100 --output "$work/fp2"
stderr_has fp-make-candidates "--candidates: 100 not in {2,4,8,16,32,64,128,256}"
[ ! -e "$work/fp2" ]; check "issue 15: no set directory after a refused make" $?
# The set's own answers (all right) under two system prompts; the first candidate for every question; three answers.
python3 - "$work/fp/set.json" "$work" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
with open(sys.argv[2] + "/fp-right.jsonl", "w") as f:
    for i, a in enumerate(s["answers"]):
        for p in ("Be brief.", "One word."):
            f.write(json.dumps({"question": i, "system_prompt": p, "answer": " " + a + ".\n"}) + "\n")
with open(sys.argv[2] + "/fp-same.jsonl", "w") as f:
    for i in range(len(s["answers"])):
        f.write(json.dumps({"question": i, "answer": s["candidates"][0]}) + "\n")
with open(sys.argv[2] + "/fp-three.jsonl", "w") as f:
    for i in range(3):
        f.write(json.dumps({"question": i, "answer": s["answers"][i]}) + "\n")
PY
run fp-found 0 -- fingerprint verify --set "$work/fp" --answers "$work/fp-right.jsonl" --commitment "$fp_commitment"
grep -q "^Matches: 16 of 16; exact p = 1.26e-29" "$work/out" && grep -q "^FINGERPRINT FOUND at alpha = 1e-06.$" "$work/out"
check "issue 15: the set's own answers: 16 matches of 16, p = 64^-16, found (exit 0)" $?
run fp-not-found 1 -- fingerprint verify --set "$work/fp" --answers "$work/fp-same.jsonl" --commitment "$fp_commitment" --json
grep -q '"outcome":"no fingerprint"' "$work/out"; check "issue 15: one candidate for every question: no fingerprint (exit 1)" $?
run fp-insufficient 2 -- fingerprint verify --set "$work/fp" --answers "$work/fp-three.jsonl" --commitment "$fp_commitment"
grep -q "^Insufficient: even 3 matches of 3 would give p = 3.81e-06 > alpha = 1e-06" "$work/out"
check "issue 15: three answers cannot reach alpha: insufficient (exit 2)" $?
if [ "${fp_commitment:0:1}" = f ]; then fp_wrong=0${fp_commitment:1}; else fp_wrong=f${fp_commitment:1}; fi
run fp-mismatch 6 -- fingerprint verify --set "$work/fp" --answers "$work/fp-right.jsonl" --commitment "$fp_wrong"
stderr_has fp-mismatch "differs from the commitment $fp_wrong: this is not the set recorded at release"
run fp-bad-commitment 4 -- fingerprint verify --set "$work/fp" --answers "$work/fp-right.jsonl" --commitment xyz
stderr_has fp-bad-commitment 'commitment: expected 64 hex digits (as `fingerprint make` printed it), got "xyz"'
echo '{"question": 16, "answer": "x"}' > "$work/fp-16.jsonl"
run fp-unknown-question 3 -- fingerprint verify --set "$work/fp" --answers "$work/fp-16.jsonl" --commitment "$fp_commitment"
stderr_has fp-unknown-question "$work/fp-16.jsonl:1: field \"question\": expected an index in [0, 16) (the set has 16 questions), got 16"
printf '{"question": 2, "answer": "x"}\n{"question": 2, "answer": "y"}\n' > "$work/fp-twice.jsonl"
run fp-twice 3 -- fingerprint verify --set "$work/fp" --answers "$work/fp-twice.jsonl" --commitment "$fp_commitment"
stderr_has fp-twice "$work/fp-twice.jsonl:2: question 2 under system prompt \"\" was already answered at $work/fp-twice.jsonl:1: ambiguous"
: > "$work/fp-empty.jsonl"
run fp-empty 3 -- fingerprint verify --set "$work/fp" --answers "$work/fp-empty.jsonl" --commitment "$fp_commitment"
stderr_has fp-empty "answers $work/fp-empty.jsonl: no answer records"
run fp-no-set 3 -- fingerprint verify --set "$work/nothing" --answers "$work/fp-right.jsonl" --commitment "$fp_commitment"
stderr_has fp-no-set "cannot open fingerprint set $work/nothing/set.json"
run fp-report-no-key 4 -- fingerprint verify --set "$work/fp" --answers "$work/fp-right.jsonl" --commitment "$fp_commitment" --report "$work/fp.report.json" --signing-key "$work/i13-signer.key"
stderr_has fp-report-no-key "--report and --html need --key"
run fp-signing-key-unused 4 -- fingerprint verify --set "$work/fp" --answers "$work/fp-right.jsonl" --commitment "$fp_commitment" --signing-key "$work/i13-signer.key"
stderr_has fp-signing-key-unused "--signing-key is only used with --report or --html"
run fp-other-key 6 -- fingerprint verify --set "$work/fp" --answers "$work/fp-right.jsonl" --commitment "$fp_commitment" --key "$work/gpt2.key"
stderr_has fp-other-key "not the set key"
# The evidence report: signed, recomputed, rendered.
run fp-report 0 -- fingerprint verify --set "$work/fp" --answers "$work/fp-right.jsonl" --commitment "$fp_commitment" --key "$key" --report "$work/fp.report.json" --signing-key "$work/i13-signer.key" --html "$work/fp.report.html"
run fp-report-verify 0 -- report verify "$work/fp.report.json" --public-key "$work/i13-signer.key.pub" --key "$key" --recompute
python3 - "$work/fp.report.json" "$work/fp/set.json" <<'PY'
import base64, json, sys
e = json.load(open(sys.argv[1]))
question = json.load(open(sys.argv[2]))["questions"][0]
payload = base64.b64decode(e["payload"]).decode()
s = json.loads(payload)
p = s["predicate"]
assert p["test"] == "fingerprint", p["test"]
assert p["settings"]["questions"] == 16 and p["settings"]["candidates"] == 64
assert p["settings"]["system_prompts"] == ["Be brief.", "One word."]
assert p["totals"]["matches"] == 16 and p["decision"]["outcome"] == "evidence"
assert len(p["fingerprint"]["questions"]) == 16 and p["fingerprint"]["questions"][0] == [0, 2, 1, True]
assert question not in payload, "a question leaked into the report"
assert [x["name"].endswith(n) for x, n in zip(s["subject"], ("fp/set.json", "fp-right.jsonl"))] == [True, True]
PY
check "issue 15: the fingerprint report records the counts and the set's digest, never a question" $?
grep -q "Fingerprint found" "$work/fp.report.html" && grep -q "<th>distinct candidates</th>" "$work/fp.report.html"
check "issue 15: the fingerprint report renders as HTML with the question table" $?
cp "$work/fp-right.jsonl" "$work/fp-right.saved"; echo '{"question": 0, "answer": "extra"}' >> "$work/fp-right.jsonl"
run fp-report-changed 6 -- report verify "$work/fp.report.json" --public-key "$work/i13-signer.key.pub" --key "$key" --recompute
cp "$work/fp-right.saved" "$work/fp-right.jsonl"
for command in "fingerprint make" "fingerprint verify"; do
  # shellcheck disable=SC2086
  run "fp-help-$command" 0 -- $command --help
  grep -q "^Exit codes:$" "$work/out" && grep -q "^  0   " "$work/out" && grep -q "^  4   usage error" "$work/out" \
    && grep -q "^  70  internal error" "$work/out"
  check "issue 15: $command --help lists its exit codes" $?
done
grep -q "^  2   insufficient: too few questions answered" "$work/out" && grep -q "^  6   the set does not match the commitment" "$work/out"
check "issue 15: fingerprint verify --help: insufficient (2) and commitment mismatch (6)" $?
# ==== end of issue 15: model fingerprints ====

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
