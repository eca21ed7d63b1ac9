#include "tritium/tuple_set.hpp"

#include <cstdint>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace tritium {
namespace {

constexpr std::uint64_t empty_slot = 0;
// The single fingerprint that would read as "empty" is moved here; its collision is harmless.
constexpr std::uint64_t zero_substitute = 0x9e3779b97f4a7c15ULL;

// An empty table of n slots. A large table asks for transparent huge pages before its first touch
// (where THP is "madvise", the usual default): a tape that grows to 512 MB through doublings touches
// about 250,000 small pages, and on a virtual machine those faults dominated the scan (`tritium
// bench`'s radioactivity tape, 20 M tuples on 2 cores: 3.9 M tokens/s with 4 KiB pages, 7.5 with huge
// pages; what remains is mostly the kernel clearing the pages).
std::vector<std::uint64_t> empty_table(std::size_t n) {
  std::vector<std::uint64_t> table;
  table.reserve(n);
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  constexpr std::uintptr_t huge = std::uintptr_t{2} << 20;
  const auto begin = reinterpret_cast<std::uintptr_t>(table.data());
  const std::uintptr_t first = (begin + huge - 1) & ~(huge - 1);
  const std::uintptr_t last = (begin + n * sizeof(std::uint64_t)) & ~(huge - 1);
  if (last > first) madvise(reinterpret_cast<void*>(first), last - first, MADV_HUGEPAGE);  // a hint only
#endif
  table.assign(n, empty_slot);
  return table;
}

}  // namespace

tuple_set::tuple_set(std::size_t expected) {
  std::size_t capacity = 16;
  while (capacity < 2 * expected) capacity *= 2;
  slots_ = empty_table(capacity);
  mask_ = capacity - 1;
}

void tuple_set::clear() noexcept {
  for (auto& s : slots_) s = empty_slot;
  size_ = 0;
}

void tuple_set::grow() {
  std::vector<std::uint64_t> old = empty_table(slots_.size() * 2);
  old.swap(slots_);
  mask_ = slots_.size() - 1;
  for (std::uint64_t f : old) {
    if (f == empty_slot) continue;
    std::size_t i = static_cast<std::size_t>(f) & mask_;
    while (slots_[i] != empty_slot) i = (i + 1) & mask_;
    slots_[i] = f;
  }
}

bool tuple_set::insert(std::uint64_t key) {
  std::uint64_t f = mix64(key);
  if (f == empty_slot) f = zero_substitute;
  std::size_t i = static_cast<std::size_t>(f) & mask_;
  while (true) {
    const std::uint64_t s = slots_[i];
    if (s == f) return false;
    if (s == empty_slot) break;
    i = (i + 1) & mask_;
  }
  slots_[i] = f;
  if (++size_ * 2 > slots_.size()) grow();
  return true;
}

}  // namespace tritium
