// Test support: the exact 99.9% interval of a binomial count, the tolerance every statistical test
// of the suite derives its bounds from (STYLE.md, "Tests").
#pragma once

#include <cmath>
#include <cstdint>
#include <utility>

#include "tritium/binomial_tail.hpp"

namespace tritium::test {

/// The 99.9% two-sided interval [lo, hi] of Binomial(n, q) from exact tails: P(X < lo) ≤ 0.0005 and
/// P(X > hi) ≤ 0.0005.
inline std::pair<std::uint64_t, std::uint64_t> binomial_interval(std::uint64_t n, double q) {
  std::uint64_t lo = 0;
  while (lo < n && std::exp(binomial_upper_tail_ln(n, lo + 1, q)) > 1 - 0.0005) ++lo;
  std::uint64_t hi = lo;
  while (hi < n && std::exp(binomial_upper_tail_ln(n, hi + 1, q)) > 0.0005) ++hi;
  return {lo, hi};
}

}  // namespace tritium::test
