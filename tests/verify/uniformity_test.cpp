// Tests for tritium/uniformity.hpp: the Kolmogorov-Smirnov statistic and
// p-value against exact values and closed forms, seeded end-to-end checks,
// and the chi-square upper tail against mpmath.

#include "tritium/uniformity.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>
#include <stdexcept>
#include <vector>

namespace {

// Uniform doubles in [0, 1) from the top 53 bits of mt19937_64: identical on
// every platform, unlike std::uniform_real_distribution.
std::vector<double> seeded_uniforms(std::size_t n, std::uint64_t seed) {
  std::mt19937_64 engine(seed);
  std::vector<double> samples(n);
  for (double& sample : samples) {
    sample = std::ldexp(static_cast<double>(engine() >> 11), -53);
  }
  return samples;
}

// Reference values computed by fixtures/stats/make_uniformity_reference.py.
nlohmann::json reference_values() {
  std::ifstream in(TRITIUM_FIXTURES_DIR "/stats/uniformity_reference.json");
  REQUIRE(in);
  return nlohmann::json::parse(in);
}

double relative_error(double value, double reference) {
  return std::fabs(value - reference) / std::fabs(reference);
}

}  // namespace

TEST_CASE("ks_uniform computes the statistic of a small sample by hand", "[uniformity][ks]") {
  // Sorted 0.1, 0.4, 0.7 against i/3: D+ = max(1/3 - 0.1, 2/3 - 0.4, 1 - 0.7) = 0.3,
  // D- = max(0.1 - 0, 0.4 - 1/3, 0.7 - 2/3) = 0.1, so D = 0.3.
  const std::vector<double> samples = {0.7, 0.1, 0.4};
  const tritium::ks_result result = tritium::ks_uniform(samples);
  CHECK(result.n == 3);
  CHECK(result.statistic == Approx(0.3).epsilon(1e-15));
  // P(D_3 < 0.3): the order statistics must lie in (0.1/3, 0.3), (1.1/3, 1.9/3)
  // and (0.7, 2.9/3), three disjoint intervals of length 0.8/3, so
  // P(D_3 < 0.3) = 3! (0.8/3)^3 = 0.113777... and the p-value is 0.886222...
  CHECK(result.p_value == Approx(1.0 - 6.0 * std::pow(0.8 / 3.0, 3)).epsilon(1e-13));

  // One sample x: D = max(x, 1 - x) and P(D_1 >= d) = 2 (1 - d).
  const std::vector<double> single = {0.3};
  const tritium::ks_result one = tritium::ks_uniform(single);
  CHECK(one.statistic == Approx(0.7).epsilon(1e-15));
  CHECK(one.p_value == Approx(0.6).epsilon(1e-14));
}

TEST_CASE("ks_uniform_p_value matches exact rational values of Durbin's formula",
          "[uniformity][ks]") {
  // 1 - P(D_n < d) in exact rational arithmetic (Durbin's matrix power with d the given double),
  // from fixtures/stats/make_uniformity_reference.py. The first agrees with K(10, 0.274) =
  // 0.6284796154565043 quoted by Marsaglia, Tsang & Wang.
  struct exact_case {
    std::size_t n;
    double d;
    double p_value;
  };
  std::vector<exact_case> cases;
  const nlohmann::json values = reference_values();
  for (const auto& c : values["ks_exact"]) {
    cases.push_back({c["n"].get<std::size_t>(), c["d"].get<double>(),
                     std::stod(c["p_value"].get<std::string>())});
  }
  REQUIRE(cases.size() == 5);
  for (const exact_case& c : cases) {
    INFO("n = " << c.n << ", d = " << c.d);
    CHECK(relative_error(tritium::ks_uniform_p_value(c.n, c.d), c.p_value) <= 1e-12);
  }
}

TEST_CASE("ks_uniform_p_value follows the closed forms at the ends of the range",
          "[uniformity][ks]") {
  // Ruben & Gambino: P(D_n < d) = n! (2d - 1/n)^n for 1/(2n) < d <= 1/n.
  CHECK(tritium::ks_uniform_p_value(5, 0.15) ==
        Approx(1.0 - 120.0 * std::pow(0.1, 5)).epsilon(1e-13));
  // Ruben & Gambino: P(D_n >= d) = 2 (1 - d)^n for 1 - 1/n <= d < 1.
  CHECK(tritium::ks_uniform_p_value(5, 0.85) == Approx(2.0 * std::pow(0.15, 5)).epsilon(1e-13));
  // For 1/2 <= d < 1 - 1/n the one-sided events are disjoint, so
  // P(D_n >= d) = 2 P(D+_n >= d), and Birnbaum-Tingey's sum has two terms
  // at n = 4, d = 0.6: P(D+ >= d) = d (0.4^4 / 0.6 + 4 * 0.15^3) = 0.0337.
  CHECK(tritium::ks_uniform_p_value(4, 0.6) == Approx(0.0674).epsilon(1e-13));
  CHECK(tritium::ks_uniform_p_value(7, 0.0) == 1.0);
  CHECK(tritium::ks_uniform_p_value(7, 1.0 / 14.0) == 1.0);
  CHECK(tritium::ks_uniform_p_value(7, 1.0) == 0.0);
  CHECK(tritium::ks_uniform_p_value(7, 2.0) == 0.0);
}

TEST_CASE("ks_uniform_p_value is monotone and continuous across its methods",
          "[uniformity][ks]") {
  // n = 500 crosses the Miller threshold n d^2 = 2.2; n = 20,000 also
  // crosses from the matrix power to Pelz-Good near n d^2 = 1.16.
  for (const std::size_t n : {3UL, 40UL, 500UL, 20000UL}) {
    const double root_n = std::sqrt(static_cast<double>(n));
    // Coarser at n = 20,000, where each exact evaluation takes milliseconds.
    const double step = n > 1000 ? 0.05 : 0.01;
    double previous = 1.0;
    for (double lambda = 0.3; lambda <= 2.5; lambda += step) {
      const double d = lambda / root_n;
      const double p = tritium::ks_uniform_p_value(n, d);
      INFO("n = " << n << ", lambda = " << lambda);
      CHECK(p <= previous);
      CHECK(p >= 0.0);
      previous = p;
    }
    const double threshold = std::sqrt(2.2 / static_cast<double>(n));
    if (threshold < 0.5) {
      const double below = tritium::ks_uniform_p_value(n, std::nextafter(threshold, 0.0));
      const double above = tritium::ks_uniform_p_value(n, threshold);
      INFO("n = " << n << ", Miller threshold: " << below << " vs " << above);
      CHECK(relative_error(above, below) <= 2e-6);
    }
  }
  // Switch from the matrix power to Pelz-Good at n = 20,000: the cost
  // budget admits m = 2 floor(n d) + 1 <= 305, i.e. n d < 153.
  const double switch_d = 153.0 / 20000.0;
  const double exact_side = tritium::ks_uniform_p_value(20000, std::nextafter(switch_d, 0.0));
  const double asymptotic_side = tritium::ks_uniform_p_value(20000, switch_d);
  CHECK(std::fabs(exact_side - asymptotic_side) <= 1e-9);
}

TEST_CASE("seeded uniform samples pass the test", "[uniformity][ks]") {
  for (const std::size_t n : {10UL, 100UL, 1000UL, 10000UL}) {
    const std::vector<double> samples = seeded_uniforms(n, 20240611);
    const tritium::ks_result result = tritium::ks_uniform(samples);
    INFO("n = " << n << ", D = " << result.statistic << ", p = " << result.p_value);
    CHECK(result.n == n);
    CHECK(result.p_value > 0.01);
    CHECK(result.p_value <= 1.0);
  }
}

TEST_CASE("non-uniform samples are rejected", "[uniformity][ks]") {
  const std::size_t n = 10000;
  const std::vector<double> uniforms = seeded_uniforms(n, 7);

  // Beta(1.2, 1) by inversion: F(x) = x^1.2, so X = U^(1 / 1.2). sup |x^1.2 - x| = 0.0670; the
  // DKW radius at n = 10,000 and 99.9% is 0.0195, so D >= 0.0475, sqrt(n) D >= 4.75 and p < 1e-19.
  std::vector<double> beta(n);
  for (std::size_t i = 0; i < n; ++i) {
    beta[i] = std::pow(uniforms[i], 1.0 / 1.2);
  }
  const tritium::ks_result beta_result = tritium::ks_uniform(beta);
  INFO("Beta(1.2, 1): D = " << beta_result.statistic << ", p = " << beta_result.p_value);
  CHECK(beta_result.p_value < 1e-6);

  // Squared uniforms: F(x) = sqrt(x), sup |sqrt(x) - x| = 1/4; D is within the DKW radius 0.0195
  // (99.9%) of it, inside the 0.03 margin.
  std::vector<double> squared(n);
  for (std::size_t i = 0; i < n; ++i) {
    squared[i] = uniforms[i] * uniforms[i];
  }
  const tritium::ks_result squared_result = tritium::ks_uniform(squared);
  CHECK(squared_result.statistic == Approx(0.25).margin(0.03));
  CHECK(squared_result.p_value < 1e-6);

  // A subtler miscalibration: Beta(1.05, 1) moves the distribution function by at most
  // sup |x^1.05 - x| = 0.01794 (at x = 1.05^-20). At n = 10,000 that is below the DKW radius of the
  // null itself, so rejection there would hang on the seed; at n = 100,000 DKW puts the empirical
  // distribution within eps = sqrt(ln(2/0.001) / 2n) = 0.0062 of the true one with probability
  // 0.999, so D >= 0.01794 - 0.0062 = 0.0118, sqrt(n) D >= 3.72, and the Kolmogorov tail
  // 2 exp(-2 * 3.72^2) < 1e-11: p < 1e-6 holds for all but 0.1% of seeds.
  const std::vector<double> more = seeded_uniforms(100000, 7);
  std::vector<double> mild(more.size());
  for (std::size_t i = 0; i < more.size(); ++i) {
    mild[i] = std::pow(more[i], 1.0 / 1.05);
  }
  CHECK(tritium::ks_uniform(mild).p_value < 1e-6);
}

TEST_CASE("ks_uniform rejects invalid samples", "[uniformity][ks]") {
  const std::vector<double> empty;
  CHECK_THROWS_AS(tritium::ks_uniform(empty), std::invalid_argument);
  for (const double bad : {-0.1, 1.0000001, std::numeric_limits<double>::quiet_NaN(),
                           std::numeric_limits<double>::infinity()}) {
    const std::vector<double> samples = {0.2, bad, 0.5};
    INFO("bad sample " << bad);
    CHECK_THROWS_AS(tritium::ks_uniform(samples), std::invalid_argument);
  }
  const std::vector<double> out_of_range = {0.2, 1.5};
  CHECK_THROWS_WITH(tritium::ks_uniform(out_of_range),
                    Catch::Matchers::Contains("sample 1") &&
                        Catch::Matchers::Contains("expected a value in [0, 1], got 1.5"));
  const std::vector<double> boundary = {0.0, 1.0};
  CHECK_NOTHROW(tritium::ks_uniform(boundary));
  CHECK_THROWS_AS(tritium::ks_uniform_p_value(0, 0.1), std::invalid_argument);
  CHECK_THROWS_AS(tritium::ks_uniform_p_value(10, std::numeric_limits<double>::quiet_NaN()),
                  std::invalid_argument);
}

TEST_CASE("chi_square_upper_tail matches mpmath", "[uniformity][chi_square]") {
  // mpmath's regularized upper incomplete gamma Q(dof/2, statistic/2) at 40 digits, statistic and
  // dof the exact doubles given (fixtures/stats/make_uniformity_reference.py).
  struct reference {
    double statistic;
    double dof;
    double upper_tail;
  };
  std::vector<reference> cases;
  const nlohmann::json values = reference_values();
  for (const auto& c : values["chi_square"]) {
    cases.push_back({c["statistic"].get<double>(), c["dof"].get<double>(),
                     std::stod(c["upper_tail"].get<std::string>())});
  }
  REQUIRE(cases.size() == 15);
  for (const reference& c : cases) {
    INFO("statistic = " << c.statistic << ", dof = " << c.dof);
    const double ours = tritium::chi_square_upper_tail(c.statistic, c.dof);
    CHECK(relative_error(ours, c.upper_tail) <= 1e-12);
  }
}

TEST_CASE("chi_square_upper_tail has the closed form exp(-x/2) for two degrees of freedom",
          "[uniformity][chi_square]") {
  for (const double x : {1e-8, 0.1, 1.0, 2.0, 3.9, 4.1, 10.0, 100.0, 1000.0}) {
    INFO("x = " << x);
    CHECK(relative_error(tritium::chi_square_upper_tail(x, 2.0), std::exp(-x / 2.0)) <= 1e-13);
  }
  CHECK(tritium::chi_square_upper_tail(0.0, 5.0) == 1.0);
  CHECK(tritium::chi_square_upper_tail(std::numeric_limits<double>::infinity(), 5.0) == 0.0);
  CHECK(tritium::chi_square_upper_tail(1e6, 5.0) == 0.0);
}

TEST_CASE("chi_square_upper_tail rejects invalid arguments", "[uniformity][chi_square]") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  CHECK_THROWS_AS(tritium::chi_square_upper_tail(-1.0, 3.0), std::invalid_argument);
  CHECK_THROWS_AS(tritium::chi_square_upper_tail(nan, 3.0), std::invalid_argument);
  for (const double bad_dof : {0.0, -2.0, nan, inf}) {
    INFO("dof = " << bad_dof);
    CHECK_THROWS_AS(tritium::chi_square_upper_tail(1.0, bad_dof), std::invalid_argument);
  }
  CHECK_THROWS_WITH(tritium::chi_square_upper_tail(-1.0, 3.0),
                    Catch::Matchers::Contains("expected a value >= 0, got -1"));
}
