#include "radioactivity.hpp"

#include <cmath>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <numbers>

#include "tritium/atomic_output.hpp"
#include "evidence.hpp"
#include "commands.hpp"
#include "exit_codes.hpp"
#include "tritium/json_records.hpp"
#include "tritium/sampler.hpp"
#include "tokenize_support.hpp"
#include "tritium/binomial_tail.hpp"
#include "tritium/error.hpp"
#include "tritium/ngram_lm.hpp"
#include "tritium/radioactivity.hpp"
#include "tritium/uniformity.hpp"

namespace tritium::cli {
namespace {

using ojson = nlohmann::ordered_json;

tape_mode tape_of(const std::string& name) {
  if (name == "none") return tape_mode::none;
  if (name == "window") return tape_mode::window;
  return tape_mode::window_token;
}

// A suspect we can query: the reference n-gram model (any language_model could stand here).
struct suspect_model {
  std::unique_ptr<ngram_lm> model;
  explicit suspect_model(const std::string& path) : model(std::make_unique<ngram_lm>(load_model(path))) {}
};

}  // namespace

void radioactivity_commands::setup(CLI::App& parent) {
  CLI::App* group = parent.add_subcommand("radioactivity", "Was a suspect corpus or model trained on our watermarked outputs?");
  group->require_subcommand(1);
  auto common = [&](CLI::App* app) {
    app->add_option("--key,-k", key_path, "Watermark key")->required();
    app->add_option("--tokenizer,-t", tokenizer_path, "Tokenizer for text fields (and the key's binding check)");
    app->add_option("--tape", tape, "Score each tuple once: window+token (default), window, or none (no verdict)")
        ->check(CLI::IsMember({"window+token", "window", "none"}))->capture_default_str();
    app->add_option("--filter", filter_path, "Score only windows in this filter file (tritium radioactivity filter)");
    app->add_option("--controls", controls, "Control keys run beside the real key")->capture_default_str()
        ->check(CLI::Range(0u, 10000u));
    app->add_option("--alpha", alpha, "Pre-registered significance level")->capture_default_str()->check(CLI::Range(1e-300, 0.5));
    app->add_option("--curve-points", curve_points, "Points of the -log10 p curve")->capture_default_str();
    app->add_flag("--json", json, "Print one JSON object");
    app->add_option("--output,-o", output, "Write the result here (atomically)");
    add_report_options(*app, report);
  };
  corpus = group->add_subcommand("corpus", "Score a suspect corpus: JSON Lines with \"tokens\" (or \"text\" with --tokenizer)");
  common(corpus);
  corpus->add_option("--input,-i", inputs, "Corpus files")->required();
  closed = group->add_subcommand("closed", "Score a suspect's answers, excluding every window of the prompts sent");
  common(closed);
  closed->add_option("--input,-i", inputs,
                     "JSON Lines {\"prompt_tokens\" or \"prompt\", \"tokens\" or \"text\"}: what was sent and answered");
  closed->add_option("--model,-m", model_path, "Or query this reference-model file as the suspect");
  closed->add_option("--prompts,-p", prompts_path, "With --model: JSON Lines {\"prompt_tokens\" or \"prompt\"}");
  closed->add_option("--max-new-tokens", max_new_tokens, "With --model: tokens per answer")->capture_default_str();
  closed->add_option("--seed", seed, "With --model: sampling seed")->capture_default_str();
  closed->add_flag("--no-prompt-exclusion", no_prompt_exclusion, "Ablation only: score prompt windows too (no verdict)");
  read = group->add_subcommand("read", "Reading mode: score an open suspect's predictions on our watermarked texts");
  common(read);
  read->add_option("--input,-i", inputs, "Our watermarked texts: JSON Lines with \"tokens\" (or \"text\")");
  read->add_option("--model,-m", model_path, "The suspect as a reference-model file (teacher-forced, top-1)");
  read->add_option("--predictions", predictions_path,
                   "Or a file of the suspect's predictions: JSON Lines {\"tokens\": [...], \"predictions\": [top-1 id or [top-k ids] per position]}");
  filter = group->add_subcommand("filter", "Build a filter: the windows of our watermarked outputs");
  filter->add_option("--key,-k", key_path, "Watermark key")->required();
  filter->add_option("--tokenizer,-t", tokenizer_path, "Tokenizer for text fields");
  filter->add_option("--input,-i", inputs, "Our outputs: JSON Lines with \"tokens\" (or \"text\")")->required();
  filter->add_option("--top", top, "Unsupervised: keep only the N most frequent windows (0: all)");
  filter->add_option("--out,-o", out, "Filter file to write")->required();
  plan = group->add_subcommand("plan", "How many scored tuples (and queries) reach a target p-value");
  plan->add_option("--scored", pilot_scored, "Pilot: scored tuples")->required();
  plan->add_option("--green", pilot_green, "Pilot: green tuples")->required();
  plan->add_option("--gamma", gamma, "The key's gamma")->capture_default_str();
  plan->add_option("--target-log10-p", target, "Target log10 p")->capture_default_str();
  plan->add_option("--per-query", scored_per_query, "Pilot: scored tuples per query (to count queries)");
  plan->add_flag("--json", json, "Print JSON");
}

int radioactivity_commands::run() const {
  if (corpus->parsed()) return run_test("corpus");
  if (closed->parsed()) return run_test("closed");
  if (read->parsed()) return run_test("read");
  if (filter->parsed()) return run_filter();
  if (plan->parsed()) return run_plan();
  return -1;
}

int radioactivity_commands::run_filter() const {
  const tritium::key k = load_key_warn(key_path);
  atomic_output o(out);  // opened (as a temporary) before the work: an unwritable path fails first
  std::unique_ptr<tokenizer> tok;
  std::unique_ptr<tokenizer::session> session;
  if (!tokenizer_path.empty()) {
    tok = std::make_unique<tokenizer>(load_tokenizer(tokenizer_path));
    session = std::make_unique<tokenizer::session>(*tok);
  }
  const std::uint32_t h = k.params().context_width;
  std::unordered_map<std::uint64_t, std::uint64_t> frequency;
  std::vector<token_id> ids;
  for (const auto& path : inputs) {
    each_record(path, [&](const nlohmann::json& j, const std::string& where) {
      if (!ids_of(j, "tokens", "text", session.get(), ids, where)) throw error(errc::parse, where + ": expected \"tokens\" or \"text\"");
      for (std::size_t i = h; i <= ids.size(); ++i) ++frequency[window_fingerprint(std::span<const token_id>(ids).subspan(i - h, h))];
    });
  }
  window_filter f;
  f.key_id = k.id();
  f.tokenizer_digest = tok ? tok->digest() : k.params().tokenizer_digest;
  f.context_width = h;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> ranked(frequency.begin(), frequency.end());
  std::sort(ranked.begin(), ranked.end(), [](auto& a, auto& b) { return a.second != b.second ? a.second > b.second : a.first < b.first; });
  if (top != 0 && ranked.size() > top) ranked.resize(top);
  for (const auto& [fp, count] : ranked) f.windows.add(fp);
  try {
    f.save(o.stream());
  } catch (const error& e) {
    throw error(e.code(), out + ": " + e.what());
  }
  o.commit();
  std::cerr << "tritium: wrote filter " << out << " with " << f.windows.size() << " windows ("
            << (top ? "the " + std::to_string(top) + " most frequent" : std::string("all")) << " of " << frequency.size() << ")\n";
  return exit_evidence;
}

int radioactivity_commands::run_plan() const {
  if (pilot_green > pilot_scored) {
    throw error(errc::invalid_argument, "plan: --green " + std::to_string(pilot_green) + " exceeds --scored " +
                                            std::to_string(pilot_scored));
  }
  const std::uint64_t n = plan_scored_tuples(pilot_scored, pilot_green, gamma, target);
  // The pilot's share is itself uncertain: the plan is repeated at the ends of its 95% Wilson
  // interval (a planning aid, never a decision). A lower end at or below gamma means "maybe never".
  const double ns = static_cast<double>(pilot_scored);
  const double share = ns > 0 ? static_cast<double>(pilot_green) / ns : 0.0;
  const double z = 1.959963984540054, z2 = z * z;
  const double centre = (share + z2 / (2 * ns)) / (1 + z2 / ns);
  const double half = z * std::sqrt(share * (1 - share) / ns + z2 / (4 * ns * ns)) / (1 + z2 / ns);
  auto plan_at = [&](double s) {
    const auto green = static_cast<std::uint64_t>(std::floor(std::clamp(s, 0.0, 1.0) * ns));
    return plan_scored_tuples(pilot_scored, green, gamma, target);
  };
  ojson j;
  j["pilot_scored"] = pilot_scored;
  j["pilot_green"] = pilot_green;
  j["target_log10_p"] = target;
  j["scored_needed"] = n;
  if (pilot_scored > 0) {
    const std::uint64_t optimistic = plan_at(centre + half), pessimistic = plan_at(centre - half);
    j["share_interval_95"] = {centre - half, centre + half};
    j["scored_needed_interval_95"] = {optimistic, pessimistic == 0 ? ojson(nullptr) : ojson(pessimistic)};
  }
  if (scored_per_query > 0 && n > 0) j["queries_needed"] = std::ceil(static_cast<double>(n) / scored_per_query);
  if (json) {
    std::cout << j.dump() << "\n";
  } else if (n == 0) {
    std::cout << "The pilot shows no green excess over gamma = " << gamma << ": no number of tuples is expected to reach the target.\n";
  } else {
    std::cout << "About " << n << " scored tuples are expected to reach log10 p <= " << target;
    if (j.contains("queries_needed")) std::cout << " (" << j["queries_needed"].get<double>() << " queries)";
    std::cout << ".\n";
    const auto& range = j["scored_needed_interval_95"];
    std::cout << "With the pilot's green share anywhere in its 95% interval [" << j["share_interval_95"][0].get<double>()
              << ", " << j["share_interval_95"][1].get<double>() << "]: from " << range[0].get<std::uint64_t>() << " to "
              << (range[1].is_null() ? std::string("never (the interval reaches gamma)") : std::to_string(range[1].get<std::uint64_t>()))
              << " tuples. The plan assumes the share stays what the pilot saw.\n";
  }
  return exit_evidence;
}

int radioactivity_commands::run_test(const std::string& mode) const {
  const tritium::key k = load_key_warn(key_path);
  evidence_run ev(report);
  // Every file the result depends on is a subject, hashed before it is read.
  for (const auto& path : inputs) ev.subject(path);
  for (const std::string* path : {&tokenizer_path, &model_path, &prompts_path, &predictions_path, &filter_path}) {
    if (!path->empty()) ev.subject(*path);
  }
  std::unique_ptr<tokenizer> tok;
  std::unique_ptr<tokenizer::session> session;
  if (!tokenizer_path.empty()) {
    tok = std::make_unique<tokenizer>(load_tokenizer(tokenizer_path));
    k.require_tokenizer(tok->digest());
    session = std::make_unique<tokenizer::session>(*tok);
  }
  std::unique_ptr<window_filter> filter_file;
  if (!filter_path.empty()) {
    filter_file = std::make_unique<window_filter>(load_filter(filter_path, k, tok ? tok->digest() : ""));
  }
  radioactivity_options options;
  options.tape = tape_of(tape);
  options.alpha = alpha;
  options.curve_points = curve_points;
  atomic_output o(output);  // opened (as a temporary) before the work: an unwritable path fails first
  // The control keys score exactly the real key's tuples, through its tape.
  radioactivity_scorer scorer(k, options);
  if (filter_file) scorer.set_filter(&filter_file->windows);
  scorer.add_control_keys(control_keys(k, controls));
  const bool exclude = !no_prompt_exclusion;
  auto score_answer = [&](const std::vector<token_id>& prompt, const std::vector<token_id>& answer) {
    if (exclude) scorer.exclude_windows(prompt);
    scorer.score_text(answer);
  };
  std::vector<token_id> a, b;
  if (mode == "corpus") {
    for (const auto& path : inputs) {
      each_record(path, [&](const nlohmann::json& j, const std::string& where) {
        if (!ids_of(j, "tokens", "text", session.get(), a, where)) throw error(errc::parse, where + ": expected \"tokens\" or \"text\"");
        scorer.score_text(a);
      });
    }
  } else if (mode == "closed") {
    if (!model_path.empty()) {
      const suspect_model suspect(model_path);
      next_token_sampler sampler(*suspect.model, nullptr, true, 1.0, 1.0, tok ? tok->vocab_size() : 0);
      std::uint64_t index = 0;
      each_record(prompts_path, [&](const nlohmann::json& j, const std::string& where) {
        if (!ids_of(j, "prompt_tokens", "prompt", session.get(), a, where)) throw error(errc::parse, where + ": expected \"prompt_tokens\" or \"prompt\"");
        score_answer(a, sampler.generate(a, max_new_tokens, seed * 1000003ULL + index++));
      });
    } else {
      for (const auto& path : inputs) {
        each_record(path, [&](const nlohmann::json& j, const std::string& where) {
          if (!ids_of(j, "prompt_tokens", "prompt", session.get(), a, where)) throw error(errc::parse, where + ": expected \"prompt_tokens\" or \"prompt\"");
          if (!ids_of(j, "tokens", "text", session.get(), b, where)) throw error(errc::parse, where + ": expected \"tokens\" or \"text\"");
          score_answer(a, b);
        });
      }
    }
  } else {  // read
    std::unique_ptr<suspect_model> suspect;
    if (!model_path.empty()) suspect = std::make_unique<suspect_model>(model_path);
    // With --model, every --input file in order (one tape across all); else the predictions file.
    const std::vector<std::string> paths = suspect ? inputs : std::vector<std::string>{predictions_path};
    if (paths.empty() || paths.front().empty()) {
      throw error(errc::invalid_argument, "read: give --input with --model, or --predictions");
    }
    std::vector<double> probs(suspect ? suspect->model->vocab_size() : 0);
    std::vector<token_id> predictions;
    for (const auto& path : paths) each_record(path, [&](const nlohmann::json& j, const std::string& where) {
      if (!ids_of(j, "tokens", "text", session.get(), a, where)) throw error(errc::parse, where + ": expected \"tokens\" or \"text\"");
      if (suspect) {
        predictions.assign(a.size(), 0);
        const std::size_t context = suspect->model->context_length();
        for (std::size_t i = 0; i < a.size(); ++i) {
          const std::size_t from = i + 1 > context ? i + 1 - context : 0;
          suspect->model->distribution(std::span<const token_id>(a).subspan(from, i + 1 - from), probs);
          predictions[i] = static_cast<token_id>(std::max_element(probs.begin(), probs.end()) - probs.begin());
        }
        scorer.score_predictions(a, predictions);
        return;
      }
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
      }
    });
  }

  const radioactivity_result r = scorer.result();
  std::vector<double> control_log10;
  std::vector<double> control_p;
  for (const detection& c : scorer.control_results()) {
    control_log10.push_back(c.log10_p);
    control_p.push_back(std::min(1.0, std::max(0.0, c.p_value)));
  }
  const bool valid = options.tape != tape_mode::none && exclude;
  const ks_result ks = control_p.size() >= 2 ? ks_uniform(control_p) : ks_result{0.0, 1.0, control_p.size()};
  // Binomial p-values are discrete, so uniformity of the controls is judged loosely (KS at 0.01).
  const bool controls_ok = control_p.size() < 2 || ks.p_value >= 0.01;
  ojson j;
  j["mode"] = mode;
  j["key_id"] = k.id();
  j["tape"] = tape;
  j["prompt_exclusion"] = mode == "closed" ? exclude : false;
  j["filter"] = filter_file ? ojson{{"path", filter_path}, {"windows", filter_file->windows.size()}} : ojson(nullptr);
  j["counts"] = {{"read", r.counts.read}, {"prompt_excluded", r.counts.prompt_excluded},
                 {"filtered_out", r.counts.filtered_out}, {"duplicates", r.counts.duplicates}};
  j["scored"] = r.test.scored;
  j["green"] = r.test.green;
  j["gamma"] = r.test.gamma;
  j["log10_p"] = r.test.log10_p;
  j["p_value"] = r.test.p_value;
  j["z"] = r.test.z;
  j["alpha"] = alpha;
  j["detected"] = valid && controls_ok && r.test.detected;
  j["insufficient"] = r.test.insufficient;
  j["p_value_valid"] = valid;
  ojson curve = ojson::array();
  for (const auto& p : r.test.curve) curve.push_back({p.scored, p.minus_log10_p});
  j["curve"] = curve;
  j["controls"] = {{"count", control_p.size()}, {"log10_p", control_log10}, {"ks_statistic", ks.statistic},
                   {"ks_p_value", ks.p_value}, {"uniform", controls_ok}};
  if (json) {
    o.stream() << j.dump() << "\n";
  } else {
    o.stream() << "Radioactivity test (" << mode << " mode), key " << k.id().substr(0, 16) << "\n"
               << "  H0: the suspect's outputs are independent of the key\n"
               << "  tuples read " << r.counts.read << ", prompt-excluded " << r.counts.prompt_excluded << ", filtered out "
               << r.counts.filtered_out << ", duplicates " << r.counts.duplicates << "\n"
               << "  scored " << r.test.scored << ", green " << r.test.green << " (" << std::fixed << std::setprecision(4)
               << (r.test.scored ? static_cast<double>(r.test.green) / static_cast<double>(r.test.scored) : 0.0)
               << " against gamma " << r.test.gamma << "), log10 p " << std::setprecision(2) << r.test.log10_p << "\n"
               << "  control keys: " << control_p.size() << ", KS p = " << std::setprecision(3) << ks.p_value
               << (controls_ok ? " (consistent with the null)" : " (NOT uniform: the null does not hold on this suspect)") << "\n"
               << "  verdict: "
               << (!valid ? "none (deduplication or prompt exclusion is off)"
                          : !controls_ok ? "none (the control keys are not uniform)"
                          : r.test.detected ? "RADIOACTIVE at alpha = " + std::to_string(alpha)
                          : r.test.insufficient ? "insufficient tuples" : "no evidence")
               << "\n";
  }
  o.commit();
  if (ev.active()) {
    ojson p;
    p["test"] = "radioactivity " + mode;
    p["hypothesis"] = {
        {"null", "H0: " + std::string(mode == "corpus" ? "the suspect corpus is" : mode == "closed" ? "the suspect's answers are" : "the suspect's predictions are") +
                     " independent of key " + k.id() +
                     ", as they are when the suspect was never trained on text watermarked with it (the key is never "
                     "disclosed; its id is a commitment to it)"},
        {"alternative", "the suspect was trained on text watermarked with this key, and favours its green tuples"},
        {"not_claimed", "how much of the suspect's training data carried the watermark, or who trained the suspect"}};
    p["method"] = method_of(k, "global tape: " + tape + (mode == "closed" ? (exclude ? "; prompt windows excluded" : "; prompt windows NOT excluded") : ""),
                            "one test over all scored tuples of the run");
    p["key"] = key_identity_of(k);
    p["input"] = input_of(tok.get(), tokenizer_path, "error");
    ojson settings;
    settings["mode"] = mode;
    settings["tape"] = tape;
    settings["prompt_exclusion"] = mode == "closed" ? exclude : false;
    settings["filter"] = filter_file ? ojson{{"file", filter_path}, {"windows", filter_file->windows.size()}} : ojson(nullptr);
    settings["suspect"] = !model_path.empty() ? "reference-model file " + model_path
                          : !predictions_path.empty() ? "predictions file " + predictions_path : std::string("files given");
    if (mode == "closed" && !model_path.empty()) {
      settings["max_new_tokens"] = max_new_tokens;
      settings["seed"] = seed;
    }
    p["settings"] = settings;
    p["totals"] = {{"read", r.counts.read}, {"prompt_excluded", r.counts.prompt_excluded},
                   {"filtered_out", r.counts.filtered_out}, {"duplicates", r.counts.duplicates},
                   {"scored", r.test.scored}, {"green", r.test.green}};
    const std::string outcome = !valid ? "no verdict" : !controls_ok ? "no verdict"
                                : r.test.detected ? "evidence" : r.test.insufficient ? "insufficient evidence" : "no evidence";
    std::ostringstream words;
    words << std::setprecision(6);
    const std::string id16 = k.id().substr(0, 16);
    if (outcome == "evidence") {
      words << "Evidence that the suspect was trained on text watermarked with key " << id16 << ": if its outputs were "
            << "independent of the key, a green share at least this high would have probability 10^"
            << std::fixed << std::setprecision(2) << r.test.log10_p << std::defaultfloat << std::setprecision(6)
            << ", at or below the decision threshold alpha = " << alpha << ". The " << control_p.size()
            << " control keys behave as the null predicts (KS p = " << std::setprecision(3) << ks.p_value << ").";
    } else if (outcome == "no evidence") {
      words << "No evidence at alpha = " << alpha << ": the suspect's green share is consistent with outputs independent of key "
            << id16 << " (log10 p = " << std::fixed << std::setprecision(2) << r.test.log10_p << std::defaultfloat
            << "). A weak contamination may need more scored tuples (tritium radioactivity plan).";
    } else if (outcome == "insufficient evidence") {
      words << "Insufficient evidence: with " << r.test.scored << " scored tuples, not even an all-green result could reach alpha = "
            << alpha << "; no conclusion either way.";
    } else if (!valid) {
      words << "No verdict: " << (options.tape == tape_mode::none ? "the tape was off, so repeated tuples were scored again"
                                                                  : "prompt windows were not excluded")
            << "; the independence the p-value assumes does not hold. The figures are for demonstration only.";
    } else {
      words << "No verdict: the control keys are not uniform (KS p = " << std::setprecision(3) << ks.p_value
            << "), so the null does not hold on this suspect and its p-value cannot be trusted.";
    }
    p["decision"] = decision_of(alpha, "none (one pooled test); control keys checked for uniformity", outcome, r.test.log10_p,
                                words.str());
    if (outcome == "no verdict") p["decision"]["log10_p"] = nullptr;  // no valid p-value to decide on
    p["decisive_test"] = {{"label", "all scored tuples, in reading order"}, {"scored", r.test.scored},
                          {"green", r.test.green}, {"log10_p", r.test.log10_p}, {"gamma", r.test.gamma},
                          {"threshold_log10_p", std::log10(alpha)}, {"curve", curve_of(r.test.curve)}};
    p["controls"] = {{"count", control_p.size()}, {"log10_p", control_log10}, {"ks_statistic", ks.statistic},
                     {"ks_p_value", ks.p_value}, {"uniform", controls_ok}};
    p["limits"] = ojson::array(
        {"The p-value holds under H0 for tuples scored once (the tape) and, in closed mode, with prompt windows excluded.",
         "Radioactivity shows training on text watermarked with this key; it does not say how that text was obtained.",
         "No evidence is not proof of absence: a small watermarked share needs many scored tuples."});
    ev.finish(std::move(p));
  }
  if (!valid || !controls_ok) return exit_no_evidence;
  return r.test.detected ? exit_evidence : r.test.insufficient ? exit_insufficient : exit_no_evidence;
}

}  // namespace tritium::cli
