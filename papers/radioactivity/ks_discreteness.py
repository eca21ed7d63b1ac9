"""How often the control-key check refuses a verdict on data that satisfy H0, against the number of
scored tuples: `tritium radioactivity` gives "no verdict" when the KS test of its 20 control keys'
p-values against U(0, 1) has p < 0.01 (verify/src/radioactivity_scan.cpp). Each control key's count of
green tuples among n is exactly Binomial(n, gamma) under H0. The conservative p-value P(S >= s) is
discrete, so a KS test of it sees atoms the continuous law does not have; the check read it before
specification version 2 (papers/evidence-v2.md) and reads the randomised P(S > s) + U P(S = s) since.

For each n, R sets of 20 binomial counts (fixed seed); prints the rate at which the KS check fails with
the conservative p-values and with the randomised ones (U fresh for each set, so exactly U(0, 1)
under H0), each with a 99% interval. Standard library only:

    python3 papers/radioactivity/ks_discreteness.py [R (default 20000)]
"""
import bisect
import math
import random
import sys

from uniformity import binomial_p_values, ks_p_value

CONTROLS = 20
GAMMA = 0.25
KS_LEVEL = 0.01


def critical_d(n):
    """The smallest D with P(D_n >= D) < KS_LEVEL, by bisection on the exact law."""
    lo, hi = 0.0, 1.0
    for _ in range(60):
        mid = (lo + hi) / 2
        (lo, hi) = (mid, hi) if ks_p_value(n, mid) >= KS_LEVEL else (lo, mid)
    return hi


def ks_d(samples):
    x = sorted(samples)
    n = len(x)
    return max(max(v - i / n, (i + 1) / n - v) for i, v in enumerate(x))


def wilson(k, r, z=2.5758):
    p = k / r
    centre = (p + z * z / (2 * r)) / (1 + z * z / r)
    half = z * math.sqrt(p * (1 - p) / r + z * z / (4 * r * r)) / (1 + z * z / r)
    return max(0.0, centre - half), min(1.0, centre + half)


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
    rng = random.Random(20261205)
    d_crit = critical_d(CONTROLS)
    print(f"{CONTROLS} control keys, gamma {GAMMA}, KS at {KS_LEVEL} (critical D {d_crit:.4f}), {runs} sets per row")
    print("scored | KS fails, conservative P(S >= s) (99% interval) | KS fails, randomised (99% interval)")
    for n in (10, 14, 25, 50, 100, 200, 400, 1000, 1850):
        cdf, total = [], 0.0
        for s in range(n + 1):
            total += math.exp(math.lgamma(n + 1) - math.lgamma(s + 1) - math.lgamma(n - s + 1)
                              + s * math.log(GAMMA) + (n - s) * math.log1p(-GAMMA))
            cdf.append(total)
        table = [binomial_p_values(n, s, GAMMA, 0.0) for s in range(n + 1)]
        fails = [0, 0]
        for _ in range(runs):
            counts = [min(n, bisect.bisect_left(cdf, rng.random())) for _ in range(CONTROLS)]
            conservative = [table[s][0] for s in counts]
            randomised = [min(1.0, table[s][2] + rng.random() * (table[s][0] - table[s][2])) for s in counts]
            fails[0] += ks_d(conservative) >= d_crit
            fails[1] += ks_d(randomised) >= d_crit
        cells = []
        for k in fails:
            lo, hi = wilson(k, runs)
            cells.append(f"{k / runs:.4f} ({lo:.4f}-{hi:.4f})")
        print(f"{n:6d} | {cells[0]} | {cells[1]}")


if __name__ == "__main__":
    main()
