// Gumbel detection: the known answer of fixtures/kat/gumbel_v1.json (mpmath's incomplete gamma), the
// null calibration of the Gamma tail over keys, and power on generated text.
#include <catch2/catch.hpp>
#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <vector>

#include "support/binomial_interval.hpp"
#include "support/test_keys.hpp"
#include "tritium/gumbel_detect.hpp"
#include "tritium/synthetic_lm.hpp"

using namespace tritium;
using json = nlohmann::json;

TEST_CASE("Gumbel detection matches the known answers", "[gumbel][kat]") {
  std::ifstream in(TRITIUM_FIXTURES_DIR "/kat/gumbel_v1.json");
  REQUIRE(in);
  const json kat = json::parse(in);
  for (const auto& v : kat["vectors"]) {
    const auto secret = test::secret_from_hex(v["secret_hex"]);
    kgw_params p;
    p.set_gamma(0.25);
    p.context_width = v["context_width"];
    p.vocab_size = v["vocab_size"];
    const key k = key::from_secret(secret, p);
    const gumbel g(k);
    const auto& expected = v["detection"];
    const auto tokens = expected["tokens"].get<std::vector<token_id>>();
    const gumbel_detection d = gumbel_detect(g, tokens);
    CHECK(d.tokens == tokens.size());
    CHECK(d.scored == expected["scored"].get<std::uint64_t>());
    CHECK(d.score == Approx(expected["score"].get<double>()).epsilon(1e-13));
    CHECK(d.ln_p == Approx(expected["ln_p"].get<double>()).epsilon(1e-10));
  }
}

TEST_CASE("Gumbel detection holds its false-positive rate on key-independent text", "[gumbel][statistics]") {
  // 4,000 documents of 200 tokens drawn without the key, each under its own key (V = 5,000, h = 2):
  // rejections at 1e-2 and 1e-3 must lie inside the 99.9% binomial interval of Bin(4000, alpha).
  const std::size_t docs = 4000;
  std::size_t at_2 = 0, at_3 = 0;
  std::mt19937_64 rng(20261204);
  std::uniform_int_distribution<token_id> any(0, 4999);
  std::vector<token_id> tokens(200);
  for (std::size_t i = 0; i < docs; ++i) {
    const key k = test::seeded_key(5000, 100000 + i, 2);
    const gumbel g(k);
    for (auto& t : tokens) t = any(rng);
    const gumbel_detection d = gumbel_detect(g, tokens);
    at_2 += d.ln_p <= std::log(1e-2);
    at_3 += d.ln_p <= std::log(1e-3);
  }
  const auto [lo2, hi2] = test::binomial_interval(docs, 1e-2);
  const auto [lo3, hi3] = test::binomial_interval(docs, 1e-3);
  INFO("rejections at 1e-2: " << at_2 << " [" << lo2 << ", " << hi2 << "], at 1e-3: " << at_3 << " [" << lo3 << ", " << hi3 << "]");
  CHECK(at_2 <= hi2);
  CHECK(at_3 <= hi3);
  WARN("Gumbel null, 4000 documents: " << at_2 << " at 1e-2 (limit " << hi2 << "), " << at_3 << " at 1e-3 (limit " << hi3 << ")");
}

TEST_CASE("Gumbel-generated text is detected, the same text under another key is not", "[gumbel][statistics]") {
  // 30 texts of 200 tokens from a Zipf model at V = 5,000 (temperature 1), chosen by the scheme.
  const synthetic_lm lm(5000, 11, 1.0);
  const key k = test::seeded_key(5000, 31, 2);
  const key other = test::seeded_key(5000, 32, 2);
  const gumbel g(k), g_other(other);
  std::vector<float> logits(5000), probs(5000);
  double worst = -1e300, best_other = -1e300;
  for (int doc = 0; doc < 30; ++doc) {
    std::vector<token_id> tokens = {doc, 2 * doc + 1};
    while (tokens.size() < 200) {
      lm.logits(tokens.back(), logits);
      const float top = *std::max_element(logits.begin(), logits.end());
      for (std::size_t v = 0; v < probs.size(); ++v) probs[v] = std::exp(logits[v] - top);
      tokens.push_back(g.select(std::span<const token_id>(tokens).last(2), probs));
    }
    worst = std::max(worst, gumbel_detect(g, tokens).log10_p);
    best_other = std::max(best_other, -gumbel_detect(g_other, tokens).log10_p);
  }
  INFO("worst log10 p under the key " << worst << ", smallest under another key " << -best_other);
  CHECK(worst < -6.0);
  CHECK(-best_other > -4.0);
  WARN("Gumbel power, 30 texts of 200 tokens: worst log10 p " << worst << "; other key's smallest " << -best_other);
}
