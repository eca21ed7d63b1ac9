#!/usr/bin/env bash
# Every command and option the golden test does not reach, run on the reference model, its tokenizer
# and its prompts, each checked on the output that matters (not only its exit code).
# Usage: commands_test.sh TRITIUM_BINARY REFERENCE_MODEL TOKENIZER PROMPTS HELDOUT_JSONL FIXTURES_CLI_DIR
# The keys are fixtures (throwaway, fixtures/README.md), so every figure is reproducible.
set -uo pipefail
tritium=$1 model=$2 tokenizer=$3 prompts=$4 heldout=$5 fixtures=$6
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
passed=0
failed=0

check() {  # check NAME STATUS — STATUS captured before NAME is built
  if [ "$2" -eq 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAILED: $1"; fi
}
run() {  # run NAME EXPECTED_EXIT -- ARGS...: stdout in out, stderr in err
  local name=$1 expected=$2
  shift 3
  "$tritium" "$@" >out 2>err
  local code=$?
  local rc=0
  [ "$code" -eq "$expected" ] || rc=1
  check "$name: exit $code, expected $expected ($(head -c 300 err))" $rc
}
expect() {  # expect NAME PYTHON_CONDITION FILE: the condition over j, the JSON document in FILE
  local rc=0
  python3 - "$3" "$2" <<'PY' >py.out 2>&1 || rc=1
import json, sys
with open(sys.argv[1]) as f:
    text = f.read()
try:
    j = json.loads(text)
except ValueError:
    j = [json.loads(line) for line in text.splitlines() if line.strip()]
if not eval(sys.argv[2], {'j': j, 'text': text}):
    sys.exit('condition false: ' + sys.argv[2] + '\n' + text[:400])
PY
  check "$1: $(head -c 600 py.out)" $rc
}

head -n 12 "$prompts" > prompts.jsonl
cp "$fixtures/qwen3.key" k.key
cp "$fixtures/qwen3-selfhash.key" self.key
chmod 600 k.key self.key
digest=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["params"]["tokenizer_digest"])' k.key)

# key show --json: the public parameters, never the secret.
run key-show-json 0 -- key show --json k.key
expect key-show-json "j['params']['vocab_size'] == 151936 and j['params']['seeding'] == 'lefthash' and 'secret' not in text" out

# keygen --seeding/--context-width reach the key and the embedding: a self-hash h = 3 key
# watermarks generations that detect finds.
run keygen-selfhash 0 -- keygen --out new-self.key --tokenizer "$tokenizer" --vocab-size 151936 --seeding selfhash --context-width 3
run key-show-new-selfhash 0 -- key show --json new-self.key
expect key-show-new-selfhash "j['params']['seeding'] == 'selfhash' and j['params']['context_width'] == 3" out
run key-show-selfhash 0 -- key show --json self.key
expect key-show-selfhash "j['params']['seeding'] == 'selfhash' and j['params']['context_width'] == 3" out
run generate-selfhash 0 -- generate -m "$model" -t "$tokenizer" -k self.key -p prompts.jsonl --max-new-tokens 60 --seed 5 -o self.jsonl
run detect-selfhash 0 -- detect -k self.key -i self.jsonl --pool --json
expect detect-selfhash "j['detected'] and j['log10_p'] < -10" out

# generate with temperature and top-p below 1, watermarked and not; the records carry the settings.
run generate 0 -- generate -m "$model" -t "$tokenizer" -k k.key -p prompts.jsonl --max-new-tokens 60 --seed 3 --temperature 0.8 --top-p 0.9 -o gen.jsonl
expect generate "len(j) == 12 and all(len(r['tokens']) == 60 and r['settings']['temperature'] == 0.8 and r['settings']['top_p'] == 0.9 and r['settings']['watermark'] for r in j)" gen.jsonl
run generate-plain 0 -- generate -m "$model" -t "$tokenizer" -p prompts.jsonl --max-new-tokens 60 --seed 3 --no-watermark -o plain.jsonl
expect generate-plain "len(j) == 12 and not any(r['settings']['watermark'] for r in j)" plain.jsonl
run detect-generated 0 -- detect -k k.key -i gen.jsonl --pool --json
expect detect-generated "j['detected'] and j['log10_p'] < -20" out
run detect-plain 1 -- detect -k k.key -i plain.jsonl --pool --json
expect detect-plain "not j['detected'] and j['log10_p'] > -3" out

# detect --alpha moves the decision; --threads leaves every figure as it is; --tokenizer-digest
# refuses a key bound to another tokenizer.
run detect-alpha 1 -- detect -k k.key -i gen.jsonl --pool --json --alpha 1e-300
expect detect-alpha "not j['detected'] and j['alpha'] == 1e-300 and j['log10_p'] < -20" out
run detect-threads-1 0 -- detect -k k.key -i gen.jsonl --json --threads 1
mv out threads1.jsonl
run detect-threads-2 0 -- detect -k k.key -i gen.jsonl --json --threads 2
cmp -s out threads1.jsonl; check "detect --threads 2 gives the rows of --threads 1" $?
run detect-digest 0 -- detect -k k.key -i gen.jsonl --pool --json --tokenizer-digest "$digest"
run detect-other-digest 3 -- detect -k k.key -i gen.jsonl --pool --json --tokenizer-digest "sha256:$(printf '0%.0s' {1..64})"
grep -q "${digest#sha256:}" err; check "detect --tokenizer-digest names the key's tokenizer ($(head -c 300 err))" $?

# lm eval: held-out prose scores below the unigram level, and the same words shuffled score worse.
head -n 3 "$heldout" > heldout.jsonl
python3 - heldout.jsonl shuffled.jsonl <<'PY'
import json, random, sys
rng = random.Random(7)
with open(sys.argv[1]) as f, open(sys.argv[2], 'w') as out:
    for line in f:
        r = json.loads(line)
        words = r['text'].split()
        rng.shuffle(words)
        out.write(json.dumps({'id': r['id'], 'text': ' '.join(words)}) + '\n')
PY
run lm-eval 0 -- lm eval -m "$model" -t "$tokenizer" -i heldout.jsonl --json
mv out eval.json
expect lm-eval "j['tokens'] > 1000 and 1 < j['perplexity'] < j['unigram_perplexity'] and j['order'] == 4" eval.json
run lm-eval-shuffled 0 -- lm eval -m "$model" -t "$tokenizer" -i shuffled.jsonl --json
python3 -c 'import json,sys; a=json.load(open(sys.argv[1])); b=json.load(open(sys.argv[2])); sys.exit(0 if b["perplexity"] > 1.5 * a["perplexity"] else 1)' eval.json out
check "lm eval: shuffled words score a perplexity well above the prose's" $?

# radioactivity closed: what we sent and the suspect answered (our own watermarked answers: evidence),
# and a suspect model queried directly (the plain reference model: no evidence).
run closed-input 0 -- radioactivity closed -k k.key -t "$tokenizer" -i gen.jsonl --controls 5 --json
expect closed-input "j['mode'] == 'closed' and j['detected'] and j['prompt_exclusion'] and j['counts']['prompt_excluded'] > 0 and j['controls']['count'] == 5" out
run closed-model 1 -- radioactivity closed -k k.key -t "$tokenizer" -m "$model" -p prompts.jsonl --max-new-tokens 40 --controls 5 --json
expect closed-model "j['mode'] == 'closed' and not j['detected'] and j['scored'] > 100" out

# radioactivity filter --top keeps the most frequent windows; corpus --filter scores only those;
# --tape window scores each window once.
run filter-top 0 -- radioactivity filter -k k.key -t "$tokenizer" -i gen.jsonl --top 5 --out top5.filter
run corpus-filter 0 -- radioactivity corpus -k k.key -t "$tokenizer" -i gen.jsonl --filter top5.filter --json
expect corpus-filter "j['filter'] is not None and j['counts']['filtered_out'] > 0 and 0 < j['scored'] <= 5 * 60" out
run corpus-tape-token 0 -- radioactivity corpus -k k.key -t "$tokenizer" -i gen.jsonl --json
mv out tape_token.json
run corpus-tape-window 0 -- radioactivity corpus -k k.key -t "$tokenizer" -i gen.jsonl --tape window --json
python3 -c 'import json,sys; a=json.load(open(sys.argv[1])); b=json.load(open(sys.argv[2])); sys.exit(0 if b["tape"] == "window" and a["tape"] == "window+token" and b["scored"] <= a["scored"] and b["counts"]["duplicates"] >= a["counts"]["duplicates"] else 1)' tape_token.json out
check "corpus --tape window scores each window once (no more than window+token)" $?

# plan --per-query: queries are the planned tuples over the tuples per query, rounded up.
run plan-per-query 0 -- radioactivity plan --scored 100000 --green 27000 --target-log10-p -8 --per-query 150 --json
expect plan-per-query "j['queries_needed'] == -(-j['scored_needed'] // 150) and j['scored_needed'] > 0" out

# report verify --base and --json: a report made in one folder, verified from another.
run report-keygen 0 -- report keygen --out signer.key
mkdir case
cp gen.jsonl case/
(cd case && SOURCE_DATE_EPOCH=1 "$tritium" detect -k ../k.key -i gen.jsonl --pool --report r.json --signing-key ../signer.key >/dev/null 2>&1)
check "detect --report in a folder" $?
mkdir elsewhere
cd elsewhere || exit 1
run verify-elsewhere 6 -- report verify ../case/r.json -P ../signer.key.pub
stderr_base=$(grep -c -- "--base" err)
[ "$stderr_base" -ge 1 ]; check "verify without --base names --base ($(head -c 300 err))" $?
run verify-base 0 -- report verify ../case/r.json -P ../signer.key.pub --base ../case --json
expect verify-base "j['verified'] and j['subjects'] == 1 and j['outcome'] == 'evidence' and j['time'] == '1970-01-01T00:00:01Z'" out
cd "$work" || exit 1

# demo and bench, small: the demo's verdict table, the bench's figures.
run demo 0 -- demo --sequences 2 --max-new-tokens 40
grep -q "Watermarked answers detected: 2 of 2" out; check "demo detects both watermarked answers ($(head -c 300 err))" $?
run bench 0 -- bench --quick --json
expect bench "isinstance(j, dict) and len(j) > 0" out

# Issue 14, item 8: on a terminal (a pseudo-terminal from `script`), work over 2 s draws one
# self-overwriting progress line on stderr and erases it at the end; --quiet draws nothing; the
# output is the same either way. TRITIUM_PROGRESS_DELAY=0 draws from the first update, so the test
# does not depend on how fast this machine generates.
if command -v script >/dev/null; then
  gen=("$tritium" generate -m "$model" -t "$tokenizer" --no-watermark -p prompts.jsonl --seed 2 --max-new-tokens 200)
  TRITIUM_PROGRESS_DELAY=0 script -qec "$(printf '%q ' "${gen[@]}") -o pty.jsonl" pty.log >/dev/null 2>&1
  check "progress: generate on a terminal succeeds" $?
  grep -q $'\rgenerate: [0-9]*/12 prompts, [0-9.]* s' pty.log; rc=$?
  check "progress: generate on a terminal draws the progress line ($(head -c 300 pty.log | tr '\r\033' '^~'))" $rc
  grep -q $'\r\e\[Ktritium: generated' pty.log; check "progress: the line is erased before the summary" $?
  TRITIUM_PROGRESS_DELAY=0 script -qec "$(printf '%q ' "${gen[@]}") -o pty-quiet.jsonl --quiet" pty-quiet.log >/dev/null 2>&1
  ! grep -q $'\r[a-z]' pty-quiet.log; check "progress: --quiet draws no progress line on a terminal" $?
  cmp -s pty.jsonl pty-quiet.jsonl; check "progress: the output does not depend on the progress line" $?
fi

echo "commands_test: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
