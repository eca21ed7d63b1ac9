// tritium/radioactivity_scan.hpp — a radioactivity test over its inputs, as every front end runs it.
//
// A `radioactivity_spec` names everything the result depends on (the mode, the suspect's outputs or
// the suspect model, the tokenizer, the tape, the filter, the control keys, α): the test
// specification an evidence report records (papers/evidence-v2.md). The statistics are those of
// tritium/radioactivity.hpp; this adds the reading of inputs and the decision, with its safeguards.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "tritium/radioactivity.hpp"
#include "tritium/scan.hpp"
#include "tritium/uniformity.hpp"

namespace tritium {

enum class radioactivity_mode : std::uint8_t { corpus, closed, read };
const char* radioactivity_mode_name(radioactivity_mode m) noexcept;
std::optional<radioactivity_mode> radioactivity_mode_from_name(const std::string& name) noexcept;
/// "none", "window" or "window+token".
const char* tape_mode_name(tape_mode t) noexcept;
std::optional<tape_mode> tape_mode_from_name(const std::string& name) noexcept;

struct radioactivity_spec {
  radioactivity_mode mode = radioactivity_mode::corpus;
  /// corpus: the suspect corpus; closed: {prompt, answer} records; read: our watermarked texts.
  std::vector<std::string> inputs;
  std::string tokenizer;  ///< for text fields (and the key's binding check); empty: token ids only
  tape_mode tape = tape_mode::window_token;
  std::string filter;     ///< score only the windows of this filter file; empty: all
  std::uint32_t controls = 20;
  double alpha = default_alpha;
  std::size_t curve_points = 64;
  std::string model;        ///< closed, read: the suspect as a reference-model file
  std::string prompts;      ///< closed with a model: the prompts sent
  std::string predictions;  ///< read: the suspect's predictions instead of a model
  std::uint32_t max_new_tokens = 200;  ///< closed with a model
  std::uint64_t seed = 0;              ///< closed with a model
  bool prompt_exclusion = true;        ///< closed: prompt windows are never scored
  /// The control-key check reads randomised p-values, P(S > s) + U·P(S = s) with U from a fixed seed
  /// (specification version 2): U(0, 1) under H0 for a U drawn at random; with the seed fixed the check
  /// refuses null data 0.7% to 1.1% of the time, measured from 5 to 50 scored tuples (papers/radioactivity.md).
  /// false: the conservative P(S >= s), whose
  /// atoms make the check refuse far more often than 1% below a few hundred scored tuples
  /// (papers/radioactivity.md); reports with a version 1 specification recorded that, and recompute so.
  bool randomised_controls = true;
  /// Who chose alpha, and how (recorded in reports): a front end says whether it was given.
  std::string alpha_source = "the library's default (0.001)";
};

struct radioactivity_outcome {
  radioactivity_result result;
  std::vector<double> control_log10_p;
  std::vector<double> control_p;  ///< P(S >= s), as reported; the check reads `control_ks_p`
  std::vector<double> control_ks_p;  ///< what the KS check reads (spec.randomised_controls)
  ks_result ks{0.0, 1.0, 0};
  /// The control keys were tested for uniformity: at least two, and enough scored tuples that a
  /// conclusion was possible at all (not `result.test.insufficient`). Otherwise nothing is said of them.
  bool controls_tested = false;
  bool controls_uniform = true;  ///< KS at 0.01; true when untested
  bool valid = true;             ///< the tape and (closed) prompt exclusion were on
  /// "evidence", "no evidence", "insufficient evidence" or "no verdict".
  std::string outcome;
  std::size_t filter_windows = 0;
};

/// The p-values the control-key check reads: for each control key's green count among `scored`
/// tuples, P(S > s) + U·P(S = s) with S ~ Binomial(scored, gamma) and U drawn in order from a fixed
/// seed (`randomised`), or P(S >= s). Reproducible: the same counts give the same values.
std::vector<double> control_check_p_values(std::uint64_t scored, std::span<const std::uint64_t> greens, double gamma,
                                           bool randomised);

/// Sees every text a radioactivity scan scores, in the order it scores them (tracing counts its own
/// tuples of the same texts in the same pass).
class scan_listener {
 public:
  virtual ~scan_listener() = default;
  /// A prompt whose windows the scan excludes (closed mode with prompt exclusion).
  virtual void exclude_windows(std::span<const token_id> prompt) = 0;
  /// A text the suspect wrote (corpus mode; closed mode's answers).
  virtual void text(std::span<const token_id> tokens) = 0;
  /// Reading mode: the suspect's top-1 prediction after each prefix of `input`.
  virtual void predictions(std::span<const token_id> input, std::span<const token_id> predictions) = 0;
};

class radioactivity_scan {
 public:
  /// Loads the tokenizer (checked against the key's binding) and the filter.
  radioactivity_scan(radioactivity_spec spec, const key& k, scan_environment env);
  ~radioactivity_scan();
  radioactivity_scan(const radioactivity_scan&) = delete;
  radioactivity_scan& operator=(const radioactivity_scan&) = delete;

  /// Every file the result depends on, as the spec names them: the inputs, then the tokenizer,
  /// model, prompts, predictions and filter given.
  std::vector<std::string> files() const;

  /// `listener` (optional, not owned) sees every text scored, after the scan has checked its ids.
  radioactivity_outcome run(scan_listener* listener = nullptr);

  const radioactivity_spec& spec() const noexcept { return spec_; }
  const key& the_key() const noexcept { return key_; }
  const tritium::tokenizer* text_tokenizer() const noexcept { return tokenizer_.get(); }
  /// The filter loaded from the spec, or nullptr.
  const window_filter* filter() const noexcept { return filter_.get(); }

 private:
  radioactivity_spec spec_;
  const key& key_;
  scan_environment env_;
  std::unique_ptr<tritium::tokenizer> tokenizer_;
  std::unique_ptr<window_filter> filter_;
};

/// A filter built from our watermarked outputs, and how many distinct windows those hold.
struct built_window_filter {
  window_filter filter;
  std::size_t distinct_windows = 0;  ///< distinct windows of the inputs, before `top` kept some
};

/// The filter of our watermarked outputs `inputs` (JSON Lines with "tokens", or "text" tokenized by
/// `tok`; nullptr: token ids only) under key `k`: the windows of the key's h tokens. `top` = 0 keeps
/// every window; otherwise the `top` most frequent (unsupervised: the windows a suspect most likely
/// saw), ties broken by the smaller fingerprint so the same inputs always give the same file. The
/// filter is bound to `tok`'s digest, or to the key's tokenizer binding without `tok`. Throws
/// errc::parse naming "file:line" for a record with neither field or not JSON, and
/// errc::invalid_argument for an input that cannot be opened or text without `tok`. `progress` hears
/// of the records read.
built_window_filter build_window_filter(const key& k, const std::vector<std::string>& inputs,
                                        const tritium::tokenizer* tok, std::size_t top,
                                        const progress_callback& progress = {});

}  // namespace tritium
