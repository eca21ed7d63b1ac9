#include "tritium/gamma_tail.hpp"

#include <cmath>
#include <numbers>
#include <stdexcept>

#include "tritium/binomial_tail.hpp"

namespace tritium {

double poisson_log_pmf(std::uint64_t k, double lambda) {
  if (!(lambda > 0.0) || !std::isfinite(lambda)) {
    throw std::invalid_argument("poisson_log_pmf: expected a finite lambda > 0");
  }
  if (k == 0) return -lambda;
  const auto x = static_cast<double>(k);
  // Loader (2000): ln dpois(x; λ) = −stirlerr(x) − bd0(x, λ) − ½ ln(2πx).
  return -detail::stirling_error(x) - detail::deviance_term(x, lambda) - 0.5 * std::log(2.0 * std::numbers::pi * x);
}

double gamma_upper_tail_ln(std::uint64_t n, double x) {
  if (n == 0 || n > (std::uint64_t{1} << 53)) {
    throw std::invalid_argument("gamma_upper_tail_ln: expected 1 <= n <= 2^53");
  }
  if (!std::isfinite(x)) throw std::invalid_argument("gamma_upper_tail_ln: expected a finite x");
  if (x <= 0.0) return 0.0;
  const auto last = static_cast<double>(n - 1);
  if (x > last) {
    // The terms e^{−x} x^k / k! grow with k up to k = n − 1: sum downward from the largest, each
    // term the previous times k / x, until the rest (a geometric series bounded by the current
    // ratio) is below 1e-17 of the sum.
    const double ln_top = poisson_log_pmf(n - 1, x);
    double sum = 1.0, term = 1.0;
    for (std::uint64_t k = n - 1; k > 0; --k) {
      const double ratio = static_cast<double>(k) / x;
      term *= ratio;
      sum += term;
      if (term < 1e-17 * sum * (1.0 - ratio)) break;
    }
    return ln_top + std::log(sum);
  }
  // Q ≥ about one half here: 1 − P(Poisson(x) ≥ n), the upper sum from k = n, whose terms fall
  // from k = n on (x ≤ n − 1 < n).
  const double ln_first = poisson_log_pmf(n, x);
  double sum = 1.0, term = 1.0;
  for (std::uint64_t k = n + 1;; ++k) {
    const double ratio = x / static_cast<double>(k);
    term *= ratio;
    sum += term;
    if (term < 1e-17 * sum * (1.0 - ratio) || term == 0.0) break;
  }
  const double ln_upper = ln_first + std::log(sum);
  return std::log1p(-std::exp(ln_upper));
}

}  // namespace tritium
