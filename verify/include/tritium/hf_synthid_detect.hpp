// tritium/hf_synthid_detect.hpp — detection of transformers' SynthID-Text with an exact p-value.
//
// Scored as transformers' detector scores: g-values of every n-gram (positions ngram_len − 1 onward),
// masked by the context-repetition mask (a context seen among the previous `context_history_size`
// contexts does not count) and by the EOS mask (nothing from the first EOS on). Scores: the mean and
// the weighted mean (weights linspace(10, 1, m) rescaled to sum m) of the masked g-values.
//
// The p-value (papers/hf-synthid.md §4). The Binomial(n·m, ½) model of i.i.d. fair g-values does not hold
// for this table: only the low 16 bits of (token hash + key_l) reach it (S = 2^16), so a token's m
// g-values are fixed by u = token hash mod 2^16, and the table is not balanced (32,743 ones in 65,536
// for seed 0). tritium's null instead takes the text as fixed and the layer keys as the randomness: each
// key_l uniform modulo S and independent. Then layer l's count is C(c_l) = Σ_t T'[(u_t + c_l) mod S]
// with T'[x] = table[(x·M + 1) mod S], its law is the histogram H of C over all S shifts (computed
// exactly), the layers are i.i.d., and the total has the law H^{*m}: the p-value is exact, whatever the
// text repeats, and never below 2^{−16m}. The weighted mean gets a Chernoff bound from the same H
// (a bound, said so). Table sizes must be powers of two up to 2^16.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "tritium/detect.hpp"
#include "tritium/hf_synthid.hpp"
#include "tritium/window_scan.hpp"

namespace tritium {

class hf_synthid_bayesian;

struct hf_synthid_detect_options {
  double alpha = default_alpha;
  std::optional<token_id> eos;   ///< positions from the first EOS on are not scored
  bool repetition_mask = true;   ///< transformers' context-repetition mask (false: score every position)
  /// A trained Bayesian detector (tritium/hf_synthid_bayesian.hpp): its posterior is reported beside
  /// the p-value, never used for the decision. Not owned.
  const hf_synthid_bayesian* bayesian = nullptr;
};

struct hf_synthid_detection {
  std::uint64_t tokens = 0;
  std::uint64_t scored = 0;   ///< positions counted (after both masks)
  std::uint32_t depth = 0;    ///< m, the layers
  std::uint64_t ones = 0;     ///< Σ of the counted g-values over positions and layers
  std::vector<std::uint64_t> ones_per_layer;
  double mean = 0.0;           ///< transformers' mean score: ones / (scored · m)
  double weighted_mean = 0.0;  ///< transformers' weighted mean score
  double ln_p = 0.0;           ///< exact ln P(total ≥ ones) under the key-shift null
  double log10_p = 0.0;
  double ln_p_min = 0.0;       ///< the smallest p-value these positions can give (all counts maximal)
  double weighted_ln_p_bound = 0.0;  ///< Chernoff bound on ln P(weighted sum ≥ observed)
  double null_mean = 0.0;      ///< E[ones / (scored · m)] under the null (≈ 0.4996, not ½)
  bool detected = false;       ///< ln_p ≤ ln alpha
  bool insufficient = false;   ///< ln_p_min > ln alpha: no text over these positions could reach alpha
  /// With options.bayesian: P(watermarked | g) under that model and its prior. Not a p-value.
  std::optional<double> bayesian_posterior;
};

/// Scores one document (generated tokens only: transformers' processor never hashes the prompt).
/// Throws errc::invalid_argument if the table size is not a power of two ≤ 2^16, errc::out_of_range
/// for a negative token id.
hf_synthid_detection hf_synthid_detect(const hf_synthid& scheme, std::span<const token_id> tokens,
                                       const hf_synthid_detect_options& options = {});

/// One test over many documents (`detect --hf-config --pool`): the counted positions of every
/// document (each under its own masks) in one key-shift null. The null takes the keys as the
/// randomness and the text as fixed, so it is exact for any set of positions, wherever they were read,
/// and needs no deduplication across documents either. Documents may be added in any order: the
/// result is the same (integer counts; the weighted mean from the per-layer totals).
class hf_synthid_pool {
 public:
  /// options.bayesian must be null: the posterior is a model of one text. Throws as hf_synthid_detect
  /// does for a table size or depth the exact null cannot take.
  hf_synthid_pool(const hf_synthid& scheme, const hf_synthid_detect_options& options);

  /// Adds one document. Throws errc::out_of_range for a negative id (the pool is then unchanged) and
  /// errc::invalid_argument past 2^32 − 1 counted positions in all.
  void add(std::span<const token_id> tokens);
  /// The pooled test (tokens and scored summed over the documents).
  hf_synthid_detection result() const;
  std::uint64_t documents() const noexcept { return documents_; }

 private:
  const hf_synthid& scheme_;
  hf_synthid_detect_options options_;
  std::vector<std::uint64_t> residues_;        ///< multiplicity of each residue u = h mod S
  std::vector<std::uint64_t> ones_per_layer_;
  std::uint64_t documents_ = 0, tokens_ = 0, scored_ = 0;
};

/// The g-values of the positions hf_synthid_detect counts (both masks): one row of m per position,
/// in text order. What a Bayesian detector is trained on and scores.
std::vector<std::uint8_t> hf_synthid_counted_g_values(const hf_synthid& scheme, std::span<const token_id> tokens,
                                                      const hf_synthid_detect_options& options = {});

/// The token positions hf_synthid_detect counts (both masks), in text order: the positions of the
/// rows of hf_synthid_counted_g_values. What an evidence report's excerpt marks.
std::vector<std::uint64_t> hf_synthid_counted_positions(const hf_synthid& scheme, std::span<const token_id> tokens,
                                                       const hf_synthid_detect_options& options = {});

/// The exact test of the first `scored` counted positions: what hf_synthid_detect gives on the text
/// cut after the last of them.
struct hf_synthid_prefix {
  std::uint64_t scored = 0;
  std::uint64_t ones = 0;  ///< g-values equal to 1 over those positions and the layers
  double ln_p = 0.0;
};
/// The tests of several prefixes of the counted positions (`counts`: increasing, each in [1, scored]),
/// at the cost of about one detection: the per-shift counts are kept from one prefix to the next. A
/// report's curve (errc::invalid_argument for counts out of order or range).
std::vector<hf_synthid_prefix> hf_synthid_prefix_tests(const hf_synthid& scheme, std::span<const token_id> tokens,
                                                       const hf_synthid_detect_options& options,
                                                       std::span<const std::uint64_t> counts);

/// Scans the counted positions in windows (tritium/window_scan.hpp, papers/window-scan.md): each
/// window's p is the exact key-shift null over its own positions, its statistic the g-values equal to
/// 1 (window_green); the best window's p is corrected for the scan. Costs one shift law per window,
/// S additions per distinct position: about 2·J·T·S additions for T positions and J window sizes
/// (0.19 s for two documents of 1,500 and 1,700 tokens at S = 65,536; tens of seconds at T = 100,000).
window_scan_result hf_synthid_window_scan(const hf_synthid& scheme, std::span<const token_id> tokens,
                                          const hf_synthid_detect_options& options = {},
                                          const window_scan_options& windows = {});

}  // namespace tritium
