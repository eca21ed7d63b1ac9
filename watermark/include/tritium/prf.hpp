// tritium/prf.hpp — the one keyed PRF behind every pseudo-random choice, version "tritium-prf-v1".
//
// The full bit-level specification is papers/prf-v1.md; fixtures/kat/prf_v1.json pins it. In short:
// subkeys come from the 256-bit secret by HKDF-Expand-SHA256 with labelled info strings; a token's
// pseudo-random "lane" is a b-bit field of AES-128 output whose input block encodes the context, a
// block counter and a domain tag. Anything that changes a single output bit must bump the version.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

namespace tritium {

/// Token ids are non-negative 32-bit integers below the key's vocabulary size.
using token_id = std::int32_t;

class key;

namespace prf_v1 {
inline constexpr const char* name = "tritium-prf-v1";
inline constexpr std::string_view key_id_label = "tritium/v1/key-id";
inline constexpr std::string_view key_file_mac_label = "tritium/v1/key-file-mac";
inline constexpr std::string_view kgw_aes_label = "tritium/v1/kgw/aes128";
inline constexpr std::string_view kgw_siphash_label = "tritium/v1/kgw/siphash";
/// Widest supported context; windows up to 3 tokens are encoded verbatim, wider ones by SipHash.
inline constexpr std::uint32_t max_context_width = 16;
inline constexpr std::uint32_t verbatim_context_width = 3;
/// V ≤ 2^24 keeps the block counter within its 24-bit field at 16 lane bits per token.
inline constexpr std::uint32_t max_vocab_size = 1u << 24;

/// Domain tags, the last byte of every AES input block.
enum class tag : std::uint8_t {
  lefthash_stream = 0x01,  ///< keystream of a left-hash context
  selfhash_rank = 0x02,    ///< min-hash rank of (context token, candidate)
  selfhash_lane = 0x03,    ///< lane of (anchor token, candidate)
};
}  // namespace prf_v1

/// The 12-byte context field of a left-hash window (papers/prf-v1.md §3).
struct prf_context {
  std::array<std::uint8_t, 12> bytes{};
};

/// Keyed PRF for the KGW family. Immutable after construction, safe to share between threads.
class kgw_prf {
 public:
  /// Derives the subkeys of `k`; the secret itself is not kept.
  explicit kgw_prf(const key& k);
  ~kgw_prf();
  kgw_prf(const kgw_prf&) = delete;
  kgw_prf& operator=(const kgw_prf&) = delete;

  std::uint32_t lane_bits() const noexcept { return lane_bits_; }

  /// The context field of a left-hash window of 1 to max_context_width tokens, oldest first.
  /// Throws errc::invalid_argument for another size.
  prf_context context(std::span<const token_id> window) const;

  /// Writes blocks [first, first + n) of the keystream of `ctx` (16 bytes each) to `out`.
  void stream_blocks(const prf_context& ctx, std::uint32_t first, std::size_t n,
                     std::uint8_t* out) const noexcept;

  /// The left-hash lane of token `v` under `ctx`: bits [v·b, v·b + b) of the keystream, LSB first.
  std::uint32_t lane(const prf_context& ctx, token_id v) const noexcept;

  /// Self-hash anchor: the window token with the smallest rank R(c_i, v), the first one on ties.
  /// Throws errc::invalid_argument unless 1 ≤ window size ≤ max_context_width.
  token_id selfhash_anchor(std::span<const token_id> window, token_id v) const;

  /// Self-hash lane of candidate `v` given its anchor.
  std::uint32_t selfhash_lane(token_id anchor, token_id v) const noexcept;

  /// Self-hash lanes of the consecutive candidates first, first + 1, …, first + n − 1 under one
  /// window, written to `lanes[0..n)`: what a dense row needs. Equal to selfhash_lane(selfhash_anchor(
  /// window, v), v) for each v, computed a chunk at a time, each rank row and the lane row by the
  /// counter kernels (papers/prf-v1.md §4 puts the candidate in word 1 of both blocks). Throws
  /// errc::invalid_argument unless 1 ≤ window size ≤ max_context_width.
  void selfhash_lanes(std::span<const token_id> window, token_id first, std::size_t n,
                      std::uint16_t* lanes) const;

  /// Self-hash lanes of the candidates `ids` under one window, in batches: what a candidate list
  /// needs. Equal to the single-candidate calls.
  void selfhash_lanes(std::span<const token_id> window, std::span<const token_id> ids,
                      std::uint16_t* lanes) const;

  /// Extracts the lane of token `v` from the keystream bytes of the block that holds it.
  std::uint32_t lane_in_block(const std::uint8_t* block, token_id v) const noexcept;

  /// Block index of token `v` in a left-hash keystream.
  std::uint32_t block_of(token_id v) const noexcept {
    return static_cast<std::uint32_t>((static_cast<std::uint64_t>(v) * lane_bits_) >> 7);
  }

  /// Fills a 16-byte AES input block for the left-hash keystream.
  static void stream_input(const prf_context& ctx, std::uint32_t counter, std::uint8_t* block) noexcept;

  /// Encrypts `n` prepared input blocks with the KGW subkey.
  void encrypt(const std::uint8_t* in, std::uint8_t* out, std::size_t n) const noexcept;

 private:
  struct subkeys;
  std::unique_ptr<subkeys> keys_;
  std::uint32_t lane_bits_;
  std::uint32_t context_width_;
};

}  // namespace tritium
