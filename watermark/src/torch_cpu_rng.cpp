// PyTorch's CPU generator (tritium/torch_cpu_rng.hpp). Each function reproduces one ATen kernel's
// consumption of the engine and its arithmetic; fixtures/kat/torch_cpu_v1.json pins them to real torch.
#include "tritium/torch_cpu_rng.hpp"

#include <cassert>
#include <numeric>

namespace tritium::torch_cpu {

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
