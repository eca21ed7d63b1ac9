// tritium/unigram.hpp — the Unigram watermark: one fixed green list for every position.
//
// Zhao et al., "Provable Robust Watermarking for AI-Generated Text" (ICLR 2024, arXiv:2306.17439):
// KGW with no context, so the green list is the same everywhere. That buys robustness to edits (a
// changed token never changes another token's colour) and costs secrecy: the list shows in the
// frequencies of marked text, so anyone with enough of it can estimate the list and spoof or scrub
// the mark (papers/unigram-v1.md §6). Here the list is the G = ⌊γV⌋ tokens of smallest keyed rank;
// the original code's numpy PCG64 shuffle is not reproduced. Detection: tritium/unigram_detect.hpp.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "tritium/prf.hpp"

namespace tritium {

class key;

namespace unigram_v1 {
inline constexpr const char* name = "tritium-unigram-v1";
inline constexpr std::string_view aes_label = "tritium/v1/unigram/aes128";
inline constexpr std::uint8_t rank_tag = 0x31;
}  // namespace unigram_v1

/// The Unigram scheme under one key: its green list, computed once (V AES blocks and a selection).
/// Immutable after construction, safe to share between threads.
class unigram {
 public:
  /// γ, δ and V are the key's; its context width is not used.
  explicit unigram(const key& k);

  std::uint32_t vocab_size() const noexcept { return vocab_size_; }
  /// G = ⌊γ·V⌋, exactly: (T·V) >> b for γ = T/2^b.
  std::uint32_t green_count() const noexcept { return green_count_; }
  float delta() const noexcept { return delta_; }

  bool is_green(token_id v) const;
  /// The list as bytes (1 = green), V of them.
  const std::vector<std::uint8_t>& green_mask() const noexcept { return green_; }

  /// Adds δ to the green logits of a whole row (V entries; errc::mismatch otherwise).
  void bias_dense(std::span<float> logits) const;
  /// Adds δ to the logits of the green candidates (errc::out_of_range for an id outside [0, V)).
  void bias_sparse(std::span<const token_id> ids, std::span<float> logits) const;


 private:
  std::uint32_t vocab_size_;
  std::uint32_t green_count_;
  float delta_;
  std::vector<std::uint8_t> green_;
  std::vector<float> bias_;  ///< δ on green tokens, 0 elsewhere: the dense row is one add pass
};

}  // namespace tritium
