// `tritium fingerprint make | verify`: model fingerprints (verify/include/tritium/fingerprint.hpp,
// papers/attribution.md §6.5).
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "report_options.hpp"

namespace tritium::cli {

struct fingerprint_commands {
  // make
  std::string key_path;
  std::uint32_t questions = 64;
  std::uint32_t candidates = 256;
  std::string out;
  std::vector<std::string> system_prompts;
  bool force = false;
  // verify
  std::string set_dir;
  std::string verify_key_path;  ///< optional; needed for a report
  std::string answers_path;
  std::string commitment;
  double alpha = 1e-6;
  bool json = false;
  report_options report;

  CLI::App* make = nullptr;
  CLI::App* verify = nullptr;

  void setup(CLI::App& parent);
  /// Runs the parsed subcommand; returns -1 when none of them was given.
  int run() const;

 private:
  int run_make() const;
  int run_verify() const;
};

}  // namespace tritium::cli
