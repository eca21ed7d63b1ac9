// tritium/hf_synthid.hpp — SynthID-Text as Hugging Face transformers runs it, bit for bit.
//
// SynthID-Text (Dathathri et al., Nature 634, 2024) marks text by tournament sampling: m layers of
// pseudo-random g-values g_l(context, v) ∈ {0, 1} reweight the next-token distribution. transformers'
// `SynthIDTextWatermarkLogitsProcessor` (notes/schemes.md §6.2) computes them as:
//   - h = fold(1; context tokens, oldest first), fold(h; d) = (h + d)·M + 1 in wrapping int64,
//     M = 6364136223846793005; the token hash h_v = fold(h; v); the layer hash h_{v,l} = fold(h_v; key_l);
//   - g_l = table[h_{v,l} mod S] (torch's non-negative `%`), table = randint(0, 2, (S,)) from a CPU
//     generator seeded with sampling_table_seed (S = 65,536 and seed 0 by default);
//   - the state's context starts as ngram_len − 1 zeros (never the prompt) and takes the last token from
//     the second call on; a context seen among the last 1,024 (a zero-initialised FIFO of context hashes)
//     leaves the row unchanged;
//   - the row becomes log p' where p' is the N = 2 tournament update p ← p·(1 + g_l − Σ_v g_l p), layer
//     by layer, over softmax(scores).
// Golden vectors from real torch: fixtures/kat/torch_cpu_v1.json; spec and the exact null that replaces
// the Binomial(n·m, ½) model (which does not hold for this table): papers/hf-synthid.md.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "tritium/prf.hpp"

namespace tritium {

/// The `SynthIDTextWatermarkingConfig` fields.
struct hf_synthid_params {
  std::uint32_t ngram_len = 5;            ///< context of ngram_len − 1 tokens; ≥ 2
  std::vector<std::int64_t> keys;         ///< one per tournament layer (m = keys.size() ≥ 1)
  std::uint32_t sampling_table_size = 65536;  ///< ≤ 2^24, as transformers validates
  std::uint64_t sampling_table_seed = 0;
  std::uint32_t context_history_size = 1024;
  bool skip_first_ngram_calls = false;
};

/// The fold of transformers' accumulate_hash: (h + d)·M + 1 for each datum, wrapping.
inline constexpr std::uint64_t hf_synthid_multiplier = 6364136223846793005ULL;
inline std::uint64_t hf_synthid_fold(std::uint64_t h, std::uint64_t d) noexcept {
  return (h + d) * hf_synthid_multiplier + 1;
}

/// One configuration; immutable and thread-safe. Throws errc::invalid_argument on bad parameters.
class hf_synthid {
 public:
  explicit hf_synthid(hf_synthid_params params);

  const hf_synthid_params& params() const noexcept { return params_; }
  std::uint32_t depth() const noexcept { return static_cast<std::uint32_t>(params_.keys.size()); }
  std::uint32_t context_size() const noexcept { return params_.ngram_len - 1; }
  const std::vector<std::uint8_t>& table() const noexcept { return table_; }

  /// fold(1; context), the value the repetition FIFO holds. `context` has ngram_len − 1 tokens.
  std::uint64_t context_hash(std::span<const token_id> context) const noexcept;
  /// g_l for the token whose hash (fold of the context hash and the token) is `token_hash`.
  std::uint8_t g_value(std::uint64_t token_hash, std::uint32_t layer) const noexcept;
  /// All m g-values of an n-gram (ngram_len tokens, the scored token last).
  void g_values(std::span<const token_id> ngram, std::span<std::uint8_t> out) const noexcept;

  /// The processor's tournament on one row: scores → log of the reweighted softmax (float32 row of V
  /// entries; impossible tokens get the float32 lowest value, as transformers does). The arithmetic is
  /// in double: g-values are exact, the probabilities agree with torch's float32 to rounding.
  /// Throws errc::invalid_argument, naming the entry, for a NaN or +∞ score or a row without a finite
  /// one (the softmax would be NaN throughout).
  void reweight_dense(std::span<const token_id> context, std::span<float> scores) const;
  /// The same tournament over a candidate list (ids ≥ 0 and distinct, with their logits): the order of
  /// DeepMind's reference, which reweights after temperature and top-k (notes/schemes.md §6.1), where
  /// transformers reweights the full row before them. The g-values, and so what detection reads, are the
  /// same; the arithmetic is the dense path's, summed in candidate order. Cost: m g-values a candidate.
  void reweight_candidates(std::span<const token_id> context, std::span<const token_id> ids,
                           std::span<float> logits) const;

 private:
  hf_synthid_params params_;
  std::vector<std::uint8_t> table_;
  std::uint64_t index_mask_ = 0;  ///< size − 1 for a power-of-two table (torch's % is then the low bits), else 0
  std::vector<std::uint8_t> layer_g_;  ///< depth × size: layer l's g-value of bucket x (small power-of-two tables)
};

/// The processor's per-sequence state (`SynthIDTextWatermarkState`): the zero-padded context, the FIFO
/// of context hashes and the call count. One per generated sequence.
class hf_synthid_state {
 public:
  explicit hf_synthid_state(const hf_synthid& scheme);

  /// One processor call on the row for the next token. `last_token` is the sequence's last token (the
  /// prompt's last on the first call, which the processor ignores). Returns whether the row was
  /// reweighted (false: a repeated context, or a skipped first call). The state advances before the
  /// row is reweighted: when reweight_dense throws (a NaN score), the call still counts. A caller that
  /// wants it undone works on a copy, as the C ABI's streams do.
  bool apply(token_id last_token, std::span<float> scores);
  /// The same call without a row: the context shifts and the FIFO takes the context hash as in apply.
  /// Returns whether that call would reweight its row (under context()). A caller that may apply the
  /// processor twice to one position (a llama.cpp chain) advances a kept state once per token and
  /// reweights with a copy.
  bool advance(token_id last_token);

  const std::vector<token_id>& context() const noexcept { return context_; }

 private:
  const hf_synthid& scheme_;
  std::vector<token_id> context_;
  std::vector<std::uint64_t> history_;  ///< newest first, as transformers concatenates
  std::uint64_t calls_ = 0;
};

}  // namespace tritium
