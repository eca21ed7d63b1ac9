#!/usr/bin/env bash
# tritium-llama-server from the outside, with the official openai npm client (issue 16, item 5):
# - the server refuses a world-readable key or accounts file, a malformed accounts file and a key
#   whose V is not the model's;
# - two accounts' chat and completion answers, streaming and not, n = 2 included: the returned text
#   alone is detected (tritium detect) and attributed to its own account (tritium trace corpus);
#   an account the operator switched off, and a server without the watermark, give no detection;
# - a wrong API key gets 401; the served-output log holds exactly one record per returned choice,
#   with the right account, and `tritium trace corpus` and `radioactivity filter` read it as it is;
# - no API key, account id, key secret or key id appears in responses, /slots, /props, /metrics, the
#   server's log or its error bodies.
# Servers bind 127.0.0.1, get a bounded number of requests and are stopped by their PID.
# Verdicts are asserted on a fixed key (the trace KAT key) and seeded requests, so that a run's texts,
# and so its p-values, are the same every time: no verdict here can flake.
# - under --watermark-scheme gumbel and unigram (a fixed key naming all three schemes): sampled
#   answers are detected under their scheme and not under KGW; a Gumbel greedy answer is logged as
#   unmarked (marked_steps 0) and a mirostat request, which has no final draw to replace, is refused;
#   accounts are refused with any scheme but KGW.
# Usage: server_e2e_test.sh TRITIUM SERVER MAKE_MODEL VOCAB_GGUF CLIENT_DIR KEY SCRATCH SCHEMES_KEY
set -euo pipefail
tritium=$1 server=$2 make_model=$3 vocab=$4 client=$5 fixed_key=$6 scratch=$7 schemes_key=$8
rm -rf "$scratch" && mkdir -p "$scratch" && cd "$scratch"
failures=0
pids=()
fail() { echo "FAILED: $*"; failures=$((failures + 1)); }
pass() { echo "ok: $*"; }
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# start_server NAME ARGS...: starts the server on a free loopback port, waits until /health answers
# 200 (at most 60 s); sets $port and $pid; the log is NAME.log.
start_server() {
  local name=$1
  shift
  port=$(free_port)
  "$server" "$@" -m model.gguf --host 127.0.0.1 --port "$port" -c 4096 -np 4 --metrics >"$name.log" 2>&1 &
  pid=$!
  pids+=("$pid")
  for _ in $(seq 600); do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "server $name exited early:"; tail -20 "$name.log"; exit 1
    fi
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/health")" = 200 ] && return 0
    sleep 0.1
  done
  echo "server $name not ready after 60 s"; tail -20 "$name.log"; exit 1
}
stop_server() { kill "$1"; wait "$1" 2>/dev/null || true; }

# expect_refusal WHAT PATTERN ARGS...: the server must exit non-zero, saying PATTERN on stderr.
expect_refusal() {
  local what=$1 pattern=$2
  shift 2
  local rc=0
  timeout 60 "$server" "$@" -m model.gguf --host 127.0.0.1 --port "$(free_port)" >refusal.log 2>&1 || rc=$?
  if [ "$rc" -ne 0 ] && grep -q -- "$pattern" refusal.log; then pass "refused: $what"; else
    fail "not refused as expected ($what, exit $rc):"; tail -5 refusal.log; fi
}

# texts_of FILE ACCOUNT: the client's records of ACCOUNT as {"id", "text"} lines.
texts_of() { python3 -c '
import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["account"] == sys.argv[2]:
        print(json.dumps({"id": r["id"], "text": r["text"]}))' "$1" "$2"; }

"$make_model" "$vocab" model.gguf >/dev/null 2>&1
cp "$fixed_key" wm.key && chmod 600 wm.key
"$tritium" keygen -V 32000 -o small.key >/dev/null 2>&1
alice_key=sk-alice-$(od -An -tx1 -N12 /dev/urandom | tr -d ' \n')
bob_key=sk-bob-$(od -An -tx1 -N12 /dev/urandom | tr -d ' \n')
off_key=sk-off-$(od -An -tx1 -N12 /dev/urandom | tr -d ' \n')
cat >accounts.jsonl <<EOF
{"account": "acct-alice-7f3", "api_key": "$alice_key"}
{"account": "acct-bob-19c", "api_key": "$bob_key"}
{"account": "acct-unmarked-5d2", "api_key": "$off_key", "watermark": false}
EOF
chmod 600 accounts.jsonl
printf '{"account": "acct-alice-7f3"}\n{"account": "acct-bob-19c"}\n{"account": "acct-unmarked-5d2"}\n' >registry.jsonl

# --- refusals
cp wm.key open.key && chmod 644 open.key
expect_refusal "key readable by others" "readable by group or others" --watermark-key open.key
cp accounts.jsonl open-accounts.jsonl && chmod 644 open-accounts.jsonl
expect_refusal "accounts file readable by others" "readable by group or others" --watermark-key wm.key --watermark-accounts open-accounts.jsonl
{ cat accounts.jsonl; echo "{\"account\": \"acct-dup\", \"api_key\": \"$bob_key\"}"; } >dup.jsonl && chmod 600 dup.jsonl
expect_refusal "an API key listed twice" "dup.jsonl, line 4: this API key is already listed" --watermark-key wm.key --watermark-accounts dup.jsonl
echo '{"account": "a", "api_key": "k", "mark": false}' >unknown.jsonl && chmod 600 unknown.jsonl
expect_refusal "an unknown field" 'line 1: unknown field "mark"' --watermark-key wm.key --watermark-accounts unknown.jsonl
expect_refusal "accounts without a key" "need --watermark-key" --watermark-accounts accounts.jsonl
expect_refusal "a key for another vocabulary" "vocabulary has 151936 tokens but the watermark key covers V = 32000" --watermark-key small.key
if grep -q -- "$bob_key" refusal.log dup.jsonl.log 2>/dev/null; then fail "an API key in a refusal message"; fi

# --- the watermarked server
start_server marked --watermark-key wm.key --watermark-accounts accounts.jsonl --watermark-log served.jsonl
marked_pid=$pid marked_port=$port
base=http://127.0.0.1:$port
node "$client/e2e.mjs" --base-url "$base/v1" --out answers.jsonl --raw raw.jsonl \
  --key alice="$alice_key" --key bob="$bob_key" --max-tokens 200 --seed 11 >client.log 2>&1 \
  && pass "openai client: chat and completions, streaming and not, n = 2, 401 on a wrong key" \
  || { fail "openai client"; tail -20 client.log; }
# The account the operator switched off, and a wrong key by hand (both header spellings).
curl -s "$base/v1/completions" -H "Authorization: Bearer $off_key" -H 'Content-Type: application/json' \
  -d '{"prompt": "Once upon a time", "max_tokens": 200, "seed": 11}' >off.json
python3 -c 'import json, sys; print(json.dumps({"id": "off", "text": json.load(open("off.json"))["choices"][0]["text"]}))' >off-text.jsonl
for header in "Authorization: Bearer sk-wrong" "x-api-key: sk-wrong" "authorization: $alice_key-x"; do
  code=$(curl -s -o wrong.json -w '%{http_code}' "$base/v1/chat/completions" -H "$header" -H 'Content-Type: application/json' \
         -d '{"messages": [{"role": "user", "content": "hi"}], "max_tokens": 4}')
  [ "$code" = 401 ] && pass "401 for '${header%%:*}' with a wrong key" || fail "'$header' got $code, not 401"
done
for endpoint in slots props metrics; do curl -s "$base/$endpoint" -H "Authorization: Bearer $alice_key" >"$endpoint.out"; done
[ -s slots.out ] && [ -s props.out ] && [ -s metrics.out ] || fail "/slots, /props or /metrics answered nothing"
stop_server "$marked_pid"

for who in alice bob; do
  texts_of answers.jsonl "$who" >"$who.jsonl"
  n=$(wc -l <"$who.jsonl")
  [ "$n" -eq 6 ] || fail "$who: $n answers, expected 6 (chat, chat-stream, completion, completion-stream, 2 of n = 2)"
  rc=0; "$tritium" detect -k wm.key -t model.gguf -i "$who.jsonl" --json >"$who.detect" || rc=$?
  every=$(python3 -c 'import json, sys; print(all(json.loads(l)["log10_p"] <= -3 for l in open(sys.argv[1])))' "$who.detect" 2>/dev/null || echo error)
  [ "$rc" = 0 ] && [ "$every" = True ] && pass "$who: every answer's text alone is detected (p <= 1e-3 each)" \
    || { fail "$who: detect exit $rc, every answer detected: $every"; cat "$who.detect"; }
  rc=0; "$tritium" trace corpus -k wm.key -r registry.jsonl -t model.gguf -i "$who.jsonl" --json >"$who.trace" || rc=$?
  accused=$(python3 -c 'import json, sys; print(",".join(a["account"] for a in json.load(open(sys.argv[1]))["accounts"] if a["accused"]))' "$who.trace" 2>/dev/null || echo error)
  want=$(grep -o "acct-$who-[0-9a-f]*" registry.jsonl)
  [ "$rc" = 0 ] && [ "$accused" = "$want" ] && pass "$who: trace accuses exactly $want" \
    || { fail "$who: trace exit $rc, accused '$accused', expected '$want'"; head -c 2000 "$who.trace"; }
done
rc=0; "$tritium" detect -k wm.key -t model.gguf -i off-text.jsonl >off.detect || rc=$?
[ "$rc" = 1 ] && pass "the account switched off by the operator: no evidence" || { fail "switched-off account: detect exit $rc"; cat off.detect; }

# The served-output log: one record per returned choice, each with its account.
python3 - "$alice_key" "$bob_key" "$off_key" <<'EOF' && pass "served log: one record per answer, accounts and response ids right" || fail "served log"
import json, sys
records = [json.loads(l) for l in open("served.jsonl")]
answers = [json.loads(l) for l in open("answers.jsonl")]
names = {"alice": "acct-alice-7f3", "bob": "acct-bob-19c"}
expected = sorted((names[a["account"]], a["response_id"]) for a in answers) + [("acct-unmarked-5d2", json.load(open("off.json"))["id"])]
got = sorted((r["account"], r["request_id"]) for r in records)
ok = sorted(expected) == got
ok = ok and all(r["watermarked"] == (r["account"] != "acct-unmarked-5d2") for r in records)
ok = ok and all(len(r["tokens"]) > 0 and len(r["prompt_tokens"]) > 0 for r in records)
if not ok:
    print("expected", sorted(expected), "\ngot", got)
sys.exit(0 if ok else 1)
EOF
rc=0; "$tritium" trace corpus -k wm.key -r registry.jsonl -i served.jsonl --json >served.trace || rc=$?
[ "$rc" = 0 ] && pass "trace corpus reads the served log as it is" || fail "trace corpus on the served log: exit $rc"
rc=0; "$tritium" radioactivity filter -k wm.key -i served.jsonl -o served.filter >/dev/null 2>&1 || rc=$?
[ "$rc" = 0 ] && pass "radioactivity filter reads the served log as it is" || fail "radioactivity filter on the served log: exit $rc"

# No secret anywhere a client or an operator's log can see.
key_secret=$(python3 -c 'import json; print(json.load(open("wm.key"))["secret"])')
key_id=$(python3 -c 'import json; print(json.load(open("wm.key"))["key_id"])')
leaks=0
for secret in "$alice_key" "$bob_key" "$off_key" acct-alice-7f3 acct-bob-19c acct-unmarked-5d2 "$key_secret" "$key_id" "${key_id:0:16}"; do
  for file in raw.jsonl off.json wrong.json slots.out props.out metrics.out marked.log client.log; do
    if grep -qF -- "$secret" "$file"; then fail "a secret or id (${secret:0:7}...) appears in $file"; leaks=1; fi
  done
done
[ "$leaks" = 0 ] && pass "no API key, account id, key secret or key id in responses, /slots, /props, /metrics or logs"

# --- the same binary without the watermark: nothing to detect
start_server plain
node "$client/e2e.mjs" --base-url "http://127.0.0.1:$port/v1" --out plain.jsonl --key alice=unused --no-auth \
  --max-tokens 200 --seed 11 >plain-client.log 2>&1 || { fail "openai client against the plain server"; tail -20 plain-client.log; }
stop_server "$pid"
texts_of plain.jsonl alice >plain-texts.jsonl
rc=0; "$tritium" detect -k wm.key -t model.gguf -i plain-texts.jsonl >plain.detect || rc=$?
[ "$rc" = 1 ] && pass "a server without the watermark: no evidence" || { fail "plain server: detect exit $rc"; cat plain.detect; }

# --- Gumbel and Unigram: the server marks with the scheme --watermark-scheme names, which the key must name.
cp "$schemes_key" schemes.key && chmod 600 schemes.key
expect_refusal "accounts under gumbel" "account marks ride on kgw" --watermark-key schemes.key --watermark-scheme gumbel --watermark-accounts accounts.jsonl
expect_refusal "a scheme the key does not name" "the key names kgw only" --watermark-key wm.key --watermark-scheme gumbel
expect_refusal "an unknown scheme" "expected kgw, gumbel or unigram" --watermark-key schemes.key --watermark-scheme aaronson
# answer_texts NAME: the answers NAME-21.json .. NAME-23.json as {"id", "text"} lines.
answer_texts() { python3 -c '
import json, sys
for seed in (21, 22, 23):
    r = json.load(open(f"{sys.argv[1]}-{seed}.json"))
    print(json.dumps({"id": f"{sys.argv[1]}-{seed}", "text": r["choices"][0]["text"]}))' "$1"; }
complete() {  # complete NAME JSON_FIELDS: one completion of 150 tokens; the HTTP status to stdout
  curl -s -o "$1.json" -w '%{http_code}' "http://127.0.0.1:$port/v1/completions" -H 'Content-Type: application/json' \
    -d "{\"prompt\": \"Once upon a time\", \"max_tokens\": 150, $2}"
}
for scheme in gumbel unigram; do
  start_server "$scheme" --watermark-key schemes.key --watermark-scheme "$scheme" --watermark-log "$scheme-served.jsonl"
  grep -q "watermark on ($scheme, V = 151936" "$scheme.log" || fail "$scheme: the server does not say which scheme marks"
  codes=""
  for seed in 21 22 23; do codes="$codes $(complete "$scheme-$seed" "\"seed\": $seed, \"temperature\": 1")"; done
  codes="$codes $(complete "$scheme-greedy" '"seed": 24, "temperature": 0')"
  codes="$codes $(complete "$scheme-mirostat" '"seed": 25, "mirostat": 2')"
  stop_server "$pid"
  answer_texts "$scheme" >"$scheme-texts.jsonl"
  rc=0; "$tritium" detect -k schemes.key -t model.gguf -i "$scheme-texts.jsonl" --scheme "$scheme" --json >"$scheme.detect" || rc=$?
  every=$(python3 -c 'import json, sys; print(all(json.loads(l)["log10_p"] <= -3 for l in open(sys.argv[1])))' "$scheme.detect" 2>/dev/null || echo error)
  [ "$rc" = 0 ] && [ "$every" = True ] && pass "$scheme: every sampled answer's text alone is detected under $scheme (p <= 1e-3 each)" \
    || { fail "$scheme: detect exit $rc, every answer detected: $every"; cat "$scheme.detect"; }
  rc=0; "$tritium" detect -k schemes.key -t model.gguf -i "$scheme-texts.jsonl" --scheme kgw >"$scheme-kgw.detect" || rc=$?
  [ "$rc" = 1 ] && pass "$scheme: the same answers are no evidence under kgw" || { fail "$scheme answers under kgw: exit $rc"; cat "$scheme-kgw.detect"; }
  python3 - "$scheme" $codes <<'EOF' && pass "$scheme: statuses and served-log records as the scheme allows" || fail "$scheme: statuses or served log"
import json, sys
scheme, codes = sys.argv[1], sys.argv[2:]
records = {r["request_id"]: r for r in map(json.loads, open(f"{scheme}-served.jsonl"))}
def record(name):
    return records.get(json.load(open(f"{scheme}-{name}.json")).get("id"))
ok = all(r["scheme"] == scheme for r in records.values())
ok = ok and all(record(str(s))["watermarked"] for s in (21, 22, 23))
greedy = record("greedy")
if scheme == "gumbel":
    # Sampled answers: nearly every choice marked. Greedy: one candidate a step, no mark, said so.
    ok = ok and codes == ["200", "200", "200", "200", "500"] and len(records) == 4
    ok = ok and all(record(str(s))["marked_steps"] >= 100 for s in (21, 22, 23))
    ok = ok and greedy["watermarked"] is False and greedy["marked_steps"] == 0
    ok = ok and "cannot carry the mark" in json.load(open("gumbel-mirostat.json"))["error"]["message"]
else:
    # A bias marks every chain: greedy and mirostat answers too.
    ok = ok and codes == ["200"] * 5 and len(records) == 5
    ok = ok and greedy["watermarked"] is True and record("mirostat")["watermarked"] is True
    ok = ok and all("marked_steps" not in r for r in records.values())
if not ok:
    print(codes, json.dumps(list(records.values()))[:3000])
sys.exit(0 if ok else 1)
EOF
done

# --- A transformers configuration in place of a key (--watermark-hf-config): KGW and SynthID as
# transformers' processors mark, found by detect --hf-config in the answers' text.
cat >hf-kgw.json <<'EOF'
{"do_sample": true, "watermarking_config": {"greenlist_ratio": 0.25, "bias": 2.0, "hashing_key": 15485863, "seeding_scheme": "lefthash", "context_width": 1}}
EOF
cat >hf-synthid.json <<'EOF'
{"ngram_len": 5, "keys": [654, 400, 836, 123, 340, 443, 597, 160, 57, 29, 590, 639, 13, 715, 468, 990, 966, 226, 324, 585]}
EOF
chmod 600 hf-kgw.json hf-synthid.json
expect_refusal "a key and a transformers configuration" "give one" --watermark-key wm.key --watermark-hf-config hf-kgw.json
expect_refusal "accounts under a transformers configuration" "account marks need a tritium key" --watermark-hf-config hf-kgw.json --watermark-accounts accounts.jsonl
echo '{"greenlist_ratio": 0.25, "gamma": 0.5}' >hf-typo.json && chmod 600 hf-typo.json
expect_refusal "an unknown configuration field" '"gamma"' --watermark-hf-config hf-typo.json
echo '{"ngram_len": 5, "keys": [1, 2], "debug_mode": true}' >hf-debug.json && chmod 600 hf-debug.json
expect_refusal "SynthID's debug_mode (scores replaced by ones)" '"debug_mode" is true' --watermark-hf-config hf-debug.json
for scheme in hf-kgw hf-synthid; do
  start_server "$scheme" --watermark-hf-config "$scheme.json" --watermark-log "$scheme-served.jsonl"
  grep -q "$scheme marks with V = 151936" "$scheme.log" || fail "$scheme: the server does not say what marks"
  codes=""
  for seed in 21 22 23; do codes="$codes $(complete "$scheme-$seed" "\"seed\": $seed, \"temperature\": 1")"; done
  stop_server "$pid"
  answer_texts "$scheme" >"$scheme-texts.jsonl"
  vocab_opt=(); [ "$scheme" = hf-kgw ] && vocab_opt=(--vocab-size 151936)
  rc=0; "$tritium" detect --hf-config "$scheme.json" "${vocab_opt[@]}" -t model.gguf -i "$scheme-texts.jsonl" --json >"$scheme.detect" || rc=$?
  every=$(python3 -c 'import json, sys; print(all(json.loads(l)["log10_p"] <= -3 for l in open(sys.argv[1])))' "$scheme.detect" 2>/dev/null || echo error)
  [ "$rc" = 0 ] && [ "$every" = True ] && pass "$scheme: every answer's text alone is detected with detect --hf-config (p <= 1e-3 each)" \
    || { fail "$scheme: detect exit $rc, every answer detected: $every"; cat "$scheme.detect"; }
  rc=0; "$tritium" detect -k wm.key -t model.gguf -i "$scheme-texts.jsonl" >"$scheme-key.detect" || rc=$?
  [ "$rc" = 1 ] && pass "$scheme: the same answers are no evidence under the tritium key" || { fail "$scheme answers under the key: exit $rc"; cat "$scheme-key.detect"; }
  python3 - "$scheme" $codes <<'EOF' && pass "$scheme: statuses and served-log records (scheme, marked steps, the configuration's path, no key id)" || fail "$scheme: statuses or served log"
import json, sys
scheme, codes = sys.argv[1], sys.argv[2:]
records = list(map(json.loads, open(f"{scheme}-served.jsonl")))
ok = codes == ["200"] * 3 and len(records) == 3
ok = ok and all(r["scheme"] == scheme and r["watermarked"] and r["marked_steps"] >= 100 for r in records)
ok = ok and all(r["hf_config"] == f"{scheme}.json" and "key_id" not in r for r in records)
if not ok:
    print(codes, json.dumps(records)[:3000])
sys.exit(0 if ok else 1)
EOF
done

echo "$failures failure(s)"
[ "$failures" -eq 0 ]
