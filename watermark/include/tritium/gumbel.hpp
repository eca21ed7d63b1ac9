// tritium/gumbel.hpp — the Gumbel (Aaronson) scheme: exponential-minimum sampling with context hashing.
//
// Each context (the h tokens before a position) gives every token v a keyed uniform r_v; the scheme
// emits argmax_v ln(r_v) / p_v over the tokens with p_v > 0 (Gumbel-max with keyed noise: over random
// keys the choice has law p exactly, so a single step does not distort the model; Aaronson 2022,
// Fernandez et al. 2023 "Three Bricks" §II). Its randomness is the key's alone: the same context and
// probabilities always give the same token, so a stream should draw ordinarily on repeated contexts.
// Detection adds −ln(1 − u) over the distinct scored tuples (verify: tritium/gumbel_detect.hpp). The
// bit-level specification is papers/gumbel-v1.md; fixtures/kat/gumbel_v1.json pins it.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "tritium/prf.hpp"

namespace tritium {

class key;

namespace gumbel_v1 {
inline constexpr const char* name = "tritium-gumbel-v1";
inline constexpr std::string_view aes_label = "tritium/v1/gumbel/aes128";
inline constexpr std::string_view siphash_label = "tritium/v1/gumbel/siphash";
inline constexpr std::uint8_t stream_tag = 0x11;  ///< the last byte of every keystream input block
}  // namespace gumbel_v1

/// The Gumbel scheme under one key. Immutable after construction, safe to share between threads.
class gumbel {
 public:
  /// Subkeys from the key's secret under the scheme's own labels (independent of KGW's); the
  /// context width h and the vocabulary size V are the key's, its γ and δ are not used.
  explicit gumbel(const key& k);
  ~gumbel();
  gumbel(const gumbel&) = delete;
  gumbel& operator=(const gumbel&) = delete;

  std::uint32_t context_width() const noexcept { return context_width_; }
  std::uint32_t vocab_size() const noexcept { return vocab_size_; }

  /// The 32-bit uniforms U_v of tokens [first, first + n) under `window` (h tokens, oldest first).
  /// Throws errc::invalid_argument for a window of another size, errc::out_of_range past V.
  void uniforms(std::span<const token_id> window, std::uint32_t first, std::size_t n, std::uint32_t* out) const;
  /// One token's U_v.
  std::uint32_t uniform(std::span<const token_id> window, token_id v) const;

  /// The U of tokens[pos] under the h tokens before it, for each pos in `positions` (each ≥ h and <
  /// tokens.size(), ids already checked against V), in batches: what detection needs.
  void uniforms_at(std::span<const token_id> tokens, std::span<const std::size_t> positions,
                   std::uint32_t* out) const;

  /// The detection score of a uniform: −ln(1 − U/2^32), in [0, 32 ln 2].
  static double score(std::uint32_t u) noexcept;

  /// The token the scheme emits after `window` from a whole row of weights (probabilities, not
  /// necessarily normalised: the choice does not change when they are scaled). Weights ≤ 0 are never
  /// chosen. Throws errc::mismatch unless the row has V entries, errc::invalid_argument when no
  /// weight is positive or one is not finite.
  token_id select(std::span<const token_id> window, std::span<const float> weights) const;

  /// The same over a candidate list (a chain's survivors after top-k/top-p): the token a whole row
  /// with these weights and zeros elsewhere would give. Throws errc::out_of_range for an id outside
  /// [0, V), errc::invalid_argument for sizes that differ or no positive weight.
  token_id select_candidates(std::span<const token_id> window, std::span<const token_id> ids,
                             std::span<const float> weights) const;

 private:
  struct subkeys;
  std::unique_ptr<subkeys> keys_;
  std::uint32_t context_width_;
  std::uint32_t vocab_size_;
};

}  // namespace tritium
