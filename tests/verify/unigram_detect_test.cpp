// Unigram detection: the known answer of fixtures/kat/unigram_v1.json (an exact rational tail), the
// null over keys, power, and the refusals.
#include <catch2/catch.hpp>
#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <vector>

#include "support/binomial_interval.hpp"
#include "support/test_keys.hpp"
#include "tritium/error.hpp"
#include "tritium/synthetic_lm.hpp"
#include "tritium/gumbel_detect.hpp"
#include "tritium/unigram_detect.hpp"

using namespace tritium;
using json = nlohmann::json;

TEST_CASE("Unigram detection matches the known answers", "[unigram][kat]") {
  std::ifstream in(TRITIUM_FIXTURES_DIR "/kat/unigram_v1.json");
  REQUIRE(in);
  const json kat = json::parse(in);
  for (const auto& v : kat["vectors"]) {
    const auto secret = test::secret_from_hex(v["secret_hex"]);
    kgw_params p;
    p.gamma_bits = v["gamma_bits"];
    p.gamma_threshold = v["gamma_threshold"];
    p.vocab_size = v["vocab_size"];
    const unigram u(key::from_secret(secret, p));
    const auto& expected = v["detection"];
    const auto tokens = expected["tokens"].get<std::vector<token_id>>();
    const unigram_detection d = unigram_detect(u, tokens);
    CHECK(d.tokens == tokens.size());
    CHECK(d.scored == expected["scored"].get<std::uint64_t>());
    CHECK(d.green == expected["green"].get<std::uint64_t>());
    CHECK(d.ln_p == Approx(expected["ln_p"].get<double>()).epsilon(1e-10));
  }
}

TEST_CASE("Unigram detection holds its false-positive rate over keys", "[unigram][statistics]") {
  // 4,000 documents of 200 Zipf-distributed tokens (many repeats, as text has), each under its own
  // key (V = 5,000, gamma 1/4): rejections inside the 99.9% binomial interval at 1e-2 and 1e-3.
  const std::size_t docs = 4000;
  std::size_t at_2 = 0, at_3 = 0;
  std::mt19937_64 rng(99);
  std::vector<double> weights(5000);
  for (std::size_t v = 0; v < weights.size(); ++v) weights[v] = 1.0 / static_cast<double>(v + 1);
  std::discrete_distribution<token_id> zipf(weights.begin(), weights.end());
  std::vector<token_id> tokens(200);
  for (std::size_t i = 0; i < docs; ++i) {
    const unigram u(test::seeded_key(5000, 500000 + i));
    for (auto& t : tokens) t = zipf(rng);
    const unigram_detection d = unigram_detect(u, tokens);
    at_2 += d.ln_p <= std::log(1e-2);
    at_3 += d.ln_p <= std::log(1e-3);
  }
  const auto [lo2, hi2] = test::binomial_interval(docs, 1e-2);
  const auto [lo3, hi3] = test::binomial_interval(docs, 1e-3);
  INFO("at 1e-2: " << at_2 << " (limit " << hi2 << "), at 1e-3: " << at_3 << " (limit " << hi3 << ")");
  CHECK(at_2 <= hi2);
  CHECK(at_3 <= hi3);
  WARN("Unigram null, 4000 documents: " << at_2 << " at 1e-2 (limit " << hi2 << "), " << at_3 << " at 1e-3 (limit " << hi3 << ")");
}

TEST_CASE("Unigram-marked text is detected and the refusals hold", "[unigram][statistics]") {
  // 30 texts of 200 tokens from a Zipf model (V = 5,000), biased by delta = 2 on the list.
  const synthetic_lm lm(5000, 21, 1.0);
  const key k = test::seeded_key(5000, 41);
  const unigram u(k), other(test::seeded_key(5000, 42));
  std::vector<float> logits(5000);
  std::mt19937_64 rng(7);
  double worst = -1e300, best_other = 0.0;
  for (int doc = 0; doc < 30; ++doc) {
    std::vector<token_id> tokens = {doc};
    while (tokens.size() < 200) {
      lm.logits(tokens.back(), logits);
      u.bias_dense(logits);
      std::vector<double> w(logits.size());
      const float top = *std::max_element(logits.begin(), logits.end());
      for (std::size_t v = 0; v < w.size(); ++v) w[v] = std::exp(static_cast<double>(logits[v] - top));
      std::discrete_distribution<token_id> draw(w.begin(), w.end());
      tokens.push_back(draw(rng));
    }
    worst = std::max(worst, unigram_detect(u, tokens).log10_p);
    best_other = std::min(best_other, unigram_detect(other, tokens).log10_p);
  }
  INFO("worst log10 p " << worst << ", other key's smallest " << best_other);
  CHECK(worst < -6.0);
  CHECK(best_other > -4.0);
  WARN("Unigram power, 30 texts of 200 tokens, delta 2: worst log10 p " << worst << "; other key's smallest " << best_other);
  detect_options none;
  none.dedup = dedup_mode::none;
  const std::vector<token_id> some = {1, 2, 3};
  CHECK_THROWS_AS(unigram_detect(u, some, none), error);
  const std::vector<token_id> out_of_range = {1, 5000};
  CHECK_THROWS_AS(unigram_detect(u, out_of_range), error);
}

namespace {

// A text of `length` tokens from the model, with `bias` (V entries, may be empty) added to its logits.
std::vector<token_id> generate(const synthetic_lm& lm, const std::vector<float>& bias, token_id first,
                               std::size_t length, std::mt19937_64& rng) {
  std::vector<float> logits(lm.vocab_size());
  std::vector<double> w(lm.vocab_size());
  std::vector<token_id> tokens = {first};
  while (tokens.size() < length) {
    lm.logits(tokens.back(), logits);
    if (!bias.empty()) {
      for (std::size_t v = 0; v < logits.size(); ++v) logits[v] += bias[v];
    }
    const float top = *std::max_element(logits.begin(), logits.end());
    for (std::size_t v = 0; v < w.size(); ++v) w[v] = std::exp(static_cast<double>(logits[v] - top));
    std::discrete_distribution<token_id> draw(w.begin(), w.end());
    tokens.push_back(draw(rng));
  }
  return tokens;
}

}  // namespace

TEST_CASE("A Unigram list estimated from marked text spoofs the mark", "[unigram][statistics]") {
  // The attacker holds 50 marked texts of 200 tokens and as many unmarked ones from the same model,
  // ranks tokens by (marked count + 1)/(unmarked count + 1), takes the top G as the list, and biases
  // its own, keyless generations on it: the owner's key then "detects" texts it never marked.
  const synthetic_lm lm(5000, 21, 1.0);
  const key k = test::seeded_key(5000, 41);
  const unigram u(k);
  std::vector<float> true_bias(5000, 0.0f);
  for (token_id v = 0; v < 5000; ++v) true_bias[static_cast<std::size_t>(v)] = u.is_green(v) ? 2.0f : 0.0f;
  std::mt19937_64 rng(8);
  std::vector<double> marked(5000, 0.0), plain(5000, 0.0);
  for (int doc = 0; doc < 50; ++doc) {
    for (const token_id t : generate(lm, true_bias, doc, 200, rng)) marked[static_cast<std::size_t>(t)] += 1;
    for (const token_id t : generate(lm, {}, doc, 200, rng)) plain[static_cast<std::size_t>(t)] += 1;
  }
  std::vector<std::pair<double, token_id>> ratio;
  for (token_id v = 0; v < 5000; ++v) {
    const auto i = static_cast<std::size_t>(v);
    ratio.push_back({-(marked[i] + 1) / (plain[i] + 1), v});
  }
  std::sort(ratio.begin(), ratio.end());
  std::vector<float> spoof_bias(5000, 0.0f);
  std::size_t right = 0;
  for (std::size_t i = 0; i < u.green_count(); ++i) {
    spoof_bias[static_cast<std::size_t>(ratio[i].second)] = 2.0f;
    right += u.is_green(ratio[i].second);
  }
  double worst = -1e300;
  for (int doc = 0; doc < 20; ++doc) {
    worst = std::max(worst, unigram_detect(u, generate(lm, spoof_bias, 100 + doc, 400, rng)).log10_p);
  }
  INFO("estimated list " << right << " of " << u.green_count() << " right; worst spoofed log10 p " << worst);
  CHECK(worst < -6.0);
  WARN("Unigram spoofing: " << right << " of " << u.green_count() << " list tokens right from 50 marked texts; "
                            << "20 keyless texts of 400 tokens, worst log10 p " << worst);
}

TEST_CASE("Pooled Unigram and Gumbel tests count each id or tuple of the whole input once", "[unigram][gumbel]") {
  const key k = test::seeded_key(2000, 77, 2);
  const unigram u(k);
  const gumbel g(k);
  std::mt19937_64 rng(4);
  std::vector<std::vector<token_id>> docs(6);
  std::vector<token_id> all;
  for (auto& d : docs) {
    for (int t = 0; t < 150; ++t) d.push_back(static_cast<token_id>(rng() % 300));  // ids recur across documents
    all.insert(all.end(), d.begin(), d.end());
  }
  // Unigram has no context: the pool over the documents is one document of all their tokens.
  unigram_pool up(u, detect_options{});
  std::uint64_t contributed = 0;
  for (const auto& d : docs) contributed += up.add(d).scored;
  const unigram_detection pooled = up.result(), whole = unigram_detect(u, all);
  CHECK(pooled.scored == whole.scored);
  CHECK(pooled.green == whole.green);
  CHECK(pooled.ln_p == whole.ln_p);
  CHECK(contributed == whole.scored);
  // Gumbel: a document pooled twice adds nothing the second time; the pool's score is its shares' sum.
  gumbel_pool gp(g, detect_options{});
  const gumbel_detection first = gp.add(docs[0]), again = gp.add(docs[0]), second = gp.add(docs[1]);
  CHECK(first.scored == gumbel_detect(g, docs[0]).scored);
  CHECK(again.scored == 0);
  const gumbel_detection total = gp.result();
  CHECK(total.scored == first.scored + second.scored);
  CHECK(total.score == first.score + second.score);
  detect_options none;
  none.dedup = dedup_mode::none;
  CHECK_THROWS_AS(gumbel_pool(g, none), error);
  CHECK_THROWS_AS(unigram_pool(u, none), error);
}
