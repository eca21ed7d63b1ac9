// Single-thread throughput of the tiktoken npm package (its Rust core compiled to WASM) on a text
// file, for a named encoding or for the vocabulary of a byte-level BPE tokenizer.json (built as a
// tiktoken encoding: ranks = token ids, pattern = the file's Split regex). Prints one JSON object.
//   node tiktoken_custom.mjs <o200k_base|gpt2|path/to/tokenizer.json> <textfile> [repeats]
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, '../../fixtures/tokenizers/package.json'));
const { get_encoding, Tiktoken } = require('tiktoken');

const [which, file, repeatsArg] = process.argv.slice(2);
const repeats = Number(repeatsArg ?? 3);

function byteDecoder() {
  // GPT-2's printable alphabet, inverted: code point -> byte.
  const bytes = [];
  for (let b = 33; b <= 126; b++) bytes.push(b);
  for (let b = 161; b <= 172; b++) bytes.push(b);
  for (let b = 174; b <= 255; b++) bytes.push(b);
  const map = new Map(bytes.map((b) => [b, b]));
  let next = 256;
  for (let b = 0; b < 256; b++) if (!map.has(b)) map.set(b, next++);
  return new Map([...map].map(([b, cp]) => [cp, b]));
}

function encodingFrom(tokenizerJson) {
  const j = JSON.parse(fs.readFileSync(tokenizerJson, 'utf8'));
  const decode = byteDecoder();
  const lines = [];
  for (const [spelling, id] of Object.entries(j.model.vocab)) {
    const cps = [...spelling].map((c) => decode.get(c.codePointAt(0)));
    if (cps.some((b) => b === undefined)) continue;
    lines.push(`${Buffer.from(cps).toString('base64')} ${id}`);
  }
  const split = (j.pre_tokenizer.pretokenizers ?? [j.pre_tokenizer]).find((p) => p.type === 'Split');
  return new Tiktoken(lines.join('\n'), {}, split.pattern.Regex);
}

const enc = which.endsWith('.json') ? encodingFrom(which) : get_encoding(which);
const text = fs.readFileSync(file, 'utf8');
let tokens = enc.encode_ordinary(text).length;  // warm-up
const times = [];
for (let r = 0; r < repeats; r++) {
  const t0 = process.hrtime.bigint();
  tokens = enc.encode_ordinary(text).length;
  times.push(Number(process.hrtime.bigint() - t0) / 1e9);
}
times.sort((a, b) => a - b);
const bytes = Buffer.byteLength(text);
console.log(JSON.stringify({ encoding: which, bytes, tokens, seconds: times[0], mb_per_s: bytes / 1e6 / times[0] }));
