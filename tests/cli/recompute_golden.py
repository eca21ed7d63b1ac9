#!/usr/bin/env python3
"""Recomputes figures of the CLI golden files from first principles, so that a golden file that the
code under test regenerates (UPDATE_GOLDEN=1) cannot carry a wrong number unnoticed:

  * key_show.txt: the key id is SHA-256("tritium/v1/key-id" || 0x00 || secret) of test.key's secret;
  * detect.jsonl, detect_pool.jsonl: each log10_p is log10 P(Bin(scored, 1/4) >= green), summed
    exactly in rational arithmetic; z is (green - scored/4) / sqrt(scored * 3/16);
  * detect.txt: the Bonferroni line's log10 is log10(6 * smallest p).

Usage: recompute_golden.py FIXTURES_CLI_DIR. Prints one line per figure; exits 1 on any mismatch.
"""
import hashlib
import json
import math
import os
import re
import sys
from fractions import Fraction


def log10_upper_tail(n, k, gamma):
    tail = sum(Fraction(math.comb(n, j)) * gamma ** j * (1 - gamma) ** (n - j) for j in range(k, n + 1))
    # log10 of a rational: exact integer logs of numerator and denominator, to double precision.
    return (math.log10(tail.numerator) if tail.numerator else -math.inf) - math.log10(tail.denominator)


def main():
    fixtures = sys.argv[1]
    failures = 0

    def compare(what, got, expected, tolerance):
        nonlocal failures
        ok = abs(got - expected) <= tolerance
        failures += not ok
        print('%s %s: golden %.15g, recomputed %.15g' % ('ok ' if ok else 'BAD', what, got, expected))

    with open(os.path.join(fixtures, 'test.key')) as f:
        secret = bytes.fromhex(json.load(f)['secret'])
    key_id = hashlib.sha256(b'tritium/v1/key-id\x00' + secret).hexdigest()
    with open(os.path.join(fixtures, 'key_show.txt')) as f:
        shown = re.search(r'^key id\s+([0-9a-f]{64})$', f.read(), re.M).group(1)
    ok = shown == key_id
    failures += not ok
    print('%s key_show.txt key id: golden %s, recomputed %s' % ('ok ' if ok else 'BAD', shown, key_id))

    gamma = Fraction(1, 4)
    smallest = 0.0
    for name in ['detect.jsonl', 'detect_pool.jsonl']:
        with open(os.path.join(fixtures, name)) as f:
            for line in f:
                row = json.loads(line)
                assert row['gamma'] == 0.25 and row['key_id'] == key_id, name
                n, k = row['scored'], row['green']
                expected = log10_upper_tail(n, k, gamma)
                label = '%s %s' % (name, row.get('id', 'pool'))
                compare(label + ' log10_p', row['log10_p'], expected, 1e-9 * max(1.0, abs(expected)))
                compare(label + ' z', row['z'], (k - n / 4) / math.sqrt(n * 3 / 16), 1e-12)
                if name == 'detect.jsonl':
                    smallest = min(smallest, expected)
    with open(os.path.join(fixtures, 'detect.txt')) as f:
        bonferroni = float(re.search(r'Bonferroni: smallest p times 6, log10 = (-?[0-9.]+)', f.read()).group(1))
    compare('detect.txt Bonferroni log10', bonferroni, round(smallest + math.log10(6), 2), 1e-9)
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
