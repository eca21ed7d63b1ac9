// Kolmogorov-Smirnov test against U(0, 1) and the chi-square upper tail.
// The choice of method for each region of the Kolmogorov-Smirnov
// distribution is documented in uniformity.hpp; the references are
//
//  [MTW]  G. Marsaglia, W. W. Tsang, J. Wang, "Evaluating Kolmogorov's
//         distribution", J. Stat. Softw. 8(18) (2003).
//  [SL]   R. Simard, P. L'Ecuyer, "Computing the two-sided
//         Kolmogorov-Smirnov distribution", J. Stat. Softw. 39(11) (2011).
//  [PG]   W. Pelz, I. J. Good, "Approximating the lower tail-areas of the
//         Kolmogorov-Smirnov one-sample statistic", J. R. Stat. Soc. B 38
//         (1976) 152-156, in the form given by [SL], eq. (10)-(13).
//  [BT]   Z. W. Birnbaum, F. H. Tingey, "One-sided confidence contours for
//         probability distribution functions", Ann. Math. Stat. 22 (1951).
//  [RG]   H. Ruben, J. Gambino, "The exact distribution of Kolmogorov's
//         statistic D_n for n <= 10", Ann. Inst. Stat. Math. 34 (1982).

#include "tritium/uniformity.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <numbers>
#include <stdexcept>
#include <string>
#include <vector>

#include "tritium/binomial_tail.hpp"

namespace tritium {
namespace {

constexpr double ln_sqrt_2pi = 0.91893853320467274178032973640561764;

// Above this n d^2 the p-value is taken as twice the exact one-sided tail.
// The neglected probability that both one-sided statistics exceed d is,
// asymptotically, exp(-6 n d^2) relative to the p-value: 1.8e-6 here.
constexpr double miller_threshold = 2.2;

// Work allowed for the matrix power, in multiply-adds as counted by
// matrix_power_cost. The largest cost for n <= 10,000 below the Miller
// threshold is 2.14e8 (n = 9983), so the exact algorithm covers every
// statistic up to that n; 2.2e8 multiply-adds took 28 ms on the
// development machine (x86-64, g++ -O2).
constexpr double matrix_power_budget = 2.2e8;

// Matrix powers are rescaled by a power of two (exact in binary floating
// point) whenever their largest entry leaves [2^-256, 2^256], so that the
// next squaring cannot overflow or underflow.
constexpr int rescale_limit = 256;

// Convergence thresholds of the incomplete gamma evaluations: the bound on
// the series remainder relative to the sum, and the relative step of the
// Lentz product (a few ulp, reachable despite rounding).
constexpr double series_tolerance = 1e-17;
constexpr double fraction_tolerance = 1e-15;

std::string format_double(double value) {
  std::array<char, 40> buffer{};
  std::snprintf(buffer.data(), buffer.size(), "%.17g", value);
  return std::string(buffer.data());
}

// c = a * b for m x m row-major persymmetric matrices (x_ij = x_{m-1-j, m-1-i},
// symmetric about the anti-diagonal) that commute, so that c is persymmetric
// too. Durbin's matrix is persymmetric and the operands are its powers, so
// only the entries on or above the anti-diagonal (i + j <= m - 1) are
// computed and the rest mirrored: half the work of a full product. Zero
// entries of `a` (above the superdiagonal of Durbin's matrix, or factorials
// that underflowed) are skipped four at a time.
void multiply_persymmetric(const std::vector<double>& a, const std::vector<double>& b,
                           std::vector<double>& c, std::size_t m) {
  for (std::size_t i = 0; i < m; ++i) {
    double* row = c.data() + i * m;
    const double* a_row = a.data() + i * m;
    const std::size_t width = m - i;
    std::fill(row, row + width, 0.0);
    // Four rows of b per pass over the output row: a quarter of the loads
    // and stores of `row`, which is what bounds this loop.
    std::size_t l = 0;
    for (; l + 4 <= m; l += 4) {
      const double f0 = a_row[l];
      const double f1 = a_row[l + 1];
      const double f2 = a_row[l + 2];
      const double f3 = a_row[l + 3];
      if (f0 == 0.0 && f1 == 0.0 && f2 == 0.0 && f3 == 0.0) {
        continue;
      }
      const double* b0 = b.data() + l * m;
      const double* b1 = b0 + m;
      const double* b2 = b1 + m;
      const double* b3 = b2 + m;
      for (std::size_t j = 0; j < width; ++j) {
        row[j] += f0 * b0[j] + f1 * b1[j] + f2 * b2[j] + f3 * b3[j];
      }
    }
    for (; l < m; ++l) {
      const double factor = a_row[l];
      const double* source = b.data() + l * m;
      for (std::size_t j = 0; j < width; ++j) {
        row[j] += factor * source[j];
      }
    }
  }
  for (std::size_t i = 1; i < m; ++i) {
    for (std::size_t j = m - i; j < m; ++j) {
      c[i * m + j] = c[(m - 1 - j) * m + (m - 1 - i)];
    }
  }
}

std::size_t matrix_size(std::size_t n, double d) {
  const double nd = static_cast<double>(n) * d;
  const auto k = static_cast<std::size_t>(std::floor(nd)) + 1;
  return 2 * k - 1;
}

// Multiply-adds of the matrix power: a squaring costs m^3 / 2 (half the
// entries), a product with Durbin's matrix about m^3 / 6 (it is also zero
// above its superdiagonal).
double matrix_power_cost(std::size_t n, double d) {
  const auto m = static_cast<double>(matrix_size(n, d));
  const auto squarings = static_cast<double>(std::bit_width(n) - 1);
  const auto products = static_cast<double>(std::popcount(n) - 1);
  return m * m * m * (squarings / 2.0 + products / 6.0);
}

// P(D_n < d) by [MTW]: with k = floor(n d) + 1, m = 2k - 1 and
// h = k - n d, P(D_n < d) = n! / n^n * (H^n)_{kk} for the m x m matrix
// H_ij = 1 / (i - j + 1)! (zero above the first superdiagonal) whose first
// column and last row are corrected by h^i / i! and whose corner gets
// (2h - 1)^m / m! when 2h > 1 (Durbin's matrix).
double kolmogorov_cdf_matrix(std::size_t n, double d) {
  const double nd = static_cast<double>(n) * d;
  const auto k = static_cast<std::size_t>(std::floor(nd)) + 1;
  const std::size_t m = 2 * k - 1;
  const double h = static_cast<double>(k) - nd;

  // 1 / j! for j = 0..m; underflows harmlessly to 0 beyond j = 170.
  std::vector<double> inverse_factorial(m + 1);
  inverse_factorial[0] = 1.0;
  for (std::size_t j = 1; j <= m; ++j) {
    inverse_factorial[j] = inverse_factorial[j - 1] / static_cast<double>(j);
  }
  std::vector<double> h_matrix(m * m, 0.0);
  for (std::size_t i = 0; i < m; ++i) {
    for (std::size_t j = 0; j <= std::min(i + 1, m - 1); ++j) {
      h_matrix[i * m + j] = inverse_factorial[i + 1 - j];
    }
  }
  double h_power = 1.0;
  for (std::size_t i = 0; i < m; ++i) {
    h_power *= h;  // h^(i + 1)
    h_matrix[i * m] -= h_power * inverse_factorial[i + 1];
    h_matrix[(m - 1) * m + (m - 1 - i)] -= h_power * inverse_factorial[i + 1];
  }
  if (2.0 * h - 1.0 > 0.0) {
    h_matrix[(m - 1) * m] += std::pow(2.0 * h - 1.0, static_cast<double>(m)) * inverse_factorial[m];
  }

  // Left-to-right binary powering; `exponent` tracks the 2^e scale factor
  // removed from `power` so that (H^n)_{kk} = power_{kk} * 2^exponent.
  const std::size_t centre = (k - 1) * m + (k - 1);
  std::vector<double> power = h_matrix;
  std::vector<double> scratch(m * m);
  long long exponent = 0;
  const auto rescale = [&](std::vector<double>& matrix) {
    double largest = 0.0;
    for (const double entry : matrix) {
      largest = std::max(largest, std::fabs(entry));
    }
    if (largest == 0.0) {
      return;
    }
    const int scale = std::ilogb(largest);
    if (scale > rescale_limit || scale < -rescale_limit) {
      for (double& entry : matrix) {
        entry = std::ldexp(entry, -scale);
      }
      exponent += scale;
    }
  };
  for (int bit = static_cast<int>(std::bit_width(n)) - 2; bit >= 0; --bit) {
    multiply_persymmetric(power, power, scratch, m);
    power.swap(scratch);
    exponent *= 2;
    rescale(power);
    if (((n >> bit) & 1U) != 0) {
      multiply_persymmetric(h_matrix, power, scratch, m);
      power.swap(scratch);
      rescale(power);
    }
  }
  const double centre_value = power[centre];
  if (!(centre_value > 0.0)) {
    return 0.0;
  }
  // n! / n^n = sqrt(2 pi n) e^(-n) e^(stirlerr(n)), applied in log space
  // together with the scale factor 2^exponent. exponent ln 2 and n nearly
  // cancel; with ln 2 split Cody-Waite style into a 32-bit head (exact
  // product for |exponent| < 2^21) and a tail, that cancellation is exact.
  constexpr double ln2_head = 6.93147180369123816490e-01;
  constexpr double ln2_tail = 1.90821492927058770002e-10;
  const double nn = static_cast<double>(n);
  const auto e = static_cast<double>(exponent);
  const double log_cdf = (e * ln2_head - nn) + e * ln2_tail + std::log(centre_value) + ln_sqrt_2pi +
                         0.5 * std::log(nn) + detail::stirling_error(nn);
  return std::min(1.0, std::exp(log_cdf));
}

// P(D+_n >= d) for 0 < d < 1 by [BT]:
//   d * sum_{j=0}^{floor(n (1 - d))} C(n, j) (1 - d - j/n)^(n - j) (d + j/n)^(j - 1).
// With a_j = d + j/n each term is P(Bin(n, a_j) = j) / a_j, so the sum is
// one of positive binomial probabilities, taken in log space with Loader's
// accurate point probability.
double smirnov_upper_tail(std::size_t n, double d) {
  const double nn = static_cast<double>(n);
  std::vector<double> log_terms;
  log_terms.reserve(n + 1);
  for (std::size_t j = 0; j <= n; ++j) {
    const double a = d + static_cast<double>(j) / nn;
    if (!(a < 1.0)) {
      break;  // (1 - a)^(n - j) = 0 from here on (j < n since d > 0).
    }
    log_terms.push_back(binomial_log_pmf(n, j, a) - std::log(a));
  }
  const double largest = *std::max_element(log_terms.begin(), log_terms.end());
  double scaled_sum = 0.0;
  for (const double term : log_terms) {
    scaled_sum += std::exp(term - largest);
  }
  return std::exp(std::log(d) + largest + std::log(scaled_sum));
}

// P(D_n <= d) ~ K0 + K1 / sqrt(n) + K2 / n + K3 / n^(3/2) with z = d sqrt(n),
// after [PG] as written in [SL]:
//   K0 = sqrt(2 pi) / z * sum_{k>=1} exp(-(2k-1)^2 pi^2 / (8 z^2)),
//   K1 = sqrt(pi / 2) / (3 z^4) * sum_k (pi^2 (k - 1/2)^2 - z^2) e_k,
//   K2 = sqrt(2 pi) / (72 z^7) * sum_k (6 z^6 + 2 z^4 + pi^2 (2 z^4 - 5 z^2) (k - 1/2)^2
//                                       + pi^4 (1 - 2 z^2) (k - 1/2)^4) e_k
//        - pi^2 sqrt(2 pi) / (36 z^3) * sum_k k^2 f_k,
//   K3 = sqrt(2 pi) / (6480 z^10) * sum_k (-30 z^6 - 90 z^8
//                                         + pi^2 (135 z^4 - 96 z^6) (k - 1/2)^2
//                                         + pi^4 (212 z^4 - 60 z^2) (k - 1/2)^4
//                                         + pi^6 (5 - 30 z^2) (k - 1/2)^6) e_k
//        + pi^2 sqrt(2 pi) / (216 z^6) * sum_k (3 z^2 - pi^2 k^2) k^2 f_k,
// with e_k = exp(-pi^2 (k - 1/2)^2 / (2 z^2)) and f_k = exp(-pi^2 k^2 / (2 z^2)).
double kolmogorov_cdf_pelz_good(std::size_t n, double d) {
  const double nn = static_cast<double>(n);
  const double z = d * std::sqrt(nn);
  const double z2 = z * z;
  const double z4 = z2 * z2;
  const double z6 = z4 * z2;
  const double z8 = z4 * z4;
  constexpr double pi = std::numbers::pi;
  constexpr double pi2 = pi * pi;
  const double sqrt_2pi = std::sqrt(2.0 * pi);

  double sum0 = 0.0;
  double sum1 = 0.0;
  double sum2 = 0.0;
  double sum3 = 0.0;
  double sum2_extra = 0.0;
  double sum3_extra = 0.0;
  // Terms fall like exp(-pi^2 k^2 / (2 z^2)); at k = 16 z / pi + 2 the
  // exponent is below -128, far under double precision.
  const int terms = 2 + static_cast<int>(std::ceil(16.0 * z / pi));
  for (int k = 1; k <= terms; ++k) {
    const double half = static_cast<double>(k) - 0.5;
    const double t2 = pi2 * half * half;  // pi^2 (k - 1/2)^2
    const double e = std::exp(-t2 / (2.0 * z2));
    sum0 += e;
    sum1 += (t2 - z2) * e;
    sum2 += (6.0 * z6 + 2.0 * z4 + (2.0 * z4 - 5.0 * z2) * t2 + (1.0 - 2.0 * z2) * t2 * t2) * e;
    sum3 += (-30.0 * z6 - 90.0 * z8 + (135.0 * z4 - 96.0 * z6) * t2 +
             (212.0 * z4 - 60.0 * z2) * t2 * t2 + (5.0 - 30.0 * z2) * t2 * t2 * t2) *
            e;
    const double kk = static_cast<double>(k) * static_cast<double>(k);
    const double f = std::exp(-pi2 * kk / (2.0 * z2));
    sum2_extra += kk * f;
    sum3_extra += (3.0 * z2 - pi2 * kk) * kk * f;
  }
  const double k0 = sqrt_2pi / z * sum0;
  const double k1 = std::sqrt(pi / 2.0) / (3.0 * z4) * sum1;
  const double k2 =
      sqrt_2pi / (72.0 * z6 * z) * sum2 - pi2 * sqrt_2pi / (36.0 * z2 * z) * sum2_extra;
  const double k3 =
      sqrt_2pi / (6480.0 * z8 * z2) * sum3 + pi2 * sqrt_2pi / (216.0 * z6) * sum3_extra;
  const double root_n = std::sqrt(nn);
  return k0 + k1 / root_n + k2 / nn + k3 / (nn * root_n);
}

// Upper bound on the iterations of the incomplete gamma series and
// continued fraction; both need O(sqrt(a)) terms near x = a and a few dozen
// elsewhere.
std::uint64_t incomplete_gamma_budget(double a) {
  return 1000 + static_cast<std::uint64_t>(32.0 * std::sqrt(a));
}

[[noreturn]] void throw_no_convergence(const char* what, double a, double x, double tolerance,
                                       std::uint64_t budget, double last_change) {
  throw std::runtime_error(std::string("chi_square_upper_tail: ") + what +
                           " did not converge for a = " + format_double(a) +
                           ", x = " + format_double(x) + ": expected a relative change below " +
                           format_double(tolerance) + " within " + std::to_string(budget) +
                           " terms, got " + format_double(last_change));
}

}  // namespace

ks_result ks_uniform(std::span<const double> samples) {
  if (samples.empty()) {
    throw std::invalid_argument(
        "ks_uniform: sample count out of range: expected at least 1 sample, got 0");
  }
  std::vector<double> sorted(samples.begin(), samples.end());
  for (std::size_t i = 0; i < sorted.size(); ++i) {
    if (!(sorted[i] >= 0.0 && sorted[i] <= 1.0)) {
      throw std::invalid_argument("ks_uniform: sample " + std::to_string(i) +
                                  " out of range: expected a value in [0, 1], got " +
                                  format_double(sorted[i]));
    }
  }
  std::sort(sorted.begin(), sorted.end());
  const double nn = static_cast<double>(sorted.size());
  double statistic = 0.0;
  for (std::size_t i = 0; i < sorted.size(); ++i) {
    // The empirical distribution jumps from i/n to (i + 1)/n at sorted[i].
    const double below = sorted[i] - static_cast<double>(i) / nn;
    const double above = static_cast<double>(i + 1) / nn - sorted[i];
    statistic = std::max(statistic, std::max(below, above));
  }
  return ks_result{statistic, ks_uniform_p_value(sorted.size(), statistic), sorted.size()};
}

double ks_uniform_p_value(std::size_t n, double d) {
  if (n == 0) {
    throw std::invalid_argument(
        "ks_uniform_p_value: sample count out of range: expected n >= 1, got 0");
  }
  if (!std::isfinite(d)) {
    throw std::invalid_argument(
        "ks_uniform_p_value: statistic out of range: expected a finite value, got " +
        format_double(d));
  }
  const double nn = static_cast<double>(n);
  const double nd = nn * d;
  if (nd <= 0.5) {
    return 1.0;  // D_n >= 1 / (2n) always.
  }
  if (d >= 1.0) {
    return 0.0;
  }
  if (nd <= 1.0) {
    // [RG]: P(D_n < d) = n! / n^n (2 n d - 1)^n for 1/(2n) < d <= 1/n.
    const double log_cdf = ln_sqrt_2pi + 0.5 * std::log(nn) - nn + detail::stirling_error(nn) +
                           nn * std::log(2.0 * nd - 1.0);
    return -std::expm1(log_cdf);
  }
  if (d >= 1.0 - 1.0 / nn) {
    // [RG]: P(D_n >= d) = 2 (1 - d)^n for 1 - 1/n <= d < 1.
    return 2.0 * std::pow(1.0 - d, nn);
  }
  if (d >= 0.5 || nd * d >= miller_threshold) {
    // For d >= 1/2 the two one-sided events are disjoint and this is exact.
    return std::min(1.0, 2.0 * smirnov_upper_tail(n, d));
  }
  if (matrix_power_cost(n, d) <= matrix_power_budget) {
    return std::max(0.0, 1.0 - kolmogorov_cdf_matrix(n, d));
  }
  return std::clamp(1.0 - kolmogorov_cdf_pelz_good(n, d), 0.0, 1.0);
}

double chi_square_upper_tail(double statistic, double dof) {
  if (!(dof > 0.0) || !std::isfinite(dof)) {
    throw std::invalid_argument(
        "chi_square_upper_tail: degrees of freedom out of range: expected finite dof > 0, got " +
        format_double(dof));
  }
  if (!(statistic >= 0.0)) {
    throw std::invalid_argument(
        "chi_square_upper_tail: statistic out of range: expected a value >= 0, got " +
        format_double(statistic));
  }
  if (statistic == 0.0) {
    return 1.0;
  }
  if (std::isinf(statistic)) {
    return 0.0;
  }
  const double a = dof / 2.0;
  const double x = statistic / 2.0;
  // x^a e^(-x) / Gamma(a + 1) = exp(-stirlerr(a) - bd0(a, x)) / sqrt(2 pi a):
  // Loader's (2000) form of the Poisson probability, here with a non-integer
  // count a, free of the cancellation between lgamma(a + 1) and a ln x - x.
  const double log_poisson =
      -detail::stirling_error(a) - detail::deviance_term(a, x) - ln_sqrt_2pi - 0.5 * std::log(a);
  const std::uint64_t budget = incomplete_gamma_budget(a);

  if (x < a + 1.0) {
    // P(a, x) = x^a e^(-x) / Gamma(a + 1) * sum_{j>=0} x^j / ((a + 1) ... (a + j))
    // (DLMF 8.7.1 with P(a, x) = x^a gamma*(a, x)).
    // After the term for j the ratio of successive terms is at most
    // r = x / (a + j + 1) < 1, so the rest of the series is below
    // term * r / (1 - r); stop when that bound is negligible.
    double sum = 1.0;
    double term = 1.0;
    double last_change = 1.0;
    for (std::uint64_t j = 1; j <= budget; ++j) {
      const double jd = static_cast<double>(j);
      term *= x / (a + jd);
      sum += term;
      const double ratio = x / (a + jd + 1.0);
      last_change = term * ratio / ((1.0 - ratio) * sum);
      if (last_change < series_tolerance) {
        return -std::expm1(log_poisson + std::log(sum));
      }
    }
    throw_no_convergence("incomplete gamma series", a, x, series_tolerance, budget, last_change);
  }

  // Q(a, x) = x^a e^(-x) / Gamma(a) / (x + 1 - a - 1 (1 - a) / (x + 3 - a - 2 (2 - a) / ...))
  // (the even part of the continued fraction DLMF 8.9.2, due to Legendre),
  // evaluated with the modified Lentz algorithm.
  const double lead = x + 1.0 - a;
  double f = lead;
  double c = lead;
  double dd = 0.0;
  double last_change = 1.0;
  for (std::uint64_t j = 1; j <= budget; ++j) {
    const double jd = static_cast<double>(j);
    const double numerator = -jd * (jd - a);
    const double denominator = lead + 2.0 * jd;
    dd = denominator + numerator * dd;
    if (std::fabs(dd) < 1e-300) {
      dd = 1e-300;
    }
    c = denominator + numerator / c;
    if (std::fabs(c) < 1e-300) {
      c = 1e-300;
    }
    dd = 1.0 / dd;
    const double delta = c * dd;
    f *= delta;
    last_change = std::fabs(delta - 1.0);
    if (last_change < fraction_tolerance) {
      return std::exp(std::log(a) + log_poisson - std::log(f));
    }
  }
  throw_no_convergence("incomplete gamma continued fraction", a, x, fraction_tolerance, budget,
                       last_change);
}

}  // namespace tritium
