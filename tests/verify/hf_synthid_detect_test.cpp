// SynthID-Text detection: the key-shift null against brute force over every key, the masks, the null
// calibration and marked text.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <vector>

#include "support/binomial_interval.hpp"
#include "support/skewed_tokens.hpp"
#include "support/synthid_text.hpp"
#include "tritium/error.hpp"
#include "tritium/hf_synthid.hpp"
#include "tritium/hf_synthid_detect.hpp"
#include "tritium/window_scan.hpp"

using namespace tritium;
using tritium::test::binomial_interval;
using tritium::test::skewed_tokens;

namespace {
// Transformers' defaults: ngram_len 5, DeepMind's 30 keys, table 65,536, seed 0.
hf_synthid_params transformers_default() {
  hf_synthid_params p;
  p.ngram_len = 5;
  p.keys = {654, 400, 836, 123, 340, 443, 597, 160, 57, 29, 590, 639, 13, 715, 468,
            990, 966, 226, 324, 585, 118, 504, 421, 521, 129, 669, 732, 225, 90, 960};
  return p;
}
// Five random layer keys, a table of 1,024 entries and trigrams: a shift law of milliseconds, for
// calibrations over thousands of keys.
hf_synthid_params random_small(std::mt19937_64& rng) {
  hf_synthid_params p;
  p.ngram_len = 3;
  p.sampling_table_size = 1024;
  for (int l = 0; l < 5; ++l) p.keys.push_back(static_cast<std::int64_t>(rng() >> 1));
  return p;
}
}  // namespace


TEST_CASE("HF SynthID p-value equals the share of all keys that score at least as high", "[hf_synthid]") {
  // Table size 64, two layers: enumerate all 64 x 64 key residues, count those whose total g reaches
  // the observed one. The exact null must give that share.
  std::mt19937_64 rng(3);
  for (int trial = 0; trial < 6; ++trial) {
    const auto tokens = skewed_tokens(rng, 40, 25, 2.0);
    const std::int64_t k0 = static_cast<std::int64_t>(rng() >> 2), k1 = static_cast<std::int64_t>(rng() >> 2);
    hf_synthid_params p;
    p.ngram_len = 3;
    p.sampling_table_size = 64;
    p.sampling_table_seed = 11 + static_cast<std::uint64_t>(trial);
    p.keys = {k0, k1};
    const hf_synthid scheme(p);
    const hf_synthid_detection d = hf_synthid_detect(scheme, tokens);
    std::uint64_t at_least = 0;
    for (std::int64_t c0 = 0; c0 < 64; ++c0) {
      for (std::int64_t c1 = 0; c1 < 64; ++c1) {
        hf_synthid_params q = p;
        q.keys = {c0, c1};
        const hf_synthid shifted(q);
        at_least += hf_synthid_detect(shifted, tokens).ones >= d.ones;
      }
    }
    INFO("trial " << trial << ": ones " << d.ones << ", share " << at_least << "/4096");
    CHECK(std::exp(d.ln_p) == Approx(static_cast<double>(at_least) / 4096.0).epsilon(1e-12));
  }
}

TEST_CASE("HF SynthID detection counts the contexts transformers' repetition mask keeps", "[hf_synthid][kat]") {
  std::ifstream in(TRITIUM_FIXTURES_DIR "/kat/torch_cpu_v1.json");
  REQUIRE(in);
  const auto r = nlohmann::json::parse(in)["synthid"]["repetition"];
  const auto tokens = r["tokens"].get<std::vector<token_id>>();
  const auto fresh = r["fresh"].get<std::vector<bool>>();
  hf_synthid_params p;
  p.ngram_len = r["ngram_len"];
  p.keys = {654, 400, 836};
  const hf_synthid scheme(p);
  const auto d = hf_synthid_detect(scheme, tokens);
  CHECK(d.scored == static_cast<std::uint64_t>(std::count(fresh.begin(), fresh.end(), true)));
  hf_synthid_detect_options all;
  all.repetition_mask = false;
  CHECK(hf_synthid_detect(scheme, tokens, all).scored == fresh.size());
  hf_synthid_detect_options eos;
  eos.eos = 8;  // first 8 at index 8: positions 8 onward are not counted
  const auto cut = hf_synthid_detect(scheme, tokens, eos);
  CHECK(cut.scored == static_cast<std::uint64_t>(std::count(fresh.begin(), fresh.begin() + 6, true)));
  hf_synthid_params odd = p;
  odd.sampling_table_size = 1000;
  CHECK_THROWS_WITH(hf_synthid_detect(hf_synthid(odd), tokens), Catch::Contains("power of two"));
}

TEST_CASE("HF SynthID null calibration: exact false-positive rates under random keys", "[hf_synthid][statistics]") {
  // 5,000 documents of 120 tokens, each under its own random keys (m = 5, table 1,024 entries so
  // that the shift law takes milliseconds). The p-value is exact and discrete: the rate at alpha must
  // not exceed alpha beyond the 99.9% interval, and the mean p is about one half.
  std::mt19937_64 rng(20261204);
  std::size_t below_01 = 0, below_001 = 0;
  const std::size_t documents = 5000;
  double null_mean = 0.0;
  for (std::size_t i = 0; i < documents; ++i) {
    const hf_synthid scheme(random_small(rng));
    const auto d = hf_synthid_detect(scheme, skewed_tokens(rng, 500, 120, 2.0));
    below_01 += d.log10_p <= -2.0;
    below_001 += d.log10_p <= -3.0;
    null_mean += d.null_mean;
  }
  const auto [lo1, hi1] = binomial_interval(documents, 0.01);
  const auto [lo2, hi2] = binomial_interval(documents, 0.001);
  INFO("FPR at 0.01: " << below_01 << " (upper " << hi1 << "); at 0.001: " << below_001 << " (upper " << hi2
                       << "); mean null g " << null_mean / documents);
  CHECK(below_01 <= hi1);
  CHECK(below_001 <= hi2);
  CHECK(below_01 >= lo1 / 2);  // discreteness makes it conservative, not vacuous
}

TEST_CASE("Text marked by the HF SynthID processor is detected at 200 tokens", "[hf_synthid]") {
  // Transformers' defaults. A synthetic model: fresh Gaussian logits each step over V = 2,000; the
  // processor reweights, then a softmax draw.
  const hf_synthid scheme(transformers_default());
  std::mt19937_64 rng(8);
  std::normal_distribution<float> normal(0.0f, 2.0f);
  double worst_marked = -1e300, best_plain = 0.0;
  for (int doc = 0; doc < 4; ++doc) {
    for (const bool marked : {true, false}) {
      const std::vector<token_id> text = tritium::test::synthid_text(scheme, marked, 2000, 200, rng, normal);
      const auto d = hf_synthid_detect(scheme, text);
      if (marked) {
        worst_marked = std::max(worst_marked, d.log10_p);
        CHECK(d.mean > d.null_mean);
        CHECK(d.weighted_ln_p_bound < 0.0);
      } else {
        best_plain = std::min(best_plain, d.log10_p);
      }
    }
  }
  INFO("worst marked log10 p " << worst_marked << ", best unmarked " << best_plain);
  CHECK(worst_marked < -6.0);
  CHECK(best_plain > -3.0);
}

TEST_CASE("HF SynthID window scan: each window's p is the exact test of its positions and a passage is found", "[hf_synthid][window]") {
  const hf_synthid scheme(transformers_default());
  std::mt19937_64 rng(9);
  std::normal_distribution<float> normal(0.0f, 2.0f);
  // A 200-token marked passage pasted at token 300 of 700 unmarked ones.
  std::vector<token_id> text = tritium::test::synthid_text(scheme, false, 2000, 300, rng, normal);
  const std::vector<token_id> marked = tritium::test::synthid_text(scheme, true, 2000, 200, rng, normal);
  const std::vector<token_id> tail = tritium::test::synthid_text(scheme, false, 2000, 200, rng, normal);
  text.insert(text.end(), marked.begin(), marked.end());
  text.insert(text.end(), tail.begin(), tail.end());
  const hf_synthid_detection whole = hf_synthid_detect(scheme, text);
  const window_scan_result w = hf_synthid_window_scan(scheme, text, {}, {.min_window = 50});
  INFO("whole log10 p " << whole.log10_p << "; window [" << w.token_begin << ", " << w.token_end << ") log10 p "
                        << w.window_ln_p / std::log(10.0) << ", corrected " << w.ln_p_scan / std::log(10.0));
  // The last window of the grid is the whole text: its p is the detector's own.
  CHECK(w.whole_ln_p == Approx(whole.ln_p).epsilon(1e-12));
  CHECK(w.scored == whole.scored);
  // The best window lies in the passage (give or take the n-gram context at its edges) and its
  // corrected p is far below the whole text's.
  CHECK(w.token_begin >= 296);
  CHECK(w.token_end <= 505);
  CHECK(w.ln_p_scan < whole.ln_p - 5.0 * std::log(10.0));
  // The window's own p is the exact test of its positions: the detector's on the window's tokens with
  // their n-gram context before them (no context repeats in this text, so no position is masked).
  const std::vector<token_id> inside(text.begin() + static_cast<std::ptrdiff_t>(w.token_begin) - 4,
                                     text.begin() + static_cast<std::ptrdiff_t>(w.token_end));
  const hf_synthid_detection alone = hf_synthid_detect(scheme, inside);
  REQUIRE(alone.scored == w.end - w.begin);
  CHECK(alone.ones == w.window_green);
  CHECK(alone.ln_p == Approx(w.window_ln_p).epsilon(1e-12));
}

TEST_CASE("HF SynthID window scan null calibration: the corrected p rejects at most alpha", "[hf_synthid][window][statistics]") {
  // 2,000 documents of 300 tokens, each under its own random keys (m = 5, table 1,024): the weighted
  // Bonferroni bound over exact window p-values must reject at most alpha beyond the 99.9% interval.
  std::mt19937_64 rng(20261205);
  std::size_t below_05 = 0, below_01 = 0;
  const std::size_t documents = 2000;
  for (std::size_t i = 0; i < documents; ++i) {
    const hf_synthid scheme(random_small(rng));
    const window_scan_result w = hf_synthid_window_scan(scheme, skewed_tokens(rng, 500, 300, 2.0), {}, {.min_window = 20});
    below_05 += w.ln_p_scan <= std::log(0.05);
    below_01 += w.ln_p_scan <= std::log(0.01);
  }
  const auto [lo5, hi5] = binomial_interval(documents, 0.05);
  const auto [lo1, hi1] = binomial_interval(documents, 0.01);
  INFO("rejections at 0.05: " << below_05 << " (upper " << hi5 << "); at 0.01: " << below_01 << " (upper " << hi1 << ")");
  CHECK(below_05 <= hi5);
  CHECK(below_01 <= hi1);
}

TEST_CASE("HF SynthID prefix tests equal the detector on each cut text", "[hf_synthid]") {
  const hf_synthid scheme(transformers_default());
  std::mt19937_64 rng(12);
  std::normal_distribution<float> normal(0.0f, 2.0f);
  const std::vector<token_id> text = tritium::test::synthid_text(scheme, true, 2000, 120, rng, normal);
  const std::vector<std::uint64_t> positions = hf_synthid_counted_positions(scheme, text);
  const std::vector<std::uint64_t> counts{1, 7, 40, 41, positions.size()};
  const auto prefixes = hf_synthid_prefix_tests(scheme, text, {}, counts);
  REQUIRE(prefixes.size() == counts.size());
  for (std::size_t i = 0; i < counts.size(); ++i) {
    const auto cut = std::span<const token_id>(text).first(positions[counts[i] - 1] + 1);
    const hf_synthid_detection d = hf_synthid_detect(scheme, cut);
    CHECK(prefixes[i].scored == d.scored);
    CHECK(prefixes[i].ones == d.ones);
    CHECK(prefixes[i].ln_p == d.ln_p);  // the same integer counts: the same law, bit for bit
  }
  CHECK_THROWS_AS(hf_synthid_prefix_tests(scheme, text, {}, std::vector<std::uint64_t>{5, 4}), error);
  CHECK_THROWS_AS(hf_synthid_prefix_tests(scheme, text, {}, std::vector<std::uint64_t>{positions.size() + 1}), error);
}

TEST_CASE("HF SynthID pooled p-value equals the share of all keys that score at least as high over every document", "[hf_synthid]") {
  // Table size 64, two layers, four documents of different lengths (each under its own repetition
  // mask and EOS cut): the pooled count over all 64 x 64 key residues, against the exact null.
  std::mt19937_64 rng(31);
  for (int trial = 0; trial < 3; ++trial) {
    hf_synthid_params p;
    p.ngram_len = 3;
    p.sampling_table_size = 64;
    p.sampling_table_seed = 5 + static_cast<std::uint64_t>(trial);
    p.keys = {static_cast<std::int64_t>(rng() >> 2), static_cast<std::int64_t>(rng() >> 2)};
    const hf_synthid scheme(p);
    hf_synthid_detect_options options;
    options.eos = 24;
    std::vector<std::vector<token_id>> documents;
    for (const std::size_t n : {15u, 30u, 2u, 22u}) documents.push_back(skewed_tokens(rng, 25, n, 2.0));
    hf_synthid_pool pool(scheme, options);
    std::uint64_t scored = 0, ones = 0, tokens = 0;
    for (const auto& document : documents) {
      pool.add(document);
      const hf_synthid_detection alone = hf_synthid_detect(scheme, document, options);
      scored += alone.scored;
      ones += alone.ones;
      tokens += alone.tokens;
    }
    const hf_synthid_detection d = pool.result();
    CHECK((d.scored == scored && d.ones == ones && d.tokens == tokens));
    std::uint64_t at_least = 0;
    for (std::int64_t c0 = 0; c0 < 64; ++c0) {
      for (std::int64_t c1 = 0; c1 < 64; ++c1) {
        hf_synthid_params q = p;
        q.keys = {c0, c1};
        const hf_synthid shifted(q);
        std::uint64_t total = 0;
        for (const auto& document : documents) total += hf_synthid_detect(shifted, document, options).ones;
        at_least += total >= d.ones;
      }
    }
    INFO("trial " << trial << ": ones " << d.ones << ", share " << at_least << "/4096");
    CHECK(std::exp(d.ln_p) == Approx(static_cast<double>(at_least) / 4096.0).epsilon(1e-12));
    // Any order gives the same test, to the last bit.
    hf_synthid_pool reversed(scheme, options);
    for (auto it = documents.rbegin(); it != documents.rend(); ++it) reversed.add(*it);
    const hf_synthid_detection r = reversed.result();
    CHECK((r.ln_p == d.ln_p && r.weighted_mean == d.weighted_mean && r.weighted_ln_p_bound == d.weighted_ln_p_bound &&
           r.ln_p_min == d.ln_p_min));
  }
  // One document pooled is that document's test, every figure equal.
  hf_synthid_params p;
  p.ngram_len = 4;
  p.keys = {654, 400, 836, 123, 585};
  const hf_synthid scheme(p);
  const auto document = skewed_tokens(rng, 2000, 300, 1.5);
  hf_synthid_pool one(scheme, {});
  one.add(document);
  const hf_synthid_detection a = hf_synthid_detect(scheme, document), b = one.result();
  CHECK((a.tokens == b.tokens && a.scored == b.scored && a.ones == b.ones && a.ones_per_layer == b.ones_per_layer &&
         a.mean == b.mean && a.weighted_mean == b.weighted_mean && a.ln_p == b.ln_p && a.ln_p_min == b.ln_p_min &&
         a.weighted_ln_p_bound == b.weighted_ln_p_bound && a.null_mean == b.null_mean && a.detected == b.detected &&
         a.insufficient == b.insufficient));
  // A negative id is refused and leaves the pool as it was; an empty pool is insufficient.
  const std::vector<token_id> bad{1, 2, -3};
  CHECK_THROWS_WITH(one.add(bad), Catch::Contains("token 2: negative id -3"));
  CHECK(one.documents() == 1);
  CHECK(one.result().ln_p == b.ln_p);
  hf_synthid_pool empty(scheme, {});
  CHECK((empty.result().scored == 0 && empty.result().insufficient));
}
