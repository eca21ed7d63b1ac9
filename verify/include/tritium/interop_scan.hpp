// tritium/interop_scan.hpp — a detect test over a whole input under a watermark configuration another
// project wrote: Hugging Face transformers' `WatermarkingConfig` (KGW, also TGI's watermark) or
// `SynthIDTextWatermarkingConfig`.
//
// An analyst handed text from a transformers deployment holds that deployment's configuration, not a
// tritium key: a generation_config.json with a "watermarking_config" member, or the member alone. The
// scan reads it, refuses what it cannot read exactly (an unknown field, a field of the wrong type, the
// fields of both schemes at once), and tests each document with tritium's statistics for that scheme
// (papers/hf-kgw.md §5: the binomial bound on the hypergeometric sum; papers/hf-synthid.md §4: the exact
// key-shift null). With `min_window` each document is also scanned in windows (tritium/window_scan.hpp:
// KGW's bound, SynthID's exact null per window) and decided on the scan. The run's verdict corrects for
// the number of documents (Bonferroni) as `detect_scan` does. What is scored is what transformers' own detectors score, so a document is read as the
// generated tokens alone (the prompt is not the model's output) and, for KGW, a leading BOS is dropped
// when `bos` names it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tritium/hf_kgw.hpp"
#include "tritium/hf_kgw_detect.hpp"
#include "tritium/hf_synthid.hpp"
#include "tritium/hf_synthid_detect.hpp"
#include "tritium/interop_config.hpp"
#include "tritium/scan.hpp"
#include "tritium/window_scan.hpp"

namespace tritium {

class hf_synthid_bayesian;
class hf_kgw_green_cache;

/// A one-line description, e.g. "transformers KGW: lefthash, context width 1, greenlist ratio 0.25,
/// bias 2, V = 50257". The keys (KGW's hashing key, SynthID's layer keys and table seed) are never
/// in it: it is printed.
std::string interop_description(const interop_config& config);

struct interop_spec {
  /// As detect_spec::input: JSON Lines of {"id", "tokens"}, or with a tokenizer text (a file, a
  /// folder of .txt, JSON Lines of {"id", "text"}); "-" is standard input.
  std::string input;
  std::string tokenizer;        ///< tokenizer.json or .gguf; empty: the input holds token ids
  std::string format = "auto";  ///< text input: auto, jsonl or text
  invalid_utf8 utf8 = invalid_utf8::error;
  double alpha = default_alpha;
  std::string alpha_source = "the library's default (0.001)";  ///< where alpha came from, for a report
  std::optional<token_id> bos;  ///< KGW only: dropped when it opens a document (model_config.bos_token_id)
  std::optional<token_id> eos;  ///< SynthID only: nothing from the first EOS on is scored
  bool repetition_mask = true;  ///< SynthID only: transformers' context-repetition mask
  /// 0: whole documents; otherwise each document is also scanned in windows of at least this many
  /// scored tuples or counted positions (≥ 10; tritium/window_scan.hpp), and decided on the scan.
  std::uint64_t min_window = 0;
  /// One test over all documents (KGW: tuples deduplicated across them; SynthID: every counted
  /// position in one key-shift null; tritium/hf_kgw_detect.hpp, hf_synthid_detect.hpp) instead of one
  /// per document. Not with min_window or a Bayesian model.
  bool pooled = false;
};

/// One document's test.
struct interop_detection {
  interop_kind kind = interop_kind::hf_kgw;
  std::uint64_t tokens = 0;
  std::uint64_t scored = 0;  ///< KGW: distinct (seed, token) tuples; SynthID: positions after both masks
  /// KGW: green tuples; SynthID: the sum of the counted g-values over positions and layers.
  std::uint64_t count = 0;
  double gamma = 0.0;          ///< KGW: G/V
  double mean = 0.0;           ///< KGW: green share; SynthID: transformers' mean score
  double weighted_mean = 0.0;  ///< SynthID: transformers' weighted mean score
  double ln_p = 0.0;           ///< KGW: the Hoeffding bound (p_is_bound); SynthID: exact
  double log10_p = 0.0;
  double ln_p_floor = 0.0;     ///< the smallest ln p any text could give on these scored positions
  bool p_is_bound = false;
  bool detected = false;      ///< on the scan-corrected p when there is a window scan
  bool insufficient = false;
  std::optional<double> bayesian_posterior;  ///< SynthID with a Bayesian model: not a p-value
  /// With spec.min_window: the best window and the p the document is decided on (ln_p_scan);
  /// window_green is its count (KGW green tuples, SynthID g-values equal to 1).
  std::optional<window_scan_result> window;
  /// The p the document is decided on: the scan's when there is one, the whole text's otherwise.
  double decision_ln_p() const noexcept { return window ? window->ln_p_scan : ln_p; }
};

/// A scan ready to run: the configuration built (a selfhash table drawn, a SynthID table checked) and
/// the tokenizer loaded.
class interop_scan {
 public:
  using observer =
      std::function<void(const std::string& id_json, std::span<const token_id> tokens, const interop_detection& d)>;

  /// Throws errc::usage for an option the configuration's scheme does not use (bos with SynthID; eos,
  /// a disabled repetition mask or a Bayesian model with KGW), errc::invalid_argument for a KGW
  /// configuration without vocab_size or a table size SynthID detection cannot test, and
  /// errc::mismatch when the tokenizer has ids at or above V or the Bayesian model's layers are not the
  /// configuration's. `bayesian` is not owned.
  interop_scan(interop_spec spec, const interop_config& config, scan_environment env,
               const hf_synthid_bayesian* bayesian = nullptr);
  ~interop_scan();
  interop_scan(const interop_scan&) = delete;
  interop_scan& operator=(const interop_scan&) = delete;

  /// Reads the whole input once, calling `on_document` in input order. Throws tritium::error naming
  /// the file and line of a bad record or a token outside the vocabulary. With spec.pooled the
  /// documents are not tested one by one and `on_document` is not called: the verdict is the pooled
  /// test's, which pooled() then holds.
  detect_verdict run(const observer& on_document = {});
  /// After a pooled run(): its test (tokens and scored summed over the documents); empty when the
  /// input held no documents.
  const std::optional<interop_detection>& pooled() const noexcept { return pooled_; }

  const interop_spec& spec() const noexcept { return spec_; }
  const interop_config& config() const noexcept { return config_; }
  /// The files the scan reads, as the spec names them: the tokenizer, then the input (a folder's
  /// text files as listed on construction). What a report hashes.
  std::vector<std::string> files() const;
  const tritium::tokenizer* text_tokenizer() const noexcept { return tokenizer_.get(); }
  /// The scheme built from the configuration: one of the two is set, as config().kind says.
  const hf_kgw* kgw_scheme() const noexcept { return kgw_.get(); }
  const hf_synthid* synthid_scheme() const noexcept { return synthid_.get(); }
  /// The options each document is tested with (without a cache or a Bayesian model), so that a
  /// report's curve and excerpt re-run exactly the scan's test.
  hf_kgw_detect_options kgw_options() const;
  hf_synthid_detect_options synthid_options() const;

  /// One document alone (what run() does for each). `cache`: green lists kept across calls (KGW; the
  /// caller's, one per thread), or null.
  interop_detection detect(std::span<const token_id> tokens, hf_kgw_green_cache* cache = nullptr) const;

 private:
  interop_spec spec_;
  interop_config config_;
  scan_environment env_;
  const hf_synthid_bayesian* bayesian_;
  std::unique_ptr<const hf_kgw> kgw_;
  std::unique_ptr<const hf_synthid> synthid_;
  std::unique_ptr<tritium::tokenizer> tokenizer_;
  std::vector<std::filesystem::path> listed_files_;  ///< a text input's files as listed on construction
  std::vector<std::string> named_files_;            ///< the same, named as the spec names the input
  std::optional<interop_detection> pooled_;
  detect_verdict run_pooled();
};

}  // namespace tritium
