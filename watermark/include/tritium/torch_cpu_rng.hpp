// tritium/torch_cpu_rng.hpp — PyTorch's CPU random generator, bit for bit.
//
// Most published LLM watermarks take their keyed randomness from `torch.Generator("cpu")`: KGW as
// transformers and TGI run it (a green list is the first G entries of `randperm(V)` after
// `manual_seed(seed)`), and Hugging Face SynthID's g-value table (`randint(0, 2, (65536,))`). To test
// text those implementations marked, tritium reproduces that generator exactly. The semantics (torch
// 1.13 ATen, notes/schemes.md §0.1; golden vectors from Debian's python3-torch in
// fixtures/kat/torch_cpu_v1.json, papers/hf-kgw.md §2):
//   - the engine is the standard 32-bit MT19937; `manual_seed(s)` keeps only the low 32 bits of s;
//   - `randperm(n)` is a forward Fisher–Yates: for i = 0 … n−2, z = random() % (n − i), swap a[i] and
//     a[i + z] (n − 1 draws, with torch's modulo bias);
//   - `randint(low, high)` is random() % (high − low) + low per element (ranges below 2^32);
//   - `rand()` in float32 is (random() & 0xFFFFFF) · 2^−24.
// CUDA generators differ (Philox, another randperm): text marked on a GPU cannot be reproduced here.
// Not a cryptographic generator: its only secret is a 32-bit seed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <random>
#include <span>

namespace tritium::torch_cpu {

/// torch.Generator(device="cpu") after manual_seed(seed).
class generator {
 public:
  /// Keeps the low 32 bits of `seed`, as manual_seed does on CPU.
  explicit generator(std::uint64_t seed) noexcept : engine_(static_cast<std::uint32_t>(seed)) {}

  /// One 32-bit output of the engine (CPUGeneratorImpl::random).
  std::uint32_t random() noexcept { return static_cast<std::uint32_t>(engine_()); }

  /// Two outputs, the first in the high word (CPUGeneratorImpl::random64).
  std::uint64_t random64() noexcept {
    const std::uint64_t high = random();
    return (high << 32) | random();
  }

 private:
  std::mt19937 engine_;
};

/// Fills `out` with randperm(out.size()) as torch computes it on CPU. out.size() < 2^32 / 20, the range
/// where torch draws 32-bit values (every vocabulary).
void randperm(generator& gen, std::span<std::int32_t> out) noexcept;

/// The first out.size() entries of randperm(n), the same values in the same order, in out.size() draws
/// instead of n − 1 (a Fisher–Yates step i fixes position i for good). `scratch` holds n entries; its
/// contents on entry do not matter; `out` may be scratch's own first entries. After the call the generator is NOT where torch's would be after
/// a full randperm.
void randperm_prefix(generator& gen, std::uint32_t n, std::span<std::int32_t> scratch,
                     std::span<std::int32_t> out) noexcept;

/// One element of randint(low, high): high − low must lie in [1, 2^28) (torch's 32-bit path).
std::int64_t randint(generator& gen, std::int64_t low, std::int64_t high) noexcept;

/// One element of rand() in float32: 24 random bits.
float rand_float(generator& gen) noexcept;

/// One element of rand() in float64: 53 random bits of random64().
double rand_double(generator& gen) noexcept;

}  // namespace tritium::torch_cpu
