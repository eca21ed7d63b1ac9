// The report options of the verification commands (--report, --signing-key, --html, --base,
// --absolute-paths) and what they become for the evidence library (tritium/evidence/report.hpp).
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <string>
#include <vector>

#include "tritium/evidence/report.hpp"

namespace tritium::cli {

struct report_options {
  std::string report_path;       ///< DSSE envelope to write
  std::string signing_key_path;  ///< Ed25519 report-signing key (tritium report keygen)
  std::string html_path;         ///< self-contained HTML rendering to write
  std::string base;              ///< paths in the report are relative to it (default: the current directory)
  bool absolute_paths = false;
  bool requested() const { return !report_path.empty() || !html_path.empty(); }

  /// The report writer (the signing key loaded, the outputs opened) when a report was asked for;
  /// null otherwise. Warns when the signing key is readable by others. Throws errc::usage (exit 4)
  /// for --signing-key, --base or --absolute-paths without --report or --html.
  std::unique_ptr<report_writer> open() const;
  /// Where the report's paths are relative to, and the invocation it records.
  report_context context() const;
  /// A path given on the command line as the report (and the scan) names it: relative to --base.
  std::string name(const std::string& path) const;
};

/// How alpha was chosen, for a report: given on the command line, or the default.
std::string alpha_source_of(const CLI::App& app, const std::string& option, const std::string& default_value = "0.001");

/// Adds --report, --signing-key, --html, --base and --absolute-paths to a verification command.
void add_report_options(CLI::App& app, report_options& options);

/// The arguments after the program name, as given; recorded in reports (report options removed).
void set_invocation(std::vector<std::string> args);

/// Runs `tritium` with these arguments (after the program name) and returns its exit code; errors
/// are printed and mapped to exit codes.
int run_tritium(const std::vector<std::string>& args);

}  // namespace tritium::cli
