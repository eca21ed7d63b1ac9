#include "report_options.hpp"

#include <iostream>

#include "tritium/error.hpp"

namespace tritium::cli {
namespace {

std::vector<std::string> invocation_args;

// Options that say where results go, not what was tested. `takes_value` tells whether the next
// argument is the option's value (the "--report FILE" form rather than "--report=FILE" or "-oFILE").
bool is_output_option(const std::string& a, bool& takes_value) {
  takes_value = false;
  for (const std::string name : {"--report", "--signing-key", "--html", "--output", "--out"}) {
    if (a == name) {
      takes_value = true;
      return true;
    }
    if (a.rfind(name + "=", 0) == 0) return true;
  }
  if (a == "-o") {
    takes_value = true;
    return true;
  }
  return a.size() > 2 && a.rfind("-o", 0) == 0;  // "-oFILE"
}

// The arguments as given, without the output options: what was tested, not where it went.
std::vector<std::string> without_outputs(const std::vector<std::string>& args) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < args.size(); ++i) {
    bool takes_value = false;
    if (is_output_option(args[i], takes_value)) {
      if (takes_value) ++i;
      continue;
    }
    out.push_back(args[i]);
  }
  return out;
}

}  // namespace

void add_report_options(CLI::App& app, report_options& options) {
  CLI::Option* key = app.add_option("--signing-key", options.signing_key_path, "Report-signing key (tritium report keygen)");
  app.add_option("--report", options.report_path,
                 "Write a signed evidence report here: an in-toto statement in a DSSE envelope (needs --signing-key)")
      ->needs(key);
  app.add_option("--html", options.html_path, "Write the report as one self-contained HTML page here");
  app.add_option("--base", options.base,
                 "With --report/--html: the report names its files relative to this directory (default: the current one)");
  app.add_flag("--absolute-paths", options.absolute_paths,
               "With --report/--html: name files by their absolute paths (they reveal this machine's layout)");
}

std::unique_ptr<report_writer> report_options::open() const {
  if (!requested()) {
    for (const auto& [given, name] : {std::pair{!signing_key_path.empty(), "--signing-key"}, {!base.empty(), "--base"},
                                      {absolute_paths, "--absolute-paths"}}) {
      if (given) throw error(errc::usage, std::string(name) + " is only used with --report or --html");
    }
    return nullptr;
  }
  if (!base.empty()) {
    std::error_code ec;
    if (!std::filesystem::is_directory(base, ec)) throw error(errc::invalid_argument, "--base " + base + ": not a directory");
  }
  auto writer = std::make_unique<report_writer>(report_outputs{report_path, signing_key_path, html_path});
  if (writer->signing_key_exposed()) {
    std::cerr << "tritium: warning: signing key " << signing_key_path
              << " is readable by group or others; run: chmod 600 " << signing_key_path << "\n";
  }
  return writer;
}

report_context report_options::context() const {
  report_context c;
  c.base = base.empty() ? std::filesystem::path(".") : std::filesystem::path(base);
  c.absolute_paths = absolute_paths;
  c.invocation.arguments = recorded_arguments(without_outputs(invocation_args), c.base, absolute_paths);
  c.time = report_time();
  return c;
}

std::string report_options::name(const std::string& path) const {
  if (!requested()) return path;
  return tritium::report_path(path, base.empty() ? std::filesystem::path(".") : std::filesystem::path(base), absolute_paths);
}

std::string alpha_source_of(const CLI::App& app, const std::string& option, const std::string& default_value) {
  return app.count(option) > 0 ? "given on the command line (" + option + ")"
                               : "the command line's default (" + default_value + "), not chosen for this test";
}

void set_invocation(std::vector<std::string> args) { invocation_args = std::move(args); }

}  // namespace tritium::cli
