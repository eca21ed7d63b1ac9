#include <catch2/catch.hpp>
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <memory>
#include <numbers>
#include <random>
#include <set>
#include <string>
#include <unistd.h>
#include <vector>

#include "tritium/binomial_tail.hpp"
#include "tritium/error.hpp"
#include "tritium/kgw_stream.hpp"
#include "tritium/ngram_lm.hpp"
#include "tritium/radioactivity.hpp"
#include "tritium/radioactivity_scan.hpp"
#include "tritium/synthetic_lm.hpp"
#include "tritium/tuple_set.hpp"
#include "tritium/uniformity.hpp"

using namespace tritium;

namespace {

constexpr std::uint32_t vocab = 4096;

key seeded_key(std::uint64_t seed, std::uint32_t h = 1) {
  std::mt19937_64 rng(seed);
  std::array<std::uint8_t, key::secret_size> secret{};
  for (auto& b : secret) b = static_cast<std::uint8_t>(rng());
  kgw_params p;
  p.set_gamma(0.25);
  p.delta = 3.0;
  p.context_width = h;
  p.vocab_size = vocab;
  return key::from_secret(secret, p);
}

// `count` tokens from the synthetic model, watermarked with `k` when given.
std::vector<token_id> generate(const synthetic_lm& lm, const key* k, token_id start, std::size_t count,
                               std::uint64_t seed) {
  std::vector<float> logits(lm.vocab_size());
  std::vector<token_id> out;
  sampling_rng rng(seed);
  sampling_scratch scratch;
  std::unique_ptr<kgw_stream> stream;
  if (k != nullptr) {
    stream_options o;
    o.seed = seed;
    stream = std::make_unique<kgw_stream>(std::make_shared<const kgw>(*k), o);
    const token_id prompt[1] = {start};
    stream->begin(prompt);
  }
  token_id previous = start;
  for (std::size_t i = 0; i < count; ++i) {
    lm.logits(previous, logits);
    previous = stream ? stream->sample(logits) : kgw::sample_plain(logits, rng, scratch);
    if (stream) stream->accept(previous);
    out.push_back(previous);
  }
  return out;
}

// Randomised p-value P(S > s) + U·P(S = s): exactly uniform under H0 (the binomial is discrete).
double randomised(const detection& d, double u) {
  const double upper = d.green + 1 <= d.scored ? std::exp(binomial_upper_tail_ln(d.scored, d.green + 1, d.gamma)) : 0.0;
  return std::min(1.0, upper + u * std::exp(binomial_log_pmf(d.scored, d.green, d.gamma)));
}

}  // namespace

TEST_CASE("Closed mode: a suspect that copies our watermarked prompts is not radioactive once prompt "
          "windows are excluded (without exclusion the p-values collapse)",
          "[radioactivity][statistics]") {
  // 100 independent experiments, each with its own key: we send 10 watermarked prompts of 60 tokens;
  // the suspect, trained on nothing of ours, echoes each prompt and continues with its own text.
  const synthetic_lm lm(vocab, 3, 1.2);
  std::mt19937_64 rng(99);
  std::uniform_real_distribution<double> unif(0.0, 1.0);
  std::vector<double> with_exclusion, without_exclusion;
  for (int e = 0; e < 100; ++e) {
    const key k = seeded_key(1000 + static_cast<std::uint64_t>(e));
    radioactivity_options o;
    o.curve_points = 0;
    radioactivity_scorer excluded(k, o), naive(k, o);
    for (int q = 0; q < 10; ++q) {
      const auto prompt = generate(lm, &k, static_cast<token_id>(e * 10 + q), 60, rng());
      std::vector<token_id> answer = prompt;  // the parrot
      const auto own = generate(lm, nullptr, prompt.back(), 140, rng());
      answer.insert(answer.end(), own.begin(), own.end());
      excluded.exclude_windows(prompt);
      excluded.score_text(answer);
      naive.score_text(answer);
    }
    with_exclusion.push_back(randomised(excluded.result().test, unif(rng)));
    without_exclusion.push_back(naive.result().test.p_value);
  }
  const ks_result ks = ks_uniform(with_exclusion);
  INFO("KS with exclusion: D = " << ks.statistic << ", p = " << ks.p_value);
  // Under H0 the KS p-value is itself uniform: a correct scorer fails this for 0.1% of seeds.
  CHECK(ks.p_value > 0.001);
  std::size_t collapsed = 0;
  for (double p : without_exclusion) collapsed += p < 1e-6;
  INFO("without exclusion: " << collapsed << " of 100 below 1e-6");
  CHECK(collapsed >= 90);
}

TEST_CASE("Control keys give uniform p-values on a radioactive corpus and the real key does not",
          "[radioactivity][statistics]") {
  const synthetic_lm lm(vocab, 5, 1.2);
  const key k = seeded_key(7);
  // A corpus that is our own watermarked output: maximally radioactive for k.
  std::vector<std::vector<token_id>> corpus;
  for (int d = 0; d < 40; ++d) corpus.push_back(generate(lm, &k, static_cast<token_id>(d), 200, 500 + static_cast<std::uint64_t>(d)));
  const auto controls = control_keys(k, 100);
  REQUIRE(controls.size() == 100);
  CHECK(controls[0].id() != k.id());
  CHECK(controls[0].id() != controls[1].id());
  CHECK(control_keys(k, 1)[0].id() == controls[0].id());  // reproducible from k
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> unif(0.0, 1.0);
  std::vector<double> ps;
  for (const key& c : controls) {
    radioactivity_scorer s(c);
    for (const auto& d : corpus) s.score_text(d);
    ps.push_back(randomised(s.result().test, unif(rng)));
  }
  const ks_result ks = ks_uniform(ps);
  INFO("control keys KS D = " << ks.statistic << ", p = " << ks.p_value);
  // Under H0 the KS p-value is itself uniform: a correct scorer fails this for 0.1% of seeds.
  CHECK(ks.p_value > 0.001);
  radioactivity_scorer real(k);
  for (const auto& d : corpus) real.score_text(d);
  CHECK(real.result().test.log10_p < -50);

  // Controls scored through the real key's scorer (one shared tape) give exactly the same counts as
  // scorers of their own, with prompt exclusion and duplicates in play.
  radioactivity_scorer shared(k);
  shared.add_control_keys(controls);
  std::vector<std::unique_ptr<radioactivity_scorer>> separate;
  for (const key& c : controls) separate.push_back(std::make_unique<radioactivity_scorer>(c));
  for (std::size_t d = 0; d < corpus.size(); ++d) {
    const auto& prompt = corpus[(d + 7) % corpus.size()];
    shared.exclude_windows(prompt);
    shared.score_text(corpus[d]);
    shared.score_text(corpus[d]);  // every tuple a duplicate the second time
    for (auto& s : separate) {
      s->exclude_windows(prompt);
      s->score_text(corpus[d]);
      s->score_text(corpus[d]);
    }
  }
  const auto together = shared.control_results();
  REQUIRE(together.size() == controls.size());
  for (std::size_t i = 0; i < controls.size(); ++i) {
    const auto alone = separate[i]->result().test;
    REQUIRE(together[i].scored == alone.scored);
    REQUIRE(together[i].green == alone.green);
    REQUIRE(together[i].log10_p == alone.log10_p);
  }
  CHECK(together[0].scored == shared.result().test.scored);
}

TEST_CASE("Reading mode: a student distilled from watermarked text predicts green tokens", "[radioactivity]") {
  // Teacher: the synthetic model with the watermark; students: 3-gram models trained on the teacher's
  // watermarked outputs, or on its unwatermarked outputs. Reading: our own fresh watermarked texts are
  // fed through each student, whose top-1 predictions are scored with the input's windows.
  const synthetic_lm lm(vocab, 11, 1.2);
  const key k = seeded_key(31);
  const auto dir = std::filesystem::temp_directory_path();
  auto train = [&](const key* watermark, const std::string& name) {
    ngram_trainer t(3, vocab);
    for (int d = 0; d < 150; ++d) t.add(generate(lm, watermark, static_cast<token_id>(d), 300, 9000 + static_cast<std::uint64_t>(d)));
    const auto path = dir / (name + std::to_string(::getpid()) + ".tlm");
    {
      std::ofstream file(path, std::ios::binary);
      t.write(file, "");
    }
    auto m = std::make_unique<ngram_lm>(ngram_lm::load(path));
    std::filesystem::remove(path);
    return m;
  };
  const auto distilled = train(&k, "tritium-distilled-");
  const auto clean = train(nullptr, "tritium-clean-");
  // Beside the scorer, the same test written out plainly: each distinct (window, prediction) tuple
  // once, green by kgw::is_green, the exact binomial tail.
  const kgw scheme(k);
  struct plain_test {
    std::uint64_t scored = 0, green = 0;
  };
  auto read = [&](const ngram_lm& student, plain_test& plain) {
    radioactivity_scorer s(k);
    std::set<std::vector<token_id>> tape;
    std::vector<double> probs(vocab);
    for (int d = 0; d < 30; ++d) {
      const auto input = generate(lm, &k, static_cast<token_id>(3000 + d), 200, 70000 + static_cast<std::uint64_t>(d));
      std::vector<token_id> predictions(input.size());
      for (std::size_t i = 0; i < input.size(); ++i) {
        student.distribution(std::span<const token_id>(input).first(i + 1), probs);
        predictions[i] = static_cast<token_id>(std::max_element(probs.begin(), probs.end()) - probs.begin());
        const std::size_t h = k.params().context_width;
        if (i + 1 < h) continue;
        std::vector<token_id> tuple(input.begin() + static_cast<std::ptrdiff_t>(i + 1 - h),
                                    input.begin() + static_cast<std::ptrdiff_t>(i + 1));
        const bool green = scheme.is_green(tuple, predictions[i]);
        tuple.push_back(predictions[i]);
        if (tape.insert(tuple).second) {
          ++plain.scored;
          plain.green += green;
        }
      }
      s.score_predictions(input, predictions);
    }
    return s.result();
  };
  plain_test hot_plain, cold_plain;
  const auto hot = read(*distilled, hot_plain);
  const auto cold = read(*clean, cold_plain);
  INFO("distilled: " << hot.test.green << "/" << hot.test.scored << " log10 p " << hot.test.log10_p
                     << "; clean: " << cold.test.green << "/" << cold.test.scored << " log10 p " << cold.test.log10_p);
  // Every figure equals the plain recomputation, so no weaker effect can hide behind a loose bound.
  CHECK(hot.test.scored == hot_plain.scored);
  CHECK(hot.test.green == hot_plain.green);
  CHECK(hot.test.ln_p == Approx(binomial_upper_tail_ln(hot_plain.scored, hot_plain.green, 0.25)).epsilon(1e-12));
  CHECK(cold.test.scored == cold_plain.scored);
  CHECK(cold.test.green == cold_plain.green);
  // The distilled student is detected at the default decision threshold; the clean one, for which
  // H0 holds, passes it except with probability 1e-3.
  CHECK(hot.test.detected);
  CHECK(hot.test.log10_p <= std::log10(default_alpha));
  CHECK(cold.test.log10_p > std::log10(default_alpha));
  CHECK(hot.counts.duplicates > 0);  // the tape acts: many windows repeat across the inputs
}

TEST_CASE("The power planner plans for the median outcome and carries the pilot's uncertainty",
          "[radioactivity][statistics]") {
  // Tuples are green with probability 0.27 against γ = 0.25 (the size of the effect in Sander et
  // al.'s 5% run); the target is log10 p <= -8.
  const double gamma = 0.25, share = 0.27, target = -8.0;
  // 1. With the share known exactly, the plan n is where the expected green count reaches the
  // target, so a fresh run of n tuples reaches it with probability pi(n) = P(Bin(n, share) >= k(n)),
  // k(n) the smallest count with P(Bin(n, γ) >= k) <= 1e-8. By construction k(n) <= floor(share n),
  // a binomial's median is floor or ceil of its mean, so pi(n) >= 1/2; one tuple fewer is short of
  // it, so pi(n - 1) <= 1/2 + the largest point mass, 1 / sqrt(2 pi n share (1 - share)).
  const std::uint64_t n = plan_scored_tuples(1000000, 270000, gamma, target);
  REQUIRE(n > 0);
  auto reach_probability = [&](std::uint64_t m) {
    std::uint64_t k = 0;
    while (binomial_upper_tail_ln(m, k, gamma) / std::log(10.0) > target) ++k;
    return std::exp(binomial_upper_tail_ln(m, k, share));
  };
  const double pi_n = reach_probability(n);
  const double mass = 1.0 / std::sqrt(2 * std::numbers::pi * static_cast<double>(n) * share * (1 - share));
  INFO("planned " << n << ": P(reach) " << pi_n << ", one fewer " << reach_probability(n - 1));
  CHECK(pi_n >= 0.5);
  CHECK(reach_probability(n - 1) <= 0.5 + mass);

  // 2. Simulated fresh runs of n tuples reach the target as often as pi(n) says: the count lies in
  // the 99.9% interval of Bin(runs, pi(n)).
  std::mt19937_64 rng(2024);
  std::bernoulli_distribution green(share);
  const std::uint64_t runs = 1000;
  std::uint64_t reached = 0;
  for (std::uint64_t r = 0; r < runs; ++r) {
    std::uint64_t s = 0;
    for (std::uint64_t i = 0; i < n; ++i) s += green(rng);
    reached += binomial_upper_tail_ln(n, s, gamma) / std::log(10.0) <= target;
  }
  std::uint64_t lo = 0, hi = 0;
  while (std::exp(binomial_upper_tail_ln(runs, lo + 1, pi_n)) > 1 - 0.0005) ++lo;
  hi = lo;
  while (std::exp(binomial_upper_tail_ln(runs, hi + 1, pi_n)) > 0.0005) ++hi;
  INFO("reached in " << reached << " of " << runs << " runs, 99.9% interval [" << lo << ", " << hi << "]");
  CHECK(reached >= lo);
  CHECK(reached <= hi);

  // 3. From a pilot of 100,000 tuples the plan is only as good as the pilot's share: the plan lies
  // between the plans at the ends of the pilot count's 99.9% interval (the plan falls as the share
  // rises), which span about -35% to +60% of n.
  std::uint64_t pilot = 0;
  for (int i = 0; i < 100000; ++i) pilot += green(rng);
  const double sd = std::sqrt(100000 * share * (1 - share));
  const auto low_count = static_cast<std::uint64_t>(100000 * share - 3.3 * sd);
  const auto high_count = static_cast<std::uint64_t>(100000 * share + 3.3 * sd);
  const std::uint64_t planned = plan_scored_tuples(100000, pilot, gamma, target);
  INFO("pilot " << pilot << ": planned " << planned << " in ["
                << plan_scored_tuples(100000, high_count, gamma, target) << ", "
                << plan_scored_tuples(100000, low_count, gamma, target) << "]");
  CHECK(planned >= plan_scored_tuples(100000, high_count, gamma, target));
  CHECK(planned <= plan_scored_tuples(100000, low_count, gamma, target));
  CHECK(plan_scored_tuples(20000, 5000, gamma, target) == 0);  // no lift, no plan
}

TEST_CASE("The plan with an interval repeats the plan at the ends of the pilot share's Wilson interval",
          "[radioactivity][statistics]") {
  const double gamma = 0.2, target = -6.0;
  // 81 green of 263: Newcombe (1998, Stat. Med. 17:857, Table I, method 3) gives the 95% Wilson
  // interval 0.2553 to 0.3662.
  const scored_plan p = plan_with_interval(263, 81, gamma, target);
  REQUIRE(p.has_interval);
  CHECK(p.share_low == Approx(0.2553).margin(5e-5));
  CHECK(p.share_high == Approx(0.3662).margin(5e-5));
  CHECK(p.scored_needed == plan_scored_tuples(263, 81, gamma, target));
  // The ends as green counts of the pilot: floor(0.25529 * 263) = floor(67.14) = 67 and
  // floor(0.36621 * 263) = floor(96.31) = 96; the higher share needs fewer tuples.
  CHECK(p.scored_needed_optimistic == plan_scored_tuples(263, 96, gamma, target));
  CHECK(p.scored_needed_pessimistic == plan_scored_tuples(263, 67, gamma, target));
  CHECK(p.scored_needed_optimistic > 0);
  CHECK(p.scored_needed_optimistic < p.scored_needed);
  CHECK(p.scored_needed < p.scored_needed_pessimistic);
  // With gamma 0.26 the lower end (67/263 = 0.2548) shows no lift: "never" at that end only.
  const scored_plan reaches_gamma = plan_with_interval(263, 81, 0.26, target);
  CHECK(reaches_gamma.scored_needed > 0);
  CHECK(reaches_gamma.scored_needed_optimistic > 0);
  CHECK(reaches_gamma.scored_needed_pessimistic == 0);
  // At the edges the Wilson interval has a closed form: 0 of n gives [0, z^2 / (n + z^2)] and n of n
  // gives [n / (n + z^2)], 1]; for n = 20, z^2 / (n + z^2) = 3.841459 / 23.841459 = 0.161125 (Newcombe: 0.1611).
  const double z2 = 1.959963984540054 * 1.959963984540054;
  const scored_plan none = plan_with_interval(20, 0, gamma, target);
  CHECK(none.share_low == Approx(0.0).margin(1e-12));
  CHECK(none.share_high == Approx(z2 / (20 + z2)).epsilon(1e-12));
  CHECK(none.share_high == Approx(0.161125).margin(1e-6));
  CHECK(none.scored_needed == 0);
  const scored_plan all = plan_with_interval(20, 20, gamma, target);
  CHECK(all.share_low == Approx(20 / (20 + z2)).epsilon(1e-12));
  CHECK(all.share_high == Approx(1.0).epsilon(1e-12));
  // No pilot, no interval; more green than scored is refused.
  const scored_plan empty = plan_with_interval(0, 0, gamma, target);
  CHECK_FALSE(empty.has_interval);
  CHECK(empty.scored_needed == 0);
  CHECK_THROWS_WITH(plan_with_interval(10, 11, gamma, target),
                    "pilot: expected a green count at most the scored count 10, got 11");
}

TEST_CASE("A window filter keeps the most frequent windows with ties broken by fingerprint",
          "[radioactivity]") {
  const key k = seeded_key(1, 2);
  const auto stem = std::filesystem::temp_directory_path() / ("tritium-filter-test-" + std::to_string(::getpid()));
  const std::string a = stem.string() + "-a.jsonl", b = stem.string() + "-b.jsonl", bad = stem.string() + "-bad.jsonl";
  struct cleanup {
    std::vector<std::string> paths;
    ~cleanup() {
      for (const auto& p : paths) std::filesystem::remove(p);
    }
  } files{{a, b, bad}};
  // Windows of h = 2 tokens: {1 2 3 1 2} gives (1 2) (2 3) (3 1) (1 2); {2 3 9} gives (2 3) (3 9);
  // {5} none; and the second file's {1 2} gives (1 2). Counts: (1 2) 3, (2 3) 2, (3 1) 1, (3 9) 1.
  std::ofstream(a) << "{\"tokens\": [1, 2, 3, 1, 2]}\n\n{\"tokens\": [2, 3, 9]}\n{\"tokens\": [5]}\n";
  std::ofstream(b) << "{\"tokens\": [1, 2]}\n";
  std::ofstream(bad) << "{\"tokens\": [1, 2]}\n{\"x\": 1}\n";
  const std::vector<std::string> inputs = {a, b};
  auto fp = [](token_id x, token_id y) {
    const token_id w[2] = {x, y};
    return window_fingerprint(w);
  };
  auto windows_of = [](const built_window_filter& f) {
    std::vector<std::uint64_t> v(f.filter.windows.fingerprints().begin(), f.filter.windows.fingerprints().end());
    std::sort(v.begin(), v.end());
    return v;
  };
  auto sorted = [](std::vector<std::uint64_t> v) {
    std::sort(v.begin(), v.end());
    return v;
  };
  const built_window_filter all = build_window_filter(k, inputs, nullptr, 0);
  CHECK(all.distinct_windows == 4);
  CHECK(windows_of(all) == sorted({fp(1, 2), fp(2, 3), fp(3, 1), fp(3, 9)}));
  CHECK(all.filter.key_id == k.id());
  CHECK(all.filter.context_width == 2);
  CHECK(all.filter.tokenizer_digest == k.params().tokenizer_digest);
  CHECK(windows_of(build_window_filter(k, inputs, nullptr, 10)) == windows_of(all));
  const built_window_filter top2 = build_window_filter(k, inputs, nullptr, 2);
  CHECK(top2.distinct_windows == 4);
  CHECK(windows_of(top2) == sorted({fp(1, 2), fp(2, 3)}));
  // (3 1) and (3 9) tie at one occurrence: the smaller fingerprint is kept.
  const built_window_filter top3 = build_window_filter(k, inputs, nullptr, 3);
  CHECK(windows_of(top3) == sorted({fp(1, 2), fp(2, 3), std::min(fp(3, 1), fp(3, 9))}));
  // A record with neither field names its file and line; text needs a tokenizer.
  CHECK_THROWS_WITH(build_window_filter(k, {bad}, nullptr, 0), bad + ":2: expected \"tokens\" or \"text\"");
  std::ofstream(bad) << "{\"text\": \"hello\"}\n";
  CHECK_THROWS_WITH(build_window_filter(k, {bad}, nullptr, 0), Catch::Contains(bad + ":1") && Catch::Contains("give --tokenizer"));
}

TEST_CASE("Radioactivity input errors name what is wrong", "[radioactivity]") {
  radioactivity_scorer s(seeded_key(1));
  const std::vector<token_id> bad = {1, 2, static_cast<token_id>(vocab)};
  CHECK_THROWS_WITH(s.score_text(bad), Catch::Contains("token 2") && Catch::Contains(std::to_string(vocab)));
  const std::vector<token_id> input = {1, 2, 3};
  const std::vector<token_id> predictions = {1, 2};
  CHECK_THROWS_WITH(s.score_predictions(input, predictions), Catch::Contains("one prediction per input token"));
}

// ---- issue 14, items 2-4: nothing read is blamed on the suspect; no input is ignored ------------

namespace {

struct scratch_folder {
  std::filesystem::path path = std::filesystem::temp_directory_path() /
                               ("tritium-i14-" + std::to_string(::getpid()));
  scratch_folder() { std::filesystem::create_directories(path); }
  ~scratch_folder() { std::filesystem::remove_all(path); }
  std::string file(const std::string& name, const std::string& contents) const {
    const std::string p = (path / name).string();
    std::ofstream(p) << contents;
    return p;
  }
};

std::string usage_error_of(const radioactivity_spec& spec, const key& k) {
  try {
    radioactivity_scan scan(spec, k, scan_environment{});
  } catch (const error& e) {
    return std::string(errc_name(e.code())) + ": " + e.what();
  }
  return "accepted";
}

}  // namespace

TEST_CASE("Radioactivity: a setting given and not read, or a missing one, is a usage error", "[radioactivity]") {
  const key k = seeded_key(1);
  scratch_folder dir;
  const std::string answers = dir.file("a.jsonl", "{\"tokens\": [1, 2, 3]}\n");
  radioactivity_spec closed;
  closed.mode = radioactivity_mode::closed;
  CHECK(usage_error_of(closed, k) ==
        "usage: radioactivity closed: give --input (the suspect's answers) or --model with --prompts (the suspect to query)");
  closed.inputs = {answers};
  closed.model = "m.tlm";
  closed.prompts = "p.jsonl";
  CHECK(usage_error_of(closed, k) ==
        "usage: radioactivity closed: --input is not read with --model (the answers are generated from --prompts): give one of them");
  closed.inputs.clear();
  closed.prompts.clear();
  CHECK(usage_error_of(closed, k) == "usage: radioactivity closed: --model needs --prompts (the prompts to send it)");
  radioactivity_spec read;
  read.mode = radioactivity_mode::read;
  read.inputs = {dir.path.string() + "/missing.jsonl"};
  read.predictions = answers;
  CHECK(usage_error_of(read, k) ==
        "usage: radioactivity read: --input is not read with --predictions (the texts are the \"tokens\" of its records): give one of them");
  read.inputs.clear();
  read.predictions.clear();
  CHECK(usage_error_of(read, k) == "usage: radioactivity read: give --input with --model (the suspect), or --predictions");
  radioactivity_spec corpus;
  CHECK(usage_error_of(corpus, k) == "usage: radioactivity corpus: give --input (the suspect corpus)");
  corpus.inputs = {answers};
  CHECK(usage_error_of(corpus, k) == "accepted");
  corpus.model = "m.tlm";
  CHECK(usage_error_of(corpus, k) == "usage: radioactivity corpus: --model is not read in corpus mode (the corpus is the suspect)");
}

TEST_CASE("Radioactivity: a folder is refused, never read as empty", "[radioactivity]") {
  const key k = seeded_key(1);
  scratch_folder dir;
  dir.file("a.jsonl", "{\"tokens\": [1, 2, 3]}\n");
  radioactivity_spec corpus;
  corpus.inputs = {dir.path.string()};
  radioactivity_scan scan(corpus, k, scan_environment{});
  CHECK_THROWS_WITH(scan.run(), "input " + dir.path.string() +
                                    ": a folder, expected a JSON Lines file (or - for standard input)");
  CHECK_THROWS_WITH(build_window_filter(k, {dir.path.string()}, nullptr, 0),
                    "input " + dir.path.string() + ": a folder, expected a JSON Lines file (or - for standard input)");
  // A file that holds no window gives no filter rather than an empty one.
  const std::string empty = dir.file("empty.jsonl", "\n");
  CHECK_THROWS_WITH(build_window_filter(k, {empty}, nullptr, 0),
                    "filter: the inputs hold no window of 1 tokens, so the filter would hold nothing");
}

TEST_CASE("Radioactivity: too few scored tuples is insufficient evidence, and the controls are not tested",
          "[radioactivity]") {
  const key k = seeded_key(1);
  scratch_folder dir;
  for (const char* contents : {"", "{\"tokens\": [1, 2, 3, 4]}\n"}) {
    INFO(contents);
    radioactivity_spec corpus;
    corpus.inputs = {dir.file("few.jsonl", contents)};
    corpus.controls = 20;
    radioactivity_scan scan(corpus, k, scan_environment{});
    const radioactivity_outcome o = scan.run();
    CHECK(o.result.test.scored <= 3);
    CHECK(o.outcome == "insufficient evidence");
    CHECK_FALSE(o.controls_tested);
    CHECK(o.controls_uniform);
    CHECK(o.control_p.size() == 20);
  }
}

TEST_CASE("The control-key check reads randomised p-values: bounded by the binomial tails and reproducible",
          "[radioactivity]") {
  const std::vector<std::uint64_t> greens = {0, 3, 4, 9, 14, 5, 5};
  const std::vector<double> randomised = control_check_p_values(14, greens, 0.25, true);
  const std::vector<double> conservative = control_check_p_values(14, greens, 0.25, false);
  REQUIRE(randomised.size() == greens.size());
  REQUIRE(conservative.size() == greens.size());
  for (std::size_t i = 0; i < greens.size(); ++i) {
    INFO("green " << greens[i]);
    const double at_least = std::exp(binomial_upper_tail_ln(14, greens[i], 0.25));
    const double above = std::exp(binomial_upper_tail_ln(14, greens[i] + 1, 0.25));
    CHECK(conservative[i] == Approx(at_least).epsilon(1e-12));
    CHECK(randomised[i] >= above);
    CHECK(randomised[i] <= at_least);
  }
  // The two controls with 5 green draw different U: not one value repeated.
  CHECK(randomised[5] != randomised[6]);
  // Pinned: a version 2 report recomputes only while the seed, the order of the draws and the way a
  // draw becomes U stay as they are. Computed independently in Python (xoshiro256** seeded by
  // splitmix64 with 0x6374726c72616e64, U = (x >> 11) 2^-53, the binomial tails of uniformity.py).
  const std::vector<double> pinned = {0.99058167040478962, 0.70101825332590162, 0.43086931121703631,
                                      0.0014936342997132154, 8.6314481066555552e-10, 0.20085757170862073,
                                      0.20543235682689762};
  for (std::size_t i = 0; i < pinned.size(); ++i) CHECK(randomised[i] == Approx(pinned[i]).epsilon(1e-9));
  CHECK(control_check_p_values(14, greens, 0.25, true) == randomised);
  CHECK(control_check_p_values(14, {}, 0.25, true).empty());
  CHECK_THROWS_AS(control_check_p_values(14, std::vector<std::uint64_t>{15}, 0.25, true), error);
}

TEST_CASE("The control-key check refuses null data at its level on few scored tuples, where P(S >= s) "
          "refuses one time in five", "[radioactivity][statistics]") {
  // 4,000 sets of 20 control keys, each green count exactly Binomial(14, 1/4) (the null; the top two
  // bits of mt19937_64, the same on every standard library), fixed seed. With U drawn at random the
  // check would refuse at its level, 1%; with U fixed by its seed the rate is near it (0.7% to 1.1%
  // measured). The test requires a rate in [0.5%, 1.5%]: 7 to 87 refusals holds with probability above
  // 0.999 at both ends (Binomial(4000, 0.005) below 7: 2.5e-4; Binomial(4000, 0.015) above 87: 3.8e-4).
  // The conservative P(S >= s) refuses about 22% at 14 scored tuples (papers/radioactivity.md).
  std::mt19937_64 rng(20261205);
  constexpr int sets = 4000;
  int refused_randomised = 0;
  int refused_conservative = 0;
  for (int set = 0; set < sets; ++set) {
    std::vector<std::uint64_t> greens(20);
    for (auto& g : greens) {
      for (int t = 0; t < 14; ++t) g += (rng() >> 62) == 0 ? 1U : 0U;
    }
    refused_randomised += ks_uniform(control_check_p_values(14, greens, 0.25, true)).p_value < 0.01 ? 1 : 0;
    refused_conservative += ks_uniform(control_check_p_values(14, greens, 0.25, false)).p_value < 0.01 ? 1 : 0;
  }
  CHECK(refused_randomised >= 7);
  CHECK(refused_randomised <= 87);
  CHECK(refused_conservative > 400);
}
