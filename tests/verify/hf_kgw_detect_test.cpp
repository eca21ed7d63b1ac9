// Detection of KGW as transformers and TGI run it: the Hoeffding bound checked against exact
// enumeration, marks against the green lists, the null calibration, and detection of marked text.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <random>
#include <set>
#include <vector>

#include "support/binomial_interval.hpp"
#include "support/skewed_tokens.hpp"
#include "tritium/binomial_tail.hpp"
#include "tritium/hf_kgw.hpp"
#include "tritium/hf_kgw_detect.hpp"
#include "tritium/window_scan.hpp"

using namespace tritium;
using tritium::test::binomial_interval;
using tritium::test::skewed_tokens;

namespace {

/// ln C(n, k).
double ln_choose(std::uint32_t n, std::uint32_t k) {
  return std::lgamma(n + 1.0) - std::lgamma(k + 1.0) - std::lgamma(n - k + 1.0);
}

/// The exact law of a sum of independent Hypergeometric(V, G, k_i) counts, by convolution.
std::vector<double> hypergeometric_sum_pmf(std::uint32_t vocab, std::uint32_t green,
                                           const std::vector<std::uint32_t>& groups) {
  std::vector<double> pmf{1.0};
  for (const std::uint32_t k : groups) {
    std::vector<double> next(pmf.size() + k, 0.0);
    for (std::uint32_t x = 0; x <= k; ++x) {
      if (x > green || k - x > vocab - green) continue;
      const double px = std::exp(ln_choose(green, x) + ln_choose(vocab - green, k - x) - ln_choose(vocab, k));
      for (std::size_t s = 0; s < pmf.size(); ++s) next[s + x] += pmf[s] * px;
    }
    pmf = next;
  }
  return pmf;
}


}  // namespace

TEST_CASE("The binomial bound holds over exact sums of hypergeometric counts", "[hf_kgw]") {
  struct instance {
    std::uint32_t vocab, green;
    std::vector<std::uint32_t> groups;
  };
  const std::vector<instance> instances = {
      {10, 3, {3, 2, 1, 1, 1}}, {7, 2, {4, 2, 2}}, {20, 5, {10, 10}}, {12, 6, {6, 1, 1, 1, 1, 1, 1}},
      {1000, 250, {40, 30, 20, 5, 5, 1, 1, 1}}, {5, 1, {5, 5, 5}}, {50, 37, {25, 3, 3}}};
  for (const auto& [vocab, green, groups] : instances) {
    const auto pmf = hypergeometric_sum_pmf(vocab, green, groups);
    std::uint64_t total = 0;
    for (const auto k : groups) total += k;
    const double gamma = static_cast<double>(green) / vocab;
    double tail = 0.0;
    std::size_t checked = 0;
    for (std::size_t s = pmf.size(); s-- > 0;) {
      tail += pmf[s];
      const double bound_ln = hf_kgw_p_bound_ln(total, s, gamma);
      INFO("V " << vocab << " G " << green << " T " << total << " s " << s);
      CHECK(std::log(tail) <= bound_ln + 1e-9);
      if (static_cast<double>(s) >= static_cast<double>(total) * gamma + 1.0) ++checked;
    }
    CHECK(checked > 0);
  }
}

TEST_CASE("HF KGW detection scores each seed and token pair once with the green list's verdict", "[hf_kgw]") {
  for (const hf_seeding seeding : {hf_seeding::lefthash, hf_seeding::selfhash}) {
    hf_kgw_params p;
    p.vocab_size = 1000;
    p.greenlist_ratio = 0.3;
    p.seeding = seeding;
    p.context_width = seeding == hf_seeding::selfhash ? 2 : 1;
    p.hashing_key = 987654321;
    const hf_kgw scheme(p);
    std::mt19937_64 rng(17);
    auto tokens = skewed_tokens(rng, p.vocab_size, 3000, 3.0);
    hf_kgw_detect_options options;
    options.want_marks = true;
    const detection d = hf_kgw_detect(scheme, tokens, options);
    // Reference: every n-gram's green list materialised, duplicates by (seed, token) in text order.
    std::vector<std::int32_t> scratch(p.vocab_size), green(scheme.greenlist_size());
    std::set<std::pair<std::uint32_t, token_id>> seen;
    std::uint64_t scored = 0, greens = 0;
    const std::size_t n = 2;  // lefthash: 1 + 1; selfhash with width 2: 2 + 1 − 1
    for (std::size_t t = 0; t < tokens.size(); ++t) {
      if (t + 1 < n) {
        CHECK(d.marks[t] == token_mark::no_context);
        continue;
      }
      const auto window = seeding == hf_seeding::selfhash ? std::span<const token_id>(tokens).subspan(t - 1, 2)
                                                          : std::span<const token_id>(tokens).subspan(t - 1, 1);
      const std::uint32_t s32 = hf_kgw::seed32(scheme.seed(window));
      if (!seen.insert({s32, tokens[t]}).second) {
        CHECK(d.marks[t] == token_mark::duplicate);
        continue;
      }
      scheme.green_list(s32, scratch, green);
      const bool is_green = std::find(green.begin(), green.end(), tokens[t]) != green.end();
      CHECK(d.marks[t] == (is_green ? token_mark::green : token_mark::red));
      ++scored;
      greens += is_green;
    }
    CHECK(d.scored == scored);
    CHECK(d.green == greens);
    CHECK(d.p_is_bound);
    CHECK(d.gamma == Approx(300.0 / 1000.0));
  }
}

TEST_CASE("HF KGW detection strips a leading BOS and refuses ids outside the vocabulary", "[hf_kgw]") {
  hf_kgw_params p;
  p.vocab_size = 100;
  const hf_kgw scheme(p);
  const std::vector<token_id> with_bos{99, 5, 6, 7, 8};
  const std::vector<token_id> without{5, 6, 7, 8};
  hf_kgw_detect_options options;
  options.bos = 99;
  const detection a = hf_kgw_detect(scheme, with_bos, options);
  const detection b = hf_kgw_detect(scheme, without);
  CHECK(a.tokens == 4);
  CHECK(a.scored == b.scored);
  CHECK(a.green == b.green);
  const std::vector<token_id> bad{1, 2, 100};
  CHECK_THROWS_WITH(hf_kgw_detect(scheme, bad), Catch::Contains("token 2: id 100"));
}

TEST_CASE("HF KGW null calibration: false-positive rates stay within alpha on text independent of the key",
          "[hf_kgw][statistics]") {
  // 5 hashing keys x 800 documents of 300 skewed tokens (repeats occur, deduplication acts), for
  // lefthash and selfhash with context width 2. The p-value is a bound: its false-positive rate must
  // not exceed alpha beyond the 99.9% binomial interval.
  for (const hf_seeding seeding : {hf_seeding::lefthash, hf_seeding::selfhash}) {
    std::mt19937_64 rng(20261204);
    std::size_t below_01 = 0, below_001 = 0, tests = 0;
    for (int k = 0; k < 5; ++k) {
      hf_kgw_params p;
      p.vocab_size = 1000;  // small, so that the documents take seconds (a generator per distinct seed)
      p.greenlist_ratio = 0.25;
      p.seeding = seeding;
      p.context_width = seeding == hf_seeding::selfhash ? 2 : 1;
      p.hashing_key = rng() >> 1;
      const hf_kgw scheme(p);
      for (int doc = 0; doc < 800; ++doc) {
        const auto tokens = skewed_tokens(rng, p.vocab_size, 300, 3.0);
        const detection d = hf_kgw_detect(scheme, tokens);
        below_01 += d.p_value <= 0.01;
        below_001 += d.p_value <= 0.001;
        ++tests;
      }
    }
    const auto [lo1, hi1] = binomial_interval(tests, 0.01);
    const auto [lo2, hi2] = binomial_interval(tests, 0.001);
    INFO((seeding == hf_seeding::selfhash ? "selfhash" : "lefthash")
         << ": FPR at 0.01: " << below_01 << " of " << tests << " (upper " << hi1 << "); at 0.001: "
         << below_001 << " (upper " << hi2 << ")");
    CHECK(below_01 <= hi1);
    CHECK(below_001 <= hi2);
    // A bound, but not a vacuous one: the rate at 0.01 stays above a quarter of alpha.
    CHECK(below_01 >= lo1 / 4);
  }
}

TEST_CASE("Text marked by the HF KGW processor is detected at 200 tokens", "[hf_kgw]") {
  // A synthetic model: fresh Gaussian logits each step (about 6 nats of entropy over V = 5,000);
  // the processor biases them, then a plain softmax draw. Fixed seeds: the outcome is deterministic.
  for (const hf_seeding seeding : {hf_seeding::lefthash, hf_seeding::selfhash}) {
    hf_kgw_params p;
    p.vocab_size = 5000;
    p.seeding = seeding;
    p.context_width = seeding == hf_seeding::selfhash ? 2 : 1;
    const hf_kgw scheme(p);
    std::mt19937_64 rng(99);
    std::normal_distribution<float> normal(0.0f, 2.0f);
    std::vector<std::int32_t> scratch(p.vocab_size);
    std::vector<float> logits(p.vocab_size);
    std::vector<double> weights(p.vocab_size);
    double worst = -std::numeric_limits<double>::infinity();
    for (int doc = 0; doc < 10; ++doc) {
      std::vector<token_id> text{static_cast<token_id>(rng() % p.vocab_size), static_cast<token_id>(rng() % p.vocab_size)};
      while (text.size() < 202) {
        for (auto& l : logits) l = normal(rng);
        REQUIRE(scheme.bias_dense(text, logits, scratch));
        const float top = *std::max_element(logits.begin(), logits.end());
        for (std::size_t v = 0; v < logits.size(); ++v) weights[v] = std::exp(static_cast<double>(logits[v] - top));
        std::discrete_distribution<int> draw(weights.begin(), weights.end());
        text.push_back(draw(rng));
      }
      const detection d = hf_kgw_detect(scheme, std::span<const token_id>(text).subspan(2));
      worst = std::max(worst, d.log10_p);
      CHECK(d.detected);
    }
    INFO("worst log10 p " << worst);
    CHECK(worst < -3.0);
  }
}

TEST_CASE("Green lists kept across documents never change a result", "[hf_kgw]") {
  // Zipf-like documents over V = 3,000 (seeds recur within and across documents), both seedings, and
  // a cache of 40 lists: draws, hits and evictions all happen.
  for (const hf_seeding seeding : {hf_seeding::lefthash, hf_seeding::selfhash}) {
    hf_kgw_params p;
    p.vocab_size = 3000;
    p.seeding = seeding;
    p.context_width = seeding == hf_seeding::selfhash ? 2 : 1;
    const hf_kgw scheme(p);
    hf_kgw_green_cache cache(scheme, 40 * ((3000 + 63) / 64) * sizeof(std::uint64_t));
    REQUIRE(cache.capacity() == 40);
    std::mt19937_64 rng(17);
    std::vector<double> weights(p.vocab_size);
    for (std::size_t v = 0; v < weights.size(); ++v) weights[v] = 1.0 / (1.0 + static_cast<double>(v));
    std::discrete_distribution<int> zipf(weights.begin(), weights.end());
    bool same = true;
    for (int doc = 0; doc < 30; ++doc) {
      std::vector<token_id> text(300);
      for (auto& t : text) t = zipf(rng);
      hf_kgw_detect_options with;
      with.cache = &cache;
      with.want_marks = true;
      hf_kgw_detect_options without;
      without.want_marks = true;
      const detection a = hf_kgw_detect(scheme, text, with), b = hf_kgw_detect(scheme, text, without);
      same = same && a.scored == b.scored && a.green == b.green && a.ln_p == b.ln_p && a.marks == b.marks;
    }
    CHECK(same);
    INFO("draws " << cache.draws() << ", hits " << cache.hits());
    CHECK(cache.draws() > 40);  // evictions happened
    CHECK(cache.hits() > 10);  // and lists were used again
  }
}

TEST_CASE("HF KGW window scan: windows take the Hoeffding bound and a passage is found", "[hf_kgw][window]") {
  // Lefthash, V = 5,000: a 200-token passage biased by the processor inside 1,400 tokens drawn
  // independently of the key.
  hf_kgw_params p;
  p.vocab_size = 5000;
  const hf_kgw scheme(p);
  std::mt19937_64 rng(41);
  std::normal_distribution<float> normal(0.0f, 2.0f);
  std::vector<std::int32_t> scratch(p.vocab_size);
  std::vector<float> logits(p.vocab_size);
  std::vector<double> weights(p.vocab_size);
  std::vector<token_id> text;
  for (int i = 0; i < 1600; ++i) {
    for (auto& l : logits) l = normal(rng);
    if (i >= 800 && i < 1000) REQUIRE(scheme.bias_dense(text, logits, scratch));
    const float top = *std::max_element(logits.begin(), logits.end());
    for (std::size_t v = 0; v < logits.size(); ++v) weights[v] = std::exp(static_cast<double>(logits[v] - top));
    std::discrete_distribution<int> draw(weights.begin(), weights.end());
    text.push_back(draw(rng));
  }
  hf_kgw_detect_options o;
  o.want_marks = true;
  const detection d = hf_kgw_detect(scheme, text, o);
  REQUIRE(d.p_is_bound);
  const window_scan_result w = window_scan(d, {.min_window = 50});
  INFO("whole log10 p " << d.log10_p << "; window [" << w.token_begin << ", " << w.token_end << ") corrected "
                        << w.ln_p_scan / std::log(10.0));
  // The whole text's window is the detector's own bound.
  CHECK(w.whole_ln_p == Approx(d.ln_p).epsilon(1e-12));
  CHECK(w.token_begin >= 790);
  CHECK(w.token_end <= 1010);
  CHECK(w.ln_p_scan < d.ln_p - 5.0 * std::log(10.0));
  CHECK(w.window_ln_p == Approx(hf_kgw_p_bound_ln(w.end - w.begin, w.window_green, d.gamma)).epsilon(1e-12));
  // Below w·gamma + 1 green tuples Hoeffding's inequality is not proven: a window there reads p = 1,
  // never the binomial tail (about 0.5 here). One green tuple in four, every window at its mean.
  detection flat;
  flat.tokens = 400;
  flat.gamma = 0.25;
  flat.p_is_bound = true;
  for (std::size_t i = 0; i < flat.tokens; ++i) flat.marks.push_back(i % 4 == 0 ? token_mark::green : token_mark::red);
  const window_scan_result v = window_scan(flat, {.min_window = 20});
  CHECK(v.window_ln_p == 0.0);
  CHECK(v.ln_p_scan == 0.0);
  CHECK(v.whole_ln_p == 0.0);
  // The same marks without the bound take the binomial tail, below 1.
  flat.p_is_bound = false;
  CHECK(window_scan(flat, {.min_window = 20}).window_ln_p < -0.1);
}

TEST_CASE("HF KGW pooled test scores each seed and token pair of all documents once", "[hf_kgw]") {
  for (const hf_seeding seeding : {hf_seeding::lefthash, hf_seeding::selfhash}) {
    hf_kgw_params p;
    p.vocab_size = 1000;
    p.greenlist_ratio = 0.3;
    p.seeding = seeding;
    p.context_width = seeding == hf_seeding::selfhash ? 2 : 1;
    p.hashing_key = 987654321;
    const hf_kgw scheme(p);
    std::mt19937_64 rng(29);
    // Documents of 1 to 60 tokens sharing a skewed vocabulary, so tuples recur across them; one repeated
    // whole; each opening with the BOS 7 half of the time.
    std::vector<std::vector<token_id>> documents;
    for (int i = 0; i < 40; ++i) {
      auto tokens = skewed_tokens(rng, p.vocab_size, 1 + rng() % 60, 3.0);
      if (i % 2 == 0) tokens.insert(tokens.begin(), 7);
      documents.push_back(tokens);
    }
    documents.push_back(documents[3]);
    hf_kgw_detect_options options;
    options.bos = 7;
    // Reference: every document's tuples after its BOS, in one set, each with its green list's verdict.
    std::vector<std::int32_t> scratch(p.vocab_size), green(scheme.greenlist_size());
    std::set<std::pair<std::uint32_t, token_id>> seen;
    std::uint64_t greens = 0, tokens_after_bos = 0;
    for (const auto& document : documents) {
      std::span<const token_id> tokens(document);
      if (!tokens.empty() && tokens.front() == 7) tokens = tokens.subspan(1);
      tokens_after_bos += tokens.size();
      for (std::size_t t = 1; t < tokens.size(); ++t) {
        const auto window = seeding == hf_seeding::selfhash ? tokens.subspan(t - 1, 2) : tokens.subspan(t - 1, 1);
        const std::uint32_t s32 = hf_kgw::seed32(scheme.seed(window));
        if (!seen.insert({s32, tokens[t]}).second) continue;
        scheme.green_list(s32, scratch, green);
        greens += std::find(green.begin(), green.end(), tokens[t]) != green.end();
      }
    }
    hf_kgw_pool pool(scheme, options);
    for (const auto& document : documents) pool.add(document);
    const detection d = pool.result();
    CHECK(pool.documents() == documents.size());
    CHECK(d.tokens == tokens_after_bos);
    CHECK(d.scored == seen.size());
    CHECK(d.green == greens);
    CHECK(d.p_is_bound);
    CHECK(d.ln_p == hf_kgw_p_bound_ln(d.scored, d.green, d.gamma));
    // Any order gives the same test; one document alone is that document's test.
    hf_kgw_pool reversed(scheme, options);
    for (auto it = documents.rbegin(); it != documents.rend(); ++it) reversed.add(*it);
    const detection r = reversed.result();
    CHECK((r.scored == d.scored && r.green == d.green && r.ln_p == d.ln_p && r.tokens == d.tokens));
    hf_kgw_pool one(scheme, options);
    one.add(documents[0]);
    const detection alone = hf_kgw_detect(scheme, documents[0], options), pooled_one = one.result();
    CHECK((pooled_one.scored == alone.scored && pooled_one.green == alone.green && pooled_one.ln_p == alone.ln_p &&
           pooled_one.tokens == alone.tokens && pooled_one.detected == alone.detected &&
           pooled_one.insufficient == alone.insufficient));
    // A bad id is refused by its index, and the pool is left as it was.
    const std::vector<token_id> bad{1, 2, 1000};
    CHECK_THROWS_WITH(one.add(bad), Catch::Contains("token 2: id 1000"));
    CHECK(one.documents() == 1);
    CHECK(one.result().scored == alone.scored);
  }
  hf_kgw_params p;
  p.vocab_size = 1000;
  hf_kgw_detect_options marks;
  marks.want_marks = true;
  CHECK_THROWS_WITH(hf_kgw_pool(hf_kgw(p), marks), Catch::Contains("no per-token marks"));
  hf_kgw_green_cache cache(hf_kgw(p), std::size_t{1} << 20);
  hf_kgw_detect_options cached;
  cached.cache = &cache;
  CHECK_THROWS_WITH(hf_kgw_pool(hf_kgw(p), cached), Catch::Contains("would never be read"));
  // No document, or none long enough for a tuple: nothing scored, insufficient.
  const hf_kgw scheme(p);
  hf_kgw_pool empty(scheme, {});
  const std::vector<token_id> single{5};
  empty.add(single);
  const detection e = empty.result();
  CHECK((e.scored == 0 && e.insufficient && !e.detected));
}
