// tritium/unigram_detect.hpp — Unigram detection with the exact hypergeometric tail.
//
// The green list is one fixed set of G = ⌊γV⌋ tokens, so a token repeated anywhere in a text adds
// nothing new: detection scores the m distinct token ids of a document. Under H0 (the text does not
// depend on the key) the list is a uniformly random G-subset of the V ids (the G smallest of V i.i.d.
// keyed ranks), so the green count of any fixed m distinct ids is Hypergeometric(V, G, m) exactly and
// p = P(X ≥ s) (tritium/hypergeometric_tail.hpp). The reference code's z with a finite-population
// correction is an approximation of this tail; tritium computes the tail itself.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "tritium/detect.hpp"
#include "tritium/unigram.hpp"

namespace tritium {

struct unigram_detection {
  std::uint64_t tokens = 0;  ///< tokens read
  std::uint64_t scored = 0;  ///< m: distinct token ids
  std::uint64_t green = 0;   ///< s: green among them
  double ln_p = 0.0;         ///< ln P(Hypergeometric(V, G, m) ≥ s)
  double log10_p = 0.0;
  bool detected = false;     ///< log10_p ≤ log10(alpha)
  /// Even an all-green outcome on these m ids could not reach alpha.
  bool insufficient = false;
};

/// Scores one document. `options.dedup`: context_token and context both mean distinct token ids (a
/// Unigram token has no context); none is refused (errc::usage): repeats of a fixed list are not
/// independent draws. Marks and curves are not produced (errc::usage when asked). Throws
/// errc::out_of_range naming the index of a token outside [0, V).
unigram_detection unigram_detect(const unigram& scheme, std::span<const token_id> tokens,
                                 const detect_options& options = {});

/// The distinct ids of one document in order of first occurrence: whether each is green and the
/// index of its first token. What a window scan reads (hypergeometric_window_scan).
struct unigram_ids {
  std::vector<std::uint8_t> green;
  std::vector<std::uint64_t> positions;
};
unigram_ids unigram_distinct_ids(const unigram& scheme, std::span<const token_id> tokens,
                                 const detect_options& options = {});

/// One pooled test over many documents: the distinct token ids of the whole input, tested against the
/// one green list (Hypergeometric(V, G, m) as for one document).
class unigram_pool {
 public:
  unigram_pool(const unigram& scheme, const detect_options& options);
  /// Adds a document; returns its own contribution (tokens, ids new to the pool, green among them).
  unigram_detection add(std::span<const token_id> tokens);
  /// The pooled test so far.
  unigram_detection result() const;

 private:
  const unigram& scheme_;
  detect_options options_;
  std::vector<std::uint8_t> seen_;
  unigram_detection total_;
};

}  // namespace tritium
