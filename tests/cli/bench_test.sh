#!/usr/bin/env bash
# `tritium bench --quick --json` measures and checks its seventeen speed targets (issue 14 item 9; issue 15:
# + dense bias + account at two V, the trace scan and the ranking; issue 17: + self-hash dense at h = 1
# and 3, the Gumbel choice, the Unigram bias, transformers KGW and SynthID, on the full row and after top-k 40). Kept apart from
# cli_test.sh so that the sanitizer job can leave it out: under ASan it took 55 of that script's 190 s
# while running library code the unit tests already run there (.ci/sanitizers).
# Usage: bench_test.sh TRITIUM_BINARY FIXTURES_CLI_DIR
set -uo pipefail
source "$(dirname "$0")/lib.sh" "$@"
run i14-bench-targets 0 -- bench --quick --json
python3 -c "import json,sys; t=json.load(open(sys.argv[1]))['targets']; assert t['checked']==17 and isinstance(t['missed'], list), t" "$work/out"
check "bench checks its seventeen targets" $?
stderr_has i14-bench-targets "tritium: bench targets: "
echo "bench_test: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
