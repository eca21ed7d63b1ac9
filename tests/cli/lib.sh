# The set-up and helpers of the command-line test scripts (cli_test.sh, threads_test.sh), sourced as
# `source lib.sh TRITIUM_BINARY FIXTURES_CLI_DIR`: $tritium, $fixtures, a scratch directory $work removed
# when the script exits, the pass/fail counters, and check, run, golden, stderr_has.
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
