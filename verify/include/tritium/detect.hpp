// tritium/detect.hpp — KGW detection with exact statistics.
//
// Null hypothesis H0: "the tokens were produced independently of key K". Under H0 and the PRF
// assumption, each distinct scored tuple is green independently with probability exactly γ
// (papers/prf-v1.md §4), so after deduplication the green count S of T scored tuples is
// Binomial(T, γ) and p = P(Bin(T, γ) ≥ S) = I_γ(S, T − S + 1) (Fernandez et al., "Three Bricks",
// WIFS 2023, §III). The p-value is computed exactly in log space (tritium/binomial_tail.hpp); z is
// reported for information only and never drives a decision.
//
// Deduplication is what makes that null hold on real text, which repeats itself (Three Bricks §IV;
// the lm-watermarking README): `context_token` scores each (window, token) tuple once, `context`
// scores each window once, `none` scores every position and is only for demonstrating the problem.
// For self-hash keys both deduplicating modes key on the PRF input (anchor, token).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "tritium/key.hpp"
#include "tritium/kgw.hpp"
#include "tritium/tuple_set.hpp"

namespace tritium {

enum class dedup_mode : std::uint8_t { none = 0, context = 1, context_token = 2 };

const char* dedup_mode_name(dedup_mode m) noexcept;
std::optional<dedup_mode> dedup_mode_from_name(const std::string& name) noexcept;

/// Default pre-registered significance level of the CLI and the demo.
inline constexpr double default_alpha = 1e-3;

struct detect_options {
  dedup_mode dedup = dedup_mode::context_token;
  double alpha = default_alpha;  ///< decision threshold, in (0, 1)
  bool want_marks = false;       ///< fill `detection::marks`
  std::size_t curve_points = 0;  ///< at most this many points of the −log10 p curve (0: none)
};

/// What happened to each token of a document.
enum class token_mark : std::int8_t {
  no_context = -2,  ///< among the first h tokens: no full context
  duplicate = -1,   ///< its tuple was already scored
  red = 0,
  green = 1,
  scored = 2,       ///< scored, without a colour (Gumbel: a tuple's evidence is its score, not a colour)
};

struct curve_point {
  std::uint64_t scored;
  std::uint64_t green;
  double minus_log10_p;
};

/// The best window of a windowed scan (tritium/window_scan.hpp, papers/window-scan.md).
struct window_scan_result {
  std::uint64_t scored = 0;       ///< T, the tuples scanned
  std::uint32_t sizes = 0;        ///< J, the window sizes (the whole text included)
  std::uint64_t windows = 0;      ///< windows tested
  // The best window (smallest corrected p), in scored tuples [begin, end) and in tokens [begin, end).
  std::uint64_t begin = 0, end = 0;
  std::uint64_t token_begin = 0, token_end = 0;
  std::uint64_t window_green = 0;  ///< green tuples in it (KGW, Unigram)
  double window_score = 0.0;       ///< Gumbel: the sum of its tuples' scores
  double window_ln_p = 0.0;        ///< its own p-value, uncorrected (never a verdict on its own)
  double ln_p_scan = 0.0;          ///< ln of the corrected p-value: the one to decide on
  double whole_ln_p = 0.0;         ///< the whole text's p-value, uncorrected, for comparison
};

struct detection {
  /// The scheme tested. KGW and Unigram count green tuples (Unigram: distinct ids, gamma = G/V);
  /// Gumbel sums scores (`score`), with green and gamma 0.
  scheme_kind scheme = scheme_kind::kgw;
  std::uint64_t tokens = 0;  ///< tokens read
  std::uint64_t scored = 0;  ///< tuples scored after deduplication
  std::uint64_t green = 0;
  double gamma = 0.0;
  double ln_p = 0.0;      ///< natural log of the exact p-value
  double log10_p = 0.0;   ///< log10 of the exact p-value (finite far below 1e-300)
  double p_value = 1.0;   ///< the p-value as a double (0 only when it underflows; use log10_p)
  double z = 0.0;         ///< (S − γT)/√(Tγ(1−γ)), information only (KGW)
  double score = 0.0;     ///< Gumbel: S = Σ −ln(1 − U/2^32) over the scored tuples
  /// ln of the smallest p-value any text could give on these scored tuples (all green, or every
  /// Gumbel score maximal; with a window scan, times its sizes): what `insufficient` compares to alpha.
  double ln_p_floor = 0.0;
  bool detected = false;  ///< log10_p ≤ log10(alpha)
  /// ln_p is a proven upper bound on the p-value, not its exact value (HF/TGI KGW: the binomial bound
  /// on a sum of hypergeometric counts, papers/hf-kgw.md §5). A bound never overstates evidence.
  bool p_is_bound = false;
  /// Even an all-green outcome on these scored tuples could not reach alpha: no conclusion possible.
  bool insufficient = false;
  std::vector<token_mark> marks;
  std::vector<curve_point> curve;
  /// Set when the document was scanned in windows (detect_spec::min_window): then `detected` and
  /// `insufficient` follow the scan-corrected p (window->ln_p_scan), and ln_p stays the whole text's.
  std::optional<window_scan_result> window;
};

/// The −log10 p curve of a sequence of scored tuples (1 = green), at `points` evenly spaced prefixes
/// ending with the whole sequence. The curve is for display: its minimum over prefixes is not a
/// valid p-value (choosing where to stop is a multiple test).
std::vector<curve_point> cumulative_curve(std::span<const std::uint8_t> green_flags, double gamma,
                                          std::size_t points);

/// Fills the statistics of `d` from its counts (scored, green, gamma): the exact binomial tail, or the
/// Hoeffding bound of hf_kgw_p_bound_ln when `d.p_is_bound` is set.
void finish_detection(detection& d, double alpha);

class kgw_detector {
 public:
  explicit kgw_detector(const key& k);

  /// Scores one document. Throws errc::out_of_range naming the index of a token outside [0, V).
  detection detect(std::span<const token_id> tokens, const detect_options& options = {}) const;

  const kgw& scheme() const noexcept { return scheme_; }

  /// A pooled test over many documents with one global deduplication: a tuple scored in an earlier
  /// document is not scored again. Not thread-safe.
  class corpus {
   public:
    corpus(const kgw_detector& detector, detect_options options);
    /// Adds a document and returns its own contribution (counts only, statistics of its share).
    detection add(std::span<const token_id> tokens);
    /// The pooled result so far.
    detection result() const;
    std::size_t documents() const noexcept { return documents_; }

   private:
    const kgw_detector& detector_;
    detect_options options_;
    tuple_set seen_;
    detection total_;
    std::size_t documents_ = 0;
  };

 private:
  friend class corpus;
  /// Scores `tokens` against `seen`, adding to the counts of `d`; marks and curve when asked.
  void score(std::span<const token_id> tokens, const detect_options& options, tuple_set& seen,
             detection& d) const;

  kgw scheme_;
};

}  // namespace tritium
