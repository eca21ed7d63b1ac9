// `tritium trace corpus | closed | read`: which accounts' outputs does a suspect corpus or model
// hold? (verify/include/tritium/trace_scan.hpp)
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "report_options.hpp"

namespace tritium::cli {

struct trace_commands {
  std::string key_path;
  std::string registry_path;
  std::string tokenizer_path;
  std::string dedup = "context+token";
  std::string filter_path;
  std::uint32_t controls = 20;
  double alpha = 1e-6;         ///< family-wise, over the registry
  double global_alpha = 1e-3;  ///< the global radioactivity test
  std::uint32_t decoys = 1000;
  std::size_t listed = 100;
  bool json = false;
  std::string output;
  report_options report;
  std::vector<std::string> inputs;
  std::string model_path;
  std::string prompts_path;
  std::string predictions_path;
  std::uint32_t max_new_tokens = 200;
  std::uint64_t seed = 0;
  bool no_prompt_exclusion = false;
  unsigned threads = 0;
  bool quiet = false;

  CLI::App* corpus = nullptr;
  CLI::App* closed = nullptr;
  CLI::App* read = nullptr;

  void setup(CLI::App& parent);
  /// Runs the parsed subcommand; returns -1 when none of them was given.
  int run() const;

 private:
  int run_test(const std::string& mode) const;
};

}  // namespace tritium::cli
