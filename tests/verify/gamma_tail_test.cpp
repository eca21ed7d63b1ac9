// The Gamma(n, 1) upper tail against 50-digit mpmath references (fixtures/stats/gamma_tail.tsv), an
// exact small-n sum, and its edges.
#include <catch2/catch.hpp>
#include <cmath>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

#include "tritium/gamma_tail.hpp"

#ifndef TRITIUM_FIXTURES_DIR
#error "TRITIUM_FIXTURES_DIR must be a string literal naming the repository's fixtures/ folder"
#endif

using namespace tritium;

TEST_CASE("Gamma upper tail matches the mpmath references", "[gamma_tail]") {
  const std::string path = std::string(TRITIUM_FIXTURES_DIR) + "/stats/gamma_tail.tsv";
  std::ifstream in(path);
  REQUIRE(in);
  std::string line;
  std::getline(in, line);
  REQUIRE(line == "n\tx\tln_q");
  std::size_t cases = 0;
  double worst_abs = 0.0, worst_rel = 0.0;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::uint64_t n = 0;
    double x = 0.0;
    std::string reference;
    fields >> n >> x >> reference;
    const double expected = std::stod(reference);
    const double got = gamma_upper_tail_ln(n, x);
    const double abs_error = std::abs(got - expected);
    INFO("n " << n << " x " << x << " expected " << reference << " got " << got);
    if (std::abs(expected) > 1e3) {
      worst_rel = std::max(worst_rel, abs_error / std::abs(expected));
      CHECK(abs_error <= 1e-12 * std::abs(expected));
    } else {
      worst_abs = std::max(worst_abs, abs_error);
      CHECK(abs_error <= 1e-9);
    }
    ++cases;
  }
  CHECK(cases == 161);
  WARN("worst |error| " << worst_abs << " (|ln Q| <= 1e3), worst relative " << worst_rel << " beyond");
}

TEST_CASE("Gamma upper tail equals the Poisson sum for small n, and its edges", "[gamma_tail]") {
  for (std::uint64_t n = 1; n <= 12; ++n) {
    for (double x : {0.01, 0.7, 3.0, 11.5, 40.0}) {
      double sum = 0.0, term = std::exp(-x);
      for (std::uint64_t k = 0; k < n; ++k) {
        if (k > 0) term *= x / static_cast<double>(k);
        sum += term;
      }
      INFO("n " << n << " x " << x);
      CHECK(gamma_upper_tail_ln(n, x) == Approx(std::log(sum)).epsilon(1e-12).margin(1e-14));
    }
  }
  CHECK(gamma_upper_tail_ln(5, 0.0) == 0.0);
  CHECK(gamma_upper_tail_ln(5, -3.0) == 0.0);
  CHECK(gamma_upper_tail_ln(1, 2.5) == Approx(-2.5).epsilon(1e-15));
  // Far below the double range: finite and decreasing.
  const double far = gamma_upper_tail_ln(1000, 1e6);
  CHECK(std::isfinite(far));
  CHECK(far < -9e5);
  CHECK(gamma_upper_tail_ln(1000, 1e6 + 1) < far);
  CHECK_THROWS_AS(gamma_upper_tail_ln(0, 1.0), std::invalid_argument);
  CHECK_THROWS_AS(gamma_upper_tail_ln(3, std::nan("")), std::invalid_argument);
  CHECK_THROWS_AS(poisson_log_pmf(3, 0.0), std::invalid_argument);
}
