// Binomial point and tail probabilities in log space.
//
// Method (see binomial_tail.hpp for the contracts):
//
//  * Point probability: Catherine Loader, "Fast and accurate computation of
//    binomial probabilities" (2000). With Stirling's formula written with its
//    exact error term,
//        ln m! = (m + 1/2) ln m - m + ln sqrt(2 pi) + stirlerr(m),
//    and using n p + n q - k - (n - k) = 0, the binomial log-probability is
//        ln P(X = k) = stirlerr(n) - stirlerr(k) - stirlerr(n - k)
//                      - bd0(k, n p) - bd0(n - k, n q)
//                      - 1/2 ln(2 pi k (n - k) / n),
//    where bd0(x, M) = x ln(x / M) + M - x >= 0 is the Poisson deviance term.
//    Every term is either small (stirlerr is about 1/(12 m)) or computed
//    without cancellation (bd0 through a series when x is close to M), so the
//    result keeps its accuracy at n = 10^7, where differences of lgamma
//    values of size 10^8 would already lose about 1e-8 absolute.
//
//  * Upper tail: for 1 <= k <= n,
//        P(X >= k) = I_p(k, n - k + 1)
//    with I the regularised incomplete beta function (Abramowitz & Stegun
//    26.5.24). I_x(a, b) is evaluated with the continued fraction of
//    DLMF 8.17.22,
//        I_x(a, b) = x^a (1 - x)^b / (a B(a, b)) * 1 / (1 + d1 / (1 + d2 / (1 + ...))),
//        d_{2m+1} = -(a + m)(a + b + m) x / ((a + 2m)(a + 2m + 1)),
//        d_{2m}   =  m (b - m) x / ((a + 2m - 1)(a + 2m)),
//    which converges quickly when x < (a + 1) / (a + b + 2); otherwise the
//    symmetric relation I_x(a, b) = 1 - I_{1-x}(b, a) is used and the
//    complement taken in log space. With a = k and b = n - k + 1 the
//    prefactor is an exact binomial probability:
//        x^a (1 - x)^b / (a B(a, b)) = q P(X = k)            (x = p),
//        (1 - x)^b x^a / (b B(b, a)) = p P(X = k - 1)        (x = q),
//    so the only special function needed is Loader's point probability, and
//    the continued fraction is evaluated with the modified Lentz algorithm
//    (Thompson & Barnett, J. Comput. Phys. 64 (1986) 490-509).

#include "tritium/binomial_tail.hpp"

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <limits>
#include <numbers>
#include <stdexcept>
#include <string>

namespace tritium {
namespace {

constexpr double ln_2pi = 1.8378770664093454835606594728112353;

// Largest n for which every count 0..n is an exact double.
constexpr std::uint64_t max_exact_count = std::uint64_t{1} << 53;

// stirlerr(m) = ln m! - ((m + 1/2) ln m - m + ln sqrt(2 pi)) for m = 0..15,
// evaluated with mpmath at 40 significant digits as
// loggamma(m + 1) - (m + 1/2) log(m) + m - log(2 pi) / 2. Loader tabulates
// small arguments because the asymptotic series is not accurate there. Entry
// 0 is never read (m = 0 is handled by the callers' k = 0 and k = n cases).
constexpr std::array<double, 16> stirling_error_table = {
    0.0,
    8.106146679532725821967026e-2,
    4.134069595540929409382208e-2,
    2.767792568499833914878929e-2,
    2.079067210376509311152277e-2,
    1.664469118982119216319487e-2,
    1.387612882307074799874573e-2,
    1.189670994589177009505572e-2,
    1.041126526197209649747857e-2,
    9.255462182712732917728637e-3,
    8.330563433362871256469319e-3,
    7.573675487951840794972024e-3,
    6.942840107209529865664153e-3,
    6.408994188004207068439631e-3,
    5.951370112758847735624416e-3,
    5.554733551962801371038690e-3,
};

// Relative change of the Lentz product at which the continued fraction is
// declared converged: about 5 ulp, far below the 1e-9 the callers need, yet
// reachable despite rounding in the last digit of each step.
constexpr double continued_fraction_tolerance = 1e-15;

// Guards the Lentz recurrences against an exact zero denominator.
constexpr double lentz_tiny = 1e-300;

std::string format_double(double value) {
  std::array<char, 40> buffer{};
  std::snprintf(buffer.data(), buffer.size(), "%.17g", value);
  return std::string(buffer.data());
}

void check_arguments(const char* function, std::uint64_t n, double p) {
  if (!(p > 0.0 && p < 1.0)) {
    throw std::invalid_argument(std::string(function) +
                                ": success probability p out of range: expected 0 < p < 1, got " +
                                format_double(p));
  }
  if (n > max_exact_count) {
    throw std::invalid_argument(std::string(function) +
                                ": number of trials n too large: expected n <= 2^53, got " +
                                std::to_string(n));
  }
}

// A success probability together with the quantities every evaluation
// needs. q = 1 - p is carried as an unevaluated sum q_hi + q_lo because
// 1 - p is not a double when p < 1/2, and n q enters bd0 with weight up to n.
struct probability_pair {
  double p;
  double q_hi;
  double q_lo;
  double ln_p;
  double ln_q;
};

probability_pair make_probability_pair(double p) {
  probability_pair pair{};
  pair.p = p;
  pair.q_hi = 1.0 - p;
  // Fast2Sum (Dekker 1971): exact since |1| >= |p|.
  pair.q_lo = (1.0 - pair.q_hi) - p;
  pair.ln_p = std::log(p);
  pair.ln_q = std::log1p(-p);
  return pair;
}

// bd0(x, m_hi + m_lo) to first order in the tiny m_lo: d bd0 / dm = 1 - x / m.
// The correction keeps the rounding of n p (relative 1e-16, absolute up to
// 1e-9 at n = 10^7) out of the result. Written with m_lo / m_hi, which is at
// most 1 in size, so that x / m_hi cannot overflow when p is subnormal.
double deviance_term_split(double x, double m_hi, double m_lo) {
  return detail::deviance_term(x, m_hi) + (m_lo - x * (m_lo / m_hi));
}

// ln P(X = k) for 0 <= k <= n, n >= 1, with p already validated.
double log_pmf_checked(std::uint64_t n, std::uint64_t k, const probability_pair& pr) {
  const double nd = static_cast<double>(n);
  if (k == 0) {
    return nd * pr.ln_q;
  }
  if (k == n) {
    return nd * pr.ln_p;
  }
  const double x = static_cast<double>(k);
  const double y = static_cast<double>(n - k);

  // n p and n q as exact-product pairs (the fma recovers the rounding error
  // of the product exactly).
  const double np_hi = nd * pr.p;
  const double np_lo = std::fma(nd, pr.p, -np_hi);
  const double nq_hi = nd * pr.q_hi;
  const double nq_lo = std::fma(nd, pr.q_hi, -nq_hi) + nd * pr.q_lo;

  const double stirling =
      detail::stirling_error(nd) - detail::stirling_error(x) - detail::stirling_error(y);
  const double deviance =
      deviance_term_split(x, np_hi, np_lo) + deviance_term_split(y, nq_hi, nq_lo);
  const double log_normaliser = ln_2pi + std::log(x) + std::log(y) - std::log(nd);
  return stirling - deviance - 0.5 * log_normaliser;
}

// Iteration budget of the continued fraction. The number of terms is largest
// next to the switch point x = (a + 1) / (a + b + 2), i.e. for k near the
// mean. Measured over p in {0.5, 0.25, 0.1, 1/16, 0.9, 0.01, 0.999, 1e-6} and
// k within 12 standard deviations of the mean, the worst case was
// 3.8 sqrt(n) terms at n = 100, 0.53 sqrt(n) (about 1700) at n = 10^7 and
// 0.033 sqrt(n) at n = 10^14; the growth is closer to n^(1/3). The budget
// 1000 + 32 sqrt(n) is therefore at least 30 times the need at every size.
std::uint64_t continued_fraction_budget(double a, double b) {
  return 1000 + static_cast<std::uint64_t>(32.0 * std::sqrt(a + b));
}

// Returns K = 1 + d1 / (1 + d2 / (1 + ...)) of DLMF 8.17.22, so that
// I_x(a, b) = x^a (1 - x)^b / (a B(a, b)) / K. Modified Lentz evaluation.
double incomplete_beta_continued_fraction(double a, double b, double x) {
  const std::uint64_t budget = continued_fraction_budget(a, b);
  double f = 1.0;
  double c = 1.0;
  double d = 0.0;
  double last_change = std::numeric_limits<double>::infinity();
  for (std::uint64_t j = 1; j <= budget; ++j) {
    const double m = static_cast<double>(j / 2);
    double coefficient = 0.0;
    if (j % 2 == 1) {
      coefficient = -(a + m) * (a + b + m) * x / ((a + 2.0 * m) * (a + 2.0 * m + 1.0));
    } else {
      coefficient = m * (b - m) * x / ((a + 2.0 * m - 1.0) * (a + 2.0 * m));
    }
    d = 1.0 + coefficient * d;
    if (std::fabs(d) < lentz_tiny) {
      d = lentz_tiny;
    }
    c = 1.0 + coefficient / c;
    if (std::fabs(c) < lentz_tiny) {
      c = lentz_tiny;
    }
    d = 1.0 / d;
    const double delta = c * d;
    f *= delta;
    last_change = std::fabs(delta - 1.0);
    if (last_change < continued_fraction_tolerance) {
      return f;
    }
  }
  throw std::runtime_error(
      "binomial_upper_tail_ln: incomplete beta continued fraction did not converge for a = " +
      format_double(a) + ", b = " + format_double(b) + ", x = " + format_double(x) +
      ": expected a relative step below 1e-15 within " + std::to_string(budget) + " terms, got " +
      format_double(last_change));
}

// ln(1 - exp(l)) for l < 0 without cancellation: Maechler, "Accurately
// computing log(1 - exp(-|a|))", CRAN Rmpfr vignette (2012).
double log1m_exp(double l) {
  if (l > -std::numbers::ln2) {
    return std::log(-std::expm1(l));
  }
  return std::log1p(-std::exp(l));
}

}  // namespace

namespace detail {

double stirling_error(double m) {
  if (m > 15.0) {
    // Asymptotic series sum_j B_{2j} / (2j (2j - 1) m^(2j - 1)), j = 1..7.
    // For m > 15 the first omitted term (j = 8) is below 1e-19.
    const double inv = 1.0 / m;
    const double inv2 = inv * inv;
    constexpr double c1 = 1.0 / 12.0;
    constexpr double c2 = 1.0 / 360.0;
    constexpr double c3 = 1.0 / 1260.0;
    constexpr double c4 = 1.0 / 1680.0;
    constexpr double c5 = 1.0 / 1188.0;
    constexpr double c6 = 691.0 / 360360.0;
    constexpr double c7 = 1.0 / 156.0;
    return inv *
           (c1 - inv2 * (c2 - inv2 * (c3 - inv2 * (c4 - inv2 * (c5 - inv2 * (c6 - inv2 * c7))))));
  }
  const double whole = std::floor(m);
  if (whole == m && m >= 1.0) {
    return stirling_error_table[static_cast<std::size_t>(whole)];
  }
  // Non-integer m in (0, 15]: from Gamma(m + 2) = (m + 1) Gamma(m + 1),
  //   stirlerr(m) = stirlerr(m + 1) + (m + 1/2) log1p(1 / m) - 1,
  // applied until the argument exceeds 15 and the series takes over. Each
  // step cancels only against 1, so the sixteen steps at most lose a few
  // 1e-16 absolute. (std::lgamma is avoided: it writes the global signgam,
  // a data race when called from several threads.)
  return stirling_error(m + 1.0) + (m + 0.5) * std::log1p(1.0 / m) - 1.0;
}

double deviance_term(double x, double m) {
  if (x == 0.0) {
    return m;
  }
  const double diff = x - m;
  if (std::fabs(diff) < 0.1 * (x + m)) {
    // With v = (x - m) / (x + m), ln(x / m) = 2 artanh(v), hence
    //   bd0 = (x - m) v + 2 x (v^3 / 3 + v^5 / 5 + ...).
    // The leading term (x - m) v >= 0 carries all but about |v| / 3 of the
    // result, so nothing cancels, unlike the direct form. |v| < 0.1: each
    // term is 100 times smaller than the previous one and the loop ends
    // after at most nine terms.
    const double v = diff / (x + m);
    const double v2 = v * v;
    double sum = diff * v;
    double power = 2.0 * x * v;
    for (int j = 1; j < 64; ++j) {
      power *= v2;
      const double next = sum + power / static_cast<double>(2 * j + 1);
      if (next == sum) {
        break;
      }
      sum = next;
    }
    return sum;
  }
  // Far from m the result is comparable to its terms, so what matters is
  // the relative accuracy of ln(x / m):
  //  * for m / 2 <= x <= 2 m, x - m is exact (Sterbenz) and log1p of
  //    (x - m) / m is accurate relative to the logarithm's own size, which
  //    may be as small as 0.18;
  //  * otherwise |ln(x / m)| > ln 2, and the rounding of x / m costs at most
  //    a few ulp of the logarithm, unless x / m leaves the normal range
  //    (subnormal p, or x far below m), where the logarithms are subtracted.
  const double ratio = x / m;
  if (ratio > 0.5 && ratio < 2.0) {
    return x * std::log1p(diff / m) - diff;
  }
  if (std::isnormal(ratio)) {
    return x * std::log(ratio) - diff;
  }
  return x * (std::log(x) - std::log(m)) - diff;
}

}  // namespace detail

double binomial_log_pmf(std::uint64_t n, std::uint64_t k, double p) {
  check_arguments("binomial_log_pmf", n, p);
  if (k > n) {
    return -std::numeric_limits<double>::infinity();
  }
  return log_pmf_checked(n, k, make_probability_pair(p));
}

double binomial_upper_tail_ln(std::uint64_t n, std::uint64_t k, double p) {
  check_arguments("binomial_upper_tail_ln", n, p);
  if (k == 0) {
    return 0.0;
  }
  if (k > n) {
    return -std::numeric_limits<double>::infinity();
  }
  const probability_pair pr = make_probability_pair(p);
  if (k == n) {
    return static_cast<double>(n) * pr.ln_p;
  }
  const double a = static_cast<double>(k);
  const double b = static_cast<double>(n - k) + 1.0;
  if (p < (a + 1.0) / (a + b + 2.0)) {
    // P(X >= k) = I_p(a, b) = q P(X = k) / K(a, b, p).
    return pr.ln_q + log_pmf_checked(n, k, pr) -
           std::log(incomplete_beta_continued_fraction(a, b, p));
  }
  // P(X <= k - 1) = I_q(b, a) = p P(X = k - 1) / K(b, a, q). In this branch
  // k <= (n + 3) p - 1, at most two above the mean, so the upper tail is
  // never small (the lower tail was at most 0.80 over n <= 400 and a grid
  // of p) and taking the complement is well conditioned.
  const double ln_lower = pr.ln_p + log_pmf_checked(n, k - 1, pr) -
                          std::log(incomplete_beta_continued_fraction(b, a, pr.q_hi));
  return log1m_exp(ln_lower);
}

double binomial_upper_tail_log10(std::uint64_t n, std::uint64_t k, double p) {
  return ln_to_log10(binomial_upper_tail_ln(n, k, p));
}

double ln_to_log10(double ln_value) noexcept { return ln_value * std::numbers::log10e; }

double binomial_z(std::uint64_t n, std::uint64_t k, double p) {
  check_arguments("binomial_z", n, p);
  if (n == 0) {
    throw std::invalid_argument(
        "binomial_z: number of trials n out of range: expected n >= 1, got 0");
  }
  const double nd = static_cast<double>(n);
  const double mean = nd * p;
  return (static_cast<double>(k) - mean) / std::sqrt(mean * (1.0 - p));
}

}  // namespace tritium
