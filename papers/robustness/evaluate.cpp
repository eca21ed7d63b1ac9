// The evaluation of papers/robustness.md §2–3: every scheme's texts from the reference model, their
// quality, and their detection after attacks at several strengths.
//
//   robustness_evaluate MODEL SECOND_MODEL QWEN3_TOKENIZER GPT2_TOKENIZER PROMPTS OUT_DIR [TEXTS] [THREADS] [WORK_DIR]
//   robustness_evaluate students QWEN3_TOKENIZER PROMPTS OUT_DIR THREADS CONTROL.tlm KGW.tlm SELFHASH.tlm
//                                UNIGRAM.tlm GUMBEL.tlm SYNTHID.tlm TRANSFORMERS-KGW.tlm
//
// MODEL: the reference model (order 4, Qwen3 ids, V = 151,936); SECOND_MODEL: a model trained on other
// text, for a second perplexity; PROMPTS: fixtures/corpus/prompts.jsonl. TEXTS answers (default 60) of
// 1,000 tokens each are generated for every configuration, answer i from prompt i mod 40 with sampling
// seed 1000 + i: plain; KGW (left-hash h = 1, γ = 1/4) at δ = 1, 2, 4; KGW self-hash h = 3 at δ = 2; Unigram
// at δ = 1, 2, 4; Gumbel (h = 3, repeated windows sampled plainly); SynthID as transformers runs it
// (n-gram 5, 30 layers); Gumbel and SynthID again under second keys; KGW as transformers runs it
// (WatermarkingConfig: lefthash, h = 1, greenlist ratio 1/4, bias 2, a hashing key of ours). Every
// configuration answers the same prompts with the same seeds, and every key comes from a fixed seed,
// so the run is reproducible.
//
// Writes OUT_DIR/quality.csv (per configuration: perplexity of the answers under both models,
// distinct 2- and 3-gram shares within answers and across them, median log10 p at 200 tokens) and OUT_DIR/attacks.csv (per scheme at
// its middle strength, attack, strength and length: the share of answers detected at p ≤ 1e-3 and
// ≤ 1e-6, the median log10 p). Every p is the scheme's exact p-value, or for transformers KGW a proven
// upper bound (papers/hf-kgw.md §5), so a threshold α is a false-positive rate of at most α (papers/robustness.md §1 measures it on human text).
// With WORK_DIR, each attacked scheme's answers are written there (answers_<config>.jsonl) for the
// students of §4; the `students` mode writes OUT_DIR/radioactivity.csv from the students run.sh trains.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iostream>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "tritium/batch_pipeline.hpp"
#include "tritium/detect.hpp"
#include "tritium/error.hpp"
#include "tritium/gumbel_detect.hpp"
#include "tritium/hf_kgw.hpp"
#include "tritium/hf_kgw_detect.hpp"
#include "tritium/hf_synthid_detect.hpp"
#include "tritium/kgw_stream.hpp"
#include "tritium/ngram_lm.hpp"
#include "tritium/tokenizer.hpp"
#include "tritium/unigram_detect.hpp"

using namespace tritium;

namespace {

constexpr std::uint32_t answer_tokens = 1000;
constexpr std::uint32_t valid_ids = 151'669;  // Qwen3's tokenizer ids; the rest of the row is padding
const std::array<std::uint32_t, 6> lengths{50, 100, 200, 300, 500, 1000};

enum class kind { plain, kgw_left, kgw_self, unigram_list, gumbel_min, synthid, hf_kgw_left };

struct configuration {
  std::string name;
  kind scheme;
  double strength;  ///< δ (KGW, Unigram); 0 where the scheme has none
  std::uint64_t key_seed = 0;  ///< a second key for the same scheme (0: the scheme's first)
};

key key_for(std::uint64_t seed, std::uint32_t h, seeding s, double delta, scheme_set schemes) {
  std::mt19937_64 rng(seed);
  std::array<std::uint8_t, key::secret_size> secret{};
  for (auto& b : secret) b = static_cast<std::uint8_t>(rng());
  kgw_params p;
  p.set_gamma(0.25);
  p.delta = delta;
  p.context_width = h;
  p.seeding_scheme = s;
  p.vocab_size = 151'936;
  p.schemes = schemes;
  return key::from_secret(secret, p);
}

hf_synthid_params synthid_params(std::uint64_t key_seed) {
  hf_synthid_params p;
  std::mt19937_64 rng(20261206 + key_seed);
  for (int l = 0; l < 30; ++l) p.keys.push_back(static_cast<std::int64_t>(rng() >> 1));
  return p;
}

/// One configuration's schemes, built once.
struct marker {
  configuration config;
  std::shared_ptr<const kgw> kgw_scheme;
  std::unique_ptr<unigram> unigram_scheme;
  std::unique_ptr<gumbel> gumbel_scheme;
  std::unique_ptr<hf_synthid> synthid_scheme;
  std::unique_ptr<hf_kgw> hf_kgw_scheme;

  std::unique_ptr<kgw_detector> detector;

  explicit marker(configuration c) : config(std::move(c)) {
    const double delta = config.strength;
    switch (config.scheme) {
      case kind::plain: break;
      case kind::kgw_left:
      case kind::kgw_self: {
        const bool left = config.scheme == kind::kgw_left;
        const key k = key_for(left ? 101 : 102, left ? 1 : 3, left ? seeding::lefthash : seeding::selfhash, delta,
                              scheme_bit(scheme_kind::kgw));
        kgw_scheme = std::make_shared<const kgw>(k);
        detector = std::make_unique<kgw_detector>(k);
        break;
      }
      case kind::unigram_list:
        unigram_scheme = std::make_unique<unigram>(key_for(103, 1, seeding::lefthash, delta, scheme_bit(scheme_kind::unigram)));
        break;
      case kind::gumbel_min:
        gumbel_scheme = std::make_unique<gumbel>(key_for(104 + 1000 * config.key_seed, 3, seeding::lefthash, 2.0, scheme_bit(scheme_kind::gumbel)));
        break;
      case kind::synthid: synthid_scheme = std::make_unique<hf_synthid>(synthid_params(config.key_seed)); break;
      case kind::hf_kgw_left: {
        // transformers' WatermarkingConfig defaults (lefthash, h = 1, greenlist ratio 1/4) with bias
        // δ and a hashing key of our own.
        hf_kgw_params p;
        p.vocab_size = 151'936;
        p.bias = static_cast<float>(delta);
        p.hashing_key = 20261204;
        hf_kgw_scheme = std::make_unique<hf_kgw>(p);
        break;
      }
    }
  }

  /// ln p of `tokens` (the answer alone) under this configuration's detector.
  double ln_p(std::span<const token_id> tokens) const {
    switch (config.scheme) {
      case kind::plain: return 0.0;
      case kind::kgw_left:
      case kind::kgw_self: return detector->detect(tokens).ln_p;
      case kind::unigram_list: return unigram_detect(*unigram_scheme, tokens).ln_p;
      case kind::gumbel_min: return gumbel_detect(*gumbel_scheme, tokens).ln_p;
      case kind::synthid: return hf_synthid_detect(*synthid_scheme, tokens).ln_p;
      case kind::hf_kgw_left: {
        // Green lists kept across the answers a thread tests (never changes a result, only its cost).
        thread_local std::unique_ptr<hf_kgw_green_cache> cache;
        thread_local const hf_kgw* cached_for = nullptr;
        if (cached_for != hf_kgw_scheme.get()) {
          cache = std::make_unique<hf_kgw_green_cache>(*hf_kgw_scheme, std::size_t{256} << 20);
          cached_for = hf_kgw_scheme.get();
        }
        hf_kgw_detect_options o;
        o.cache = cache.get();
        return hf_kgw_detect(*hf_kgw_scheme, tokens, o).ln_p;  // a proven bound (papers/hf-kgw.md §5)
      }
    }
    return 0.0;
  }
};

/// Samples from non-negative weights.
token_id draw(std::span<const double> weights, sampling_rng& rng, sampling_scratch& scratch) {
  kgw::prepare_probabilities(weights, scratch);
  return kgw::draw_plain_prepared(rng, scratch);
}

/// One answer of `count` tokens to `prompt` under configuration `m`, sampling seed `seed`.
std::vector<token_id> answer(const ngram_lm& lm, const marker& m, std::span<const token_id> prompt, std::uint64_t seed) {
  const std::uint32_t V = lm.vocab_size();
  std::vector<double> probs(V), weights(V);
  std::vector<float> row(V);
  sampling_scratch scratch;
  sampling_rng rng(seed);
  std::vector<token_id> history(prompt.begin(), prompt.end()), out;
  std::unique_ptr<kgw_stream> stream;
  if (m.kgw_scheme) {
    stream_options o;
    o.seed = seed;
    stream = std::make_unique<kgw_stream>(m.kgw_scheme, o);
    stream->begin(prompt);
  }
  std::unique_ptr<hf_synthid_state> synthid_state;
  std::set<std::vector<token_id>> gumbel_windows;  // windows Gumbel has chosen after in this answer
  std::vector<std::int32_t> hf_scratch;
  if (m.synthid_scheme) synthid_state = std::make_unique<hf_synthid_state>(*m.synthid_scheme);
  const std::size_t context = lm.context_length();
  for (std::uint32_t i = 0; i < answer_tokens; ++i) {
    const std::size_t from = history.size() > context ? history.size() - context : 0;
    lm.distribution(std::span<const token_id>(history).subspan(from), probs);
    std::fill(probs.begin() + valid_ids, probs.end(), 0.0);
    token_id next = 0;
    switch (m.config.scheme) {
      case kind::plain: next = draw(probs, rng, scratch); break;
      case kind::kgw_left:
      case kind::kgw_self: next = stream->sample_probabilities(probs); break;
      case kind::unigram_list: {
        const auto& green = m.unigram_scheme->green_mask();
        const double boost = std::exp(m.config.strength);
        for (std::uint32_t v = 0; v < V; ++v) weights[v] = green[v] ? probs[v] * boost : probs[v];
        next = draw(weights, rng, scratch);
        break;
      }
      case kind::gumbel_min: {
        // The choice is a function of the window and the model's row, and the row of the last h
        // tokens: once a window repeats, a deterministic choice would loop. A repeated window is
        // sampled plainly instead (the masking SynthID applies to its own repeated contexts).
        const std::vector<token_id> window(history.end() - 3, history.end());
        if (gumbel_windows.insert(window).second) {
          for (std::uint32_t v = 0; v < V; ++v) row[v] = static_cast<float>(probs[v]);
          next = m.gumbel_scheme->select(window, row);
        } else {
          next = draw(probs, rng, scratch);
        }
        break;
      }
      case kind::hf_kgw_left: {
        // transformers' processor on the model's log-probabilities: δ added to the previous token's
        // green list in float32, then a draw from the softmax.
        for (std::uint32_t v = 0; v < V; ++v) {
          row[v] = probs[v] > 0.0 ? static_cast<float>(std::log(probs[v])) : std::numeric_limits<float>::lowest();
        }
        hf_scratch.resize(V);
        m.hf_kgw_scheme->bias_dense(history, row, hf_scratch);
        const float top = *std::max_element(row.begin(), row.end());
        for (std::uint32_t v = 0; v < V; ++v) {
          weights[v] = probs[v] == 0.0 ? 0.0 : std::exp(static_cast<double>(row[v] - top));
        }
        next = draw(weights, rng, scratch);
        break;
      }
      case kind::synthid: {
        for (std::uint32_t v = 0; v < V; ++v) {
          row[v] = probs[v] > 0.0 ? static_cast<float>(std::log(probs[v])) : std::numeric_limits<float>::lowest();
        }
        synthid_state->apply(history.back(), row);
        const float top = *std::max_element(row.begin(), row.end());
        for (std::uint32_t v = 0; v < V; ++v) {
          weights[v] = row[v] == std::numeric_limits<float>::lowest() ? 0.0 : std::exp(static_cast<double>(row[v] - top));
        }
        next = draw(weights, rng, scratch);
        break;
      }
    }
    if (stream) stream->accept(next);
    history.push_back(next);
    out.push_back(next);
  }
  return out;
}

/// exp(mean −ln p) of the answer under `lm`, each token given the prompt and the answer before it.
double mean_nll(const ngram_lm& lm, std::span<const token_id> prompt, std::span<const token_id> tokens) {
  std::vector<token_id> history(prompt.begin(), prompt.end());
  const std::size_t context = lm.context_length();
  double total = 0.0;
  for (const token_id t : tokens) {
    const std::size_t from = history.size() > context ? history.size() - context : 0;
    total -= std::log(lm.probability(std::span<const token_id>(history).subspan(from), t));
    history.push_back(t);
  }
  return total / static_cast<double>(tokens.size());
}

/// The share of distinct n-grams among all n-grams of `texts` pooled: low when answers repeat each
/// other (a deterministic scheme's answers can merge into one).
double distinct_share(const std::vector<std::vector<token_id>>& texts, std::size_t n) {
  std::vector<std::vector<token_id>> grams;
  for (const auto& t : texts) {
    for (std::size_t i = 0; i + n <= t.size(); ++i) grams.emplace_back(t.begin() + static_cast<std::ptrdiff_t>(i), t.begin() + static_cast<std::ptrdiff_t>(i + n));
  }
  const double all = static_cast<double>(grams.size());
  std::sort(grams.begin(), grams.end());
  return static_cast<double>(std::unique(grams.begin(), grams.end()) - grams.begin()) / all;
}

/// The mean over answers of each answer's own share of distinct n-grams: low when an answer loops.
double distinct_within(const std::vector<std::vector<token_id>>& texts, std::size_t n) {
  double total = 0.0;
  for (const auto& t : texts) total += distinct_share({t}, n);
  return total / static_cast<double>(texts.size());
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

struct attack {
  std::string name;
  double strength;
  /// The attacked answer i (from its own and the plain answers), with an rng of its own.
  std::function<std::vector<token_id>(std::size_t i, std::mt19937_64& rng)> apply;
};

const std::vector<configuration> configs{
      {"plain", kind::plain, 0.0},           {"kgw d=1", kind::kgw_left, 1.0},
      {"kgw d=2", kind::kgw_left, 2.0},      {"kgw d=4", kind::kgw_left, 4.0},
      {"kgw-selfhash h=3 d=2", kind::kgw_self, 2.0},
      {"unigram d=1", kind::unigram_list, 1.0}, {"unigram d=2", kind::unigram_list, 2.0},
      {"unigram d=4", kind::unigram_list, 4.0}, {"gumbel h=3", kind::gumbel_min, 0.0},
      {"synthid m=30", kind::synthid, 0.0},
      // Second keys of the two schemes that are distortion-free in expectation over keys: how far one
      // key's answers stand from plain sampling.
      {"gumbel h=3 key 2", kind::gumbel_min, 0.0, 1}, {"synthid m=30 key 2", kind::synthid, 0.0, 1},
      // KGW as transformers' WatermarkingConfig runs it (and TGI, at its own γ and key).
      {"transformers-kgw d=2", kind::hf_kgw_left, 2.0}};

/// Each scheme at its middle strength: the attacked configurations and the students' teachers.
/// kgw d=2, selfhash, unigram d=2, gumbel, synthid, transformers KGW.
const std::vector<std::size_t> learnable_configs{2, 4, 6, 8, 9, 12};

std::string slug(const std::string& name) {
  std::string out;
  for (const char ch : name) out += (ch == ' ' || ch == '=') ? '_' : ch;
  return out;
}

/// §4: each student (a model trained with a share of one scheme's answers, and a control trained on
/// human text alone) answers every prompt five times (200 tokens, plain sampling); all its answers
/// pooled are tested under every scheme's detector with one deduplication over the pool. Under H0
/// (the student never saw the key's text) each p is exact; the control shows it.
int students(int argc, char** argv) {
  if (static_cast<std::size_t>(argc) != 7 + learnable_configs.size()) {
    std::cerr << "usage: robustness_evaluate students QWEN3_TOKENIZER PROMPTS OUT_DIR THREADS CONTROL.tlm KGW.tlm "
                 "SELFHASH.tlm UNIGRAM.tlm GUMBEL.tlm SYNTHID.tlm TRANSFORMERS-KGW.tlm\n";
    return 2;
  }
  const tokenizer qwen3 = tokenizer::load(argv[2]);
  std::vector<std::vector<token_id>> prompts;
  {
    std::ifstream in(argv[3]);
    std::string line;
    while (std::getline(in, line)) prompts.push_back(qwen3.encode(nlohmann::json::parse(line).at("prompt").get<std::string>()));
  }
  const std::string out_dir = argv[4];
  const unsigned threads = static_cast<unsigned>(std::stoul(argv[5]));
  std::vector<std::unique_ptr<marker>> markers;
  for (const std::size_t c : learnable_configs) markers.push_back(std::make_unique<marker>(configs[c]));
  std::ofstream r(out_dir + "/radioactivity.csv");
  r << "student,scheme_tested,answers,tokens,log10_p\n";
  const std::size_t answers_per_student = 5 * prompts.size();
  for (int s = 6; s < argc; ++s) {
    const ngram_lm student = ngram_lm::load(argv[s]);
    const std::string name = s == 6 ? "control (human text only)" : configs[learnable_configs[static_cast<std::size_t>(s - 7)]].name;
    std::vector<std::vector<token_id>> outs(answers_per_student);
    parallel_for(threads, answers_per_student, [&](std::size_t i, unsigned) {
      std::vector<token_id> history = prompts[i % prompts.size()];
      std::vector<double> probs(student.vocab_size());
      sampling_scratch scratch;
      sampling_rng rng(5000 + i);
      for (int t = 0; t < 200; ++t) {
        const std::size_t from = history.size() > student.context_length() ? history.size() - student.context_length() : 0;
        student.distribution(std::span<const token_id>(history).subspan(from), probs);
        std::fill(probs.begin() + valid_ids, probs.end(), 0.0);
        const token_id next = draw(probs, rng, scratch);
        history.push_back(next);
        outs[i].push_back(next);
      }
    });
    std::vector<token_id> pool;
    for (const auto& o : outs) pool.insert(pool.end(), o.begin(), o.end());
    for (const auto& m : markers) {
      r << name << "," << m->config.name << "," << answers_per_student << "," << pool.size() << ","
        << m->ln_p(pool) / std::log(10.0) << "\n";
    }
    std::cerr << "student: " << name << "\n";
  }
  return 0;
}
}  // namespace

int main(int argc, char** argv) try {
  if (argc > 1 && std::string(argv[1]) == "students") return students(argc, argv);
  if (argc < 7) {
    std::cerr << "usage: robustness_evaluate MODEL SECOND_MODEL QWEN3_TOKENIZER GPT2_TOKENIZER PROMPTS OUT_DIR [TEXTS] [THREADS] [WORK_DIR]\n"
                 "       robustness_evaluate students QWEN3_TOKENIZER PROMPTS OUT_DIR THREADS CONTROL.tlm KGW.tlm SELFHASH.tlm UNIGRAM.tlm GUMBEL.tlm SYNTHID.tlm TRANSFORMERS-KGW.tlm\n";
    return 2;
  }
  const ngram_lm lm = ngram_lm::load(argv[1]);
  const ngram_lm second = ngram_lm::load(argv[2]);
  const tokenizer qwen3 = tokenizer::load(argv[3]);
  const tokenizer gpt2 = tokenizer::load(argv[4]);
  const std::string out_dir = argv[6];
  const std::size_t texts = argc > 7 ? std::stoul(argv[7]) : 60;
  const unsigned threads = argc > 8 ? static_cast<unsigned>(std::stoul(argv[8])) : 2;

  std::vector<std::vector<token_id>> prompts;
  {
    std::ifstream in(argv[5]);
    std::string line;
    while (std::getline(in, line)) prompts.push_back(qwen3.encode(nlohmann::json::parse(line).at("prompt").get<std::string>()));
  }
  if (prompts.empty()) throw tritium::error(errc::invalid_argument, std::string("no prompts in ") + argv[5]);
  auto prompt_of = [&](std::size_t i) -> const std::vector<token_id>& { return prompts[i % prompts.size()]; };

  std::vector<std::unique_ptr<marker>> markers;
  for (const auto& c : configs) markers.push_back(std::make_unique<marker>(c));

  // Generation: every configuration answers the same prompts with the same seeds.
  std::vector<std::vector<std::vector<token_id>>> answers(configs.size());
  for (std::size_t c = 0; c < configs.size(); ++c) {
    answers[c].resize(texts);
    parallel_for(threads, texts, [&](std::size_t i, unsigned) {
      answers[c][i] = answer(lm, *markers[c], prompt_of(i), 1000 + i);
    });
    std::cerr << "generated: " << configs[c].name << "\n";
  }
  if (argc > 9) {
    // The watermarked answers of each scheme at its middle strength, as `tritium lm train
    // --watermarked` reads them (the students of §4).
    for (const std::size_t c : learnable_configs) {
      std::ofstream out(std::string(argv[9]) + "/answers_" + slug(configs[c].name) + ".jsonl");
      for (std::size_t i = 0; i < texts; ++i) {
        out << "{\"id\":" << i << ",\"tokens\":[";
        for (std::size_t j = 0; j < answers[c][i].size(); ++j) out << (j ? "," : "") << answers[c][i][j];
        out << "]}\n";
      }
    }
  }

  // Quality.
  {
    std::ofstream q(out_dir + "/quality.csv");
    q << "config,scheme,strength,ppl_reference,nll_reference_se,ppl_second,nll_second_se,distinct2_within,distinct3_within,distinct3_across,"
         "median_log10p_200,detected_1e-3_200\n";
    for (std::size_t c = 0; c < configs.size(); ++c) {
      std::vector<double> nll_ref(texts), nll_second(texts), log10p(texts);
      parallel_for(threads, texts, [&](std::size_t i, unsigned) {
        nll_ref[i] = mean_nll(lm, prompt_of(i), answers[c][i]);
        nll_second[i] = mean_nll(second, prompt_of(i), answers[c][i]);
        const std::span<const token_id> first200(answers[c][i].data(), 200);
        log10p[i] = markers[c]->ln_p(first200) / std::log(10.0);
      });
      double ref = 0.0, sec = 0.0;
      std::size_t hits = 0;
      for (std::size_t i = 0; i < texts; ++i) {
        ref += nll_ref[i];
        sec += nll_second[i];
        hits += log10p[i] <= -3.0;
      }
      const double n = static_cast<double>(texts);
      // The standard error of a mean NLL over the answers (each answer's NLL one observation).
      auto se = [&](const std::vector<double>& x, double sum) {
        double ss = 0.0;
        for (const double v : x) ss += (v - sum / n) * (v - sum / n);
        return std::sqrt(ss / (n - 1) / n);
      };
      const char* scheme = configs[c].scheme == kind::plain ? "plain"
                           : configs[c].scheme == kind::kgw_left ? "kgw"
                           : configs[c].scheme == kind::kgw_self ? "kgw-selfhash"
                           : configs[c].scheme == kind::unigram_list ? "unigram"
                           : configs[c].scheme == kind::gumbel_min ? "gumbel"
                           : configs[c].scheme == kind::hf_kgw_left ? "transformers-kgw" : "synthid";
      q << configs[c].name << "," << scheme << "," << configs[c].strength << "," << std::exp(ref / n) << ","
        << se(nll_ref, ref) << "," << std::exp(sec / n) << "," << se(nll_second, sec) << ","
        << distinct_within(answers[c], 2) << "," << distinct_within(answers[c], 3) << "," << distinct_share(answers[c], 3) << "," << median(log10p) << "," << static_cast<double>(hits) / static_cast<double>(texts) << "\n";
      std::cerr << "quality: " << configs[c].name << "\n";
    }
  }

  // Attacks, on each scheme at its middle strength.
  const std::vector<std::size_t>& attacked = learnable_configs;
  const std::vector<token_id>* plain_answers = answers[0].data();
  std::ofstream a(out_dir + "/attacks.csv");
  a << "scheme,attack,strength,length,detected_1e-3,detected_1e-6,median_log10p\n";
  for (const std::size_t c : attacked) {
    const auto& own = answers[c];
    std::uniform_int_distribution<token_id> any_id(0, static_cast<token_id>(valid_ids - 1));
    std::vector<attack> attacks{{"none", 0.0, [&](std::size_t i, std::mt19937_64&) { return own[i]; }}};
    for (const double f : {0.1, 0.2, 0.3, 0.5}) {
      attacks.push_back({"substitution", f, [&, f](std::size_t i, std::mt19937_64& rng) {
                           std::vector<token_id> t = own[i];
                           std::bernoulli_distribution hit(f);
                           for (auto& x : t) {
                             if (hit(rng)) x = any_id(rng);
                           }
                           return t;
                         }});
      attacks.push_back({"deletion", f, [&, f](std::size_t i, std::mt19937_64& rng) {
                           std::vector<token_id> t;
                           std::bernoulli_distribution hit(f);
                           for (const token_id x : own[i]) {
                             if (!hit(rng)) t.push_back(x);
                           }
                           return t;
                         }});
      attacks.push_back({"insertion", f, [&, f](std::size_t i, std::mt19937_64& rng) {
                           std::vector<token_id> t;
                           std::bernoulli_distribution hit(f);
                           for (const token_id x : own[i]) {
                             while (hit(rng)) t.push_back(any_id(rng));
                             t.push_back(x);
                           }
                           return t;
                         }});
      // The paraphrase proxy: a share f of the positions re-sampled by the plain model, each given the
      // (already attacked) text before it.
      attacks.push_back({"resample", f, [&, f](std::size_t i, std::mt19937_64& rng) {
                           std::vector<token_id> history = prompt_of(i);
                           const std::size_t start = history.size();
                           std::vector<double> probs(lm.vocab_size());
                           sampling_scratch scratch;
                           sampling_rng draw_rng(rng());
                           std::bernoulli_distribution hit(f);
                           for (const token_id x : own[i]) {
                             token_id y = x;
                             if (hit(rng)) {
                               const std::size_t from = history.size() > lm.context_length() ? history.size() - lm.context_length() : 0;
                               lm.distribution(std::span<const token_id>(history).subspan(from), probs);
                               std::fill(probs.begin() + valid_ids, probs.end(), 0.0);
                               y = draw(probs, draw_rng, scratch);
                             }
                             history.push_back(y);
                           }
                           return std::vector<token_id>(history.begin() + static_cast<std::ptrdiff_t>(start), history.end());
                         }});
    }
    // Dilution: the answer's first s·1000 tokens pasted into the middle of a plain answer, 1000 in all.
    for (const double s : {0.05, 0.1, 0.25, 0.5}) {
      attacks.push_back({"dilution", s, [&, s](std::size_t i, std::mt19937_64&) {
                           const auto keep = static_cast<std::size_t>(std::lround(s * answer_tokens));
                           const std::size_t around = answer_tokens - keep, before = around / 2;
                           const auto& plain = plain_answers[i];
                           std::vector<token_id> t(plain.begin(), plain.begin() + static_cast<std::ptrdiff_t>(before));
                           t.insert(t.end(), own[i].begin(), own[i].begin() + static_cast<std::ptrdiff_t>(keep));
                           t.insert(t.end(), plain.begin() + static_cast<std::ptrdiff_t>(before), plain.begin() + static_cast<std::ptrdiff_t>(around));
                           return t;
                         }});
    }
    // Re-tokenisation: the answer's text through Qwen3 again (canonical splits), and through GPT-2's
    // tokenizer (a different id space: the key cannot see it).
    attacks.push_back({"retokenise-qwen3", 0.0, [&](std::size_t i, std::mt19937_64&) {
                         return qwen3.encode(qwen3.decode(own[i]), invalid_utf8::replace);
                       }});
    attacks.push_back({"tokenizer-gpt2", 0.0, [&](std::size_t i, std::mt19937_64&) {
                         return gpt2.encode(qwen3.decode(own[i]), invalid_utf8::replace);
                       }});
    for (std::size_t k = 0; k < attacks.size(); ++k) {
      const attack& at = attacks[k];
      std::vector<std::vector<double>> log10p(lengths.size(), std::vector<double>(texts));
      parallel_for(threads, texts, [&](std::size_t i, unsigned) {
        std::mt19937_64 rng(7'000'000 + 1000 * k + i);
        const std::vector<token_id> t = at.apply(i, rng);
        for (std::size_t l = 0; l < lengths.size(); ++l) {
          const bool whole = at.name == "dilution";  // dilution is measured on the whole 1,000 tokens only
          if (whole && lengths[l] != answer_tokens) continue;
          const std::size_t n = std::min<std::size_t>(lengths[l], t.size());
          log10p[l][i] = markers[c]->ln_p(std::span<const token_id>(t.data(), n)) / std::log(10.0);
        }
      });
      for (std::size_t l = 0; l < lengths.size(); ++l) {
        if (at.name == "dilution" && lengths[l] != answer_tokens) continue;
        std::size_t at3 = 0, at6 = 0;
        for (const double x : log10p[l]) {
          at3 += x <= -3.0;
          at6 += x <= -6.0;
        }
        a << configs[c].name << "," << at.name << "," << at.strength << "," << lengths[l] << ","
          << static_cast<double>(at3) / static_cast<double>(texts) << "," << static_cast<double>(at6) / static_cast<double>(texts)
          << "," << median(log10p[l]) << "\n";
      }
    }
    std::cerr << "attacks: " << configs[c].name << "\n";
  }
  return 0;
} catch (const std::exception& e) {
  std::cerr << "robustness_evaluate: " << e.what() << "\n";
  return 1;
}
