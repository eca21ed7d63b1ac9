#include "trace.hpp"

#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "exit_codes.hpp"
#include "option_forms.hpp"
#include "progress_line.hpp"
#include "report_options.hpp"
#include "tokenize_support.hpp"
#include "tritium/atomic_output.hpp"
#include "tritium/error.hpp"
#include "tritium/key.hpp"
#include "tritium/number_text.hpp"
#include "tritium/trace_scan.hpp"

namespace tritium::cli {
namespace {

// A log10 p-value with two decimals; a value that rounds to zero prints as 0.00, never -0.00.
double shown(double log10_p) { return log10_p > -0.005 ? 0.0 : log10_p; }

using ojson = nlohmann::ordered_json;

tape_mode tape_of(const std::string& dedup) {
  if (dedup == "context+token") return tape_mode::window_token;
  if (dedup == "context") return tape_mode::window;
  if (dedup == "none") return tape_mode::none;
  throw error(errc::internal, "--dedup " + dedup + " passed the parser's check");
}

std::string footer(const char* no_verdict_causes) {
  return exit_codes_footer(
      {{exit_evidence, "ACCUSED: at least one registered account's code word is in the suspect's text at\n"
                       "      family-wise alpha (the text holds outputs generated for that account)"},
       {exit_no_evidence, "no account accused at alpha (the global test may still find our watermark)"},
       {exit_no_verdict, std::string("no conclusion: insufficient evidence (nothing counted, or not even the top\n"
                                     "      score could reach alpha), or no verdict (") + no_verdict_causes + ")"},
       {exit_input_error, input_meaning},
       {exit_usage, std::string(usage_meaning) + "; or a key without trace parameters"},
       {exit_io_error, output_meaning},
       {exit_internal, internal_meaning}});
}

const trace_params& trace_params_of(const key& k, const std::string& path) {
  const trace_params* p = k.trace();
  if (p == nullptr) {
    throw error(errc::usage, "key " + path + " has no trace parameters: accounts are traced only with a key made by "
                             "`tritium keygen --trace` (and outputs generated with --account)");
  }
  return *p;
}

}  // namespace

void trace_commands::setup(CLI::App& parent) {
  CLI::App* group = parent.add_subcommand(
      "trace", "Which registered accounts' outputs does a suspect corpus or model hold?");
  group->require_subcommand(1);
  auto common = [&](CLI::App* app) {
    app->add_option("--key,-k", key_path, "Watermark key (made with keygen --trace)")->required();
    app->add_option("--registry,-r", registry_path,
                    "The accounts to rank: JSON Lines {\"account\": \"<id>\"}, every id the test covers")
        ->required();
    app->add_option("--tokenizer,-t", tokenizer_path, "Tokenizer for text fields (and the key's binding check)");
    app->add_option("--dedup", dedup, std::string(dedup_help) + ", for the global test")
        ->check(CLI::IsMember({"context+token", "context", "none"}))
        ->capture_default_str();
    app->add_option("--filter", filter_path, "Count only windows in this filter file (tritium radioactivity filter)");
    app->add_option("--controls", controls, "Control keys beside the real key (global test)")
        ->capture_default_str()
        ->check(CLI::Range(0u, 10000u));
    app->add_option("--alpha", alpha, "Family-wise significance level of an accusation, over the registry")
        ->capture_default_str()
        ->check(CLI::Range(1e-300, 0.5));
    app->add_option("--global-alpha", global_alpha, "Significance level of the global radioactivity test")
        ->capture_default_str()
        ->check(CLI::Range(1e-300, 0.5));
    app->add_option("--decoys", decoys, "Never-issued decoy accounts ranked as a check of the null")
        ->capture_default_str()
        ->check(CLI::Range(0u, 1000000u));
    app->add_option("--list", listed, "Non-accused accounts listed after the accused, best first")->capture_default_str();
    app->add_flag("--json", json, "Print one JSON object");
    add_output_option(*app, output, "Write the result here (atomically, replacing the file) instead of stdout", false);
    add_report_options(*app, report);
    add_threads_option(*app, threads);
    add_quiet_flag(*app, quiet);
  };
  corpus = group->add_subcommand("corpus", "Trace accounts in a suspect corpus: JSON Lines with \"tokens\" (or \"text\" with --tokenizer)");
  common(corpus);
  corpus->add_option("--input,-i", inputs, "Corpus files")->required();
  corpus->footer(footer("--dedup none, the control keys or the decoys are not uniform"));
  closed = group->add_subcommand("closed", "Trace accounts in a suspect model's answers, prompt windows excluded");
  common(closed);
  closed->add_option("--input,-i", inputs, "JSON Lines {\"prompt_tokens\" or \"prompt\", \"tokens\" or \"text\"}");
  closed->add_option("--model,-m", model_path, "Or query this reference-model file as the suspect");
  closed->add_option("--prompts,-p", prompts_path, "With --model: JSON Lines {\"prompt_tokens\" or \"prompt\"}");
  closed->add_option("--max-new-tokens", max_new_tokens, "With --model: tokens per answer")->capture_default_str();
  closed->add_option("--seed", seed, "With --model: sampling seed")->capture_default_str();
  closed->add_flag("--no-prompt-exclusion", no_prompt_exclusion, "Ablation only: count prompt windows too (no verdict)");
  closed->footer(footer("--dedup none, --no-prompt-exclusion, the control keys or the decoys are not uniform"));
  read = group->add_subcommand("read", "Reading mode: trace accounts in an open suspect's predictions on our texts");
  common(read);
  read->add_option("--input,-i", inputs, "Our watermarked texts: JSON Lines with \"tokens\" (or \"text\")");
  read->add_option("--model,-m", model_path, "The suspect as a reference-model file (teacher-forced, top-1)");
  read->add_option("--predictions", predictions_path, "Or a file of the suspect's predictions (as radioactivity read)");
  read->footer(footer("--dedup none, the control keys or the decoys are not uniform"));
  group->footer("Exit codes: 0 accounts accused; 1 no account accused; 2 no conclusion (insufficient evidence\n"
                "or no verdict); 3 input error; 4 usage error; 5 output error; 70 internal error.\n"
                "Each subcommand's --help says what its codes mean for it.");
}

int trace_commands::run() const {
  if (corpus->parsed()) return run_test("corpus");
  if (closed->parsed()) return run_test("closed");
  if (read->parsed()) return run_test("read");
  return -1;
}

int trace_commands::run_test(const std::string& mode) const {
  if (mode == "closed" && model_path.empty()) {
    for (const char* name : {"--max-new-tokens", "--seed"}) {
      if (closed->count(name) > 0) {
        throw error(errc::usage, std::string("trace closed: ") + name + " is read only with --model (it sets how the model answers)");
      }
    }
  }
  const tritium::key k = load_key_warn(key_path);
  const trace_params& params = trace_params_of(k, key_path);
  const std::unique_ptr<report_writer> writer = report.open();  // a bad signing key or output path fails first
  const CLI::App& app = *(mode == "corpus" ? corpus : mode == "closed" ? closed : read);
  trace_spec spec;
  radioactivity_spec& s = spec.scan;
  s.mode = *radioactivity_mode_from_name(mode);
  for (const auto& path : inputs) s.inputs.push_back(report.name(path));
  s.tokenizer = report.name(tokenizer_path);
  s.tape = tape_of(dedup);
  s.filter = report.name(filter_path);
  s.controls = controls;
  s.alpha = global_alpha;
  s.alpha_source = alpha_source_of(app, "--global-alpha");
  s.model = report.name(model_path);
  s.prompts = report.name(prompts_path);
  s.predictions = report.name(predictions_path);
  s.max_new_tokens = max_new_tokens;
  s.seed = seed;
  s.prompt_exclusion = !no_prompt_exclusion;
  spec.registry = report.name(registry_path);
  spec.alpha = alpha;
  spec.alpha_source = alpha_source_of(app, "--alpha", "1e-06");
  spec.decoys = decoys;
  spec.listed = listed;
  scan_environment env;
  env.base = report.requested() ? report.context().base : std::filesystem::path();
  env.threads = threads;
  progress_line line = stderr_progress("trace " + mode, quiet);
  env.progress = line.callback();
  trace_scan scan(spec, k, params, env);
  atomic_output o(output);  // opened (as a temporary) before the work: an unwritable path fails first
  trace_outcome r;
  ojson statement;
  if (writer) {
    trace_report run = run_trace_test(scan, report.context());
    r = std::move(run.outcome);
    statement = std::move(run.statement);
  } else {
    r = scan.run();
  }
  line.finish();
  const detection& g = r.global.result.test;
  ojson j;
  j["mode"] = mode;
  j["key_id"] = k.id();
  j["registry"] = {{"path", registry_path}, {"sha256", r.registry_digest}, {"accounts", r.accounts}};
  j["trace"] = {{"code_length", params.code_length}, {"symbols", 1u << params.symbol_bits},
                {"position_width", params.position_width}, {"account_delta", params.account_delta}};
  j["global"] = {{"scored", g.scored}, {"green", g.green}, {"gamma", g.gamma}, {"log10_p", g.log10_p},
                 {"alpha", global_alpha}, {"outcome", r.global.outcome}};
  j["counts"] = {{"tuples_read", r.tuples_read}, {"tuples_counted", r.counts.tuples}, {"sha256", r.counts.digest()}};
  j["null"] = {{"mean", r.null_mean}, {"sd", r.null_sd}, {"support", r.null_support},
               {"best_possible_log10_p_fw", r.best_possible_log10_p_fw}};
  ojson rows = ojson::array();
  for (const ranked_account& a : r.listed) {
    rows.push_back({{"account", a.id}, {"score", a.score}, {"log10_p", a.log10_p}, {"log10_p_fw", a.log10_p_fw}, {"accused", a.accused}});
  }
  j["accounts"] = rows;
  j["decoys"] = {{"count", r.decoys.count}, {"ks_statistic", r.decoys.ks.statistic}, {"ks_p_value", r.decoys.ks.p_value},
                 {"min_log10_p", r.decoys.min_log10_p}, {"passed", r.decoys.passed}};
  j["alpha"] = alpha;
  j["outcome"] = r.outcome;
  std::size_t accused = 0;
  for (const ranked_account& a : r.listed) accused += a.accused ? 1 : 0;
  if (json) {
    o.stream() << j.dump() << "\n";
  } else {
    std::ostream& out = o.stream();
    out << "Account tracing (" << mode << " mode), key " << k.id().substr(0, 16) << ", registry " << registry_path
        << " (" << r.accounts << " accounts)\n"
        << "  global test: scored " << g.scored << ", green " << g.green << ", log10 p " << std::fixed << std::setprecision(2)
        << g.log10_p << ": " << r.global.outcome << " at alpha = " << shortest_text(global_alpha) << "\n"
        << "  account tuples counted " << r.counts.tuples << " of " << r.tuples_read << " read (L = " << params.code_length
        << " positions, " << (1u << params.symbol_bits) << " symbols)\n"
        << "  an innocent account's score, given the counts: mean " << std::setprecision(1) << r.null_mean << ", sd "
        << r.null_sd << " (exact law)\n"
        << "  decoys: " << r.decoys.count;
    if (r.decoys.count > 0 && r.counts.tuples > 0) {
      out << " never-issued accounts, KS p = " << std::setprecision(3) << r.decoys.ks.p_value
          << (r.decoys.passed ? " (consistent with the null)" : " (NOT uniform: no verdict)");
    }
    out << "\n";
    if (!r.listed.empty()) {
      out << "  rank  score      log10 p   log10 p (family-wise)  account\n";
      for (std::size_t i = 0; i < r.listed.size(); ++i) {
        const ranked_account& a = r.listed[i];
        out << "  " << std::left << std::setw(6) << i + 1 << std::setw(11) << a.score << std::right << std::setprecision(2)
            << std::setw(8) << shown(a.log10_p) << "   " << std::setw(10) << shown(a.log10_p_fw) << (a.accused ? "  ACCUSED   " : "           ")
            << std::left << a.id << std::right << "\n";
      }
    }
    out << "  verdict: "
        << (r.outcome == "accounts accused"
                ? std::to_string(accused) + " account" + (accused == 1 ? "" : "s") + " accused at family-wise alpha = " +
                      shortest_text(alpha) + " over " + std::to_string(r.accounts) +
                      " accounts: the suspect's text holds outputs generated for " + (accused == 1 ? "it" : "them") +
                      " (not claimed: that the account holder harvested them)"
            : r.outcome == "no account accused"
                ? "no account accused at family-wise alpha = " + shortest_text(alpha)
            : r.outcome == "insufficient evidence"
                ? std::string("insufficient evidence (even the top score of these counts could not reach alpha)")
                : std::string("none (deduplication or prompt exclusion is off, or the control keys or decoys are not uniform)"))
        << "\n";
  }
  o.commit();
  if (writer) writer->write(statement);
  return r.outcome == "accounts accused" ? exit_evidence : r.outcome == "no account accused" ? exit_no_evidence : exit_no_verdict;
}

}  // namespace tritium::cli
