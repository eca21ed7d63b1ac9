// tritium/gumbel_detect.hpp — detection for the Gumbel (Aaronson) scheme with an exact-tail p-value.
//
// Each distinct scored tuple t (after deduplication, as for KGW: the first h tokens have no context
// and are never scored) adds s_t = −ln(1 − U_t/2^32), U_t the 32-bit keyed uniform of its token under
// its context. Under H0 (the text does not depend on the key) the U_t of distinct tuples are
// independent and uniform on {0, …, 2^32 − 1}, so P(s_t ≥ x) = ⌊2^32 e^{−x}⌋/2^32 ≤ e^{−x}: each score
// is stochastically at most Exp(1), the sum S of N of them at most Gamma(N, 1), and
// p = Q(N, S) = P(Gamma(N, 1) ≥ S) is a valid p-value (conservative by at most the 2^-32 grid).
// It is computed exactly in log space (tritium/gamma_tail.hpp). No z is reported: the z of the
// reference code uses a wrong variance (papers/gumbel-v1.md §5).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "tritium/detect.hpp"
#include "tritium/gumbel.hpp"
#include "tritium/tuple_set.hpp"

namespace tritium {

struct gumbel_detection {
  std::uint64_t tokens = 0;  ///< tokens read
  std::uint64_t scored = 0;  ///< N, tuples scored after deduplication
  double score = 0.0;        ///< S, the sum of −ln(1 − U/2^32) over them
  double ln_p = 0.0;         ///< ln Q(N, S)
  double log10_p = 0.0;
  bool detected = false;     ///< log10_p ≤ log10(alpha)
  /// Even the largest possible score on every scored tuple (32 ln 2 each) could not reach alpha.
  bool insufficient = false;
};

/// Scores one document. `options.dedup`: context_token keys tuples on (window, token), context on the
/// window alone, none scores every position (its p is then not valid). Marks and curves are not
/// produced for this scheme (errc::usage when asked). Throws errc::out_of_range naming the index of a
/// token outside [0, V).
gumbel_detection gumbel_detect(const gumbel& scheme, std::span<const token_id> tokens,
                               const detect_options& options = {});

/// The scored tuples of one document in text order (after `options.dedup`): each one's score and the
/// index of the token it scores. What a window scan reads (tritium/window_scan.hpp, gamma_window_scan).
struct gumbel_tuples {
  std::vector<double> scores;
  std::vector<std::uint64_t> positions;
};
gumbel_tuples gumbel_scored_tuples(const gumbel& scheme, std::span<const token_id> tokens,
                                   const detect_options& options = {});

/// One pooled test over many documents: each distinct tuple of the whole input is scored once (one
/// global deduplication), and N and S add up, so Q(N, S) is again a valid p-value. `options.dedup`
/// must not be none: the pooled p would not be valid.
class gumbel_pool {
 public:
  gumbel_pool(const gumbel& scheme, const detect_options& options);
  /// Adds a document; returns its own contribution (tokens, new tuples, their score).
  gumbel_detection add(std::span<const token_id> tokens);
  /// The pooled test so far.
  gumbel_detection result() const;

 private:
  const gumbel& scheme_;
  detect_options options_;
  tuple_set seen_;
  gumbel_detection total_;
};

}  // namespace tritium
