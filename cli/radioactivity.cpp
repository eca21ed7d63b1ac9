#include "radioactivity.hpp"

#include <cmath>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>

#include "tritium/atomic_output.hpp"
#include "report_options.hpp"
#include "commands.hpp"
#include "exit_codes.hpp"
#include "option_forms.hpp"
#include "progress_line.hpp"
#include "tritium/json_records.hpp"
#include "tritium/sampler.hpp"
#include "tokenize_support.hpp"
#include "tritium/error.hpp"
#include "tritium/ngram_lm.hpp"
#include "tritium/number_text.hpp"
#include "tritium/radioactivity.hpp"
#include "tritium/radioactivity_scan.hpp"
#include "tritium/uniformity.hpp"

namespace tritium::cli {
namespace {

using ojson = nlohmann::ordered_json;

// The tape of the radioactivity papers is detect's deduplication: its "window" is the key's context.
tape_mode tape_of_dedup(const std::string& dedup) {
  if (dedup == "context+token") return tape_mode::window_token;
  if (dedup == "context") return tape_mode::window;
  if (dedup == "none") return tape_mode::none;
  throw error(errc::internal, "--dedup " + quoted_for_message(dedup) + " passed the parser's check");
}

std::string test_footer(const char* no_verdict_causes) {
  return exit_codes_footer(
      {{exit_evidence, "RADIOACTIVE: evidence at alpha that the suspect's outputs depend on key K (it learned\n"
                       "      from text watermarked with K)"},
       {exit_no_evidence, "no evidence at alpha"},
       {exit_no_verdict, std::string("no conclusion: insufficient evidence (too few scored tuples to reach alpha), or\n"
                                     "      no verdict (") + no_verdict_causes + ")"},
       {exit_input_error, input_meaning},
       {exit_usage, usage_meaning},
       {exit_io_error, output_meaning},
       {exit_internal, internal_meaning}});
}

}  // namespace

void radioactivity_commands::setup(CLI::App& parent) {
  CLI::App* group = parent.add_subcommand("radioactivity", "Was a suspect corpus or model trained on our watermarked outputs?");
  group->require_subcommand(1);
  auto common = [&](CLI::App* app) {
    app->add_option("--key,-k", key_path, "Watermark key")->required();
    app->add_option("--tokenizer,-t", tokenizer_path, "Tokenizer for text fields (and the key's binding check)");
    CLI::Option* dedup_option = app->add_option("--dedup", dedup, std::string(dedup_help) + ", across the whole test")
                                    ->check(CLI::IsMember({"context+token", "context", "none"}))
                                    ->capture_default_str();
    add_hidden_alias(*app, dedup_option, "--tape", dedup,
                     CLI::CheckedTransformer(std::map<std::string, std::string>{
                         {"window+token", "context+token"}, {"window", "context"}, {"none", "none"}}));
    app->add_option("--filter", filter_path, "Score only windows in this filter file (tritium radioactivity filter)");
    app->add_option("--controls", controls, "Control keys run beside the real key")->capture_default_str()
        ->check(CLI::Range(0u, 10000u));
    app->add_option("--alpha", alpha, "Pre-registered significance level")->capture_default_str()->check(CLI::Range(1e-300, 0.5));
    app->add_option("--curve-points", curve_points, "Points of the -log10 p curve")->capture_default_str();
    app->add_flag("--json", json, "Print one JSON object");
    add_output_option(*app, output, "Write the result here (atomically, replacing the file) instead of stdout", false);
    add_report_options(*app, report);
    add_threads_option(*app, threads);
    add_quiet_flag(*app, quiet);
  };
  corpus = group->add_subcommand("corpus", "Score a suspect corpus: JSON Lines with \"tokens\" (or \"text\" with --tokenizer)");
  common(corpus);
  corpus->add_option("--input,-i", inputs, "Corpus files")->required();
  corpus->footer(test_footer("--dedup none, or the control keys' p-values are not uniform: the null does not\n"
                             "      hold on this suspect"));
  closed = group->add_subcommand("closed", "Score a suspect's answers, excluding every window of the prompts sent");
  common(closed);
  closed->add_option("--input,-i", inputs,
                     "JSON Lines {\"prompt_tokens\" or \"prompt\", \"tokens\" or \"text\"}: what was sent and answered");
  closed->add_option("--model,-m", model_path, "Or query this reference-model file as the suspect");
  closed->add_option("--prompts,-p", prompts_path, "With --model: JSON Lines {\"prompt_tokens\" or \"prompt\"}");
  closed->add_option("--max-new-tokens", max_new_tokens, "With --model: tokens per answer")->capture_default_str();
  closed->add_option("--seed", seed, "With --model: sampling seed")->capture_default_str();
  closed->add_flag("--no-prompt-exclusion", no_prompt_exclusion, "Ablation only: score prompt windows too (no verdict)");
  closed->footer(test_footer("--dedup none, --no-prompt-exclusion, or the control keys' p-values are not\n"
                             "      uniform: the null does not hold on this suspect"));
  read = group->add_subcommand("read", "Reading mode: score an open suspect's predictions on our watermarked texts");
  common(read);
  read->add_option("--input,-i", inputs, "Our watermarked texts: JSON Lines with \"tokens\" (or \"text\")");
  read->add_option("--model,-m", model_path, "The suspect as a reference-model file (teacher-forced, top-1)");
  read->add_option("--predictions", predictions_path,
                   "Or a file of the suspect's predictions: JSON Lines {\"tokens\": [...], \"predictions\": [top-1 id or [top-k ids] per position]}");
  read->footer(test_footer("--dedup none, or the control keys' p-values are not uniform: the null does not\n"
                           "      hold on this suspect"));
  filter = group->add_subcommand("filter", "Build a filter: the windows of our watermarked outputs");
  filter->add_option("--key,-k", key_path, "Watermark key")->required();
  filter->add_option("--tokenizer,-t", tokenizer_path, "Tokenizer for text fields");
  filter->add_option("--input,-i", inputs, "Our outputs: JSON Lines with \"tokens\" (or \"text\")")->required();
  filter->add_option("--top", top, "Unsupervised: keep only the N most frequent windows (0: all)");
  add_output_option(*filter, out, "Filter file to write", true);
  filter->add_flag("--force", force, "Replace an existing filter file (without it: refused, exit 4)");
  filter->footer(exit_codes_footer({{exit_evidence, "the filter was written"},
                                    {exit_input_error, input_meaning},
                                    {exit_usage, usage_meaning_force},
                                    {exit_io_error, output_meaning},
                                    {exit_internal, internal_meaning}}) +
                 "\n" + overwrite_help);
  add_quiet_flag(*filter, quiet);
  plan = group->add_subcommand("plan", "How many scored tuples (and queries) reach a target p-value");
  plan->add_option("--scored", pilot_scored, "Pilot: scored tuples")->required();
  plan->add_option("--green", pilot_green, "Pilot: green tuples")->required();
  plan->add_option("--gamma", gamma, "The key's gamma")->capture_default_str();
  plan->add_option("--target-log10-p", target, "Target log10 p")->capture_default_str();
  plan->add_option("--per-query", scored_per_query, "Pilot: scored tuples per query (to count queries)");
  plan->add_flag("--json", json, "Print JSON");
  plan->footer(exit_codes_footer({{exit_evidence, "the plan was printed (also when no number of tuples reaches the target)"},
                                  {exit_usage, usage_meaning + std::string(" (--green above --scored, --gamma\n"
                                                                           "      outside (0, 1))")},
                                  {exit_io_error, "standard output could not be written"},
                                  {exit_internal, internal_meaning}}));
  group->footer("Exit codes: 0 RADIOACTIVE (evidence at alpha); 1 no evidence; 2 no conclusion (insufficient\n"
                "evidence or no verdict); 3 input error; 4 usage error; 5 output error; 70 internal error.\n"
                "Each subcommand's --help says what its codes mean for it.");
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
  refuse_to_replace(out, "filter file", force);  // before any work
  const tritium::key k = load_key_warn(key_path);
  atomic_output o(out);  // opened (as a temporary) before the work: an unwritable path fails first
  std::unique_ptr<tokenizer> tok;
  if (!tokenizer_path.empty()) tok = std::make_unique<tokenizer>(load_tokenizer(tokenizer_path));
  progress_line line = stderr_progress("radioactivity filter", quiet);
  const built_window_filter built = build_window_filter(k, inputs, tok.get(), top, line.callback());
  line.finish();
  const window_filter& f = built.filter;
  try {
    f.save(o.stream());
  } catch (const error& e) {
    throw error(e.code(), out + ": " + e.what());
  }
  o.commit();
  std::cerr << "tritium: wrote filter " << out << " with " << f.windows.size() << " windows ("
            << (top ? "the " + std::to_string(top) + " most frequent" : std::string("all")) << " of " << built.distinct_windows << ")\n";
  return exit_evidence;
}

int radioactivity_commands::run_plan() const {
  if (pilot_green > pilot_scored) {
    throw error(errc::usage, "plan: --green " + std::to_string(pilot_green) + " exceeds --scored " +
                                 std::to_string(pilot_scored) + " (green tuples are some of the scored ones)");
  }
  if (!(gamma > 0.0 && gamma < 1.0)) {
    throw error(errc::usage, "plan: --gamma: expected a value in (0, 1), got " + std::to_string(gamma));
  }
  if (!(target < 0.0)) {
    throw error(errc::usage, "plan: --target-log10-p: expected a negative log10 p, got " + std::to_string(target));
  }
  // Every figure comes from the command line: one out of range is a usage error.
  const scored_plan planned = as_usage([&] { return plan_with_interval(pilot_scored, pilot_green, gamma, target); });
  const std::uint64_t n = planned.scored_needed;
  ojson j;
  j["pilot_scored"] = pilot_scored;
  j["pilot_green"] = pilot_green;
  j["target_log10_p"] = target;
  j["scored_needed"] = n;
  if (planned.has_interval) {
    const std::uint64_t pessimistic = planned.scored_needed_pessimistic;
    j["share_interval_95"] = {planned.share_low, planned.share_high};
    j["scored_needed_interval_95"] = {planned.scored_needed_optimistic, pessimistic == 0 ? ojson(nullptr) : ojson(pessimistic)};
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
  // Settings the spec cannot tell given from defaulted; the spec's constructor checks the rest.
  if (mode == "closed" && model_path.empty()) {
    for (const char* name : {"--max-new-tokens", "--seed"}) {
      if (closed->count(name) > 0) {
        throw error(errc::usage, std::string("radioactivity closed: ") + name +
                                     " is read only with --model (it sets how the model answers)");
      }
    }
  }
  const tritium::key k = load_key_warn(key_path);
  const std::unique_ptr<report_writer> writer = report.open();  // a bad signing key or output path fails first
  radioactivity_spec spec;
  spec.mode = *radioactivity_mode_from_name(mode);
  for (const auto& path : inputs) spec.inputs.push_back(report.name(path));
  spec.tokenizer = report.name(tokenizer_path);
  spec.tape = tape_of_dedup(dedup);
  spec.filter = report.name(filter_path);
  spec.controls = controls;
  spec.alpha = alpha;
  spec.alpha_source = alpha_source_of(*(mode == "corpus" ? corpus : mode == "closed" ? closed : read), "--alpha");
  spec.curve_points = curve_points;
  spec.model = report.name(model_path);
  spec.prompts = report.name(prompts_path);
  spec.predictions = report.name(predictions_path);
  spec.max_new_tokens = max_new_tokens;
  spec.seed = seed;
  spec.prompt_exclusion = !no_prompt_exclusion;
  scan_environment env;
  env.base = report.requested() ? report.context().base : std::filesystem::path();
  env.threads = threads;
  progress_line line = stderr_progress("radioactivity " + mode, quiet);
  env.progress = line.callback();
  radioactivity_scan scan(spec, k, env);
  atomic_output o(output);  // opened (as a temporary) before the work: an unwritable path fails first
  radioactivity_outcome r;
  ojson statement;
  if (writer) {
    radioactivity_report run = run_radioactivity_test(scan, report.context());
    r = std::move(run.outcome);
    statement = std::move(run.statement);
  } else {
    r = scan.run();
  }
  const detection& t = r.result.test;
  const bool exclude = mode != "closed" || !no_prompt_exclusion;
  ojson j;
  j["mode"] = mode;
  j["key_id"] = k.id();
  j["dedup"] = dedup;
  j["tape"] = tape_mode_name(spec.tape);  // the same setting, as the library and a report name it
  j["prompt_exclusion"] = mode == "closed" ? exclude : false;
  j["filter"] = !filter_path.empty() ? ojson{{"path", filter_path}, {"windows", r.filter_windows}} : ojson(nullptr);
  j["counts"] = {{"read", r.result.counts.read}, {"prompt_excluded", r.result.counts.prompt_excluded},
                 {"filtered_out", r.result.counts.filtered_out}, {"duplicates", r.result.counts.duplicates}};
  j["scored"] = t.scored;
  j["green"] = t.green;
  j["gamma"] = t.gamma;
  j["log10_p"] = t.log10_p;
  j["p_value"] = t.p_value;
  j["z"] = t.z;
  j["alpha"] = alpha;
  j["detected"] = r.outcome == "evidence";
  j["insufficient"] = t.insufficient;
  j["p_value_valid"] = r.valid;
  ojson curve = ojson::array();
  for (const auto& p : t.curve) curve.push_back({p.scored, p.minus_log10_p});
  j["curve"] = curve;
  j["controls"] = {{"count", r.control_p.size()}, {"log10_p", r.control_log10_p}, {"tested", r.controls_tested},
                   {"ks_statistic", r.ks.statistic}, {"ks_p_value", r.ks.p_value}, {"uniform", r.controls_uniform}};
  if (json) {
    o.stream() << j.dump() << "\n";
  } else {
    o.stream() << "Radioactivity test (" << mode << " mode), key " << k.id().substr(0, 16) << "\n"
               << "  H0: the suspect's outputs are independent of the key\n"
               << "  tuples read " << r.result.counts.read << ", prompt-excluded " << r.result.counts.prompt_excluded
               << ", filtered out " << r.result.counts.filtered_out << ", duplicates " << r.result.counts.duplicates << "\n"
               << "  scored " << t.scored << ", green " << t.green << " (" << std::fixed << std::setprecision(4)
               << (t.scored ? static_cast<double>(t.green) / static_cast<double>(t.scored) : 0.0)
               << " against gamma " << t.gamma << "), log10 p " << std::setprecision(2) << t.log10_p << "\n"
               << "  control keys: " << r.control_p.size();
    if (r.controls_tested) {
      o.stream() << ", KS p = " << std::setprecision(3) << r.ks.p_value
                 << (r.controls_uniform ? " (consistent with the null)" : " (NOT uniform: the null does not hold on this suspect)");
    } else if (!r.control_p.empty()) {
      o.stream() << ", not tested (too few scored tuples for any conclusion)";
    }
    o.stream() << "\n"
               << "  verdict: "
               << (r.outcome == "evidence"                ? "RADIOACTIVE at alpha = " + shortest_text(alpha)
                   : r.outcome == "insufficient evidence" ? std::string("insufficient evidence (too few scored tuples for any conclusion)")
                   : r.outcome == "no evidence"           ? "no evidence at alpha = " + shortest_text(alpha)
                   : !r.valid                             ? std::string("none (deduplication or prompt exclusion is off)")
                                                          : std::string("none (the control keys are not uniform)"))
               << "\n";
  }
  o.commit();
  if (writer) writer->write(statement);
  // "no verdict" is no conclusion, as "insufficient evidence" is: never the "no evidence" of exit 1.
  return r.outcome == "evidence" ? exit_evidence : r.outcome == "no evidence" ? exit_no_evidence : exit_no_verdict;
}

}  // namespace tritium::cli
