#!/usr/bin/env bash
# The HTML report renders in a real browser: headless Chromium (Debian's `chromium`) screenshots a
# report of watermarked and plain texts from the reference model, and the chart colours (used by the
# inline SVG charts only) must cover enough pixels. A copy of the page with its SVG hidden must show
# none of them, so the check can fail. A version 3 report (Gumbel answers under a key naming KGW and
# Gumbel, papers/evidence-v3.md) must render its charts as well.
# Usage: screenshot_test.sh TRITIUM MODEL TOKENIZER PROMPTS [SAVE_PNG]
set -euo pipefail
tritium=$1 model=$2 tok=$3 prompts=$4 save=${5:-}
[ -z "$save" ] || save=$(realpath -m "$save")
here=$(cd "$(dirname "$0")" && pwd)
browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
  echo "FAIL: chromium is not installed (.ci/install-deps installs it)" >&2
  exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
export SOURCE_DATE_EPOCH=1767225600
"$tritium" report keygen --out signer.key >/dev/null
"$tritium" keygen --out wm.key --tokenizer "$tok" --vocab-size 151936 --delta 2 >/dev/null 2>&1
head -n 8 "$prompts" > p.jsonl
"$tritium" generate -m "$model" -t "$tok" -k wm.key -p p.jsonl --max-new-tokens 150 --seed 7 -o marked.jsonl 2>/dev/null
"$tritium" generate -m "$model" -t "$tok" -p p.jsonl --max-new-tokens 150 --seed 8 --no-watermark \
    -o plain.jsonl 2>/dev/null
python3 - <<'PY'
import json
with open("texts.jsonl", "w") as out:
    for name in ("marked", "plain"):
        for i, line in enumerate(open(name + ".jsonl")):
            r = json.loads(line)
            out.write(json.dumps({"id": f"{name}-{i}", "text": r["text"]}) + "\n")
PY
rc=0
"$tritium" detect -k wm.key -t "$tok" -i texts.jsonl --report report.json --signing-key signer.key \
    --html report.html >/dev/null || rc=$?
[ "$rc" -eq 0 ] || { echo "FAIL: detect exited $rc on watermarked texts" >&2; exit 1; }
"$tritium" report verify report.json --public-key signer.key.pub --recompute --key wm.key >/dev/null
sed 's|</style>|svg{display:none}</style>|' report.html > hidden.html
shoot() {
  "$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars --user-data-dir="$work/profile-${2%.png}" \
      --window-size=1000,3000 --screenshot="$2" "file://$work/$1" >/dev/null 2>&1
  [ -s "$2" ] || { echo "FAIL: chromium wrote no screenshot of $1" >&2; exit 1; }
}
shoot report.html shot.png
shoot hidden.html hidden.png
# curve stroke, null-distribution fill, observed line (and the threshold's dashes)
colours="0b5fa5 9ecae1 d7301f"
fail=0
charts_rendered() {  # charts_rendered PNG: each chart colour covers at least its minimum
  local i=0 minimum=("${@:2}")
  while read -r colour count x0 y0 x1 y1; do
    echo "$1: chart colour #$colour: $count pixels, box ($x0,$y0)-($x1,$y1)"
    if [ "$count" -lt "${minimum[$i]}" ]; then
      echo "FAIL: $1: #$colour covers $count pixels, expected at least ${minimum[$i]}" >&2
      fail=1
    fi
    i=$((i + 1))
  done < <(python3 "$here/png_colours.py" "$1" $colours)
}
charts_rendered shot.png 400 3000 150
while read -r colour count _; do
  if [ "$count" -ne 0 ]; then
    echo "FAIL: with the charts hidden, #$colour still covers $count pixels: the check cannot tell" >&2
    fail=1
  fi
done < <(python3 "$here/png_colours.py" hidden.png $colours)
# A version 3 report (papers/evidence-v3.md): Gumbel answers and plain ones under a key naming KGW and
# Gumbel, each document tested under both. Its page has the same charts (the decisive Gumbel test's
# curve and threshold, the p-values of the rows) and the schemes tested.
"$tritium" keygen --out multi.key --tokenizer "$tok" --vocab-size 151936 --scheme kgw,gumbel >/dev/null 2>&1
"$tritium" generate -m "$model" -t "$tok" -k multi.key --scheme gumbel -p p.jsonl --max-new-tokens 150 --seed 7 \
    -o gumbel.jsonl 2>/dev/null
python3 - <<'PY'
import json
with open("texts3.jsonl", "w") as out:
    for name in ("gumbel", "plain"):
        for i, line in enumerate(open(name + ".jsonl")):
            out.write(json.dumps({"id": f"{name}-{i}", "text": json.loads(line)["text"]}) + "\n")
PY
rc=0
"$tritium" detect -k multi.key -t "$tok" -i texts3.jsonl --report v3.json --signing-key signer.key \
    --html v3.html >/dev/null || rc=$?
[ "$rc" -eq 0 ] || { echo "FAIL: detect exited $rc on Gumbel texts" >&2; exit 1; }
"$tritium" report verify v3.json --public-key signer.key.pub --recompute --key multi.key >/dev/null
python3 -c 'import base64, json, sys; s = json.loads(base64.b64decode(json.load(open("v3.json"))["payload"])); sys.exit(0 if s["predicateType"].endswith("/v3") and s["predicate"]["decisive_test"]["scheme"] == "gumbel" else 1)' \
  || { echo "FAIL: v3.json is not a version 3 report decided on Gumbel" >&2; fail=1; }
grep -q "Schemes tested" v3.html || { echo "FAIL: the version 3 page does not list the schemes tested" >&2; fail=1; }
shoot v3.html v3.png
# The curve and the histogram of the rows' p-values. Gumbel has no null chart, so the observed colour
# is only the threshold's one-pixel dashes, which antialiasing can blend away: not counted here.
charts_rendered v3.png 400 3000 0
# It prints: Chromium's PDF output of the page is a PDF of a few A4/Letter pages.
"$browser" --headless --no-sandbox --disable-gpu --user-data-dir="$work/profile-pdf" --no-pdf-header-footer \
    --print-to-pdf="$work/report.pdf" "file://$work/report.html" >/dev/null 2>&1 || true
if ! head -c 5 report.pdf 2>/dev/null | grep -q '%PDF-'; then
  echo "FAIL: chromium could not print the report to PDF" >&2
  fail=1
else
  pages=$(grep -ac '/Type /Page$\|/Type /Page[^s]' report.pdf || true)
  echo "printed to PDF: $(stat -c %s report.pdf) bytes, $pages page(s)"
  if [ "$pages" -gt 12 ]; then
    echo "FAIL: the printed report has $pages pages" >&2
    fail=1
  fi
fi
[ -z "$save" ] || cp shot.png "$save"
[ "$fail" -eq 0 ] && echo "PASS: the report's charts rendered in $("$browser" --version 2>/dev/null | head -n1)"
exit "$fail"
