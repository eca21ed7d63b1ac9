#include "tritium/hypergeometric_tail.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "tritium/binomial_tail.hpp"

namespace tritium {

namespace {

constexpr double minus_infinity = -std::numeric_limits<double>::infinity();

void check(std::uint64_t N, std::uint64_t K, std::uint64_t n) {
  if (K > N || n > N || N > (std::uint64_t{1} << 53)) {
    throw std::invalid_argument("hypergeometric: expected K <= N, n <= N and N <= 2^53");
  }
}

// ln dbinom(k; m, q) that also takes the degenerate q = 0 or 1 and m = 0.
double log_binomial_mass(std::uint64_t m, std::uint64_t k, double q) {
  if (k > m) return minus_infinity;
  if (m == 0) return 0.0;
  if (q <= 0.0) return k == 0 ? 0.0 : minus_infinity;
  if (q >= 1.0) return k == m ? 0.0 : minus_infinity;
  return binomial_log_pmf(m, k, q);
}

}  // namespace

double hypergeometric_log_pmf(std::uint64_t N, std::uint64_t K, std::uint64_t n, std::uint64_t x) {
  check(N, K, n);
  const std::uint64_t low = n + K > N ? n + K - N : 0;
  const std::uint64_t high = std::min(n, K);
  if (x < low || x > high) return minus_infinity;
  if (n == 0 || n == N || K == 0 || K == N) return 0.0;  // a single point of support
  const double q = static_cast<double>(n) / static_cast<double>(N);
  return log_binomial_mass(K, x, q) + log_binomial_mass(N - K, n - x, q) - log_binomial_mass(N, n, q);
}

double hypergeometric_upper_tail_ln(std::uint64_t N, std::uint64_t K, std::uint64_t n, std::uint64_t k) {
  check(N, K, n);
  const std::uint64_t low = n + K > N ? n + K - N : 0;
  const std::uint64_t high = std::min(n, K);
  if (k <= low) return 0.0;
  if (k > high) return minus_infinity;
  // Terms from x = k upward, relative to the first: t_{x+1}/t_x = (K − x)(n − x) / ((x + 1)(N − K − n + x + 1)).
  // The ratio falls as x grows, so once it is below 1 the rest is below t·r/(1 − r).
  const double ln_first = hypergeometric_log_pmf(N, K, n, k);
  double sum = 1.0, term = 1.0;
  const auto dN = static_cast<double>(N), dK = static_cast<double>(K), dn = static_cast<double>(n);
  for (std::uint64_t x = k; x < high; ++x) {
    const auto dx = static_cast<double>(x);
    const double ratio = (dK - dx) * (dn - dx) / ((dx + 1.0) * (dN - dK - dn + dx + 1.0));
    term *= ratio;
    sum += term;
    if (ratio < 1.0 && term * ratio < 1e-17 * sum * (1.0 - ratio)) break;
  }
  return std::min(0.0, ln_first + std::log(sum));
}

}  // namespace tritium
