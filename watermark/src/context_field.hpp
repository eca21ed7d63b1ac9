// Internal: the pieces of tritium-prf-v1 that other keyed schemes reuse verbatim — the context
// field of a token window (papers/prf-v1.md §3) and the LSB-first lane extraction (§4) — so that
// KGW and account tracing (papers/trace-v1.md) encode windows and cut lanes with one piece of code.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "tritium/prf.hpp"

namespace tritium::detail {

/// Throws errc::invalid_argument, prefixed with `what`, unless 1 ≤ size ≤
/// prf_v1::max_context_width.
void check_window_size(std::size_t size, const char* what);

/// The 12-byte context field of `window` (size already checked): verbatim LE32s padded with 0xFF
/// for up to 3 tokens, else the first 12 bytes of SipHash-2-4-128 under `siphash_key`.
prf_context context_field(const std::uint8_t siphash_key[16],
                          std::span<const token_id> window) noexcept;

/// The `bits`-bit lane (bits ∈ {1, 2, 4, 8, 16}) that starts at bit `bit_index` of a keystream,
/// read from the 16-byte block that holds it; bits are numbered LSB first inside each byte.
inline std::uint32_t lane_at(const std::uint8_t* block, std::uint64_t bit_index,
                             std::uint32_t bits) noexcept {
  const auto bit = static_cast<std::uint32_t>(bit_index & 127);
  const std::uint8_t* p = block + (bit >> 3);
  if (bits == 16) return static_cast<std::uint32_t>(p[0] | p[1] << 8);
  return (static_cast<std::uint32_t>(*p) >> (bit & 7)) & ((1u << bits) - 1);
}

}  // namespace tritium::detail
