// tritium/tuple_set.hpp — the set of (context, token) tuples already scored, for deduplication.
//
// Open addressing over 64-bit fingerprints: 8 bytes per unique tuple at a load factor between 1/4
// and 1/2, so memory grows with unique tuples only. Fingerprints come from a bijective mixer, so
// tuples that fit in 64 bits (h = 1) never collide; for wider tuples a collision can only drop a
// tuple from scoring, a decision that depends on the text alone and so leaves the null exact.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace tritium {

/// The splitmix64 finaliser: a bijection on 64-bit words with full avalanche.
inline std::uint64_t mix64(std::uint64_t z) noexcept {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

class tuple_set {
 public:
  explicit tuple_set(std::size_t expected = 0);

  /// Inserts a key; returns true if it was not present.
  bool insert(std::uint64_t key);

  /// Hints that `key` will be inserted soon (overlaps the cache miss of a large table).
  void prefetch(std::uint64_t key) const noexcept {
    __builtin_prefetch(slots_.data() + (static_cast<std::size_t>(mix64(key)) & mask_));
  }

  std::size_t size() const noexcept { return size_; }
  void clear() noexcept;
  /// Bytes held by the table.
  std::size_t memory_bytes() const noexcept { return slots_.size() * sizeof(std::uint64_t); }

 private:
  void grow();

  std::vector<std::uint64_t> slots_;
  std::size_t size_ = 0;
  std::size_t mask_ = 0;
};

/// Fingerprint of a context window (exact for 1 or 2 tokens).
inline std::uint64_t window_fingerprint(std::span<const std::int32_t> window) noexcept {
  if (window.size() == 1) return static_cast<std::uint32_t>(window[0]);
  if (window.size() == 2) {
    return static_cast<std::uint64_t>(static_cast<std::uint32_t>(window[0])) << 32 |
           static_cast<std::uint32_t>(window[1]);
  }
  std::uint64_t f = 0x243f6a8885a308d3ULL ^ window.size();
  for (std::int32_t t : window) f = mix64(f ^ static_cast<std::uint32_t>(t));
  return f;
}

/// Fingerprint of a (window, token) tuple (exact for a 1-token window).
inline std::uint64_t tuple_fingerprint(std::span<const std::int32_t> window, std::int32_t v) noexcept {
  if (window.size() == 1) {
    return static_cast<std::uint64_t>(static_cast<std::uint32_t>(window[0])) << 32 | static_cast<std::uint32_t>(v);
  }
  return mix64(window_fingerprint(window) ^ 0x5851f42d4c957f2dULL) ^ static_cast<std::uint32_t>(v);
}

}  // namespace tritium
