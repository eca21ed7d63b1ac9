// `tritium report keygen | verify | html`: report-signing keys, verification of signed evidence
// reports (signature, subject digests, and with --recompute every figure), and their HTML rendering.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

namespace tritium::cli {

struct report_commands {
  std::string out;
  bool force = false;
  std::string envelope;
  std::vector<std::string> public_keys;
  std::string base;
  bool recompute = false;
  std::string key_path;
  std::string hf_config;  ///< with --recompute: the transformers configuration of a version 4 report
  bool json = false;
  unsigned threads = 0;  ///< with --recompute: workers of the re-run scan
  bool quiet = false;
  std::string html_out;

  CLI::App* keygen = nullptr;
  CLI::App* verify = nullptr;
  CLI::App* html = nullptr;

  void setup(CLI::App& parent);
  /// Runs the parsed subcommand; returns -1 when none of them was given.
  int run() const;

 private:
  int run_keygen() const;
  int run_verify() const;
  int run_html() const;
};

}  // namespace tritium::cli
