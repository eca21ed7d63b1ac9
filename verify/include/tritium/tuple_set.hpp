// tritium/tuple_set.hpp — the set of (context, token) tuples already scored, for deduplication.
//
// Open addressing over 64-bit fingerprints: 8 bytes per unique tuple at a load factor between 1/4
// and 1/2, so memory grows with unique tuples only. Fingerprints come from a bijective mixer, so
// tuples that fit in 64 bits (h = 1) never collide; for wider tuples a collision can only drop a
// tuple from scoring, a decision that depends on the text alone and so leaves the null exact.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace tritium {

class tuple_set {
 public:
  explicit tuple_set(std::size_t expected = 0);

  /// Inserts a key; returns true if it was not present.
  bool insert(std::uint64_t key);

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

/// The splitmix64 finaliser: a bijection on 64-bit words with full avalanche.
inline std::uint64_t mix64(std::uint64_t z) noexcept {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace tritium
