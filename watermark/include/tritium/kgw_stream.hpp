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
//
// Account tracing (papers/trace-v1.md, attribution.md §3.2): `set_account(&code)` makes every active
// step also add δ_a where a candidate's account lane equals the code-word symbol of the step's
// position, in the same pass as the green bias (dense, sparse and sampling alike). A step carries an
// account symbol when it is active (above) and has at least h_p tokens of context; the stream keeps
// the last max(h, h_p) tokens.
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

  /// Marks the following steps with an account (nullptr: KGW only, the default). The stream does not
  /// own the code: it keeps the pointer, and the caller keeps `code` alive and unchanged while it is
  /// set (copies of the stream share the pointer). Survives `begin` and `reset`. Throws errc::mismatch
  /// when the key has no trace parameters (the message names `tritium keygen --trace`) and
  /// errc::invalid_argument when the code word was not derived with this key's trace parameters.
  void set_account(const account_code* code);
  const account_code* account() const noexcept { return account_; }

  /// Whether the next step also carries the account's symbol: an account is set, the step is active
  /// and at least h_p tokens of context are known.
  bool account_active() const;

  void bias_dense(std::span<float> logits) const;
  void bias_sparse(std::span<const token_id> ids, std::span<float> logits) const;

  /// Draws the next token from softmax(logits + δ·green (+ δ_a·match with an account)), or from
  /// softmax(logits) when inactive.
  /// Does not accept it: call `accept` with the token the server finally uses.
  token_id sample(std::span<const float> logits);

  /// The same from a probability vector (size V), e.g. a language_model's distribution.
  token_id sample_probabilities(std::span<const double> probs);

  const kgw& scheme() const noexcept { return *scheme_; }
  /// The current context window (the last ≤ h tokens, oldest first).
  std::span<const token_id> window() const noexcept;
  sampling_rng& rng() noexcept { return rng_; }

 private:
  std::uint64_t window_fingerprint() const noexcept;
  std::span<const token_id> last(std::size_t n) const noexcept;

  std::shared_ptr<const kgw> scheme_;
  stream_options options_;
  /// The last max(h, h_p) tokens, oldest first (h_p = 0 without trace parameters).
  std::vector<token_id> history_;
  std::size_t keep_ = 0;
  /// Not owned: the caller's account code (see set_account), or nullptr.
  const account_code* account_ = nullptr;
  std::unordered_set<std::uint64_t> used_contexts_;
  sampling_rng rng_;
  sampling_scratch scratch_;
};

}  // namespace tritium
