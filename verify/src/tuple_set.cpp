#include "tritium/tuple_set.hpp"

namespace tritium {
namespace {

constexpr std::uint64_t empty_slot = 0;
// The single fingerprint that would read as "empty" is moved here; its collision is harmless.
constexpr std::uint64_t zero_substitute = 0x9e3779b97f4a7c15ULL;

}  // namespace

tuple_set::tuple_set(std::size_t expected) {
  std::size_t capacity = 16;
  while (capacity < 2 * expected) capacity *= 2;
  slots_.assign(capacity, empty_slot);
  mask_ = capacity - 1;
}

void tuple_set::clear() noexcept {
  for (auto& s : slots_) s = empty_slot;
  size_ = 0;
}

void tuple_set::grow() {
  std::vector<std::uint64_t> old(slots_.size() * 2, empty_slot);
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
