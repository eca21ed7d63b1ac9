#!/usr/bin/env bash
# Runs every fuzz target (or the ones named) for a bounded time each, from a fresh seed corpus.
# Usage: tests/fuzz/run.sh BUILD_DIR SECONDS_PER_TARGET [TARGET...]
#   BUILD_DIR: configured with CC=clang CXX=clang++ -DTRITIUM_FUZZ=ON -DTRITIUM_SANITIZERS=address,undefined
#   FUZZ_SEED (default 1): libFuzzer's -seed, for a reproducible run; FUZZ_CORPUS: keep the corpus there
#   (default: a temporary directory); FUZZ_ARTIFACTS (default BUILD_DIR/fuzz-artifacts): crash inputs.
# Prints the executions of each target; exits non-zero when any target found something.
set -uo pipefail
build=$(cd "$1" && pwd)
seconds=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(token_jsonl text_jsonl key_file tokenizer_json gguf tlm filter dsse statement report_html hf_config)
corpus=${FUZZ_CORPUS:-}
if [ -z "$corpus" ]; then
  corpus=$(mktemp -d)
  trap 'rm -rf "$corpus"' EXIT
fi
artifacts=${FUZZ_ARTIFACTS:-$build/fuzz-artifacts}
mkdir -p "$artifacts"
"$here/collect_seeds.sh" "$build" "$corpus" || exit 1

failed=()
for t in "${targets[@]}"; do
  dict=()
  case $t in
    token_jsonl|text_jsonl|key_file|tokenizer_json|dsse|statement|report_html|hf_config) dict=(-dict="$here/json.dict") ;;
  esac
  log=$artifacts/$t.log
  # -close_fd_mask=1: the report targets' own output is not wanted; sanitizer reports go to stderr.
  "$build/tests/fuzz/fuzz_$t" "$corpus/$t" "${dict[@]}" -max_total_time="$seconds" -seed="${FUZZ_SEED:-1}" \
    -timeout=10 -rss_limit_mb=4096 -max_len=65536 -close_fd_mask=1 -print_final_stats=1 \
    -artifact_prefix="$artifacts/$t-" >"$log" 2>&1
  code=$?
  runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 || true)
  printf '%-16s exit %-3s executions %-10s %s\n' "$t" "$code" "$runs" "$cov"
  if [ "$code" -ne 0 ]; then
    failed+=("$t")
    grep -E -A30 'FINDING|ERROR: (libFuzzer|AddressSanitizer|UndefinedBehaviorSanitizer|LeakSanitizer)|runtime error' "$log" | head -60
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzzing found problems in: ${failed[*]} (inputs and logs in $artifacts)"
  exit 1
fi
