#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <memory>
#include <random>
#include <vector>

#include "support/binomial_interval.hpp"
#include "support/test_keys.hpp"
#include "tritium/binomial_tail.hpp"
#include "tritium/detect.hpp"
#include "tritium/error.hpp"
#include "tritium/kgw.hpp"
#include "tritium/kgw_stream.hpp"
#include "tritium/synthetic_lm.hpp"
#include "tritium/uniformity.hpp"

using namespace tritium;

namespace {

using test::seeded_key;

using test::binomial_interval;

}  // namespace

TEST_CASE("Null calibration: false-positive rates match alpha and p-values are uniform",
          "[detect][statistics]") {
  // 10,000 unwatermarked sequences, each scored under its own random key, for left-hash (h = 1) and
  // self-hash (h = 2) seeding. Tokens are drawn from a skewed distribution (so repeats occur and
  // deduplication acts), independently of every key.
  for (const auto& [s, h] : {std::pair{seeding::lefthash, 1u}, std::pair{seeding::selfhash, 2u}}) {
    const std::uint32_t vocab = 50000;
    const std::size_t sequences = 10000;
    const std::size_t length = 3000;  // long enough that the binomial's discreteness is negligible
    std::mt19937_64 rng(20261127);
    std::uniform_real_distribution<double> unif(0.0, 1.0);
    std::size_t below_01 = 0;
    std::size_t below_001 = 0;
    std::vector<double> randomized;
    std::vector<token_id> tokens(length);
    for (std::size_t i = 0; i < sequences; ++i) {
      const key k = seeded_key(vocab, rng(), h, s);
      const kgw_detector detector(k);
      for (auto& t : tokens) t = static_cast<token_id>(vocab * std::pow(unif(rng), 3.0));
      const detection d = detector.detect(tokens);
      below_01 += d.p_value <= 0.01;
      below_001 += d.p_value <= 0.001;
      // The randomised p-value P(S > s) + U·P(S = s) is exactly uniform under H0: testing it tests
      // that the green count is exactly Binomial(T, γ).
      const double upper = d.green + 1 <= d.scored
                               ? std::exp(binomial_upper_tail_ln(d.scored, d.green + 1, d.gamma))
                               : 0.0;
      const double pmf = std::exp(binomial_log_pmf(d.scored, d.green, d.gamma));
      randomized.push_back(std::min(1.0, upper + unif(rng) * pmf));
    }
    const auto [lo1, hi1] = binomial_interval(sequences, 0.01);
    const auto [lo2, hi2] = binomial_interval(sequences, 0.001);
    INFO("seeding " << seeding_name(s) << ": FPR at 0.01: " << below_01 << " in [" << lo1 << ", "
                    << hi1 << "]; at 0.001: " << below_001 << " in [" << lo2 << ", " << hi2 << "]");
    CHECK(below_01 >= lo1);
    CHECK(below_01 <= hi1);
    CHECK(below_001 >= lo2);
    CHECK(below_001 <= hi2);
    const ks_result ks = ks_uniform(randomized);
    INFO("KS D = " << ks.statistic << ", p = " << ks.p_value);
    // Under H0 the KS p-value is itself uniform: this check fails a correct detector with
    // probability 0.001 (for the fixed seed it either always passes or always fails).
    CHECK(ks.p_value > 0.001);
  }
}

TEST_CASE("Each scored token's mark is the green list's verdict for its context", "[detect]") {
  // Left-hash and self-hash: a document of random tokens, deduplication off so that every token
  // after the first h is scored; each mark must be kgw::is_green of the h tokens before it.
  for (const auto& [s, h] : {std::pair{seeding::lefthash, 3u}, std::pair{seeding::selfhash, 4u}}) {
    const std::uint32_t vocab = 32000;
    const key k = seeded_key(vocab, 77, h, s);
    const kgw scheme(k);
    const kgw_detector detector(k);
    std::mt19937_64 rng(5);
    std::vector<token_id> tokens(4000);
    for (auto& t : tokens) t = static_cast<token_id>(rng() % vocab);
    detect_options o;
    o.dedup = dedup_mode::none;
    o.want_marks = true;
    const detection d = detector.detect(tokens, o);
    REQUIRE(d.marks.size() == tokens.size());
    std::size_t wrong = 0, green = 0;
    for (std::size_t i = 0; i < tokens.size(); ++i) {
      if (i < h) {
        wrong += d.marks[i] != token_mark::no_context;
        continue;
      }
      const std::span<const token_id> window(tokens.data() + i - h, h);
      const bool g = scheme.is_green(window, tokens[i]);
      green += g;
      wrong += d.marks[i] != (g ? token_mark::green : token_mark::red);
    }
    INFO("seeding " << seeding_name(s));
    CHECK(wrong == 0);
    CHECK(d.scored == tokens.size() - h);
    CHECK(d.green == green);
  }
}

TEST_CASE("A sentence repeated 50 times is flagged only without deduplication", "[detect]") {
  const std::uint32_t vocab = 32000;
  const key k = seeded_key(vocab, 77);
  const kgw_detector detector(k);
  // An unwatermarked 16-token sentence whose green share happens to be high (≥ 7 of 15 scored,
  // chance ≈ 5%), as human sentences sometimes are. Repetition turns that chance excess into a
  // "detection" unless repeated tuples are scored once.
  std::mt19937_64 rng(3);
  std::vector<token_id> sentence(16);
  detection once;
  do {
    for (auto& t : sentence) t = static_cast<token_id>(rng() % vocab);
    once = detector.detect(sentence);
  } while (once.green < 7);
  std::vector<token_id> doc;
  for (int r = 0; r < 50; ++r) doc.insert(doc.end(), sentence.begin(), sentence.end());
  detect_options dedup_on;
  detect_options dedup_off;
  dedup_off.dedup = dedup_mode::none;
  const detection on = detector.detect(doc, dedup_on);
  const detection off = detector.detect(doc, dedup_off);
  INFO("on: " << on.green << "/" << on.scored << " log10p " << on.log10_p << "; off: " << off.green
              << "/" << off.scored << " log10p " << off.log10_p);
  CHECK(on.scored == 16);  // 15 tuples inside the sentence plus the one across the junction
  CHECK_FALSE(on.detected);
  CHECK(off.scored == doc.size() - 1);
  CHECK(off.detected);
  CHECK(off.log10_p < -10);
  // Context-only deduplication gives the same protection here.
  detect_options ctx;
  ctx.dedup = dedup_mode::context;
  CHECK_FALSE(detector.detect(doc, ctx).detected);
}

TEST_CASE("Power: 200-token watermarked sequences are detected at alpha = 1e-3", "[detect][statistics]") {
  const std::uint32_t vocab = 32000;
  const key k = seeded_key(vocab, 2024);
  auto scheme = std::make_shared<const kgw>(k);
  const kgw_detector detector(k);
  const synthetic_lm lm(vocab, 11, 1.7);  // about 2.7 nats per token
  const double delta = k.params().delta;
  std::vector<float> logits(vocab);
  std::vector<std::uint8_t> mask(vocab);
  const std::size_t sequences = 200;
  std::size_t detected = 0;
  double entropy = 0, green_probability = 0;
  std::size_t steps = 0;
  std::vector<std::uint64_t> scored;
  for (std::size_t s = 0; s < sequences; ++s) {
    stream_options o;
    o.seed = 1000 + s;
    kgw_stream stream(scheme, o);
    const token_id prompt[1] = {static_cast<token_id>(s)};
    stream.begin(prompt);
    std::vector<token_id> tokens;
    token_id previous = prompt[0];
    for (int t = 0; t < 200; ++t) {
      lm.logits(previous, logits);
      if (t % 20 == 0) {
        entropy += synthetic_lm::entropy(logits);
        // The chance that this step's token is green: the watermarked softmax's green mass.
        const token_id window[1] = {previous};
        scheme->green_mask(window, mask);
        const float top = *std::max_element(logits.begin(), logits.end());
        double all = 0, green = 0;
        for (std::uint32_t v = 0; v < vocab; ++v) {
          const double w = std::exp(logits[v] - top + (mask[v] ? delta : 0.0));
          all += w;
          green += mask[v] ? w : 0.0;
        }
        green_probability += green / all;
        ++steps;
      }
      previous = stream.sample(logits);
      stream.accept(previous);
      tokens.push_back(previous);
    }
    const detection d = detector.detect(tokens);
    detected += d.detected;
    scored.push_back(d.scored);
  }
  const double mean_entropy = entropy / static_cast<double>(steps);
  const double q = green_probability / static_cast<double>(steps);
  // Power calculation: a sequence with T scored tuples is detected when its green count S reaches
  // the smallest k with P(Bin(T, γ) ≥ k) ≤ 1e-3. With S ~ Bin(T, q), q the mean green mass measured
  // above, its power is P(Bin(T, q) ≥ k) (the true per-step probabilities vary around q, which
  // only concentrates S further, so this underestimates power when it is above one half). The
  // count detected is then at least the 0.1% quantile of Bin(200, mean power).
  double power = 0;
  for (std::uint64_t t : scored) {
    std::uint64_t threshold = 0;
    while (threshold <= t && binomial_upper_tail_ln(t, threshold, 0.25) > std::log(1e-3)) ++threshold;
    power += threshold <= t ? std::exp(binomial_upper_tail_ln(t, threshold, q)) : 0.0;
  }
  power /= static_cast<double>(sequences);
  const std::uint64_t lower = binomial_interval(sequences, power).first;
  INFO("detected " << detected << " of " << sequences << ", mean entropy " << mean_entropy
                   << ", green mass " << q << ", power " << power << ", 0.1% bound " << lower);
  CHECK(mean_entropy >= 2.0);
  CHECK(q > 0.5);  // δ = 2 at γ = 0.25 moves about half the mass of a 2.7-nat distribution to green
  CHECK(detected >= lower);
}

TEST_CASE("Marks, curve, pooled corpus and token validation", "[detect]") {
  const std::uint32_t vocab = 1000;
  const key k = seeded_key(vocab, 5, 2);
  const kgw_detector detector(k);
  std::vector<token_id> tokens = {1, 2, 3, 4, 1, 2, 3, 9, 9, 9};
  detect_options o;
  o.want_marks = true;
  o.curve_points = 100;
  const detection d = detector.detect(tokens, o);
  REQUIRE(d.marks.size() == tokens.size());
  CHECK(d.marks[0] == token_mark::no_context);
  CHECK(d.marks[1] == token_mark::no_context);
  CHECK(d.marks[6] == token_mark::duplicate);  // (1,2) -> 3 again
  CHECK(d.scored == 7);
  std::uint64_t green = 0;
  for (auto m : d.marks) green += m == token_mark::green;
  CHECK(green == d.green);
  REQUIRE(d.curve.size() == d.scored);
  CHECK(d.curve.back().scored == d.scored);
  CHECK(d.curve.back().minus_log10_p == Approx(-d.log10_p));
  // All-green outcomes reach 1e-3 from 5 tuples on (0.25^5 < 1e-3 < 0.25^4).
  CHECK_FALSE(d.insufficient);
  const std::vector<token_id> short_doc = {1, 2, 3, 4, 5, 6};
  CHECK(detector.detect(short_doc).scored == 4);
  CHECK(detector.detect(short_doc).insufficient);
  CHECK_FALSE(detector.detect(short_doc).detected);

  // Pooling deduplicates across documents: the second copy adds nothing.
  kgw_detector::corpus pool(detector, detect_options{});
  pool.add(tokens);
  pool.add(tokens);
  CHECK(pool.result().scored == 7);
  CHECK(pool.result().tokens == 2 * tokens.size());

  std::vector<token_id> bad = {1, 2, 1000};
  CHECK_THROWS_WITH(detector.detect(bad), Catch::Contains("token 2") && Catch::Contains("1000"));
}
