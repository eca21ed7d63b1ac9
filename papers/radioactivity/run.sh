#!/usr/bin/env bash
# Reproduces the shape of Sander et al. (NeurIPS 2024) with tritium's reference model: a watermarked
# teacher (KGW, gamma 0.25, the delta and context width given), students trained on mixtures with a
# share rho of watermarked text, tested in closed mode (query the student with held-out prompts,
# prompt windows excluded) and open mode (read our watermarked texts through the student).
# Usage: papers/radioactivity/run.sh BUILD_DIR OUT_DIR [DELTA] [H]   (a few minutes on 2 cores)
set -euo pipefail
build=$(cd "$1" && pwd)
out=$2
mkdir -p "$out"
out=$(cd "$out" && pwd)
delta=${3:-3}
h=${4:-1}
root=$(cd "$(dirname "$0")/../.." && pwd)
tritium=$build/cli/tritium
tok=$root/fixtures/tokenizers/qwen3/tokenizer.json
teacher=$build/reference-model/sotu-moby-qwen3-4gram.tlm
mkdir -p "$out"
cd "$out"
[ -f key.key ] || "$tritium" keygen --out key.key --tokenizer "$tok" --vocab-size 151936 --delta "$delta" \
    --context-width "$h" >/dev/null
# The teacher answers 3,000 prompts (600,000 watermarked tokens); students mix them with human text.
python3 - "$root/fixtures/corpus/prompts.jsonl" <<'PY'
import json, sys
prompts = [json.loads(l)["prompt"] for l in open(sys.argv[1])]
with open("train_prompts.jsonl", "w") as f:
    for i in range(3000):
        f.write(json.dumps({"id": i, "prompt": prompts[i % 40]}) + "\n")
with open("test_prompts.jsonl", "w") as f:
    for i in range(200):
        f.write(json.dumps({"id": i, "prompt": prompts[(i * 7) % 40]}) + "\n")
PY
[ -f teacher.jsonl ] || "$tritium" generate -m "$teacher" -t "$tok" -k key.key -p train_prompts.jsonl \
    --max-new-tokens 200 --seed 1 -o teacher.jsonl
# Supervised reading: texts the students at small rho trained on (the first ones they take);
# unseen reading: watermarked texts no student below rho = 25% was trained on (the last ones).
head -n 200 teacher.jsonl > ours_to_read.jsonl
tail -n 200 teacher.jsonl > unseen_to_read.jsonl
echo "rho,closed_scored,closed_log10_p,open_scored,open_log10_p,open_unseen_scored,open_unseen_log10_p" > results.csv
for rho in 0 0.01 0.05 0.10 0.25 1.0; do
  "$tritium" lm train -t "$tok" -V 151936 -n 3 -c "$root/fixtures/corpus/sotu_train.jsonl" \
      "$root/fixtures/corpus/moby_dick.jsonl" --watermarked teacher.jsonl --fraction "$rho" \
      -o "student_$rho.tlm" 2>/dev/null
  closed=$("$tritium" radioactivity closed -k key.key -t "$tok" -m "student_$rho.tlm" -p test_prompts.jsonl \
      --max-new-tokens 200 --json || true)
  open=$("$tritium" radioactivity read -k key.key -t "$tok" -m "student_$rho.tlm" -i ours_to_read.jsonl --json || true)
  unseen=$("$tritium" radioactivity read -k key.key -t "$tok" -m "student_$rho.tlm" -i unseen_to_read.jsonl --json || true)
  python3 - "$rho" "$closed" "$open" "$unseen" >> results.csv <<'PY'
import json, sys
c, o, u = (json.loads(a) for a in sys.argv[2:5])
print(f"{sys.argv[1]},{c['scored']},{c['log10_p']:.2f},{o['scored']},{o['log10_p']:.2f},{u['scored']},{u['log10_p']:.2f}")
PY
done
cat results.csv
