#!/usr/bin/env python3
"""Recomputes, without tritium, the counts `tritium detect --hf-config --json` printed for documents of
token ids, from the transformers recipes (notes/schemes.md sections 0.1, 2 and 6.2; papers/hf-kgw.md,
papers/hf-synthid.md), so that the CLI test cannot pass on figures the code under test made up:

  * KGW lefthash: the generator seed is hashing_key * previous token mod (2^64 - 1), of which torch's CPU
    generator keeps the low 32 bits (MT19937, init_genrand); the green list is the first int(V * ratio)
    entries of randperm(V), a forward Fisher-Yates with random() % (n - i). Distinct (seed, token)
    tuples are scored once; log10_p is log10 P(Bin(scored, G/V) >= green), summed exactly in rational
    arithmetic, when green >= scored * G/V + 1 (the Hoeffding bound's range), else 0.
  * SynthID: the table is randint(0, 2, (S,)) from a generator seeded with sampling_table_seed; a
    context hash folds (h + d) * M + 1 over the ngram_len - 1 tokens before each position from h = 1;
    a position counts when its context is not among the previous context_history_size contexts; its
    layer-l g-value is table[fold(fold(h, token), key_l) mod S]. g_ones, scored and mean must match.

Usage: recompute_hf.py CONFIG DOCS.jsonl RESULT.jsonl [V]. Prints one line per figure; exits 1 on a
mismatch.
"""
import json
import math
import sys
from fractions import Fraction

MASK64 = (1 << 64) - 1


class MT19937:
    def __init__(self, seed):
        self.state = [seed & 0xFFFFFFFF]
        for j in range(1, 624):
            prev = self.state[-1]
            self.state.append((1812433253 * (prev ^ (prev >> 30)) + j) & 0xFFFFFFFF)
        self.index = 624

    def random(self):
        if self.index >= 624:
            s = self.state
            for i in range(624):
                y = (s[i] & 0x80000000) | (s[(i + 1) % 624] & 0x7FFFFFFF)
                s[i] = s[(i + 397) % 624] ^ (y >> 1) ^ (0x9908B0DF if y & 1 else 0)
            self.index = 0
        y = self.state[self.index]
        self.index += 1
        y ^= y >> 11
        y ^= (y << 7) & 0x9D2C5680
        y ^= (y << 15) & 0xEFC60000
        y ^= y >> 18
        return y


def green_set(seed32, vocab, green_size):
    rng = MT19937(seed32)
    a = list(range(vocab))
    for i in range(green_size):
        z = rng.random() % (vocab - i)
        a[i], a[i + z] = a[i + z], a[i]
    return set(a[:green_size])


def log10_upper_tail(n, k, gamma):
    tail = sum(Fraction(math.comb(n, j)) * gamma ** j * (1 - gamma) ** (n - j) for j in range(k, n + 1))
    return (math.log10(tail.numerator) if tail.numerator else -math.inf) - math.log10(tail.denominator)


def fold(h, d):
    return ((h + d) * 6364136223846793005 + 1) & MASK64


def main():
    config = json.load(open(sys.argv[1]))
    config = config.get('watermarking_config', config)
    docs = [json.loads(line) for line in open(sys.argv[2]) if line.strip()]
    rows = [json.loads(line) for line in open(sys.argv[3]) if line.strip()]
    # detect --pool writes one row for all documents: its figures are recomputed over all of them (KGW
    # tuples deduplicated across documents, SynthID positions summed, each document under its own mask).
    pooled = len(rows) == 1 and 'documents' in rows[0]
    if pooled:
        assert rows[0]['documents'] == len(docs), (rows[0]['documents'], len(docs))
        rows[0]['id'] = '(pooled)'
    else:
        assert len(docs) == len(rows), (len(docs), len(rows))
    failures = 0

    def compare(what, got, expected, tolerance=0.0):
        nonlocal failures
        ok = abs(got - expected) <= tolerance
        failures += not ok
        print('%s %s: tritium %.15g, recomputed %.15g' % ('ok ' if ok else 'BAD', what, got, expected))

    if 'keys' in config:
        size, keys, n = config['sampling_table_size'], config['keys'], config['ngram_len']
        rng = MT19937(config['sampling_table_seed'])
        table = [rng.random() % 2 for _ in range(size)]
        all_ones, all_scored = 0, 0
        for doc, row in zip(docs, rows * len(docs) if pooled else rows):
            tokens, history, ones, scored = doc['tokens'], [], 0, 0
            for t in range(n - 1, len(tokens)):
                h = 1
                for d in tokens[t - n + 1:t]:
                    h = fold(h, d)
                repeated = h in history[-config['context_history_size']:]
                history.append(h)
                if repeated:
                    continue
                scored += 1
                hv = fold(h, tokens[t])
                ones += sum(table[fold(hv, k & MASK64) % size] for k in keys)
            all_ones, all_scored = all_ones + ones, all_scored + scored
            if not pooled:
                compare(doc['id'] + ' scored', row['scored'], scored)
                compare(doc['id'] + ' g_ones', row['g_ones'], ones)
                compare(doc['id'] + ' mean', row['mean'], ones / (scored * len(keys)), 1e-15)
        if pooled:
            compare('(pooled) scored', rows[0]['scored'], all_scored)
            compare('(pooled) g_ones', rows[0]['g_ones'], all_ones)
            compare('(pooled) mean', rows[0]['mean'], all_ones / (all_scored * len(keys)), 1e-15)
    else:
        assert config.get('seeding_scheme', 'lefthash') == 'lefthash' and config.get('context_width', 1) == 1
        vocab = int(sys.argv[4])
        green_size = int(vocab * config.get('greenlist_ratio', 0.25))
        key = config.get('hashing_key', 15485863)
        lists = {}
        seen, green = set(), 0
        for i, doc in enumerate(docs):
            if not pooled:
                seen, green = set(), 0
            tokens = doc['tokens']
            for t in range(1, len(tokens)):
                seed32 = ((key * tokens[t - 1]) % MASK64) & 0xFFFFFFFF
                if (seed32, tokens[t]) in seen:
                    continue
                seen.add((seed32, tokens[t]))
                if seed32 not in lists:
                    lists[seed32] = green_set(seed32, vocab, green_size)
                green += tokens[t] in lists[seed32]
            if pooled and i + 1 < len(docs):
                continue
            row = rows[0] if pooled else rows[i]
            gamma = Fraction(green_size, vocab)
            scored = len(seen)
            expected = log10_upper_tail(scored, green, gamma) if green >= scored * gamma + 1 else 0.0
            compare(row['id'] + ' scored', row['scored'], scored)
            compare(row['id'] + ' green', row['green'], green)
            compare(row['id'] + ' log10_p', row['log10_p'], expected, 1e-9 * max(1.0, abs(expected)))
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
