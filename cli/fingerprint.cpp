#include "fingerprint.hpp"

#include <cctype>
#include <cmath>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>
#include <memory>
#include <sstream>

#include "commands.hpp"
#include "exit_codes.hpp"
#include "option_forms.hpp"
#include "tritium/binomial_tail.hpp"
#include "tritium/error.hpp"
#include "tritium/evidence/report.hpp"
#include "tritium/inputs.hpp"
#include "tritium/fingerprint.hpp"
#include "tritium/key.hpp"

namespace tritium::cli {
namespace {

using ojson = nlohmann::ordered_json;

std::string p_text(double ln_p) {
  std::ostringstream s;
  const double log10_p = ln_to_log10(ln_p);
  if (log10_p > -300) {
    s << std::setprecision(3) << std::exp(ln_p);
  } else {
    s << "10^" << std::fixed << std::setprecision(1) << log10_p;
  }
  return s.str();
}

}  // namespace

void fingerprint_commands::setup(CLI::App& parent) {
  CLI::App* group = parent.add_subcommand("fingerprint", "Model fingerprints: secret question/answer pairs to train into a model");
  group->require_subcommand(1);
  make = group->add_subcommand("make", "Derive a fingerprint set from a key; print its commitment");
  make->add_option("--key", key_path, "Watermark key the set is derived from")->required();
  make->add_option("-k,--questions", questions, "Number of questions k")->capture_default_str()->check(CLI::Range(1u, 4096u));
  make->add_option("--candidates", candidates, "Number of candidate answers M (a power of two, at most 256)")
      ->capture_default_str()
      ->check(CLI::IsMember({2u, 4u, 8u, 16u, 32u, 64u, 128u, 256u}));
  add_output_option(*make, out, "Directory for set.json (the secret set) and train.jsonl (the fine-tuning pairs)", true);
  make->add_option("--system-prompt", system_prompts,
                   "Write each pair under this system prompt (repeatable); without it, plain prompt/completion pairs");
  make->add_flag("--force", force, "Replace an existing set in the directory (without it: refused, exit 4)");
  make->footer(
      "Prints the commitment (64 hex digits) on standard output: record it publicly at release. The set\n"
      "directory is secret (files mode 0600): whoever holds it can compute every pair.\n" +
      exit_codes_footer({{exit_evidence, "the set was written and its commitment printed"},
                         {exit_input_error, input_meaning},
                         {exit_usage, usage_meaning_force},
                         {exit_io_error, output_meaning},
                         {exit_internal, internal_meaning}}));

  verify = group->add_subcommand("verify", "Test a suspect model's answers against a fingerprint set");
  verify->add_option("--set", set_dir, "The set directory written by fingerprint make")->required();
  verify->add_option("--answers,-a", answers_path,
                     "JSON Lines {\"question\": i, \"system_prompt\": s (optional), \"answer\": \"...\"} (- for stdin)")
      ->required();
  verify->add_option("--commitment", commitment, "The commitment recorded at release (64 hex digits)")->required();
  verify->add_option("--alpha", alpha, "Pre-registered significance level")->capture_default_str()->check(CLI::Range(1e-300, 0.5));
  verify->add_option("--key", verify_key_path,
                     "The key the set was made from: checks that it makes this set; needed for --report/--html");
  verify->add_flag("--json", json, "Print one JSON object");
  add_report_options(*verify, report);
  verify->footer(exit_codes_footer(
      {{exit_evidence, "FINGERPRINT FOUND: the suspect's answers match the set's at p <= alpha"},
       {exit_no_evidence, "no fingerprint at alpha"},
       {exit_insufficient, "insufficient: too few questions answered with a candidate for any match count to\n"
                           "      reach alpha"},
       {exit_input_error, input_meaning + std::string(";\n      also an answer to a question the set lacks, two answers to one question under one\n"
                                                      "      system prompt, or no answer at all")},
       {exit_usage, usage_meaning + std::string(";\n      also a commitment that is not 64 hex digits, or --report/--html without --key")},
       {exit_io_error, output_meaning},
       {exit_verification_failed, "the set does not match the commitment (it is not the set recorded at release),\n"
                                  "      or the key given does not make it"},
       {exit_internal, internal_meaning}}));
  group->footer("Exit codes: 0 set written / fingerprint found; 1 no fingerprint; 2 insufficient; 3 input error;\n"
                "4 usage error; 5 output error; 6 the set does not match the commitment; 70 internal error.\n"
                "Each subcommand's --help says what its codes mean for it.");
}

int fingerprint_commands::run() const {
  if (make->parsed()) return run_make();
  if (verify->parsed()) return run_verify();
  return -1;
}

int fingerprint_commands::run_make() const {
  const tritium::key k = load_key_warn(key_path);
  fingerprint_params params;
  params.questions = questions;
  params.candidates = candidates;
  as_usage([&] { params.validate(); });
  const fingerprint_set set = make_fingerprint_set(k, params);
  as_usage([&] { save_fingerprint_set(set, out, system_prompts, force); });  // a bad --system-prompt is a usage error
  const std::size_t pairs = set.questions.size() * std::max<std::size_t>(1, system_prompts.size());
  std::cerr << "tritium: wrote the fingerprint set " << out << "/" << fingerprint_v1::set_file << " (" << questions
            << " questions, " << candidates << " candidates; secret, mode 0600) and " << pairs
            << " training pairs to " << out << "/" << fingerprint_v1::training_file
            << "\ntritium: record the commitment below at release\n";
  std::cout << set.commitment() << "\n";
  return exit_evidence;
}

int fingerprint_commands::run_verify() const {
  if (report.requested() && verify_key_path.empty()) {
    throw error(errc::usage, "fingerprint verify: --report and --html need --key: the report names the key the set was "
                             "made from, and `report verify --recompute` checks the set against it");
  }
  // --signing-key, --base or --absolute-paths without a report are refused here (usage error).
  const std::unique_ptr<report_writer> writer = report.open();  // a bad signing key or output path fails first
  fingerprint_result r;
  if (!verify_key_path.empty()) {
    const tritium::key k = load_key_warn(verify_key_path);
    fingerprint_spec spec;
    spec.set = report.name(set_dir);
    spec.answers = report.name(answers_path);
    spec.commitment = commitment;
    spec.alpha = alpha;
    spec.alpha_source = alpha_source_of(*verify, "--alpha");
    const report_context context = report.requested() ? report.context() : report_context{};
    fingerprint_report run = as_input([&] { return run_fingerprint_test(spec, k, context); });
    if (writer) writer->write(run.statement);
    r = std::move(run.result);
  } else {
    const fingerprint_set set = as_input([&] { return load_fingerprint_set(set_dir, commitment); });
    r = test_fingerprint(set, read_fingerprint_answers(answers_path, set), alpha);
  }
  std::string digest = commitment;  // checked: 64 hex digits equal to the set's digest
  for (char& c : digest) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::size_t answer_records = 0;
  for (const auto& q : r.table) answer_records += q.answers;
  const int code = r.outcome == fingerprint_outcome::found         ? exit_evidence
                   : r.outcome == fingerprint_outcome::not_found   ? exit_no_evidence
                                                                   : exit_insufficient;
  if (json) {
    ojson j;
    j["commitment"] = digest;
    j["questions"] = r.questions;
    j["candidates"] = r.candidates;
    j["system_prompts"] = r.system_prompts;
    j["answered"] = r.answered;
    j["with_candidate"] = r.with_candidate;
    j["matches"] = r.matches;
    j["log10_p"] = ln_to_log10(r.ln_p);
    j["best_log10_p"] = ln_to_log10(r.best_ln_p);
    j["alpha"] = alpha;
    j["outcome"] = fingerprint_outcome_name(r.outcome);
    std::cout << j.dump() << "\n";
    return code;
  }
  std::cout << "Fingerprint set " << digest << " (matches the commitment): " << r.questions
            << " questions, " << r.candidates << " candidates.\n"
            << "Answers: " << answer_records << " under " << r.system_prompts.size() << " system prompt"
            << (r.system_prompts.size() == 1 ? "" : "s") << "; " << r.answered << " questions answered, "
            << r.with_candidate << " with a candidate.\n"
            << "Matches: " << r.matches << " of " << r.with_candidate << "; exact p = " << p_text(r.ln_p)
            << " (log10 p = " << std::fixed << std::setprecision(2) << ln_to_log10(r.ln_p) << ")\n";
  std::cout.unsetf(std::ios::fixed);
  switch (r.outcome) {
    case fingerprint_outcome::found:
      std::cout << "FINGERPRINT FOUND at alpha = " << alpha << ".\n";
      break;
    case fingerprint_outcome::not_found:
      std::cout << "No fingerprint at alpha = " << alpha << ".\n";
      break;
    case fingerprint_outcome::insufficient:
      std::cout << "Insufficient: even " << r.with_candidate << " matches of " << r.with_candidate
                << " would give p = " << p_text(r.best_ln_p) << " > alpha = " << alpha
                << "; ask more questions (or more system prompts).\n";
      break;
  }
  return code;
}

}  // namespace tritium::cli
