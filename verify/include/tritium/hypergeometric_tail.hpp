// tritium/hypergeometric_tail.hpp — the hypergeometric upper tail in log space.
//
// X ~ Hypergeometric(N, K, n): the number of marked items among n drawn without replacement from N of
// which K are marked. The mass uses the identity dhyper(x) = dbinom(x; K, q)·dbinom(n − x; N − K, q) /
// dbinom(n; N, q) with q = n/N (any q in (0, 1) gives the same ratio; R's dhyper uses it), each factor
// from Loader's saddle-point binomial mass (tritium/binomial_tail.hpp), so it stays accurate far below
// 1e-308. The tail sums the masses from k upward by their exact term ratio until the rest is below
// 1e-17 of the sum. Accuracy against exact rational sums (fixtures/stats/hypergeometric_tail.tsv):
// |Δ ln P| ≤ 1e-9.
#pragma once

#include <cstdint>

namespace tritium {

/// ln P(X = x). Requires K ≤ N and n ≤ N (std::invalid_argument otherwise); −infinity outside the
/// support max(0, n + K − N) ≤ x ≤ min(n, K).
double hypergeometric_log_pmf(std::uint64_t N, std::uint64_t K, std::uint64_t n, std::uint64_t x);

/// ln P(X ≥ k): 0 when k is at or below the support's minimum, −infinity above its maximum.
double hypergeometric_upper_tail_ln(std::uint64_t N, std::uint64_t K, std::uint64_t n, std::uint64_t k);

}  // namespace tritium
