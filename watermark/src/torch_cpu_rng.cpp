// PyTorch's CPU generator (tritium/torch_cpu_rng.hpp). Each function reproduces one ATen kernel's
// consumption of the engine and its arithmetic; fixtures/kat/torch_cpu_v1.json pins them to real torch.
#include "tritium/torch_cpu_rng.hpp"

#include <cassert>
#include <numeric>

namespace tritium::torch_cpu {

generator::generator(std::uint64_t seed) noexcept {
  // init_with_uint32 (std::mt19937's seeding).
  state_[0] = static_cast<std::uint32_t>(seed);
  for (std::uint32_t j = 1; j < words; ++j) state_[j] = 1812433253u * (state_[j - 1] ^ (state_[j - 1] >> 30)) + j;
}

void generator::refill() noexcept {
  // The twist in three loops: words 0..226 read the old words 397 ahead, words 227..622 the new words
  // 227 behind (further apart than any vector), and the last wraps to word 0.
  constexpr std::uint32_t upper = 0x80000000u, lower = 0x7fffffffu, matrix = 0x9908b0dfu;
  std::uint32_t* s = state_.data();
  for (std::size_t i = 0; i < 227; ++i) {
    const std::uint32_t y = (s[i] & upper) | (s[i + 1] & lower);
    s[i] = s[i + 397] ^ (y >> 1) ^ ((0u - (y & 1u)) & matrix);
  }
  for (std::size_t i = 227; i < words - 1; ++i) {
    const std::uint32_t y = (s[i] & upper) | (s[i + 1] & lower);
    s[i] = s[i - 227] ^ (y >> 1) ^ ((0u - (y & 1u)) & matrix);
  }
  const std::uint32_t y = (s[words - 1] & upper) | (s[0] & lower);
  s[words - 1] = s[396] ^ (y >> 1) ^ ((0u - (y & 1u)) & matrix);
  for (std::size_t i = 0; i < words; ++i) {
    std::uint32_t t = s[i];
    t ^= t >> 11;
    t ^= (t << 7) & 0x9d2c5680u;
    t ^= (t << 15) & 0xefc60000u;
    t ^= t >> 18;
    out_[i] = t;
  }
  index_ = 0;
}

std::vector<std::uint64_t> randperm_magics(std::uint32_t n, std::uint32_t k) {
  assert(k <= n);
  std::vector<std::uint64_t> m(k);
  for (std::uint32_t i = 0; i < k; ++i) m[i] = fast_mod_magic(n - i);
  return m;
}

void randperm_prefix(generator& gen, std::uint32_t n, std::span<std::int32_t> scratch, std::span<std::int32_t> out,
                     std::span<const std::uint64_t> magics) noexcept {
  assert(scratch.size() >= n && out.size() <= n && magics.size() >= out.size() && n < 0xFFFFFFFFu / 20);
  std::iota(scratch.begin(), scratch.begin() + n, 0);
  const std::size_t k = out.size();
  for (std::size_t i = 0; i < k && i + 1 < n; ++i) {
    const std::uint32_t d = n - static_cast<std::uint32_t>(i);
    const std::size_t z = fast_mod(gen.random(), magics[i], d);
    std::swap(scratch[i], scratch[i + z]);
    out[i] = scratch[i];
  }
  if (k == n && n > 0) out[n - 1] = scratch[n - 1];
}

void randperm(generator& gen, std::span<std::int32_t> out) noexcept {
  const std::size_t n = out.size();
  assert(n < 0xFFFFFFFFu / 20);
  std::iota(out.begin(), out.end(), 0);
  for (std::size_t i = 0; i + 1 < n; ++i) {
    const std::size_t z = gen.random() % (n - i);
    std::swap(out[i], out[i + z]);
  }
}

void randperm_prefix(generator& gen, std::uint32_t n, std::span<std::int32_t> scratch,
                     std::span<std::int32_t> out) noexcept {
  assert(scratch.size() >= n && out.size() <= n && n < 0xFFFFFFFFu / 20);
  std::iota(scratch.begin(), scratch.begin() + n, 0);
  // randperm's last step (i = n − 1) draws nothing; a prefix of n entries needs n − 1 draws.
  const std::size_t k = out.size();
  for (std::size_t i = 0; i < k && i + 1 < n; ++i) {
    const std::size_t z = gen.random() % (n - i);
    std::swap(scratch[i], scratch[i + z]);
    out[i] = scratch[i];
  }
  if (k == n && n > 0) out[n - 1] = scratch[n - 1];
}

std::int64_t randint(generator& gen, std::int64_t low, std::int64_t high) noexcept {
  const std::uint64_t range = static_cast<std::uint64_t>(high - low);
  assert(range >= 1 && range < (std::uint64_t{1} << 28));
  return static_cast<std::int64_t>(gen.random() % range) + low;
}

float rand_float(generator& gen) noexcept {
  return static_cast<float>(gen.random() & 0xFFFFFFu) * 0x1.0p-24f;
}

double rand_double(generator& gen) noexcept {
  return static_cast<double>(gen.random64() & ((std::uint64_t{1} << 53) - 1)) * 0x1.0p-53;
}

}  // namespace tritium::torch_cpu
