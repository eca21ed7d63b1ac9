// tritium/kgw_stream.hpp — per-sequence KGW state for an inference server.
//
// A stream holds what one generated sequence needs: the last h tokens (the PRF context), the
// sampling random source, and, when repeated-context masking is on, the contexts already used in
// this sequence (a context seen before is left unbiased, so that repeated phrases do not carry the
// same green list twice; Three Bricks §IV and SynthID use the same idea). Typical use:
//   stream.begin(prompt_tail);            // the last h prompt tokens, marks where generation starts
//   loop: stream.bias_dense(logits) | stream.bias_sparse(ids, logits) | t = stream.sample(logits);
//         stream.accept(t);
// A stream is not thread-safe; copy it (clone) for a new slot. Copies share the immutable scheme.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <unordered_set>
#include <vector>

#include "tritium/kgw.hpp"

namespace tritium {

struct stream_options {
  bool mask_repeated_contexts = false;  ///< leave a context already used in this sequence unbiased
  std::uint64_t seed = 0;               ///< seed of the sampling random source (`sample`)
};

class kgw_stream {
 public:
  kgw_stream(std::shared_ptr<const kgw> scheme, stream_options options = {});

  /// Starts a new sequence: clears the state and takes the prompt's last tokens as the first context
  /// (only the last h are kept; fewer than h leave the first steps unwatermarked).
  void begin(std::span<const token_id> prompt_tail);

  /// Appends a token chosen by the caller (sampled or forced). Throws errc::out_of_range.
  void accept(token_id t);

  /// Forgets everything, including the context; the sampling random source is kept.
  void reset() noexcept;

  /// Whether the next step will be watermarked: a full context, not masked as repeated.
  bool active() const;

  void bias_dense(std::span<float> logits) const;
  void bias_sparse(std::span<const token_id> ids, std::span<float> logits) const;

  /// Draws the next token from softmax(logits + δ·green), or from softmax(logits) when inactive.
  /// Does not accept it: call `accept` with the token the server finally uses.
  token_id sample(std::span<const float> logits);

  /// The same from a probability vector (size V), e.g. a language_model's distribution.
  token_id sample_probabilities(std::span<const double> probs);

  const kgw& scheme() const noexcept { return *scheme_; }
  /// The current context window (the last ≤ h tokens, oldest first).
  std::span<const token_id> window() const noexcept { return window_; }
  sampling_rng& rng() noexcept { return rng_; }

 private:
  std::uint64_t window_fingerprint() const noexcept;

  std::shared_ptr<const kgw> scheme_;
  stream_options options_;
  std::vector<token_id> window_;
  std::unordered_set<std::uint64_t> used_contexts_;
  sampling_rng rng_;
  sampling_scratch scratch_;
};

}  // namespace tritium
