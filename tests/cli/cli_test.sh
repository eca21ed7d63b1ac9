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

check() {  # check NAME CONDITION-EXIT-STATUS
  if [ "$2" -eq 0 ]; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAILED: $1"; fi
}

run() {  # run NAME EXPECTED_EXIT -- ARGS... ; leaves stdout in $work/out, stderr in $work/err
  local name=$1 expected=$2
  shift 3
  "$tritium" "$@" >"$work/out" 2>"$work/err"
  local code=$?
  [ "$code" -eq "$expected" ]
  check "$name: exit $code, expected $expected ($(head -c 300 "$work/err"))" $?
}

golden() {  # golden NAME FILE: compares $work/out with the golden file
  if [ "${UPDATE_GOLDEN:-0}" = 1 ]; then cp "$work/out" "$fixtures/$2"; fi
  diff -u "$fixtures/$2" "$work/out" >"$work/diff"
  check "$1: output differs from $2: $(head -c 2000 "$work/diff")" $?
}

stderr_has() {  # stderr_has NAME TEXT
  grep -qF -- "$2" "$work/err"
  check "$1: stderr lacks '$2' (got: $(head -c 300 "$work/err"))" $?
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
run detect-usage 4 -- detect --key "$key"
run detect-bad-dedup 4 -- detect --key "$key" --input "$docs" --dedup sometimes

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
