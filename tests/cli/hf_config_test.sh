#!/usr/bin/env bash
# `tritium detect --hf-config` (issue 17): detection under a transformers watermark configuration —
# WatermarkingConfig (KGW; TGI's watermark is its lefthash form) or SynthIDTextWatermarkingConfig —
# instead of a tritium key. Golden outputs, figures recomputed without tritium (recompute_hf.py), the
# refusals of options the configuration does not use, and bad configuration files.
# Usage: hf_config_test.sh TRITIUM_BINARY FIXTURES_CLI_DIR   (UPDATE_GOLDEN=1 rewrites golden files)
set -uo pipefail
source "$(dirname "$0")/lib.sh" "$@"
here=$(dirname "$0")
kgw_config=$fixtures/hf_kgw_generation_config.json
synthid_config=$fixtures/hf_synthid_config.json
kgw_docs=$fixtures/docs_hf_kgw.jsonl
synthid_docs=$fixtures/docs_hf_synthid.jsonl

# KGW from a generation_config.json: the three marked documents are detected, the two plain ones not.
run hf-kgw 0 -- detect --hf-config "$kgw_config" --vocab-size 1000 --input "$kgw_docs"
golden hf-kgw detect_hf_kgw.txt
run hf-kgw-json 0 -- detect --hf-config "$kgw_config" --vocab-size 1000 --input "$kgw_docs" --json
golden hf-kgw-json detect_hf_kgw.jsonl
python3 "$here/recompute_hf.py" "$kgw_config" "$kgw_docs" "$work/out" 1000 >"$work/recomputed" 2>&1
rc=$?
check "hf KGW figures recomputed without tritium: $(grep -v '^ok' "$work/recomputed" | head -c 600)" $rc
[ "$(grep -c '"p_is_bound":true' "$work/out")" -eq 5 ]; check "hf KGW rows say their p is a bound" $?
# The same configuration object alone, as WatermarkingConfig.to_json_file writes it.
python3 -c "import json,sys; json.dump(json.load(open(sys.argv[1]))['watermarking_config'], open(sys.argv[2], 'w'))" \
  "$kgw_config" "$work/kgw_alone.json"
run hf-kgw-alone 0 -- detect --hf-config "$work/kgw_alone.json" --vocab-size 1000 --input "$kgw_docs" --json
golden hf-kgw-alone detect_hf_kgw.jsonl
# Another hashing key: the same documents are no evidence.
sed 's/"hashing_key": 15485863/"hashing_key": 15485867/' "$kgw_config" > "$work/other_key.json"
run hf-kgw-other-key 1 -- detect --hf-config "$work/other_key.json" --vocab-size 1000 --input "$kgw_docs"
# Only the plain documents: no evidence; a 3-token document: insufficient.
grep plain "$kgw_docs" > "$work/plain.jsonl"
run hf-kgw-plain 1 -- detect --hf-config "$kgw_config" --vocab-size 1000 --input "$work/plain.jsonl"
echo '{"id": "short", "tokens": [1, 2, 3]}' > "$work/short.jsonl"
run hf-kgw-short 2 -- detect --hf-config "$kgw_config" --vocab-size 1000 --input "$work/short.jsonl"
# A leading BOS is dropped only when named.
sed 's/"tokens": \[/"tokens": [0, /' "$kgw_docs" > "$work/bos.jsonl"
run hf-kgw-bos 0 -- detect --hf-config "$kgw_config" --vocab-size 1000 --bos 0 --input "$work/bos.jsonl" --json
golden hf-kgw-bos detect_hf_kgw.jsonl

# SynthID: 20 layers; the Bayesian detector needs its own layer count (the KAT model has 5).
run hf-synthid 0 -- detect --hf-config "$synthid_config" --input "$synthid_docs"
golden hf-synthid detect_hf_synthid.txt
run hf-synthid-json 0 -- detect --hf-config "$synthid_config" --input "$synthid_docs" --json
golden hf-synthid-json detect_hf_synthid.jsonl
python3 "$here/recompute_hf.py" "$synthid_config" "$synthid_docs" "$work/out" >"$work/recomputed" 2>&1
rc=$?
check "SynthID figures recomputed without tritium: $(grep -v '^ok' "$work/recomputed" | head -c 600)" $rc
run hf-synthid-bayes-layers 3 -- detect --hf-config "$synthid_config" --input "$synthid_docs" \
  --bayesian-weights "$fixtures/../kat/synthid_bayesian_v1.safetensors"
stderr_has hf-synthid-bayes-layers "the Bayesian detector has 5 layers, the configuration 20 keys"
python3 -c "import json,sys; c=json.load(open(sys.argv[1])); c['keys']=c['keys'][:5]; json.dump(c, open(sys.argv[2], 'w'))" \
  "$synthid_config" "$work/synthid5.json"
run hf-synthid-bayes 0 -- detect --hf-config "$work/synthid5.json" --input "$synthid_docs" \
  --bayesian-weights "$fixtures/../kat/synthid_bayesian_v1.safetensors"
grep -q "not a p-value" "$work/out" && [ "$(grep -cE '^(marked|plain)-[0-9] .* [01]\.[0-9]{4}$' "$work/out")" -eq 5 ]
check "--bayesian-weights: a posterior per row, said not to be a p-value" $?
run hf-synthid-no-mask 0 -- detect --hf-config "$synthid_config" --input "$synthid_docs" --no-repetition-mask --json
# Nothing from the first EOS on is scored: a document that opens with it is too short to conclude.
head -1 "$synthid_docs" | sed 's/"tokens": \[/"tokens": [7, /' > "$work/eos.jsonl"
run hf-synthid-eos 2 -- detect --hf-config "$synthid_config" --input "$work/eos.jsonl" --eos 7
run hf-synthid-other-keys 1 -- detect --hf-config "$work/synthid5.json" --input "$kgw_docs"

run hf-report-keygen 0 -- report keygen -o "$work/signer.key"

# Window scans (papers/window-scan.md): a marked document pasted among tokens drawn independently of
# the keys (KGW: at token 800 of 1,500, where the whole text alone does not reach alpha; SynthID, whose
# scan costs a shift law per window: at token 300 of 500) is found where it is.
paste_marked() {  # paste_marked DOCS OUT BEFORE AFTER
  python3 -c "
import json, random, sys
random.seed(17)
marked = json.loads(open(sys.argv[1]).readline())['tokens']
before, after = int(sys.argv[3]), int(sys.argv[4])
tokens = [random.randrange(1000) for _ in range(before)] + marked + [random.randrange(1000) for _ in range(after)]
json.dump({'id': 'pasted', 'tokens': tokens}, open(sys.argv[2], 'w'))" "$@"
}
paste_marked "$kgw_docs" "$work/pasted_kgw.jsonl" 800 700
paste_marked "$synthid_docs" "$work/pasted_synthid.jsonl" 300 200
run hf-kgw-pasted-whole 1 -- detect --hf-config "$kgw_config" --vocab-size 1000 --input "$work/pasted_kgw.jsonl"
run hf-kgw-windows 0 -- detect --hf-config "$kgw_config" --vocab-size 1000 --input "$work/pasted_kgw.jsonl" --windows --json
python3 -c "
import json, sys
w = json.loads(open(sys.argv[1]).read())['window']
assert 795 <= w['token_begin'] and w['token_end'] <= 1025, w
assert w['log10_p_corrected'] < -20 and w['log10_p'] < w['log10_p_corrected'] and 'green' in w, w" "$work/out"
check "hf KGW --windows: the pasted passage is the best window, its corrected p decides" $?
run hf-synthid-windows 0 -- detect --hf-config "$synthid_config" --input "$work/pasted_synthid.jsonl" --windows
grep -qE "^    best window: tokens \[3[0-9][0-9], (4[0-9][0-9]|50[0-9])\), [0-9]+ scored, [0-9]+ g-values of 1" "$work/out" &&
  grep -q "Windows: sizes 50, doubling" "$work/out"
check "hf SynthID --windows: the best window and the grid are printed" $?
run hf-min-window-small 4 -- detect --hf-config "$synthid_config" --input "$synthid_docs" --windows --min-window 5
run hf-windows-pool 4 -- detect --hf-config "$synthid_config" --input "$synthid_docs" --windows --pool
run hf-windows-report 0 -- detect --hf-config "$synthid_config" --input "$work/pasted_synthid.jsonl" --windows \
  --base "$work" --report "$work/windows.report" --signing-key "$work/signer.key" --html "$work/windows.html"
grep -q "The best window" "$work/windows.html"; check "hf SynthID windowed report: the page shows the best window" $?
run hf-windows-report-verify 0 -- report verify "$work/windows.report" -P "$work/signer.key.pub" --base "$work" \
  --recompute --hf-config "$synthid_config"

# --pool: one test over all documents. The marked KGW documents cut into pieces of 8 tokens: 7 tuples
# each, too few for any piece to reach alpha after the correction for their number (insufficient);
# pooled, with tuples deduplicated across pieces, they are detected. Figures recomputed without tritium.
pieces() {  # pieces SIZE INPUT OUTPUT: the marked documents of INPUT cut into pieces of SIZE tokens
  python3 -c "
import json, sys
size, out = int(sys.argv[1]), open(sys.argv[3], 'w')
for line in open(sys.argv[2]):
    d = json.loads(line)
    if d['id'].startswith('marked'):
        for k in range(0, len(d['tokens']) - size + 1, size):
            out.write(json.dumps({'id': '%s/%d' % (d['id'], k), 'tokens': d['tokens'][k:k + size]}) + '\\n')
" "$@"
}
pieces 8 "$kgw_docs" "$work/kgw_pieces.jsonl"
run hf-kgw-pieces 2 -- detect --hf-config "$kgw_config" --vocab-size 1000 --input "$work/kgw_pieces.jsonl"
run hf-kgw-pool 0 -- detect --hf-config "$kgw_config" --vocab-size 1000 --input "$work/kgw_pieces.jsonl" --pool
pieces=$(wc -l < "$work/kgw_pieces.jsonl")
grep -qE "^\(pooled: $pieces docs\) +[0-9]+ +[0-9]+  [0-9]+ green" "$work/out" &&
  grep -q "tuple across all documents is scored once" "$work/out" &&
  grep -q "^Pooled verdict: WATERMARK DETECTED at alpha = 0.001 (one pooled test over $pieces document(s)" "$work/out"
check "hf KGW --pool: one row, the pooled null and verdict" $?
run hf-kgw-pool-json 0 -- detect --hf-config "$kgw_config" --vocab-size 1000 --input "$work/kgw_pieces.jsonl" --pool --json
python3 "$here/recompute_hf.py" "$kgw_config" "$work/kgw_pieces.jsonl" "$work/out" 1000 >"$work/recomputed" 2>&1
rc=$?
check "hf KGW --pool figures recomputed without tritium: $(grep -v '^ok' "$work/recomputed" | head -c 600)" $rc
cp "$work/out" "$work/pool_once.json"
stderr_has hf-kgw-pool-json "pooled verdict: WATERMARK DETECTED"
# The same pieces twice: every tuple is already counted, so nothing changes but the documents.
cat "$work/kgw_pieces.jsonl" "$work/kgw_pieces.jsonl" > "$work/kgw_pieces_twice.jsonl"
run hf-kgw-pool-twice 0 -- detect --hf-config "$kgw_config" --vocab-size 1000 --input "$work/kgw_pieces_twice.jsonl" --pool --json
python3 -c "
import json, sys
once, twice = (json.load(open(f)) for f in sys.argv[1:3])
assert twice['documents'] == 2 * once['documents'] and twice['tokens'] == 2 * once['tokens'], (once, twice)
for k in ('scored', 'green', 'log10_p'):
    assert twice[k] == once[k], (k, once, twice)
" "$work/pool_once.json" "$work/out"
check "hf KGW --pool: a tuple repeated in another document counts once" $?
# SynthID: every counted position of every piece in one key-shift null.
pieces 12 "$synthid_docs" "$work/synthid_pieces.jsonl"
run hf-synthid-pool 0 -- detect --hf-config "$synthid_config" --input "$work/synthid_pieces.jsonl" --pool --json
python3 "$here/recompute_hf.py" "$synthid_config" "$work/synthid_pieces.jsonl" "$work/out" >"$work/recomputed" 2>&1
rc=$?
check "hf SynthID --pool figures recomputed without tritium: $(grep -v '^ok' "$work/recomputed" | head -c 600)" $rc
grep plain "$synthid_docs" > "$work/synthid_plain.jsonl"
run hf-synthid-pool-plain 1 -- detect --hf-config "$synthid_config" --input "$work/synthid_plain.jsonl" --pool
printf '{"id": "a", "tokens": [1, 2, 3]}\n{"id": "b", "tokens": [1, 3000]}\n' > "$work/pool_bad.jsonl"
run hf-pool-bad-id 3 -- detect --hf-config "$kgw_config" --vocab-size 1000 --input "$work/pool_bad.jsonl" --pool
stderr_has hf-pool-bad-id "pool_bad.jsonl:2: token 1: id 3000 is outside the vocabulary [0, 1000)"
: > "$work/empty.jsonl"
run hf-pool-empty 2 -- detect --hf-config "$kgw_config" --vocab-size 1000 --input "$work/empty.jsonl" --pool
stderr_has hf-pool-empty "the input holds no documents"
run hf-pool-report 4 -- detect --hf-config "$kgw_config" --vocab-size 1000 --input "$work/kgw_pieces.jsonl" --pool \
  --report "$work/pool.report" --signing-key "$work/signer.key"
stderr_has hf-pool-report "a pooled test under a transformers configuration has no report yet"
[ ! -e "$work/pool.report" ]; check "hf --pool --report: nothing written" $?
run hf-pool-bayes 4 -- detect --hf-config "$work/synthid5.json" --input "$synthid_docs" --pool \
  --bayesian-weights "$fixtures/../kat/synthid_bayesian_v1.safetensors"
stderr_has hf-pool-bayes "a pooled test has none"

# Options the configuration does not use are refused (exit 4), never ignored.
for args in "--scheme kgw" "--dedup none" "--tokenizer-digest sha256:00" "--allow-tokenizer-mismatch"; do
  # shellcheck disable=SC2086
  run "hf-refuses $args" 4 -- detect --hf-config "$kgw_config" --vocab-size 1000 --input "$kgw_docs" $args
  stderr_has "hf-refuses $args" "is for tests under a tritium key; it is not used with --hf-config"
done

# Evidence reports (papers/evidence-v4.md): version 4, the configuration named by a commitment that a
# verifier holding the configuration checks before re-running the test; no key is ever in them.
statement_of() {  # statement_of ENVELOPE: the signed statement, decoded
  python3 -c "import base64,json,sys; print(base64.b64decode(json.load(open(sys.argv[1]))['payload']).decode())" "$1"
}
run hf-kgw-report 0 -- detect --hf-config "$kgw_config" --vocab-size 1000 --input "$kgw_docs" --base "$fixtures" \
  --report "$work/kgw.report" --signing-key "$work/signer.key" --html "$work/kgw.html"
golden hf-kgw-report detect_hf_kgw.txt
statement_of "$work/kgw.report" > "$work/kgw.statement"
grep -q '"predicateType":"https://tritium.dev/evidence/watermark-test/v4"' "$work/kgw.statement" &&
  grep -q '"test":"interop detect"' "$work/kgw.statement" && grep -q '"subject":\[{"name":"docs_hf_kgw.jsonl"' "$work/kgw.statement"
check "hf KGW report: version 4, test interop detect, the documents as its subject" $?
grep -q "default published with transformers and TGI" "$work/kgw.statement" && grep -q "published with transformers" "$work/kgw.html"
check "hf KGW report: the public default hashing key is named a limit" $?
run hf-kgw-report-verify 0 -- report verify "$work/kgw.report" -P "$work/signer.key.pub" --base "$fixtures" \
  --recompute --hf-config "$kgw_config"
grep -q "recomputed from the inputs and the configuration: every figure matches" "$work/out"
check "hf KGW report recomputed from the configuration" $?
run hf-kgw-report-other-key 6 -- report verify "$work/kgw.report" -P "$work/signer.key.pub" --base "$fixtures" \
  --recompute --hf-config "$work/other_key.json"
stderr_has hf-kgw-report-other-key "the configuration given is not the report's: its commitment differs"
run hf-kgw-report-with-key 3 -- report verify "$work/kgw.report" -P "$work/signer.key.pub" --base "$fixtures" \
  --recompute --key "$fixtures/test.key"
stderr_has hf-kgw-report-with-key "ran under a transformers watermark configuration, not a tritium key"
run hf-kgw-report-both 4 -- report verify "$work/kgw.report" -P "$work/signer.key.pub" --recompute \
  --key "$fixtures/test.key" --hf-config "$kgw_config"
run hf-kgw-report-unused 4 -- report verify "$work/kgw.report" -P "$work/signer.key.pub" --hf-config "$kgw_config"
stderr_has hf-kgw-report-unused "--hf-config is only used with --recompute"
run hf-kgw-report-neither 4 -- report verify "$work/kgw.report" -P "$work/signer.key.pub" --recompute
stderr_has hf-kgw-report-neither "--recompute needs the report's key (--key KEY), or for a report of detect --hf-config"
# A configuration with long keys: no key, whole or in part, is in the statement or the page.
python3 -c "
import json, sys
c = json.load(open(sys.argv[1]))
c['keys'] = [8817650932518264001 - 7919 * 104729 * i for i in range(len(c['keys']))]
c['sampling_table_seed'] = 7046029254386353131
json.dump(c, open(sys.argv[2], 'w'))" "$synthid_config" "$work/long_keys.json"
run hf-synthid-report 1 -- detect --hf-config "$work/long_keys.json" --input "$synthid_docs" --base "$fixtures" \
  --report "$work/synthid.report" --signing-key "$work/signer.key" --html "$work/synthid.html"
statement_of "$work/synthid.report" > "$work/synthid.statement"
python3 -c "
import json, sys
c = json.load(open(sys.argv[1]))
secrets = [str(k) for k in c['keys']] + [str(c['sampling_table_seed'])]
for f in sys.argv[2:]:
    text = open(f).read()
    leaked = [s for s in secrets if s[:12] in text]
    assert not leaked, (f, leaked)
" "$work/long_keys.json" "$work/synthid.statement" "$work/synthid.html" "$work/out"
check "hf SynthID report: no layer key or table seed in the statement, the page or the rows" $?
sed 's/"hashing_key": 15485863/"hashing_key": 8817650932518264001/' "$kgw_config" > "$work/long_key.json"
run hf-kgw-long-key-report 1 -- detect --hf-config "$work/long_key.json" --vocab-size 1000 --input "$kgw_docs" \
  --base "$fixtures" --report "$work/long.report" --signing-key "$work/signer.key" --html "$work/long.html"
statement_of "$work/long.report" > "$work/long.statement"
! grep -q 881765093251 "$work/long.statement" "$work/long.html" "$work/out" && ! grep -q "default published" "$work/long.statement"
check "hf KGW report: no part of a long hashing key in the statement, the page or the rows" $?
run hf-synthid-report-verify 0 -- report verify "$work/synthid.report" -P "$work/signer.key.pub" --base "$fixtures" \
  --recompute --hf-config "$work/long_keys.json"
run hf-synthid-report-wrong 6 -- report verify "$work/synthid.report" -P "$work/signer.key.pub" --base "$fixtures" \
  --recompute --hf-config "$synthid_config"
run hf-report-bayesian 4 -- detect --hf-config "$work/synthid5.json" --input "$synthid_docs" \
  --bayesian-weights "$fixtures/../kat/synthid_bayesian_v1.safetensors" --html "$work/bayes.html"
stderr_has hf-report-bayesian "--bayesian-weights with --report/--html: a report records the exact test only"
[ ! -e "$work/bayes.html" ]; check "no page for a refused report" $?
run hf-kgw-needs-vocab 4 -- detect --hf-config "$kgw_config" --input "$kgw_docs"
stderr_has hf-kgw-needs-vocab "--vocab-size: $kgw_config is a KGW configuration"
run hf-synthid-vocab 4 -- detect --hf-config "$synthid_config" --vocab-size 1000 --input "$synthid_docs"
run hf-kgw-eos 4 -- detect --hf-config "$kgw_config" --vocab-size 1000 --eos 2 --input "$kgw_docs"
run hf-kgw-no-mask 4 -- detect --hf-config "$kgw_config" --vocab-size 1000 --no-repetition-mask --input "$kgw_docs"
run hf-kgw-bayes 4 -- detect --hf-config "$kgw_config" --vocab-size 1000 --input "$kgw_docs" \
  --bayesian-weights "$fixtures/../kat/synthid_bayesian_v1.safetensors"
run hf-synthid-bos 4 -- detect --hf-config "$synthid_config" --bos 0 --input "$synthid_docs"
run hf-key-and-config 4 -- detect --key "$fixtures/test.key" --hf-config "$kgw_config" --input "$kgw_docs"
run hf-neither 4 -- detect --input "$kgw_docs"
stderr_has hf-neither "detect needs --key KEY, or --hf-config CONFIG"
cp "$fixtures/test.key" "$work/test.key" && chmod 600 "$work/test.key"
run hf-bos-with-key 4 -- detect --key "$work/test.key" --bos 0 --input "$fixtures/docs.jsonl"
stderr_has hf-bos-with-key "--bos reads a transformers watermark: it needs --hf-config"
# A token at or above V is an input error naming the file and line.
echo '{"id": "big", "tokens": [1, 2, 1000]}' > "$work/big.jsonl"
run hf-kgw-token-range 3 -- detect --hf-config "$kgw_config" --vocab-size 1000 --input "$work/big.jsonl"
stderr_has hf-kgw-token-range "big.jsonl:1: token 2: id 1000 is outside the vocabulary [0, 1000)"

# Bad configuration files: exit 3 naming the file and the field.
bad_config() {  # bad_config NAME JSON EXPECTED_MESSAGE
  printf '%s' "$2" > "$work/bad.json"
  local vocab=(--vocab-size 1000)
  case $2 in *'"keys"'*) vocab=() ;; esac  # SynthID does not take one
  run "hf-bad-$1" 3 -- detect --hf-config "$work/bad.json" "${vocab[@]}" --input "$kgw_docs"
  stderr_has "hf-bad-$1" "$3"
}
bad_config unknown '{"greenlist_ratio": 0.25, "gama": 0.5}' 'field "gama": not a field of transformers'
bad_config mixed '{"greenlist_ratio": 0.25, "keys": [1, 2]}' "mixes fields of WatermarkingConfig (KGW) and of SynthIDTextWatermarkingConfig"
bad_config empty '{}' "no watermark field"
bad_config null '{"do_sample": true, "watermarking_config": null}' "the generation config's watermarking_config is null"
bad_config ratio '{"greenlist_ratio": 1.5}' 'field "greenlist_ratio": expected a value in (0, 1), got 1.5'
bad_config seeding '{"seeding_scheme": "algorithm-3"}' 'field "seeding_scheme": expected "lefthash" or "selfhash"'
bad_config key-type '{"hashing_key": "15485863"}' 'field "hashing_key": expected an integer'
bad_config key-range '{"hashing_key": 9223372036854775808}' 'field "hashing_key": expected an integer in [0, 9223372036854775807]'
bad_config width '{"context_width": 0}' 'field "context_width": expected an integer in [1, 1024], got 0'
bad_config synthid-keys '{"ngram_len": 5, "keys": [1, 2.5]}' 'field "keys[1]": expected a 64-bit signed integer, got 2.5'
bad_config synthid-no-keys '{"ngram_len": 5}' 'SynthID needs its "keys"'
bad_config synthid-table '{"ngram_len": 5, "keys": [1], "sampling_table_size": 1000}' "tritium's exact SynthID null needs a power of two"
bad_config not-json '{"greenlist_ratio": 0.25,' "not valid JSON at byte"
bad_config duplicate '{"bias": 1.0, "bias": 2.0}' 'the key "bias" appears twice'
bad_config generation-only '{"do_sample": true}' '(a generation config holds the watermark as "watermarking_config")'
run hf-missing-config 3 -- detect --hf-config "$work/none.json" --vocab-size 1000 --input "$kgw_docs"
stderr_has hf-missing-config "none.json"

echo "hf_config_test: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
