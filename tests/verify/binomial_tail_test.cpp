// Tests for tritium/binomial_tail.hpp: agreement with the 60-digit mpmath
// reference in fixtures/stats/binomial_tail.tsv, exact small-n sums, and the
// basic properties of a tail probability.

#include "tritium/binomial_tail.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#ifndef TRITIUM_FIXTURES_DIR
#error "TRITIUM_FIXTURES_DIR must be a string literal naming the repository's fixtures/ folder"
#endif

namespace {

struct reference_row {
  std::uint64_t n;
  std::uint64_t k;
  double p;
  double ln_p;
  std::string text;
};

// strtod rather than stream extraction: references such as -4.3e-1249388
// underflow to -0, which streams report as a failure.
std::vector<reference_row> read_reference_table() {
  const std::string path = std::string(TRITIUM_FIXTURES_DIR) + "/stats/binomial_tail.tsv";
  std::ifstream in(path);
  if (!in) {
    throw std::runtime_error("cannot open reference table: expected a readable file, got none at " +
                             path);
  }
  std::string line;
  std::getline(in, line);
  if (line != "n\tk\tp\tln_p") {
    throw std::runtime_error("bad reference table header: expected n<TAB>k<TAB>p<TAB>ln_p, got " +
                             line);
  }
  std::vector<reference_row> rows;
  while (std::getline(in, line)) {
    if (line.empty()) {
      continue;
    }
    std::istringstream fields(line);
    std::string n_text;
    std::string k_text;
    std::string p_text;
    std::string ln_text;
    if (!std::getline(fields, n_text, '\t') || !std::getline(fields, k_text, '\t') ||
        !std::getline(fields, p_text, '\t') || !std::getline(fields, ln_text)) {
      throw std::runtime_error("bad reference row: expected 4 tab-separated fields, got " + line);
    }
    reference_row row{};
    row.n = std::stoull(n_text);
    row.k = std::stoull(k_text);
    row.p = std::strtod(p_text.c_str(), nullptr);
    row.ln_p = std::strtod(ln_text.c_str(), nullptr);
    row.text = line;
    rows.push_back(row);
  }
  return rows;
}

// P(X >= k) by direct summation in long double (64-bit significand), with the
// binomial coefficient built by the multiplicative recurrence. Adequate for
// n up to a few hundred, where no term underflows.
long double direct_upper_tail(unsigned n, unsigned k, double p) {
  const long double pl = p;
  const long double ql = 1.0L - pl;
  long double total = 0.0L;
  long double coefficient = 1.0L;
  for (unsigned j = 0; j <= n; ++j) {
    if (j > 0) {
      coefficient = coefficient * static_cast<long double>(n - j + 1) / static_cast<long double>(j);
    }
    if (j >= k) {
      total += coefficient * std::pow(pl, static_cast<long double>(j)) *
               std::pow(ql, static_cast<long double>(n - j));
    }
  }
  return total;
}

double normal_upper_tail(double z) {
  return 0.5 * std::erfc(z / std::sqrt(2.0));
}

}  // namespace

TEST_CASE("binomial_upper_tail_ln matches the mpmath reference table", "[binomial][fixtures]") {
  const std::vector<reference_row> rows = read_reference_table();
  REQUIRE(rows.size() >= 60);
  double worst_absolute = 0.0;
  double worst_relative = 0.0;
  for (const reference_row& row : rows) {
    INFO("row: " << row.text);
    const double ours = tritium::binomial_upper_tail_ln(row.n, row.k, row.p);
    REQUIRE(std::isfinite(ours));
    const double difference = std::fabs(ours - row.ln_p);
    INFO("ours = " << ours << ", difference = " << difference);
    if (std::fabs(row.ln_p) <= 1e5) {
      CHECK(difference <= 1e-9);
      worst_absolute = std::fmax(worst_absolute, difference);
    } else {
      CHECK(difference <= 1e-13 * std::fabs(row.ln_p));
      worst_relative = std::fmax(worst_relative, difference / std::fabs(row.ln_p));
    }
  }
  // Visible with --success; the budget above is what the contract promises.
  INFO("worst |d ln p| for |ln p| <= 1e5: " << worst_absolute
                                            << ", worst relative beyond: " << worst_relative);
  SUCCEED();
}

TEST_CASE("the reference table reaches the ranges the contract covers", "[binomial][fixtures]") {
  const std::vector<reference_row> rows = read_reference_table();
  bool has_n_one = false;
  bool has_n_ten_million = false;
  bool has_below_log10_minus_1000 = false;
  bool has_below_log10_minus_100000 = false;
  for (const reference_row& row : rows) {
    has_n_one = has_n_one || row.n == 1;
    has_n_ten_million = has_n_ten_million || row.n == 10'000'000;
    const double log10_p = tritium::ln_to_log10(row.ln_p);
    has_below_log10_minus_1000 = has_below_log10_minus_1000 || (log10_p < -1000 && log10_p > -2000);
    has_below_log10_minus_100000 = has_below_log10_minus_100000 || log10_p < -100000;
  }
  CHECK(has_n_one);
  CHECK(has_n_ten_million);
  CHECK(has_below_log10_minus_1000);
  CHECK(has_below_log10_minus_100000);
}

TEST_CASE("tail at k = 0 is exactly certain and beyond n impossible", "[binomial]") {
  for (const std::uint64_t n : {0ULL, 1ULL, 2ULL, 200ULL, 10'000'000ULL}) {
    for (const double p : {0.5, 0.25, 0.1, 0.0625, 0.9}) {
      CHECK(tritium::binomial_upper_tail_ln(n, 0, p) == 0.0);
      const double beyond = tritium::binomial_upper_tail_ln(n, n + 1, p);
      CHECK(std::isinf(beyond));
      CHECK(beyond < 0.0);
      CHECK(std::isinf(tritium::binomial_log_pmf(n, n + 1, p)));
    }
  }
}

TEST_CASE("tail at k = n is p^n and at k = 1 is 1 - q^n", "[binomial]") {
  for (const std::uint64_t n : {1ULL, 2ULL, 3ULL, 50ULL, 1000ULL}) {
    for (const double p : {0.5, 0.25, 0.1, 0.0625, 0.9}) {
      const double nd = static_cast<double>(n);
      CHECK(tritium::binomial_upper_tail_ln(n, n, p) == Approx(nd * std::log(p)).epsilon(1e-15));
      const double one_minus_qn = -std::expm1(nd * std::log1p(-p));
      CHECK(tritium::binomial_upper_tail_ln(n, 1, p) ==
            Approx(std::log(one_minus_qn)).epsilon(1e-13).margin(1e-15));
    }
  }
}

TEST_CASE("tail is non-increasing in k", "[binomial]") {
  for (const std::uint64_t n : {1ULL, 2ULL, 3ULL, 50ULL, 200ULL, 1000ULL}) {
    for (const double p : {0.5, 0.25, 0.1, 0.0625, 0.9}) {
      double previous = tritium::binomial_upper_tail_ln(n, 0, p);
      for (std::uint64_t k = 1; k <= n + 1; ++k) {
        const double current = tritium::binomial_upper_tail_ln(n, k, p);
        INFO("n = " << n << ", p = " << p << ", k = " << k);
        CHECK(current <= previous);
        previous = current;
      }
    }
  }
  // Around the mean of a large n, across the switch between the direct and
  // the complementary continued fraction.
  const std::uint64_t n = 10'000'000;
  double previous = tritium::binomial_upper_tail_ln(n, 2'495'000, 0.25);
  for (std::uint64_t k = 2'495'000 + 250; k <= 2'505'000; k += 250) {
    const double current = tritium::binomial_upper_tail_ln(n, k, 0.25);
    INFO("k = " << k);
    CHECK(current < previous);
    previous = current;
  }
}

TEST_CASE("probability masses for n = 50 sum to one", "[binomial]") {
  for (const double p : {0.5, 0.25, 0.1, 0.0625, 0.9, 0.3}) {
    double total = 0.0;
    for (std::uint64_t k = 0; k <= 50; ++k) {
      total += std::exp(tritium::binomial_log_pmf(50, k, p));
    }
    INFO("p = " << p);
    CHECK(std::fabs(total - 1.0) <= 1e-12);
  }
}

TEST_CASE("tail agrees with direct long double summation for small n", "[binomial]") {
  for (const unsigned n : {1U, 2U, 3U, 4U, 7U, 20U, 50U, 120U}) {
    for (const double p : {0.5, 0.25, 0.1, 0.0625, 0.9, 0.75, 0.3}) {
      for (unsigned k = 1; k <= n; ++k) {
        const long double direct = direct_upper_tail(n, k, p);
        const double expected = static_cast<double>(std::log(direct));
        const double ours = tritium::binomial_upper_tail_ln(n, k, p);
        INFO("n = " << n << ", k = " << k << ", p = " << p);
        CHECK(std::fabs(ours - expected) <= 1e-12 * std::fmax(1.0, std::fabs(expected)));
      }
    }
  }
}

TEST_CASE("point probability agrees with the tail difference and with lgamma for small n",
          "[binomial]") {
  for (const std::uint64_t n : {5ULL, 30ULL, 200ULL}) {
    for (const double p : {0.5, 0.25, 0.1}) {
      for (std::uint64_t k = 0; k <= n; ++k) {
        const double ours = tritium::binomial_log_pmf(n, k, p);
        const double nd = static_cast<double>(n);
        const double kd = static_cast<double>(k);
        const double via_lgamma = std::lgamma(nd + 1.0) - std::lgamma(kd + 1.0) -
                                  std::lgamma(nd - kd + 1.0) + kd * std::log(p) +
                                  (nd - kd) * std::log1p(-p);
        INFO("n = " << n << ", k = " << k << ", p = " << p);
        CHECK(std::fabs(ours - via_lgamma) <= 1e-11 * std::fmax(1.0, std::fabs(via_lgamma)));
        const double tail_k = std::exp(tritium::binomial_upper_tail_ln(n, k, p));
        const double tail_next = std::exp(tritium::binomial_upper_tail_ln(n, k + 1, p));
        CHECK(tail_k - tail_next == Approx(std::exp(ours)).epsilon(1e-9).margin(1e-14));
      }
    }
  }
}

TEST_CASE("regression: the normal approximation would understate the tail by 100x",
          "[binomial][regression]") {
  // 99 green tokens of 200 at gamma = 1/4: z = 8.0017. The exact tail is
  // 8.05e-14; the normal tail would claim 6.14e-16.
  const double exact = std::exp(tritium::binomial_upper_tail_ln(200, 99, 0.25));
  CHECK(exact == Approx(8.05e-14).epsilon(0.01));
  const double z = tritium::binomial_z(200, 99, 0.25);
  CHECK(z == Approx(8.00167).epsilon(1e-5));
  const double normal = normal_upper_tail(z);
  CHECK(normal == Approx(6.14e-16).epsilon(0.01));
  CHECK(exact > 100.0 * normal);
}

TEST_CASE("log10 helpers convert natural logarithms", "[binomial]") {
  CHECK(tritium::ln_to_log10(std::log(1e-300)) == Approx(-300.0).epsilon(1e-15));
  CHECK(tritium::ln_to_log10(0.0) == 0.0);
  CHECK(std::isinf(tritium::ln_to_log10(-std::numeric_limits<double>::infinity())));
  CHECK(std::isnan(tritium::ln_to_log10(std::numeric_limits<double>::quiet_NaN())));
  const double ln_p = tritium::binomial_upper_tail_ln(10'000'000, 2'600'000, 0.25);
  CHECK(tritium::binomial_upper_tail_log10(10'000'000, 2'600'000, 0.25) ==
        Approx(ln_p / std::log(10.0)).epsilon(1e-15));
  CHECK(tritium::binomial_upper_tail_log10(10'000'000, 2'600'000, 0.25) < -1000.0);
}

TEST_CASE("extreme success probabilities stay finite and accurate", "[binomial]") {
  // Subnormal p: P(X >= 1) = 1 - (1 - p)^n = n p to double precision.
  const double tiny = std::numeric_limits<double>::denorm_min();
  CHECK(tritium::binomial_upper_tail_ln(10'000'000, 1, tiny) ==
        Approx(std::log(1e7) + std::log(tiny)).epsilon(1e-12));
  // p = 1e-300: P(X >= 2) = C(n, 2) p^2 to double precision.
  CHECK(tritium::binomial_upper_tail_ln(10'000'000, 2, 1e-300) ==
        Approx(std::log(1e7 * (1e7 - 1.0) / 2.0) + 2.0 * std::log(1e-300)).epsilon(1e-12));
  // p one ulp below 1, q = 2^-53: P(X >= 2 | n = 3) = 1 - 3 p q^2 - q^3, so
  // ln P = -3 q^2 + O(q^3) = -3 * 2^-106 to double precision.
  const double almost_one = 1.0 - std::ldexp(1.0, -53);
  const double expected_ln = -3.0 * std::ldexp(1.0, -106);
  CHECK(std::fabs(tritium::binomial_upper_tail_ln(3, 2, almost_one) / expected_ln - 1.0) <= 1e-12);
}

TEST_CASE("invalid arguments throw with a descriptive message", "[binomial]") {
  for (const double bad_p : {0.0, 1.0, -0.25, 1.5, std::numeric_limits<double>::quiet_NaN(),
                             std::numeric_limits<double>::infinity()}) {
    INFO("p = " << bad_p);
    CHECK_THROWS_AS(tritium::binomial_upper_tail_ln(10, 3, bad_p), std::invalid_argument);
    CHECK_THROWS_AS(tritium::binomial_log_pmf(10, 3, bad_p), std::invalid_argument);
    CHECK_THROWS_AS(tritium::binomial_z(10, 3, bad_p), std::invalid_argument);
  }
  CHECK_THROWS_WITH(tritium::binomial_upper_tail_ln(10, 3, 1.5),
                    Catch::Matchers::Contains("expected 0 < p < 1") &&
                        Catch::Matchers::Contains("got 1.5"));
  const std::uint64_t too_many = (std::uint64_t{1} << 53) + 1;
  CHECK_THROWS_AS(tritium::binomial_upper_tail_ln(too_many, 3, 0.5), std::invalid_argument);
  CHECK_THROWS_AS(tritium::binomial_z(0, 0, 0.5), std::invalid_argument);
}
