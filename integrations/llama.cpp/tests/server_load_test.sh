#!/usr/bin/env bash
# tritium-llama-server under load and faults (issue 16, item 6), with the openai npm client:
# - REQUESTS requests (default 1,000) from 8 concurrent clients over 4 accounts, chat and completions,
#   streaming and not: every response valid; the served-output log holds exactly one record per
#   response, naming the account whose key made it; each account's texts, pooled, are attributed to
#   that account alone by `tritium trace corpus`;
# - kill -9 of the server in the middle of a second load: every log line is a whole record, every
#   response a client received is in the log, and a restarted server appends cleanly;
# - a torn last record (as a crash inside write(2) could leave) is cut off at restart, with a warning.
# Servers bind 127.0.0.1, get a bounded number of requests and are stopped by their PID.
# Usage: server_load_test.sh TRITIUM SERVER MAKE_MODEL VOCAB_GGUF CLIENT_DIR KEY SCRATCH [REQUESTS]
set -euo pipefail
tritium=$1 server=$2 make_model=$3 vocab=$4 client=$5 fixed_key=$6 scratch=$7 requests=${8:-1000}
rm -rf "$scratch" && mkdir -p "$scratch" && cd "$scratch"
failures=0
pids=()
fail() { echo "FAILED: $*"; failures=$((failures + 1)); }
pass() { echo "ok: $*"; }
cleanup() { for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
start_server() {
  local name=$1
  port=$(free_port)
  "$server" --watermark-key wm.key --watermark-accounts accounts.jsonl --watermark-log served.jsonl \
    -m model.gguf --host 127.0.0.1 --port "$port" -c 8192 -np 4 >"$name.log" 2>&1 &
  pid=$!
  pids+=("$pid")
  for _ in $(seq 600); do
    kill -0 "$pid" 2>/dev/null || { echo "server $name exited early:"; tail -20 "$name.log"; exit 1; }
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/health")" = 200 ] && return 0
    sleep 0.1
  done
  echo "server $name not ready after 60 s"; exit 1
}
# All lines of the log parse as whole records: prints their number, or fails.
whole_records() { python3 -c '
import json, sys
n = 0
for number, line in enumerate(open("served.jsonl", "rb"), 1):
    if not line.endswith(b"\n"):
        sys.exit("served.jsonl line %d: no newline (a torn record)" % number)
    json.loads(line)
    n += 1
print(n)'; }

"$make_model" "$vocab" model.gguf >/dev/null 2>&1
cp "$fixed_key" wm.key && chmod 600 wm.key
keys=()
: >accounts.jsonl
: >registry.jsonl
for a in 0 1 2 3; do
  k=sk-load-$a-$(od -An -tx1 -N12 /dev/urandom | tr -d ' \n')
  echo "{\"account\": \"acct-load-$a\", \"api_key\": \"$k\"}" >>accounts.jsonl
  echo "{\"account\": \"acct-load-$a\"}" >>registry.jsonl
  keys+=(--key "a$a=$k")
done
chmod 600 accounts.jsonl

# --- load
start_server load
t0=$(date +%s.%N)
node "$client/load.mjs" --base-url "http://127.0.0.1:$port/v1" --out load.jsonl "${keys[@]}" --requests "$requests" \
  --concurrency 8 --max-tokens 32 --seed 5 >load-client.log 2>&1 && pass "$requests requests from 8 clients: all answered" \
  || { fail "load: some requests failed"; tail -20 load-client.log; }
t1=$(date +%s.%N)
kill "$pid"; wait "$pid" 2>/dev/null || true
python3 - "$requests" <<'EOF' && pass "served log: exactly one record per response, each with the account of its key" || fail "served log under load"
import collections, json, sys
answers = [json.loads(l) for l in open("load.jsonl")]
records = [json.loads(l) for l in open("served.jsonl")]
ok = len(answers) == int(sys.argv[1]) and all(a["ok"] and isinstance(a["text"], str) and a["finish_reason"] in ("stop", "length") for a in answers)
# one record per response: the multiset of (request id) is the same on both sides
ok = ok and collections.Counter(a["response_id"] for a in answers) == collections.Counter(r["request_id"] for r in records)
by_id = {r["request_id"]: r for r in records}
wrong = [a for a in answers if by_id.get(a["response_id"], {}).get("account") != "acct-load-" + a["account"][1:]]
ok = ok and not wrong and len(by_id) == len(records)
print("responses", len(answers), "records", len(records), "misattributed", len(wrong))
sys.exit(0 if ok else 1)
EOF
python3 -c "print('load: %d requests in %.1f s = %.1f requests/s' % ($requests, $t1 - $t0, $requests / ($t1 - $t0)))"
for a in 0 1 2 3; do
  python3 -c '
import json, sys
for l in open("load.jsonl"):
    r = json.loads(l)
    if r["account"] == sys.argv[1]:
        print(json.dumps({"id": str(r["i"]), "text": r["text"]}))' "a$a" >"texts-$a.jsonl"
  rc=0; "$tritium" trace corpus -k wm.key -r registry.jsonl -t model.gguf -i "texts-$a.jsonl" --json >"trace-$a.json" || rc=$?
  accused=$(python3 -c 'import json, sys; print(",".join(a["account"] for a in json.load(open(sys.argv[1]))["accounts"] if a["accused"]))' "trace-$a.json" 2>/dev/null || echo error)
  [ "$rc" = 0 ] && [ "$accused" = "acct-load-$a" ] && pass "account $a's texts (pooled) are attributed to acct-load-$a alone" \
    || fail "account $a: trace exit $rc, accused '$accused'"
done

# --- kill -9 in the middle of a load
before=$(whole_records)
start_server killed
node "$client/load.mjs" --base-url "http://127.0.0.1:$port/v1" --out killed.jsonl "${keys[@]}" --requests 400 \
  --concurrency 8 --max-tokens 32 --allow-errors --timeout-ms 20000 >killed-client.log 2>&1 &
client_pid=$!
for _ in $(seq 600); do
  [ "$(wc -l <served.jsonl)" -ge $((before + 60)) ] && break
  sleep 0.05
done
kill -9 "$pid"
wait "$client_pid" || fail "the load client failed (beyond refused requests)"
after=$(whole_records) && pass "after kill -9: the log is $after whole records ($((after - before)) from the killed server)" \
  || fail "after kill -9: $after"
python3 - <<'EOF' && pass "every response a client received before the kill is in the log" || fail "responses missing from the log"
import json
logged = {json.loads(l)["request_id"] for l in open("served.jsonl")}
got = [json.loads(l) for l in open("killed.jsonl")]
received = [a["response_id"] for a in got if a["ok"]]
missing = [r for r in received if r not in logged]
print("received", len(received), "of", len(got), "missing from the log", len(missing))
raise SystemExit(1 if missing or not received else 0)
EOF

# --- a torn last record, then a restart that appends cleanly
printf '{"time":"2026-12-03T00:00:00.000Z","account":"acct-lo' >>served.jsonl
start_server restarted
grep -q "the last record was torn" restarted.log && pass "restart: the torn record is cut off, with a warning" \
  || fail "restart: no warning about the torn record"
node "$client/load.mjs" --base-url "http://127.0.0.1:$port/v1" --out restart.jsonl "${keys[@]}" --requests 40 \
  --concurrency 8 --max-tokens 16 >restart-client.log 2>&1 || fail "requests after the restart"
kill "$pid"; wait "$pid" 2>/dev/null || true
final=$(whole_records) && [ "$final" -eq $((after + 40)) ] && pass "restart: 40 more whole records appended ($final in all)" \
  || fail "restart: $final records, expected $((after + 40))"

echo "$failures failure(s)"
[ "$failures" -eq 0 ]
