"""Binomial tail p-values and the Kolmogorov-Smirnov test against U(0, 1), standard library only, for
the radioactivity experiments (the same methods as verify/src/uniformity.cpp, in Python so that the
scripts need nothing but the tritium CLI).

- binomial_p_values(n, s, gamma, u): the one-sided p-values of s green among n scored tuples:
  conservative P(S >= s) (what `tritium radioactivity` reports), mid-p P(S > s) + P(S = s) / 2, and
  the randomised P(S > s) + u P(S = s), which is exactly U(0, 1) under H0 when u is.
- ks_uniform(samples): D = sup |F_n(x) - x| and P(D_n >= D), exact for the sample sizes used here:
  the matrix algorithm of Marsaglia, Tsang & Wang, "Evaluating Kolmogorov's distribution",
  J. Stat. Softw. 8(18) (2003), and, when the p-value is small (n D^2 >= 2.2) or D >= 1/2, twice the
  exact one-sided tail of Birnbaum & Tingey (1951), as Simard & L'Ecuyer (2011) recommend.
"""
import math


def _log_pmf(n, k, p):
    return (math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)
            + (k * math.log(p) if k else 0.0) + ((n - k) * math.log1p(-p) if n - k else 0.0))


def _log_sum(logs):
    logs = list(logs)
    if not logs:
        return -math.inf
    top = max(logs)
    return top + math.log(sum(math.exp(v - top) for v in logs))


def log_upper_tail(n, s, p):
    """ln P(Binomial(n, p) >= s). Terms rise up to the mode and fall after it: every term below
    max(s, mode) is summed, and above it the sum stops once terms are e^-50 of the largest."""
    if s <= 0:
        return 0.0
    if s > n:
        return -math.inf
    start = max(s, int((n + 1) * p))
    logs = [_log_pmf(n, k, p) for k in range(s, start)]
    peak = _log_pmf(n, start, p)
    logs.append(peak)
    for k in range(start + 1, n + 1):
        v = _log_pmf(n, k, p)
        logs.append(v)
        if v < peak - 50:
            break
    return min(0.0, _log_sum(logs))


def binomial_p_values(n, s, gamma, u):
    """(conservative, mid, randomised) p-values of s green among n scored tuples."""
    if n == 0:
        return 1.0, 1.0, u
    tail = math.exp(log_upper_tail(n, s, gamma))
    point = math.exp(_log_pmf(n, s, gamma))
    above = max(0.0, tail - point)
    return min(1.0, tail), min(1.0, above + 0.5 * point), min(1.0, above + u * point)


def _smirnov_upper(n, d):
    """P(D+_n >= d) by Birnbaum & Tingey: d * sum_j C(n, j) (1 - d - j/n)^(n-j) (d + j/n)^(j-1)."""
    logs = []
    for j in range(0, n + 1):
        a = d + j / n
        if a >= 1.0:
            break
        logs.append(_log_pmf(n, j, a) - math.log(a))
    return math.exp(math.log(d) + _log_sum(logs))


def _kolmogorov_cdf(n, d):
    """P(D_n < d) by Marsaglia, Tsang & Wang's matrix power (their C code, in Python)."""
    k = int(n * d) + 1
    m = 2 * k - 1
    h = k - n * d
    H = [[(1.0 / math.factorial(i - j + 1) if i - j + 1 >= 0 else 0.0) for j in range(m)] for i in range(m)]
    for i in range(m):
        H[i][0] -= h ** (i + 1) / math.factorial(i + 1)
        H[m - 1][i] -= h ** (m - i) / math.factorial(m - i)
    if 2 * h - 1 > 0:
        H[m - 1][0] += (2 * h - 1) ** m / math.factorial(m)

    def mul(A, B):
        return [[sum(A[i][l] * B[l][j] for l in range(m)) for j in range(m)] for i in range(m)]

    def power(A, e):
        if e == 1:
            return A, 0
        V, eV = power(A, e // 2)
        B = mul(V, V)
        eB = 2 * eV
        if e % 2:
            B = mul(A, B)
        if B[k - 1][k - 1] > 1e140:
            B = [[x * 1e-140 for x in row] for row in B]
            eB += 140
        return B, eB

    Q, eQ = power(H, n)
    s = Q[k - 1][k - 1]
    for i in range(1, n + 1):
        s = s * i / n
        if s < 1e-140:
            s *= 1e140
            eQ -= 140
    return s * 10.0 ** eQ


def ks_p_value(n, d):
    """P(D_n >= d) for n independent U(0, 1) samples."""
    if n * d <= 0.5:
        return 1.0
    if d >= 1.0:
        return 0.0
    if d >= 0.5 or n * d * d >= 2.2:
        return min(1.0, 2.0 * _smirnov_upper(n, d))
    return max(0.0, 1.0 - _kolmogorov_cdf(n, d))


def ks_uniform(samples):
    """(D, p) of the one-sample KS test of `samples` against U(0, 1)."""
    x = sorted(samples)
    n = len(x)
    d = max(max(v - i / n, (i + 1) / n - v) for i, v in enumerate(x))
    return d, ks_p_value(n, d)
