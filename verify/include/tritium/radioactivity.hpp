// tritium/radioactivity.hpp — testing whether a suspect model or corpus carries our watermark
// (Sander et al., "Watermarking Makes Language Models Radioactive", NeurIPS 2024, arXiv:2402.14904).
//
// One scorer for the three access modes:
//   - corpus and closed model: the (window, token) tuples of texts the suspect wrote (`score_text`),
//     after excluding every window that also occurs in the prompts sent to it (`exclude_windows`),
//     otherwise a suspect that merely copies our watermarked prompts would look radioactive;
//   - open model ("reading mode"): our own watermarked texts are teacher-forced through the suspect,
//     and its top-1 prediction after each prefix is scored with the input's window
//     (`score_predictions`).
// A global tape scores each tuple (or each window) once across the whole test, so that the green count
// of the T scored tuples is Binomial(T, γ) under H0 ("the suspect's text is independent of key K") and
// the p-value is the exact binomial tail. An optional filter keeps only windows that occurred in our
// watermarked outputs. Control keys — keys never used to watermark anything — run the same test; their
// p-values must look uniform, which checks the null on this suspect.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <memory>
#include <ostream>
#include <span>
#include <unordered_set>
#include <vector>

#include "tritium/detect.hpp"
#include "tritium/key.hpp"

namespace tritium {

enum class tape_mode : std::uint8_t { none = 0, window = 1, window_token = 2 };

struct radioactivity_options {
  tape_mode tape = tape_mode::window_token;
  double alpha = default_alpha;
  std::size_t curve_points = 256;  ///< points of the −log10 p curve against scored tuples (0: none)
};

/// Counts of what happened to the tuples read.
struct radioactivity_counts {
  std::uint64_t read = 0;             ///< tuples with a full window
  std::uint64_t prompt_excluded = 0;  ///< window also in a prompt sent to the suspect
  std::uint64_t filtered_out = 0;     ///< window not in the filter
  std::uint64_t duplicates = 0;       ///< already on the tape
};

struct radioactivity_result {
  detection test;  ///< scored, green, exact p (log10_p), z, decision at alpha, curve
  radioactivity_counts counts;
};

/// A set of context windows (fingerprints), e.g. the windows of our watermarked outputs.
class window_set {
 public:
  void add_windows_of(std::span<const token_id> tokens, std::uint32_t h);
  void add(std::uint64_t fingerprint) { set_.insert(fingerprint); }
  bool contains(std::span<const token_id> window) const;
  std::size_t size() const noexcept { return set_.size(); }
  const std::unordered_set<std::uint64_t>& fingerprints() const noexcept { return set_; }

 private:
  std::unordered_set<std::uint64_t> set_;
};

/// A filter file: the windows of our watermarked outputs a test may score, bound to one key and one
/// tokenizer. Format "tritium-filter" v1: the magic "TRTFILTR", u32 version, u32 h, the key id (64
/// ASCII hex digits), the tokenizer digest (80 bytes, NUL-padded), u64 count, count u64 window
/// fingerprints (tuple_set.hpp) in ascending order, and a SHA-256 of everything before it.
struct window_filter {
  std::string key_id;
  std::string tokenizer_digest;
  std::uint32_t context_width = 1;
  std::string description;  ///< e.g. "supervised: all windows of 3 files" (not stored)
  window_set windows;

  /// Writes the filter file to `out`. Throws errc::io when `out` fails. Making the file appear
  /// atomically is the caller's part (the CLI writes through its atomic output).
  void save(std::ostream& out) const;
  /// Throws errc::parse (damaged, truncated) or errc::mismatch (another key, tokenizer or h).
  static window_filter load(const std::filesystem::path& path, const key& k, const std::string& tokenizer_digest);
};

class radioactivity_scorer {
 public:
  radioactivity_scorer(const key& k, radioactivity_options options = {});

  /// Windows of a prompt sent to the suspect: tuples whose window is among them are never scored.
  void exclude_windows(std::span<const token_id> prompt);

  /// Scores only windows in `filter` (supervised: windows of what the suspect received); the set must
  /// outlive the scorer. Pass nullptr to score every window.
  void set_filter(const window_set* filter) noexcept { filter_ = filter; }

  /// Also scores every tuple the real key scores under these keys (control_keys()): the same test on
  /// the same tuples, sharing one tape, so memory does not grow with the number of controls. Call
  /// before scoring. Keys must have the real key's parameters (throws errc::mismatch otherwise).
  void add_control_keys(const std::vector<key>& controls);

  /// Results under each control key, in the order given (counts as in result(); no curve).
  std::vector<detection> control_results() const;

  /// Corpus and closed-model mode: the tuples (previous h tokens, token) of a text the suspect wrote.
  void score_text(std::span<const token_id> tokens);

  /// Reading mode: `predictions[i]` is the suspect's top-1 next token after `input[0..i]`; the tuple
  /// (input[i−h+1..i], predictions[i]) is scored. Sizes must match.
  void score_predictions(std::span<const token_id> input, std::span<const token_id> predictions);

  radioactivity_result result() const;

 private:
  // Tuples are scored in batches: fingerprints first (prefetching their tape slots), then the tape,
  // then one AES call for all new tuples (left-hash keys).
  void score_batch(const std::span<const token_id>* windows, const token_id* tokens, std::size_t n);

  kgw scheme_;
  radioactivity_options options_;
  window_set prompt_windows_;
  const window_set* filter_ = nullptr;
  tuple_set tape_;
  radioactivity_counts counts_;
  std::uint64_t scored_ = 0, green_ = 0;
  std::vector<std::unique_ptr<kgw>> control_schemes_;  // kgw holds expanded AES keys: kept in place
  std::vector<std::uint64_t> control_green_;
  std::vector<std::uint8_t> flags_;  // green flag of each scored tuple, for the curve
};

/// `count` control keys for `k`: same public parameters, secrets derived from k's secret by
/// HKDF-Expand-SHA256 with info "tritium/v1/control-key/<i>" — never used to watermark anything,
/// reproducible by whoever holds k, and independent of k and of each other under the PRF assumption.
std::vector<key> control_keys(const key& k, std::uint32_t count);

/// Power planner: from a pilot's green share on `pilot_scored` tuples, the scored tuples needed for
/// an expected log10 p at or below `target_log10_p` (the expected green count at that size, rounded
/// down, put through the exact tail). Returns 0 when the pilot shows no lift over γ.
std::uint64_t plan_scored_tuples(std::uint64_t pilot_scored, std::uint64_t pilot_green, double gamma,
                                 double target_log10_p);

/// The z of a two-sided 95% interval, Φ⁻¹(0.975).
inline constexpr double planning_z_95 = 1.959963984540054;

/// A plan with the pilot's uncertainty carried: the pilot's green share is itself an estimate, so
/// the plan is repeated at the ends of the share's 95% Wilson score interval (Wilson 1927; Newcombe
/// 1998, method 3). A planning aid, never a decision.
struct scored_plan {
  std::uint64_t scored_needed = 0;  ///< plan_scored_tuples at the pilot's share (0: never)
  bool has_interval = false;        ///< false when the pilot scored nothing (no interval exists)
  double share_low = 0.0;           ///< lower end of the share's 95% Wilson interval
  double share_high = 0.0;          ///< upper end
  /// The plan at share_high: the fewest tuples the interval allows (0: never).
  std::uint64_t scored_needed_optimistic = 0;
  /// The plan at share_low: the most (0: never — the interval reaches γ).
  std::uint64_t scored_needed_pessimistic = 0;
};

/// plan_scored_tuples at the pilot's share and at the ends of its 95% Wilson interval; an end's
/// share s is taken as the green count floor(s · pilot_scored). Throws errc::invalid_argument when
/// pilot_green exceeds pilot_scored.
scored_plan plan_with_interval(std::uint64_t pilot_scored, std::uint64_t pilot_green, double gamma,
                               double target_log10_p);

}  // namespace tritium
