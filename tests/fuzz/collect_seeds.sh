#!/usr/bin/env bash
# Collects the seed corpus of every fuzz target into OUT_DIR/<target>/: the committed hand-made seeds,
# fixture files, small tokenizers derived from the fixture ones (make_seeds.py), and model, filter,
# key and report files made by the build's own `tritium` (so they follow the current formats).
# Usage: collect_seeds.sh BUILD_DIR OUT_DIR   (needs python3)
set -euo pipefail
build=$(cd "$1" && pwd)
mkdir -p "$2"
out=$(cd "$2" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
fixtures=$(cd "$here/../../fixtures" && pwd)
tritium=$build/cli/tritium
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Runs `tritium ARGS...` to make a seed file. Exit 0, 1 or 2 (a test's verdicts) are fine; any other
# code stops the collection with tritium's message, so a seed that was not made is never silent.
make_seed() {
  local code=0
  "$tritium" "$@" >/dev/null 2>"$work/make_seed.err" || code=$?
  if [ "$code" -gt 2 ]; then
    echo "collect_seeds.sh: tritium $1 $2 ... exited $code:" >&2
    cat "$work/make_seed.err" >&2
    exit 1
  fi
}

for t in token_jsonl text_jsonl key_file tokenizer_json gguf tlm filter dsse statement report_html hf_config; do
  mkdir -p "$out/$t"
  if [ -d "$here/seeds/$t" ]; then cp -R "$here/seeds/$t/." "$out/$t/"; fi
done

cp "$fixtures/cli/docs.jsonl" "$fixtures/cli/detect.jsonl" "$fixtures/cli/detect_pool.jsonl" "$out/token_jsonl/"
cp "$fixtures/corpus/prompts.jsonl" "$out/text_jsonl/"
# The tokenizer test texts, one record per seed: many scripts, escapes and edge cases.
split -l 1 -a 3 -d "$fixtures/tokenizers/texts.jsonl" "$out/text_jsonl/texts-"
python3 "$here/make_seeds.py" "$fixtures" "$out"
small_tok=$out/tokenizer_json/gpt2-small.json

cp "$fixtures/cli/test.key" "$work/test.key"
chmod 600 "$work/test.key"
cp "$work/test.key" "$out/key_file/test.key"
# Files made here replace a committed seed of the same name (--force): the build's own format wins.
make_seed keygen --force --output "$out/key_file/bound.key" --tokenizer "$small_tok" --vocab-size 512 --gamma 0.3 \
  --delta 1.5 --context-width 3 --seeding selfhash
make_seed keygen --force --output "$out/key_file/digest.key" --tokenizer-digest "sha256:$(printf '%064d' 0)" \
  --vocab-size 70000 --gamma 0.5

head -n 3 "$fixtures/tokenizers/texts.jsonl" > "$work/texts.jsonl"  # models of a few kilobytes
make_seed lm train --tokenizer "$small_tok" --corpus "$work/texts.jsonl" --order 3 --force --output "$out/tlm/texts3.tlm"
make_seed lm train --tokenizer "$small_tok" --corpus "$work/texts.jsonl" --order 1 --force --output "$out/tlm/texts1.tlm"

make_seed radioactivity filter --key "$work/test.key" --input "$fixtures/cli/docs.jsonl" --force \
  --output "$out/filter/docs.filter"

# Reports signed with the fuzzing signer (the key the dsse, statement and report_html targets trust).
cd "$work"
cp "$fixtures/cli/docs.jsonl" docs.jsonl
make_seed detect --key test.key --input docs.jsonl --report "$out/dsse/detect.json" --signing-key "$here/signer.key" --json
make_seed detect --key test.key --input docs.jsonl --pool --report "$out/dsse/pool.json" --signing-key "$here/signer.key"
make_seed radioactivity corpus --key test.key --input docs.jsonl --controls 5 --report "$out/dsse/corpus.json" \
  --signing-key "$here/signer.key"
for f in "$out"/dsse/*.json; do
  python3 -c 'import base64, json, sys; sys.stdout.buffer.write(base64.b64decode(json.load(open(sys.argv[1]))["payload"]))' \
    "$f" > "$out/statement/$(basename "$f")"
done
cp "$out"/statement/*.json "$out/report_html/"
echo "seeds in $out: $(find "$out" -type f | wc -l) files"
