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

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace tritium::torch_cpu {

/// torch.Generator(device="cpu") after manual_seed(seed): the 32-bit MT19937 (the outputs of
/// std::mt19937 seeded with the low 32 bits), generated 624 words at a time into a buffer by a vector
/// kernel (AVX-512 or AVX2 where the CPU has them; the green-list walks of hf_kgw draw tens of
/// thousands of words per list).
class generator {
 public:
  /// Keeps the low 32 bits of `seed`, as manual_seed does on CPU.
  explicit generator(std::uint64_t seed) noexcept;

  /// One 32-bit output of the engine (CPUGeneratorImpl::random).
  std::uint32_t random() noexcept {
    if (index_ == words) refill();
    return out_[index_++];
  }

  /// The next outputs, as many of `count` as the buffer holds (refilled first when empty): the words
  /// random() would return one at a time, for a walk that takes thousands in blocks.
  std::span<const std::uint32_t> take(std::size_t count) noexcept {
    if (index_ == words) refill();
    const std::size_t k = count < words - index_ ? count : words - index_;
    const std::span<const std::uint32_t> taken(out_.data() + index_, k);
    index_ += k;
    return taken;
  }

  /// Two outputs, the first in the high word (CPUGeneratorImpl::random64).
  std::uint64_t random64() noexcept {
    const std::uint64_t high = random();
    return (high << 32) | random();
  }

 private:
  static constexpr std::size_t words = 624;
  void refill() noexcept;
  std::array<std::uint32_t, words> state_;
  std::array<std::uint32_t, words> out_;
  std::size_t index_ = words;
};

/// x mod d without a division, for every 32-bit x (Lemire, Kaser & Kurz, "Faster remainder by direct
/// computation", 2019): `magic` is fast_mod_magic(d), d ≥ 1.
inline std::uint64_t fast_mod_magic(std::uint32_t d) noexcept { return ~std::uint64_t{0} / d + 1; }
inline std::uint32_t fast_mod(std::uint32_t x, std::uint64_t magic, std::uint32_t d) noexcept {
  // The high word of the 96-bit product low · d, in two 64-bit products (no __int128 in ISO C++).
  const std::uint64_t low = magic * x;
  const std::uint64_t high_part = (low >> 32) * d, low_part = (low & 0xffffffffu) * d;
  return static_cast<std::uint32_t>((high_part + (low_part >> 32)) >> 32);
}

/// The magics of randperm(n)'s first k divisors n, n − 1, …, n − k + 1 (k ≤ n): a scheme that walks
/// the same n many times computes them once.
std::vector<std::uint64_t> randperm_magics(std::uint32_t n, std::uint32_t k);

/// Fills `out` with randperm(out.size()) as torch computes it on CPU. out.size() < 2^32 / 20, the range
/// where torch draws 32-bit values (every vocabulary).
void randperm(generator& gen, std::span<std::int32_t> out) noexcept;

/// The first out.size() entries of randperm(n), the same values in the same order, in out.size() draws
/// instead of n − 1 (a Fisher–Yates step i fixes position i for good). `scratch` holds n entries; its
/// contents on entry do not matter; `out` may be scratch's own first entries. After the call the generator is NOT where torch's would be after
/// a full randperm.
void randperm_prefix(generator& gen, std::uint32_t n, std::span<std::int32_t> scratch,
                     std::span<std::int32_t> out) noexcept;
/// The same with randperm_magics(n, k ≥ out.size()).
void randperm_prefix(generator& gen, std::uint32_t n, std::span<std::int32_t> scratch, std::span<std::int32_t> out,
                     std::span<const std::uint64_t> magics) noexcept;

/// Steps first … first + target.size() − 1 of randperm(n)'s Fisher–Yates walk, drawn from `gen` in
/// order: target[j] = i + random() % (n − i) with i = first + j, the position step i swaps with
/// position i. `magics` holds randperm_magics(n, k) with k ≥ first + target.size(), and
/// first + target.size() < n (the last step draws nothing). Vector kernels turn a block of draws
/// into targets at once (AVX-512 or AVX2 where the CPU has them, the same values everywhere).
void randperm_targets(generator& gen, std::uint32_t n, std::uint32_t first, std::span<const std::uint64_t> magics,
                      std::span<std::uint32_t> target) noexcept;

/// One element of randint(low, high): high − low must lie in [1, 2^28) (torch's 32-bit path).
std::int64_t randint(generator& gen, std::int64_t low, std::int64_t high) noexcept;

/// One element of rand() in float32: 24 random bits.
float rand_float(generator& gen) noexcept;

/// One element of rand() in float64: 53 random bits of random64().
double rand_double(generator& gen) noexcept;

}  // namespace tritium::torch_cpu
