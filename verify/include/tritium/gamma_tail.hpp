// tritium/gamma_tail.hpp — the upper tail of Gamma(n, 1) in log space, for sums of Exp(1) scores.
//
// A Gumbel (Aaronson) detector adds one score s_t = −ln(1 − u_t) per distinct scored tuple, u_t the
// tuple's keyed uniform; under H0 each s_t is at most Exp(1) in distribution (papers/gumbel-v1.md §5),
// so the sum S of n of them is at most Gamma(n, 1) and p = Q(n, S) = P(Gamma(n, 1) ≥ S) is a valid
// p-value. For integer n, Q(n, x) = P(Poisson(x) ≤ n − 1) = Σ_{k<n} e^{−x} x^k / k!, summed here in
// log space from its largest term, each term from Loader's (2000) saddle-point form of the Poisson
// mass (the stirling_error and deviance_term of tritium/binomial_tail.hpp), so the tail stays
// finite far below 1e-308. Accuracy against 50-digit mpmath references (fixtures/stats/
// gamma_tail.tsv): |Δ ln Q| ≤ 1e-9, and 1e-12 relative to |ln Q| beyond 1e3.
#pragma once

#include <cstdint>

namespace tritium {

/// ln P(Poisson(lambda) = k), for lambda > 0 (std::invalid_argument otherwise, NaN included).
double poisson_log_pmf(std::uint64_t k, double lambda);

/// ln Q(n, x) = ln P(Gamma(n, 1) ≥ x): 0 for x ≤ 0. Requires 1 ≤ n ≤ 2^53 and finite x
/// (std::invalid_argument otherwise). Cost: O(√n + n/x·…) terms; a few microseconds for n ≤ 10^5,
/// and never more than n terms.
double gamma_upper_tail_ln(std::uint64_t n, double x);

}  // namespace tritium
