// The subcommands of `tritium`. Each registers its options on the CLI11 app and runs on its own.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <iosfwd>
#include <string>

#include "report_options.hpp"
#include "tritium/detect.hpp"
#include "tritium/key.hpp"

namespace tritium::cli {

struct keygen_command {
  std::string out;
  double gamma = 0.25;
  double delta = 2.0;
  std::uint32_t context_width = 1;
  std::string seeding = "lefthash";
  std::uint32_t vocab_size = 0;
  std::string tokenizer_digest;
  std::string tokenizer_path;
  std::string model_path;
  bool force = false;
  bool trace = false;                          ///< write params.trace (papers/trace-v1.md)
  std::uint32_t trace_code_length = 0;         ///< 0: the default L
  double account_delta = 0.0;                  ///< 0: the default δ_a
  std::uint32_t trace_position_width = 0;      ///< 0: max(h, 3)
  std::vector<std::string> schemes{"kgw"};     ///< params.schemes (papers/key-file-v1.md §1.2)
  CLI::App* app = nullptr;
  void setup(CLI::App& parent);
  int run() const;
};

struct tokenize_command {
  std::string tokenizer_path;
  std::string input = "-";
  std::string output;
  std::string format = "auto";
  std::string invalid_utf8 = "error";
  bool json = false;
  unsigned threads = 0;
  bool quiet = false;
  CLI::App* app = nullptr;
  void setup(CLI::App& parent);
  int run() const;
};

struct lm_train_command {
  std::string tokenizer_path;
  std::vector<std::string> corpus;
  std::string watermarked;
  double fraction = -1.0;
  std::uint32_t order = 4;
  std::uint32_t vocab_size = 0;
  std::string out;
  bool force = false;
  bool quiet = false;
  CLI::App* app = nullptr;
  void setup(CLI::App& parent);
  int run() const;
};

struct lm_eval_command {
  std::string model_path;
  std::string tokenizer_path;
  std::vector<std::string> input;
  bool json = false;
  bool quiet = false;
  CLI::App* app = nullptr;
  void setup(CLI::App& parent);
  int run() const;
};

struct lm_show_command {
  std::string model_path;
  bool json = false;
  CLI::App* app = nullptr;
  void setup(CLI::App& parent);
  int run() const;
};

struct generate_command {
  std::string model_path;
  std::string tokenizer_path;
  std::string key_path;
  std::string prompts;
  std::string output;
  std::uint32_t max_new_tokens = 200;
  double temperature = 1.0;
  double top_p = 1.0;
  std::uint64_t seed = 0;
  bool no_watermark = false;
  std::string account;  ///< --account: mark the completions with this account (papers/trace-v1.md)
  std::string scheme;   ///< --scheme: the scheme to mark with (default: the key's KGW, or its one scheme)
  unsigned threads = 0;
  bool quiet = false;
  CLI::App* app = nullptr;
  void setup(CLI::App& parent);
  int run() const;
};

struct key_show_command {
  std::string key_path;
  bool json = false;
  CLI::App* app = nullptr;
  void setup(CLI::App& parent);
  int run() const;
};

/// A windowed scan as detect prints it (--windows): the grid in words, a row's best window as a
/// line (with its statistic in words) and as JSON fields (with its statistic as one JSON member).
std::string windows_text(std::uint64_t min_window);
std::string window_line(const window_scan_result& w, const std::string& statistic);
std::string window_statistic(const window_scan_result& w, scheme_kind scheme);
std::string window_fields(const window_scan_result& w, std::uint64_t min_window, const std::string& statistic_field);

/// A document id as a table shows it: a JSON string's text, any other id as written.
std::string plain_id(const std::string& id_json);

struct detect_command {
  std::string key_path;
  std::string input;
  std::string output;
  bool pool = false;
  bool json = false;
  bool windows = false;             ///< scan each document in windows (tritium/window_scan.hpp)
  std::uint64_t min_window = 50;    ///< with windows: the smallest window, in scored tuples
  std::string dedup = "context+token";
  std::vector<std::string> schemes{"auto"};  ///< --scheme: auto (the key's params.schemes) or a list
  double alpha = 1e-3;
  std::uint32_t vocab_size = 0;
  std::string tokenizer_digest;
  std::string tokenizer_path;
  std::string format = "auto";
  std::string invalid_utf8 = "error";
  bool allow_tokenizer_mismatch = false;
  unsigned threads = 0;
  bool quiet = false;
  report_options report;
  // A transformers watermark configuration in place of a key (tritium/interop_scan.hpp).
  std::string hf_config;
  std::int64_t bos = -1;               ///< --bos (KGW): given when >= 0
  std::int64_t eos = -1;               ///< --eos (SynthID): given when >= 0
  bool no_repetition_mask = false;     ///< --no-repetition-mask (SynthID)
  std::string bayesian_weights;        ///< --bayesian-weights (SynthID): model.safetensors
  CLI::App* app = nullptr;
  void setup(CLI::App& parent);
  int run() const;

 private:
  int run_interop() const;  ///< detect_interop.cpp
};

struct bench_command {
  bool quick = false;
  bool json = false;
  std::string tokenizer_path;  ///< with text_path: measure tokenization instead of the core targets
  std::string text_path;
  std::string model_path;      ///< measure the reference language model instead
  bool fail_on_miss = false;   ///< exit 1 when a speed target is missed
  CLI::App* app = nullptr;
  void setup(CLI::App& parent);
  int run() const;

 private:
  int run_tokenizer() const;
  int run_model() const;
};

struct demo_command {
  std::uint32_t sequences = 10;
  std::uint32_t max_new_tokens = 200;  ///< --max-new-tokens (old spelling --length)
  std::uint64_t seed = 2026;
  std::string model_path;
  std::string tokenizer_path;
  std::string prompts_path;
  CLI::App* app = nullptr;
  void setup(CLI::App& parent);
  int run() const;
};

/// Loads a key, warning on stderr when its file is readable by group or others.
}  // namespace tritium::cli
namespace tritium { class key; }
namespace tritium::cli {
tritium::key load_key_warn(const std::string& path);

}  // namespace tritium::cli
