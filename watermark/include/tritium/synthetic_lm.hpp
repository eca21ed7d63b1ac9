// tritium/synthetic_lm.hpp — a built-in synthetic next-token distribution for demonstrations,
// tests and benchmarks, until a real language model stands behind the same calls.
//
// For a context (the previous token), every vocabulary entry v receives a pseudo-random rank
// r_v ∈ [0, V) from a seeded hash of (seed, previous token, v), and the logit −s·ln(1 + r_v): a
// Zipf-like distribution whose order changes with the context. The exponent s sets the entropy
// (at V = 32,000: s = 0.9 gives 8.3 nats, 1.6 gives 3.0, 1.8 gives 2.4). Deterministic given the seed; no global state.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "tritium/prf.hpp"

namespace tritium {

class synthetic_lm {
 public:
  synthetic_lm(std::uint32_t vocab_size, std::uint64_t seed, double zipf_exponent = 1.0);

  std::uint32_t vocab_size() const noexcept { return vocab_size_; }

  /// Writes the logits of the next token after `previous` into `out` (size V).
  void logits(token_id previous, std::span<float> out) const;

  /// Shannon entropy (nats) of softmax(logits).
  static double entropy(std::span<const float> logits);

 private:
  std::uint32_t vocab_size_;
  std::uint64_t seed_;
  std::vector<float> log_rank_;  ///< −s·ln(1 + r) for r ∈ [0, V)
};

}  // namespace tritium
