#!/usr/bin/env python3
"""Small seeds derived from the fixture tokenizers, for the tokenizer.json and GGUF fuzz targets.

Usage: make_seeds.py FIXTURES_DIR OUT_DIR. Writes OUT_DIR/tokenizer_json/gpt2-small.json and
OUT_DIR/gguf/gpt2-small.gguf: the real files with the vocabulary cut to its first ids and the merges
that stay within them, so each fuzzing run parses kilobytes, not megabytes, with the real layout."""
import json
import os
import struct
import sys

KEEP = 400  # ids kept: the 256 byte tokens of GPT-2 and the first merges


def small_tokenizer_json(src, dst):
    with open(src, encoding="utf-8") as f:
        t = json.load(f)
    vocab = {k: v for k, v in t["model"]["vocab"].items() if v < KEEP}
    merges = []
    for m in t["model"]["merges"]:
        a, b = m.split(" ", 1) if isinstance(m, str) else m
        if a in vocab and b in vocab and a + b in vocab:
            merges.append(m)
    t["model"]["vocab"] = vocab
    t["model"]["merges"] = merges
    t["added_tokens"] = [a for a in t.get("added_tokens", []) if a["id"] < KEEP + 10]
    with open(dst, "w", encoding="utf-8") as f:
        json.dump(t, f, ensure_ascii=False)


# GGUF value types (ggml/docs/gguf.md).
SCALARS = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}
STRING, ARRAY = 8, 9


class reader:
    def __init__(self, data):
        self.data, self.at = data, 0

    def take(self, fmt):
        v = struct.unpack_from("<" + fmt, self.data, self.at)[0]
        self.at += struct.calcsize("<" + fmt)
        return v

    def string(self):
        n = self.take("Q")
        s = self.data[self.at:self.at + n]
        self.at += n
        return s

    def value(self, t):
        if t == STRING:
            return self.string()
        if t == ARRAY:
            et, n = self.take("I"), self.take("Q")
            return (et, [self.value(et) for _ in range(n)])
        return self.take(SCALARS[t])


def put_value(out, t, v):
    if t == STRING:
        out += struct.pack("<Q", len(v)) + v
    elif t == ARRAY:
        et, items = v
        out += struct.pack("<IQ", et, len(items))
        for item in items:
            put_value(out, et, item)
    else:
        out += struct.pack("<" + SCALARS[t], v)


def small_gguf(src, dst):
    with open(src, "rb") as f:
        r = reader(f.read())
    assert r.data[:4] == b"GGUF"
    r.at = 4
    version, _tensors, n_kv = r.take("I"), r.take("Q"), r.take("Q")
    kv = []
    for _ in range(n_kv):
        key = r.string()
        t = r.take("I")
        kv.append((key, t, r.value(t)))
    tokens = None
    for key, t, v in kv:
        if key == b"tokenizer.ggml.tokens":
            tokens = set(v[1][:KEEP])
    out = bytearray(b"GGUF" + struct.pack("<IQQ", version, 0, len(kv)))
    for key, t, v in kv:
        if t == ARRAY and key.startswith(b"tokenizer.ggml.") and key != b"tokenizer.ggml.merges":
            v = (v[0], v[1][:KEEP])
        elif key == b"tokenizer.ggml.merges":
            kept = []
            for m in v[1]:
                a, _, b = m.partition(b" ")
                if a in tokens and b in tokens and a + b in tokens:
                    kept.append(m)
            v = (v[0], kept)
        elif t == 4 and key.endswith(b"_token_id") and v >= KEEP:
            v = KEEP - 1
        out += struct.pack("<Q", len(key)) + key + struct.pack("<I", t)
        put_value(out, t, v)
    with open(dst, "wb") as f:
        f.write(out)


def main():
    fixtures, out = sys.argv[1], sys.argv[2]
    for d in ("tokenizer_json", "gguf"):
        os.makedirs(os.path.join(out, d), exist_ok=True)
    small_tokenizer_json(os.path.join(fixtures, "tokenizers/gpt2/tokenizer.json"),
                         os.path.join(out, "tokenizer_json/gpt2-small.json"))
    small_gguf(os.path.join(fixtures, "tokenizers/gguf/ggml-vocab-gpt-2.gguf"),
               os.path.join(out, "gguf/gpt2-small.gguf"))


if __name__ == "__main__":
    main()
