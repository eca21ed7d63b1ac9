// Goodness-of-fit tests for p-values and samplers.
//
// This header provides the one-sample Kolmogorov-Smirnov test against the
// uniform distribution on [0, 1] (used to check that detection p-values are
// calibrated under the null hypothesis) and the upper tail of the chi-square
// distribution (used to test samplers against their target frequencies).
//
// Example:
//
//   std::vector<double> p_values = ...;  // one per unwatermarked text
//   const tritium::ks_result r = tritium::ks_uniform(p_values);
//   if (r.p_value < 1e-3) { /* the detector is miscalibrated */ }

#ifndef TRITIUM_UNIFORMITY_HPP
#define TRITIUM_UNIFORMITY_HPP

#include <cstddef>
#include <span>

namespace tritium {

// Outcome of a one-sample Kolmogorov-Smirnov test.
struct ks_result {
  // D = sup_x |F_n(x) - x|, the largest distance between the empirical
  // distribution function of the samples and the uniform one.
  double statistic;
  // P(D_n >= statistic) when the samples are independent and U(0, 1).
  double p_value;
  // Number of samples.
  std::size_t n;
};

// Tests whether `samples` look like independent draws from U(0, 1).
//
// The statistic is exact (to double rounding). The p-value is
// ks_uniform_p_value(n, statistic). Requires at least one sample and every
// sample in [0, 1] (std::invalid_argument otherwise, NaN included). Sorts a
// copy of the samples: O(n log n) time, O(n) memory.
ks_result ks_uniform(std::span<const double> samples);

// Returns P(D_n >= d), the upper tail of the two-sided Kolmogorov-Smirnov
// statistic for n independent U(0, 1) samples.
//
// Method, after Simard & L'Ecuyer, "Computing the two-sided
// Kolmogorov-Smirnov distribution", J. Stat. Softw. 39(11) (2011):
//  * closed forms of Ruben & Gambino (1982) for d <= 1/n and d >= 1 - 1/n;
//  * for d >= 1/2, and whenever the p-value is small (n d^2 >= 2.2, roughly
//    p < 0.025), twice the exact one-sided tail of Birnbaum & Tingey (1951)
//    (Miller 1956). Exact for d >= 1/2; otherwise it overstates the p-value
//    by P(D+ >= d and D- >= d), at most 1.8e-6 of it (at n d^2 = 2.2, for
//    all n measured; asymptotically exp(-6 n d^2));
//  * otherwise the exact distribution by the matrix-power algorithm of
//    Marsaglia, Tsang & Wang, "Evaluating Kolmogorov's distribution",
//    J. Stat. Softw. 8(18) (2003), within a fixed work budget that covers
//    every d for n <= 10,000 (at most about 30 ms) and small d beyond;
//  * past that budget (n > 10,000 with 1 < n d^2 < 2.2 or so), the
//    asymptotic expansion of Pelz & Good (1976) to order n^(-3/2), whose
//    error against the exact value was measured below 7e-10 absolute for
//    n >= 10,000 (1.6e-10 at n = 20,000).
// In the exact regions the p-value is accurate to about 1e-12 relative.
// Requires n >= 1 and d not NaN or infinite (std::invalid_argument
// otherwise); d <= 1/(2n) gives 1 and d >= 1 gives 0. Apart from the matrix
// power, the cost is O(n) (about 4 ms at n = 10^5 when the one-sided sum is
// used).
double ks_uniform_p_value(std::size_t n, double d);

// Returns P(X >= statistic) for X ~ chi-square with `dof` degrees of
// freedom: the regularised upper incomplete gamma function
// Q(dof / 2, statistic / 2).
//
// Evaluated in double by the power series of P (then Q = 1 - P) when
// statistic / 2 < dof / 2 + 1 and by the Legendre continued fraction
// otherwise, with the prefactor x^a e^(-x) / Gamma(a) from Loader's
// saddle-point terms, so the far tail keeps its relative accuracy until it
// underflows to 0: about 1e-12 relative for dof >= 0.01 (measured against
// mpmath down to Q = 4e-300); for smaller dof the 1 - P cancellation costs
// more (2e-10 measured at dof = 1e-6). dof need not be an integer.
// Requires finite dof > 0 and statistic >= 0, where +infinity gives 0
// (std::invalid_argument otherwise, NaN included). Throws std::runtime_error
// if the series or continued fraction fails to converge within its
// iteration budget instead of returning an unconverged value.
double chi_square_upper_tail(double statistic, double dof);

}  // namespace tritium

#endif  // TRITIUM_UNIFORMITY_HPP
