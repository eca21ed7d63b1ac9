#include "tritium/radioactivity_scan.hpp"

#include <algorithm>
#include <cmath>
#include <memory>
#include <nlohmann/json.hpp>
#include <unordered_map>
#include <utility>

#include "tritium/batch_pipeline.hpp"
#include "tritium/binomial_tail.hpp"
#include "tritium/error.hpp"
#include "tritium/inputs.hpp"
#include "tritium/json_records.hpp"
#include "tritium/ngram_lm.hpp"
#include "tritium/sampler.hpp"
#include "tritium/sampling_rng.hpp"
#include "tritium/tuple_set.hpp"

namespace tritium {

namespace {
// Fixed, so that a report's control-key check is reproducible (as the trace scan's decoy check).
constexpr std::uint64_t control_randomisation_seed = 0x6374726c72616e64ULL;  // "ctrlrand"
}  // namespace

std::vector<double> control_check_p_values(std::uint64_t scored, std::span<const std::uint64_t> greens, double gamma,
                                           bool randomised) {
  std::vector<double> p;
  p.reserve(greens.size());
  sampling_rng rng(control_randomisation_seed);
  for (const std::uint64_t s : greens) {
    if (s > scored) {
      throw error(errc::invalid_argument, "control_check_p_values: " + std::to_string(s) + " green among " +
                                              std::to_string(scored) + " scored");
    }
    const double at_least = std::min(1.0, std::exp(binomial_upper_tail_ln(scored, s, gamma)));
    if (!randomised) {
      p.push_back(at_least);
      continue;
    }
    const double above = std::min(at_least, std::exp(binomial_upper_tail_ln(scored, s + 1, gamma)));  // 0 when s = scored
    p.push_back(above + rng.uniform() * (at_least - above));
  }
  return p;
}

const char* radioactivity_mode_name(radioactivity_mode m) noexcept {
  switch (m) {
    case radioactivity_mode::corpus: return "corpus";
    case radioactivity_mode::closed: return "closed";
    case radioactivity_mode::read: return "read";
  }
  return "corpus";
}

std::optional<radioactivity_mode> radioactivity_mode_from_name(const std::string& name) noexcept {
  for (auto m : {radioactivity_mode::corpus, radioactivity_mode::closed, radioactivity_mode::read}) {
    if (name == radioactivity_mode_name(m)) return m;
  }
  return std::nullopt;
}

const char* tape_mode_name(tape_mode t) noexcept {
  switch (t) {
    case tape_mode::none: return "none";
    case tape_mode::window: return "window";
    case tape_mode::window_token: return "window+token";
  }
  return "window+token";
}

std::optional<tape_mode> tape_mode_from_name(const std::string& name) noexcept {
  for (auto t : {tape_mode::none, tape_mode::window, tape_mode::window_token}) {
    if (name == tape_mode_name(t)) return t;
  }
  return std::nullopt;
}

namespace {

// The model queries of one batch (closed: prompts answered; read: texts read), run on the workers
// before their answers are scored in order: bounded so that a long input is never held whole.
constexpr std::size_t model_batch = 1024;
constexpr std::uint64_t model_batch_tokens = std::uint64_t{1} << 22;

// Every setting is used or refused (errc::usage, exit 4 on the command line): a file given and never
// read would otherwise be signed as a subject of the report, and a test run on nothing would be
// blamed on the suspect.
void check_settings(const radioactivity_spec& s) {
  const std::string mode = std::string("radioactivity ") + radioactivity_mode_name(s.mode) + ": ";
  auto refuse = [&](const std::string& what) { throw error(errc::usage, mode + what); };
  const bool inputs = !s.inputs.empty(), model = !s.model.empty(), prompts = !s.prompts.empty(),
             predictions = !s.predictions.empty();
  switch (s.mode) {
    case radioactivity_mode::corpus:
      if (!inputs) refuse("give --input (the suspect corpus)");
      if (model) refuse("--model is not read in corpus mode (the corpus is the suspect)");
      if (prompts) refuse("--prompts is not read in corpus mode");
      if (predictions) refuse("--predictions is not read in corpus mode");
      break;
    case radioactivity_mode::closed:
      if (!inputs && !model) refuse("give --input (the suspect's answers) or --model with --prompts (the suspect to query)");
      if (inputs && model) refuse("--input is not read with --model (the answers are generated from --prompts): give one of them");
      if (model && !prompts) refuse("--model needs --prompts (the prompts to send it)");
      if (!model && prompts) refuse("--prompts is read only with --model (with --input, the prompts are in its records)");
      if (predictions) refuse("--predictions is not read in closed mode");
      break;
    case radioactivity_mode::read:
      if (!model && !predictions) refuse("give --input with --model (the suspect), or --predictions");
      if (model && predictions) refuse("--predictions is not read with --model (the model predicts): give one of them");
      if (model && !inputs) refuse("--model needs --input (our watermarked texts for it to read)");
      if (predictions && inputs) {
        refuse("--input is not read with --predictions (the texts are the \"tokens\" of its records): give one of them");
      }
      if (prompts) refuse("--prompts is not read in read mode");
      break;
  }
}

}  // namespace

radioactivity_scan::radioactivity_scan(radioactivity_spec spec, const key& k, scan_environment env)
    : spec_(std::move(spec)), key_(k), env_(std::move(env)) {
  check_settings(spec_);
  // The radioactivity scores are KGW's green lists: a key used with other schemes only left none.
  k.require_scheme(scheme_kind::kgw, "radioactivity");
  if (!spec_.tokenizer.empty()) {
    tokenizer_ = std::make_unique<tritium::tokenizer>(load_tokenizer(env_.resolve(spec_.tokenizer).string()));
    k.require_tokenizer(tokenizer_->digest());
  }
  if (!spec_.filter.empty()) {
    filter_ = std::make_unique<window_filter>(
        load_filter(env_.resolve(spec_.filter).string(), k, tokenizer_ ? tokenizer_->digest() : ""));
  }
}

radioactivity_scan::~radioactivity_scan() = default;

std::vector<std::string> radioactivity_scan::files() const {
  std::vector<std::string> out(spec_.inputs);
  for (const std::string* path : {&spec_.tokenizer, &spec_.model, &spec_.prompts, &spec_.predictions, &spec_.filter}) {
    if (!path->empty()) out.push_back(*path);
  }
  return out;
}

radioactivity_outcome radioactivity_scan::run(scan_listener* listener) {
  const key& k = key_;
  std::unique_ptr<tokenizer::session> session;
  if (tokenizer_) session = std::make_unique<tokenizer::session>(*tokenizer_);
  radioactivity_options options;
  options.tape = spec_.tape;
  options.alpha = spec_.alpha;
  options.curve_points = spec_.curve_points;
  // The control keys score exactly the real key's tuples, through its tape.
  radioactivity_scorer scorer(k, options);
  if (filter_) scorer.set_filter(&filter_->windows);
  scorer.add_control_keys(control_keys(k, spec_.controls));
  const bool exclude = spec_.mode != radioactivity_mode::closed || spec_.prompt_exclusion;
  progress_meter progress(env_.progress, "records");
  auto score_answer = [&](const std::vector<token_id>& prompt, const std::vector<token_id>& answer) {
    if (exclude) scorer.exclude_windows(prompt);
    scorer.score_text(answer);
    if (listener != nullptr) {
      if (exclude) listener->exclude_windows(prompt);
      listener->text(answer);
    }
  };
  // Records are read from the resolved path and named as the spec names them.
  auto each = [&](const std::string& path, auto&& f) {
    each_record(env_.resolve(path).string(), [&](const nlohmann::json& j, const std::string& where) {
      const std::string line = where.substr(where.rfind(':'));
      f(j, path + line);
    });
  };
  std::vector<token_id> a, b;
  if (spec_.mode == radioactivity_mode::corpus) {
    for (const auto& path : spec_.inputs) {
      each(path, [&](const nlohmann::json& j, const std::string& where) {
        if (!ids_of(j, "tokens", "text", session.get(), a, where)) throw error(errc::parse, where + ": expected \"tokens\" or \"text\"");
        scorer.score_text(a);
        if (listener != nullptr) listener->text(a);
        progress.advance();
      });
    }
  } else if (spec_.mode == radioactivity_mode::closed) {
    if (!spec_.model.empty()) {
      const ngram_lm suspect = load_model(env_.resolve(spec_.model).string());
      next_token_sampler sampler(suspect, nullptr, true, 1.0, 1.0, tokenizer_ ? tokenizer_->vocab_size() : 0);
      progress.set_unit("prompts");
      // The model answers a batch of prompts on the workers; the answers are scored in prompt order
      // on this thread (the tape and the excluded windows depend on the order), so every figure is
      // the single worker's.
      std::vector<std::vector<token_id>> prompts;
      std::uint64_t index = 0;  // prompts answered before the batch
      auto answer_batch = [&] {
        const auto answers = generate_completions(sampler, prompts, spec_.max_new_tokens, spec_.seed, index,
                                                  env_.threads, [&](std::size_t done) { progress.reach(index + done); });
        for (std::size_t i = 0; i < prompts.size(); ++i) score_answer(prompts[i], answers[i]);
        index += prompts.size();
        progress.reach(index);
        prompts.clear();
      };
      each(spec_.prompts, [&](const nlohmann::json& j, const std::string& where) {
        if (!ids_of(j, "prompt_tokens", "prompt", session.get(), a, where)) throw error(errc::parse, where + ": expected \"prompt_tokens\" or \"prompt\"");
        prompts.push_back(a);
        if (prompts.size() == model_batch) answer_batch();
      });
      progress.set_total(index + prompts.size());
      answer_batch();
    } else {
      for (const auto& path : spec_.inputs) {
        each(path, [&](const nlohmann::json& j, const std::string& where) {
          if (!ids_of(j, "prompt_tokens", "prompt", session.get(), a, where)) throw error(errc::parse, where + ": expected \"prompt_tokens\" or \"prompt\"");
          if (!ids_of(j, "tokens", "text", session.get(), b, where)) throw error(errc::parse, where + ": expected \"tokens\" or \"text\"");
          score_answer(a, b);
          progress.advance();
        });
      }
    }
  } else {  // read
    std::unique_ptr<ngram_lm> suspect;
    if (!spec_.model.empty()) suspect = std::make_unique<ngram_lm>(load_model(env_.resolve(spec_.model).string()));
    // With a model, every input in order (one tape across all); else the predictions file.
    const std::vector<std::string> paths = suspect ? spec_.inputs : std::vector<std::string>{spec_.predictions};
    std::vector<token_id> predictions;
    // With a model: a batch of texts is read by the model on the workers (teacher-forced, top-1 after
    // each prefix), then scored in input order on this thread, so every figure is the single worker's.
    std::vector<std::vector<token_id>> texts, predicted;
    std::uint64_t texts_read = 0, batch_tokens = 0;
    auto read_batch = [&] {
      const unsigned workers = static_cast<unsigned>(std::min<std::size_t>(default_threads(env_.threads), std::max<std::size_t>(texts.size(), 1)));
      std::vector<std::vector<double>> probs(workers, std::vector<double>(suspect->vocab_size()));
      predicted.resize(texts.size());
      const std::size_t context = suspect->context_length();
      parallel_for(
          workers, texts.size(),
          [&](std::size_t t, unsigned w) {
            const std::vector<token_id>& text = texts[t];
            std::vector<token_id>& out = predicted[t];
            out.assign(text.size(), 0);
            for (std::size_t i = 0; i < text.size(); ++i) {
              const std::size_t from = i + 1 > context ? i + 1 - context : 0;
              suspect->distribution(std::span<const token_id>(text).subspan(from, i + 1 - from), probs[w]);
              out[i] = static_cast<token_id>(std::max_element(probs[w].begin(), probs[w].end()) - probs[w].begin());
            }
          },
          [&](std::size_t done) { progress.reach(texts_read + done); });
      for (std::size_t t = 0; t < texts.size(); ++t) {
        scorer.score_predictions(texts[t], predicted[t]);
        if (listener != nullptr) listener->predictions(texts[t], predicted[t]);
      }
      texts_read += texts.size();
      progress.reach(texts_read);
      texts.clear();
      batch_tokens = 0;
    };
    if (suspect) progress.set_unit("texts");
    for (const auto& path : paths) each(path, [&](const nlohmann::json& j, const std::string& where) {
      if (!ids_of(j, "tokens", "text", session.get(), a, where)) throw error(errc::parse, where + ": expected \"tokens\" or \"text\"");
      if (suspect) {
        batch_tokens += a.size();
        texts.push_back(a);
        if (texts.size() == model_batch || batch_tokens >= model_batch_tokens) read_batch();
        return;
      }
      progress.advance();
      const auto it = j.find("predictions");
      if (it == j.end() || !it->is_array() || it->size() != a.size()) {
        throw error(errc::parse, where + ": field \"predictions\": expected one entry per token of \"tokens\"");
      }
      // Top-k lists: the k-th predictions of every position form the k-th sequence scored; all
      // positions must give the same number of predictions.
      const std::size_t depth = (*it)[0].is_array() ? (*it)[0].size() : 1;
      for (std::size_t level = 0; level < depth; ++level) {
        predictions.assign(a.size(), -1);
        for (std::size_t i = 0; i < a.size(); ++i) {
          const auto& p = (*it)[i];
          const bool ok = depth == 1 && p.is_number_integer()
                              ? true
                              : p.is_array() && p.size() == depth && p[level].is_number_integer();
          if (!ok) {
            throw error(errc::parse, where + ": \"predictions\"[" + std::to_string(i) + "]: expected " +
                                         (depth == 1 ? std::string("a token id") : std::to_string(depth) + " token ids"));
          }
          predictions[i] = (p.is_array() ? p[level] : p).get<token_id>();
        }
        scorer.score_predictions(a, predictions);
        if (listener != nullptr) listener->predictions(a, predictions);
      }
    });
    if (suspect) {
      progress.set_total(texts_read + texts.size());
      read_batch();
    }
  }
  progress.finish();

  radioactivity_outcome o;
  o.result = scorer.result();
  std::vector<std::uint64_t> control_green;
  for (const detection& c : scorer.control_results()) {
    o.control_log10_p.push_back(c.log10_p);
    o.control_p.push_back(std::min(1.0, std::max(0.0, c.p_value)));
    control_green.push_back(c.green);
  }
  o.control_ks_p = control_check_p_values(o.result.test.scored, control_green, o.result.test.gamma,
                                          spec_.randomised_controls);
  o.valid = spec_.tape != tape_mode::none && exclude;
  const detection& t = o.result.test;
  // The control keys score the real key's tuples: when those are too few for any conclusion (a
  // 3-tuple input, or none), nothing is said of them. They are tested only when a conclusion is possible.
  o.controls_tested = o.control_p.size() >= 2 && !t.insufficient;
  if (o.controls_tested) o.ks = ks_uniform(o.control_ks_p);
  o.ks.n = o.control_p.size();
  o.controls_uniform = !o.controls_tested || o.ks.p_value >= 0.01;
  o.filter_windows = filter_ ? filter_->windows.size() : 0;
  o.outcome = !o.valid            ? "no verdict"
              : t.insufficient    ? "insufficient evidence"
              : !o.controls_uniform ? "no verdict"
              : t.detected        ? "evidence"
                                  : "no evidence";
  return o;
}

built_window_filter build_window_filter(const key& k, const std::vector<std::string>& inputs,
                                        const tritium::tokenizer* tok, std::size_t top,
                                        const progress_callback& progress) {
  progress_meter meter(progress, "records");
  std::unique_ptr<tokenizer::session> session;
  if (tok != nullptr) session = std::make_unique<tokenizer::session>(*tok);
  const std::uint32_t h = k.params().context_width;
  std::unordered_map<std::uint64_t, std::uint64_t> frequency;
  std::vector<token_id> ids;
  for (const auto& path : inputs) {
    each_record(path, [&](const nlohmann::json& j, const std::string& where) {
      if (!ids_of(j, "tokens", "text", session.get(), ids, where)) throw error(errc::parse, where + ": expected \"tokens\" or \"text\"");
      for (std::size_t i = h; i <= ids.size(); ++i) ++frequency[window_fingerprint(std::span<const token_id>(ids).subspan(i - h, h))];
      meter.advance();
    });
  }
  meter.finish();
  if (frequency.empty()) {
    throw error(errc::invalid_argument, "filter: the inputs hold no window of " + std::to_string(h) +
                                            " tokens, so the filter would hold nothing");
  }
  built_window_filter built;
  built.distinct_windows = frequency.size();
  window_filter& f = built.filter;
  f.key_id = k.id();
  f.tokenizer_digest = tok != nullptr ? tok->digest() : k.params().tokenizer_digest;
  f.context_width = h;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> ranked(frequency.begin(), frequency.end());
  std::sort(ranked.begin(), ranked.end(),
            [](const auto& a, const auto& b) { return a.second != b.second ? a.second > b.second : a.first < b.first; });
  if (top != 0 && ranked.size() > top) ranked.resize(top);
  for (const auto& [fingerprint, count] : ranked) f.windows.add(fingerprint);
  return built;
}

}  // namespace tritium
