#!/usr/bin/env bash
# tritium-llama-generate --hf-config: llama.cpp generates under a transformers watermark configuration
# (KGW lefthash, KGW selfhash, SynthID), the sampler first in the chain as transformers runs its
# processor, and `tritium detect --hf-config` finds the mark in every text; texts generated without
# it are not accused under any of them. Bad usage is exit 2, a bad configuration exit 3 naming it.
# Usage: generate_hf_config_test.sh TRITIUM GENERATE MAKE_MODEL VOCAB_GGUF SCRATCH
set -euo pipefail
tritium=$1 generate=$2 make_model=$3 vocab=$4 scratch=$5
rm -rf "$scratch" && mkdir -p "$scratch" && cd "$scratch"
"$make_model" "$vocab" model.gguf >/dev/null 2>&1
fail() { echo "FAILED: $*"; exit 1; }

cat >lefthash.json <<'JSON'
{"do_sample": true, "watermarking_config": {"greenlist_ratio": 0.25, "bias": 2.0, "hashing_key": 15485863, "seeding_scheme": "lefthash", "context_width": 1}}
JSON
cat >selfhash.json <<'JSON'
{"greenlist_ratio": 0.25, "bias": 2.5, "hashing_key": 15485863, "seeding_scheme": "selfhash", "context_width": 4}
JSON
cat >synthid.json <<'JSON'
{"watermarking_config": {"ngram_len": 5, "keys": [654, 400, 836, 123, 340, 443, 597, 160, 57, 29, 590, 639, 13, 715, 468, 990, 966, 226, 324, 585], "context_history_size": 1024, "sampling_table_size": 65536, "sampling_table_seed": 0, "skip_first_ngram_calls": false}}
JSON
prompts=("Once upon a time" "The weather report for tomorrow says" "In a recent interview the minister")

# Three texts per configuration (and three without a mark), as {"id", "tokens"} lines.
texts() {  # NAME OPTIONS...
  local name=$1; shift
  : >"$name.jsonl"
  for i in 0 1 2; do
    # One thread: ctest runs this beside other tests, and llama.cpp's spinning threads, more than the
    # cores left, slowed it tenfold in CI (157 s against 15 s alone).
    "$generate" -m model.gguf "$@" -p "${prompts[$i]}" -n 100 --seed $((i + 5)) --threads 1 >"$name-$i.json" 2>"$name-$i.err" ||
      fail "$name: generation $i exited $? ($(cat "$name-$i.err"))"
    python3 - "$name" "$i" <<'PY' >>"$name.jsonl"
import json, sys
name, i = sys.argv[1], sys.argv[2]
d = json.load(open(f"{name}-{i}.json"))
if d["n_gen"] < 50:
    sys.exit(f"{name}-{i}: only {d['n_gen']} tokens")
if "marked_steps" in d and d["marked_steps"] < 0.9 * d["n_gen"]:
    sys.exit(f"{name}-{i}: {d['marked_steps']} marked steps of {d['n_gen']}")
print(json.dumps({"id": f"{name}-{i}", "tokens": d["tokens"]}))
PY
  done
}
texts lefthash --hf-config lefthash.json
texts selfhash --hf-config selfhash.json
texts synthid --hf-config synthid.json
texts plain --no-watermark

for config in lefthash selfhash synthid; do
  vocab_opt=()
  [ "$config" != synthid ] && vocab_opt=(--vocab-size 151936)
  rc=0; "$tritium" detect --hf-config "$config.json" "${vocab_opt[@]}" -i "$config.jsonl" >"$config.detect" || rc=$?
  [ "$rc" = 0 ] || fail "$config: detect exited $rc, expected 0"; grep -q "Verdict: WATERMARK DETECTED" "$config.detect" || fail "$config: no detection"
  [ "$(grep -c 'p <= alpha' "$config.detect")" = 3 ] || { cat "$config.detect"; fail "$config: not every text detected on its own"; }
  rc=0; "$tritium" detect --hf-config "$config.json" "${vocab_opt[@]}" -i plain.jsonl >"plain-$config.detect" || rc=$?
  [ "$rc" = 1 ] || { cat "plain-$config.detect"; fail "unmarked texts under $config: exit $rc, expected 1 (no evidence)"; }
  echo "ok: $config: 3 of 3 generated texts detected ($(grep -o 'log10 = [-0-9.]*' "$config.detect")); unmarked texts: no evidence"
done

# Usage and configuration errors.
rc=0; "$generate" -m model.gguf --hf-config lefthash.json -k lefthash.json -n 5 >/dev/null 2>err.txt || rc=$?
[ "$rc" = 2 ] && grep -q "exactly one of" err.txt || fail "--hf-config with -k: exit $rc, expected 2"
rc=0; "$generate" -m model.gguf --hf-config lefthash.json --account a -n 5 >/dev/null 2>err.txt || rc=$?
[ "$rc" = 2 ] && grep -q "unused with --hf-config" err.txt || fail "--account with --hf-config: exit $rc, expected 2"
echo '{"greenlist_ratio": 0.25, "gamma": 0.5}' >typo.json
rc=0; "$generate" -m model.gguf --hf-config typo.json -n 5 >/dev/null 2>err.txt || rc=$?
[ "$rc" = 3 ] && grep -q '"gamma"' err.txt || { cat err.txt; fail "an unknown field: exit $rc, expected 3 naming it"; }
echo "ok: usage errors exit 2, an unknown configuration field exits 3 and is named"
