#include "report.hpp"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "tritium/atomic_output.hpp"
#include "commands.hpp"
#include "tritium/inputs.hpp"
#include "tritium/json_document.hpp"
#include "report_options.hpp"
#include "exit_codes.hpp"
#include "option_forms.hpp"
#include "progress_line.hpp"
#include "tokenize_support.hpp"
#include "tritium/digest.hpp"
#include "tritium/evidence/dsse.hpp"
#include "tritium/error.hpp"
#include "tritium/key.hpp"
#include "tritium/evidence/signing.hpp"

namespace tritium::cli {
namespace {

// Signed text for the terminal: as it is, or quoted with its control characters escaped.
std::string printable(const std::string& s) { return has_control_characters(s) ? json_quoted(s) : s; }

opened_report open_with(const std::string& envelope, const std::vector<std::string>& public_key_paths) {
  std::vector<report_public_key> trusted;
  for (const auto& p : public_key_paths) trusted.push_back(as_input([&] { return report_public_key::load(p); }));
  return open_report(envelope, trusted);
}

}  // namespace

void report_commands::setup(CLI::App& parent) {
  CLI::App* group = parent.add_subcommand("report", "Signed evidence reports: signing keys, verification, HTML");
  group->require_subcommand(1);
  keygen = group->add_subcommand("keygen", "Create an Ed25519 report-signing key (FILE, mode 0600) and its public key (FILE.pub)");
  add_output_option(*keygen, out, "Signing key file to create (and FILE.pub beside it)", true);
  keygen->add_flag("--force", force, "Replace existing files (without it: refused, exit 4)");
  keygen->footer(exit_codes_footer({{exit_evidence, "the key files were written"},
                                    {exit_usage, usage_meaning_force},
                                    {exit_io_error, output_meaning},
                                    {exit_internal, internal_meaning}}) +
                 "\n" + overwrite_help);
  verify = group->add_subcommand("verify", "Check a report: its signature, its subject files, and with --recompute every figure");
  verify->add_option("envelope", envelope, "The report (DSSE envelope)")->required();
  verify->add_option("--public-key,-P", public_keys, "Trusted report public key(s) (.pub)")->required();
  verify->add_option("--base", base, "Directory the subject names are relative to (default: the current one)");
  CLI::Option* key = verify->add_option("--key,-k", key_path, "With --recompute: the watermark key (its id must be the report's)");
  verify->add_option("--hf-config", hf_config,
                     "With --recompute, for a report of detect --hf-config: the transformers watermark configuration "
                     "(the report's id must commit to it)")
      ->excludes(key);
  verify->add_flag("--recompute", recompute,
                   "Re-run the recorded test from the subject files and the key (or --hf-config); compare every figure");
  verify->add_flag("--json", json, "Print one JSON object");
  verify->footer(exit_codes_footer(
      {{exit_evidence, "verified: a trusted signature, unchanged subject files, and with --recompute every figure"},
       {exit_input_error, "the envelope, a public key or the watermark key is missing, unreadable or malformed"},
       {exit_usage, usage_meaning},
       {exit_io_error, "standard output could not be written"},
       {exit_verification_failed, "verification failed: unknown signer, a bad signature, an edited envelope, a changed\n"
                                  "      or missing subject file, or a recomputed figure that differs (each named)"},
       {exit_internal, internal_meaning}}));
  add_threads_option(*verify, threads);
  add_quiet_flag(*verify, quiet);
  html = group->add_subcommand("html", "Render a verified report as one self-contained HTML page");
  html->add_option("envelope", envelope, "The report (DSSE envelope)")->required();
  html->add_option("--public-key,-P", public_keys, "Trusted report public key(s) (.pub)")->required();
  add_output_option(*html, html_out, "HTML file to write", true);
  html->add_flag("--force", force, "Replace an existing HTML file (without it: refused, exit 4)");
  html->footer(exit_codes_footer(
                   {{exit_evidence, "the report was verified and rendered"},
                    {exit_input_error, "the envelope or a public key is missing, unreadable or malformed"},
                    {exit_usage, usage_meaning_force},
                    {exit_io_error, output_meaning},
                    {exit_verification_failed, "verification failed: unknown signer, a bad signature or an edited envelope"},
                    {exit_internal, internal_meaning}}) +
               "\n" + overwrite_help);
  group->footer("Exit codes: 0 success; 3 input error; 4 usage error; 5 output error; 6 verification failed;\n"
                "70 internal error. Each subcommand's --help says what its codes mean for it.");
}

int report_commands::run() const {
  if (keygen->parsed()) return run_keygen();
  if (verify->parsed()) return run_verify();
  if (html->parsed()) return run_html();
  return -1;
}

int report_commands::run_keygen() const {
  // Before any work (the key files' own writes check again, atomically).
  refuse_to_replace(out, "signing key file", force);
  refuse_to_replace(out + ".pub", "public key file", force);
  const report_signing_key k = report_signing_key::generate();
  atomic_output::remove_stale_temporaries(out + ".pub");
  atomic_output::remove_stale_temporaries(out);
  k.public_key().save(out + ".pub", force);
  try {
    k.save(out, force);
  } catch (...) {
    if (!force) std::filesystem::remove(out + ".pub");
    throw;
  }
  std::cout << "report-signing key " << k.key_id() << "\n  secret: " << out << " (mode 0600; keep it private)\n"
            << "  public: " << out << ".pub (give it to whoever checks your reports)\n";
  return exit_evidence;
}

int report_commands::run_verify() const {
  if (recompute && key_path.empty() && hf_config.empty()) {
    throw error(errc::usage, "--recompute needs the report's key (--key KEY), or for a report of detect --hf-config its "
                             "transformers configuration (--hf-config CONFIG)");
  }
  if (!recompute && (!key_path.empty() || !hf_config.empty())) {
    throw error(errc::usage, std::string(key_path.empty() ? "--hf-config" : "--key") + " is only used with --recompute");
  }
  const opened_report r = open_with(envelope, public_keys);
  const ojson& statement = r.statement;
  const ojson& predicate = statement["predicate"];
  const std::filesystem::path root = base.empty() ? std::filesystem::path(".") : std::filesystem::path(base);
  check_subjects(statement, root);
  if (recompute) {
    progress_line line = stderr_progress("report verify", quiet);
    std::vector<std::string> differences;
    if (hf_config.empty()) {
      const tritium::key k = load_key_warn(key_path);
      differences = tritium::recompute(statement, k, root, threads, line.callback());
    } else {
      differences = tritium::recompute(statement, load_interop_config(hf_config), root, threads, line.callback());
    }
    line.finish();
    if (!differences.empty()) {
      std::string message = "recompute: " + std::to_string(differences.size()) + (differences.size() >= 12 ? "+" : "") +
                            " figure(s) differ from the report:";
      for (const auto& d : differences) message += "\n  " + d;
      throw error(errc::verification_failed, message);
    }
  }

  const std::string outcome = predicate["decision"]["outcome"].get<std::string>();
  if (json) {
    ojson j;
    j["verified"] = true;
    j["signer"] = r.signer;
    j["predicate_type"] = statement["predicateType"];
    j["predicate_version"] = r.version;
    j["test"] = predicate["test"];
    j["subjects"] = statement["subject"].size();
    j["recomputed"] = recompute;
    j["outcome"] = outcome;
    j["time"] = predicate["invocation"]["time"];
    std::cout << j.dump() << "\n";
  } else {
    std::cout << "Report " << envelope << ": signature by " << r.signer << " verified; "
              << statement["subject"].size() << " subject file(s) unchanged";
    if (recompute) {
      std::cout << "; recomputed from the inputs and the " << (hf_config.empty() ? "key" : "configuration")
                << ": every figure matches";
    }
    std::cout << ".\n  test: " << printable(predicate["test"].get<std::string>()) << ", outcome: " << outcome << ", signed "
              << printable(predicate["invocation"]["time"].get<std::string>()) << "\n";
  }
  return exit_evidence;
}

int report_commands::run_html() const {
  refuse_to_replace(html_out, "HTML file", force);
  const opened_report r = open_with(envelope, public_keys);
  atomic_output o(html_out);
  o.stream() << render_report_html(r.statement, r.signer);
  o.commit();
  std::cerr << "tritium: wrote " << html_out << "\n";
  return exit_evidence;
}

}  // namespace tritium::cli
