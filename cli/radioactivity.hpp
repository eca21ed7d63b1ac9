// `tritium radioactivity corpus | closed | read | filter | plan`: was a suspect corpus or model
// trained on our watermarked outputs? (verify/include/tritium/radioactivity.hpp)
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "report_options.hpp"

namespace tritium::cli {

struct radioactivity_commands {
  // Shared by the test modes.
  std::string key_path;
  std::string tokenizer_path;
  std::string dedup = "context+token";  ///< --dedup (old spelling --tape, its values translated)
  std::string filter_path;
  std::uint32_t controls = 20;
  double alpha = 1e-3;
  std::size_t curve_points = 64;
  bool json = false;
  std::string output;
  report_options report;
  // Inputs.
  std::vector<std::string> inputs;
  std::string model_path;
  std::string prompts_path;
  std::string predictions_path;
  std::uint32_t max_new_tokens = 200;
  std::uint64_t seed = 0;
  bool no_prompt_exclusion = false;
  unsigned threads = 0;  ///< workers for the model's queries (closed and read with --model)
  bool quiet = false;
  // filter
  std::size_t top = 0;
  std::string out;
  bool force = false;
  // plan
  std::uint64_t pilot_scored = 0, pilot_green = 0;
  double gamma = 0.25;
  double target = -5.0;
  double scored_per_query = 0.0;

  CLI::App* corpus = nullptr;
  CLI::App* closed = nullptr;
  CLI::App* read = nullptr;
  CLI::App* filter = nullptr;
  CLI::App* plan = nullptr;

  void setup(CLI::App& parent);
  /// Runs the parsed subcommand; returns -1 when none of them was given.
  int run() const;

 private:
  int run_test(const std::string& mode) const;
  int run_filter() const;
  int run_plan() const;
};

}  // namespace tritium::cli
