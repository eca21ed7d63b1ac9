// The hypergeometric upper tail against exact rational sums (fixtures/stats/hypergeometric_tail.tsv)
// and against a direct sum of its own masses; its edges.
#include <catch2/catch.hpp>
#include <cmath>
#include <array>
#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>

#include "tritium/hypergeometric_tail.hpp"

#ifndef TRITIUM_FIXTURES_DIR
#error "TRITIUM_FIXTURES_DIR must be a string literal naming the repository's fixtures/ folder"
#endif

using namespace tritium;

TEST_CASE("Hypergeometric upper tail matches the exact references", "[hypergeometric]") {
  std::ifstream in(std::string(TRITIUM_FIXTURES_DIR) + "/stats/hypergeometric_tail.tsv");
  REQUIRE(in);
  std::string line;
  std::getline(in, line);
  REQUIRE(line == "N\tK\tn\tk\tln_p");
  std::size_t cases = 0;
  double worst = 0.0;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::uint64_t N = 0, K = 0, n = 0, k = 0;
    std::string reference;
    fields >> N >> K >> n >> k >> reference;
    const double expected = std::stod(reference);
    const double got = hypergeometric_upper_tail_ln(N, K, n, k);
    INFO("N " << N << " K " << K << " n " << n << " k " << k << " expected " << reference << " got " << got);
    const double error = std::abs(got - expected);
    worst = std::max(worst, error);
    CHECK(error <= 1e-9 * std::max(1.0, std::abs(expected)));
    ++cases;
  }
  CHECK(cases == 243);
  WARN("hypergeometric tail: worst |error| " << worst << " over " << cases << " cases");
}

TEST_CASE("Hypergeometric masses sum to one and the edges hold", "[hypergeometric]") {
  for (const auto& [N, K, n] : {std::array<std::uint64_t, 3>{10, 4, 6}, {100, 30, 40}, {1000, 500, 999}}) {
    double total = 0.0;
    for (std::uint64_t x = 0; x <= n; ++x) total += std::exp(hypergeometric_log_pmf(N, K, n, x));
    CHECK(total == Approx(1.0).epsilon(1e-12));
  }
  CHECK(hypergeometric_upper_tail_ln(100, 30, 40, 0) == 0.0);
  CHECK(hypergeometric_upper_tail_ln(100, 30, 40, 31) == -std::numeric_limits<double>::infinity());
  CHECK(hypergeometric_upper_tail_ln(10, 8, 5, 3) == 0.0);  // at least 3 marked in any 5 of these 10
  CHECK_THROWS_AS(hypergeometric_upper_tail_ln(10, 11, 5, 1), std::invalid_argument);
}
