// Windowed detection: the grid's coverage, the corrected p-value's calibration under simulated nulls,
// and a diluted passage found where it is.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <random>
#include <vector>

#include "support/binomial_interval.hpp"
#include "support/test_keys.hpp"
#include "tritium/binomial_tail.hpp"
#include "tritium/detect.hpp"
#include "tritium/window_scan.hpp"

using namespace tritium;
using tritium::test::binomial_interval;
using tritium::test::seeded_key;

namespace {

std::vector<std::uint64_t> positions(std::size_t n) {
  std::vector<std::uint64_t> p(n);
  for (std::size_t i = 0; i < n; ++i) p[i] = 2 * i + 1;  // tokens between tuples were not scored
  return p;
}

/// Fraction of simulated null sequences (T i.i.d. Bernoulli(gamma) verdicts) whose corrected p-value
/// is at most each alpha.
std::vector<std::uint64_t> null_rejections(std::uint64_t sequences, std::uint64_t length, double gamma,
                                           const std::vector<double>& alphas, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::bernoulli_distribution coin(gamma);
  std::vector<std::uint8_t> green(length);
  const auto where = positions(length);
  std::vector<std::uint64_t> rejected(alphas.size(), 0);
  for (std::uint64_t s = 0; s < sequences; ++s) {
    for (auto& g : green) g = coin(rng);
    const auto r = binomial_window_scan(green, where, gamma);
    for (std::size_t a = 0; a < alphas.size(); ++a) rejected[a] += r.ln_p_scan <= std::log(alphas[a]);
  }
  return rejected;
}

}  // namespace

TEST_CASE("The window grid covers every run of 1.5 w tuples with a whole window of size w", "[window]") {
  for (const std::uint64_t n : {10u, 49u, 50u, 51u, 99u, 137u, 400u, 1001u}) {
    const auto grid = window_grid(n, 10);
    REQUIRE(grid.back().size == n);
    REQUIRE(grid.back().count == 1);
    for (const auto& g : grid) {
      if (g.size == n) continue;
      std::vector<std::pair<std::uint64_t, std::uint64_t>> windows;
      for (std::uint64_t k = 0; k < g.count; ++k) {
        const std::uint64_t begin = std::min(k * g.stride, n - g.size);
        windows.push_back({begin, begin + g.size});
      }
      const std::uint64_t run = (3 * g.size + 1) / 2;
      for (std::uint64_t start = 0; start + run <= n; ++start) {
        const bool covered = std::any_of(windows.begin(), windows.end(), [&](const auto& w) {
          return w.first >= start && w.second <= start + run;
        });
        INFO("n " << n << ", w " << g.size << ", run at " << start);
        CHECK(covered);
      }
    }
  }
}

TEST_CASE("The scan reports its best window own counts and corrects its p-value upward", "[window]") {
  std::mt19937_64 rng(4);
  std::bernoulli_distribution coin(0.3);
  std::vector<std::uint8_t> green(777);
  for (auto& g : green) g = coin(rng);
  const auto where = positions(green.size());
  const auto r = binomial_window_scan(green, where, 0.25);
  const std::uint64_t ones = static_cast<std::uint64_t>(std::count(green.begin() + static_cast<std::ptrdiff_t>(r.begin),
                                                                   green.begin() + static_cast<std::ptrdiff_t>(r.end), 1));
  CHECK(ones == r.window_green);
  CHECK(r.window_ln_p == Approx(binomial_upper_tail_ln(r.end - r.begin, ones, 0.25)));
  CHECK(r.ln_p_scan >= r.window_ln_p);
  CHECK(r.whole_ln_p == Approx(binomial_upper_tail_ln(777, static_cast<std::uint64_t>(std::count(green.begin(), green.end(), 1)), 0.25)));
  CHECK(r.ln_p_scan <= r.whole_ln_p + std::log(static_cast<double>(r.sizes)) + 1e-12);
  CHECK(r.token_begin == where[r.begin]);
  CHECK(r.token_end == where[r.end - 1] + 1);
  CHECK(r.sizes == window_grid(777, 50).size());
}

TEST_CASE("Windowed null calibration: the corrected p-value rejects at most alpha", "[window][statistics]") {
  // 20,000 simulated unmarked sequences of 1,000 scored tuples, gamma = 0.25 (about 90 windows each).
  const std::uint64_t sequences = 20000;
  const auto rejected = null_rejections(sequences, 1000, 0.25, {1e-2, 1e-3}, 20261204);
  const auto [lo1, hi1] = binomial_interval(sequences, 1e-2);
  const auto [lo2, hi2] = binomial_interval(sequences, 1e-3);
  INFO("rejections at 1e-2: " << rejected[0] << " (upper " << hi1 << "); at 1e-3: " << rejected[1] << " (upper " << hi2 << ")");
  CHECK(rejected[0] <= hi1);
  CHECK(rejected[1] <= hi2);
}

TEST_CASE("Windowed null calibration at 1e-6 over 10 million sequences", "[.long][window]") {
  const std::uint64_t sequences = 10'000'000;
  const auto rejected = null_rejections(sequences, 1000, 0.25, {1e-4, 1e-5, 1e-6}, 6);
  const auto [lo, hi] = binomial_interval(sequences, 1e-6);
  WARN("rejections at 1e-4: " << rejected[0] << ", at 1e-5: " << rejected[1] << ", at 1e-6: " << rejected[2]
                              << " (upper " << hi << ")");
  CHECK(rejected[2] <= hi);
}

TEST_CASE("A marked passage of 100 tokens inside 2000 human ones is found where it is", "[window]") {
  // KGW self-hash, h = 1: tokens 800-899 are drawn with green tokens favoured, the rest uniformly.
  const std::uint32_t vocab = 50000;
  const key k = seeded_key(vocab, 77, 1, seeding::lefthash);
  const kgw_detector detector(k);
  std::mt19937_64 rng(12);
  std::vector<token_id> tokens(2000);
  for (std::size_t t = 0; t < tokens.size(); ++t) {
    token_id v = static_cast<token_id>(rng() % vocab);
    if (t >= 800 && t < 900 && t > 0) {
      // Rejection: keep drawing until green (a fully marked passage).
      const token_id previous[1] = {tokens[t - 1]};
      while (!detector.scheme().is_green(previous, v)) v = static_cast<token_id>(rng() % vocab);
    }
    tokens[t] = v;
  }
  detect_options options;
  options.want_marks = true;
  const detection d = detector.detect(tokens, options);
  const auto r = window_scan(d);
  INFO("whole log10 p " << d.log10_p << ", scan " << r.ln_p_scan / std::log(10.0) << ", window [" << r.token_begin
                        << ", " << r.token_end << ")");
  CHECK(r.ln_p_scan < d.ln_p - 10.0 * std::log(10.0));  // ten orders of magnitude better
  CHECK(r.ln_p_scan < std::log(1e-6));
  const std::uint64_t w = r.token_end - r.token_begin;
  CHECK(r.token_begin + w / 2 + 50 >= 800);
  CHECK(r.token_end <= 900 + w / 2 + 50);
  detection no_marks = detector.detect(tokens);
  CHECK_THROWS_WITH(window_scan(no_marks), Catch::Contains("want_marks"));
}

TEST_CASE("Gumbel and Unigram window scans: the corrected p-value rejects at most alpha", "[window][statistics]") {
  // Gumbel: 10,000 null sequences of 600 scores -ln(1 - U/2^32), U uniform 32-bit (the scheme's null).
  // Unigram: 10,000 sequences of 600 distinct ids drawn without replacement from V = 5,000 with
  // G = 1,250 green (a uniformly random G-subset's verdicts on fixed distinct ids).
  const std::uint64_t sequences = 10000, length = 600;
  const auto where = positions(length);
  std::mt19937_64 rng(20261205);
  std::vector<double> scores(length);
  std::vector<std::uint8_t> green(length);
  std::vector<std::uint32_t> ids(5000);
  std::uint64_t gumbel_rejected[2] = {0, 0}, unigram_rejected[2] = {0, 0};
  for (std::uint64_t s = 0; s < sequences; ++s) {
    for (auto& x : scores) x = -std::log1p(-static_cast<double>(static_cast<std::uint32_t>(rng())) * 0x1.0p-32);
    const window_scan_result g = gamma_window_scan(scores, where);
    for (std::uint32_t i = 0; i < ids.size(); ++i) ids[i] = i;
    for (std::uint64_t i = 0; i < length; ++i) {  // a partial Fisher-Yates: `length` distinct ids
      std::swap(ids[i], ids[i + rng() % (ids.size() - i)]);
      green[i] = ids[i] < 1250;
    }
    const window_scan_result u = hypergeometric_window_scan(green, where, 5000, 1250);
    gumbel_rejected[0] += g.ln_p_scan <= std::log(1e-2);
    gumbel_rejected[1] += g.ln_p_scan <= std::log(1e-3);
    unigram_rejected[0] += u.ln_p_scan <= std::log(1e-2);
    unigram_rejected[1] += u.ln_p_scan <= std::log(1e-3);
  }
  const auto [lo1, hi1] = binomial_interval(sequences, 1e-2);
  const auto [lo2, hi2] = binomial_interval(sequences, 1e-3);
  INFO("Gumbel " << gumbel_rejected[0] << " / " << gumbel_rejected[1] << ", Unigram " << unigram_rejected[0] << " / "
                 << unigram_rejected[1] << " (upper limits " << hi1 << " / " << hi2 << ")");
  CHECK(gumbel_rejected[0] <= hi1);
  CHECK(gumbel_rejected[1] <= hi2);
  CHECK(unigram_rejected[0] <= hi1);
  CHECK(unigram_rejected[1] <= hi2);
}

TEST_CASE("A Gumbel passage inside unmarked scores is found where it is", "[window]") {
  // 2,000 null scores with 80 marked ones (each at least 2, as the largest of many candidates would
  // score) at tuples 1,200 to 1,279.
  std::mt19937_64 rng(9);
  std::vector<double> scores(2000);
  for (auto& x : scores) x = -std::log1p(-static_cast<double>(static_cast<std::uint32_t>(rng())) * 0x1.0p-32);
  for (std::size_t i = 1200; i < 1280; ++i) scores[i] = 2.0 + scores[i];
  const window_scan_result r = gamma_window_scan(scores, positions(scores.size()));
  CHECK(r.begin >= 1150);
  CHECK(r.end <= 1330);
  CHECK(r.ln_p_scan < std::log(1e-6));
  CHECK(r.window_score > static_cast<double>(r.end - r.begin));
  CHECK(r.ln_p_scan < r.whole_ln_p);
}
