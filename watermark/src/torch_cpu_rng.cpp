// PyTorch's CPU generator (tritium/torch_cpu_rng.hpp). Each function reproduces one ATen kernel's
// consumption of the engine and its arithmetic; fixtures/kat/torch_cpu_v1.json pins them to real torch.
#include "tritium/torch_cpu_rng.hpp"

#include <algorithm>
#include <cassert>
#include <numeric>

#include "torch_cpu_kernels.hpp"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace tritium::torch_cpu {

generator::generator(std::uint64_t seed) noexcept {
  // init_with_uint32 (std::mt19937's seeding).
  state_[0] = static_cast<std::uint32_t>(seed);
  for (std::uint32_t j = 1; j < words; ++j) state_[j] = 1812433253u * (state_[j - 1] ^ (state_[j - 1] >> 30)) + j;
}

void generator::refill() noexcept {
  static const detail::mt_refill_kernel kernel = detail::best_torch_cpu_kernels().refill;
  kernel(state_.data(), out_.data());
  index_ = 0;
}

std::vector<std::uint64_t> randperm_magics(std::uint32_t n, std::uint32_t k) {
  assert(k <= n);
  std::vector<std::uint64_t> m(k);
  for (std::uint32_t i = 0; i < k; ++i) m[i] = fast_mod_magic(n - i);
  return m;
}

void randperm_targets(generator& gen, std::uint32_t n, std::uint32_t first, std::span<const std::uint64_t> magics,
                      std::span<std::uint32_t> target) noexcept {
  assert(first + target.size() < n && magics.size() >= first + target.size());
  static const detail::walk_targets_kernel kernel = detail::best_torch_cpu_kernels().targets;
  std::size_t done = 0;
  while (done < target.size()) {
    const auto words = gen.take(target.size() - done);
    const auto i = static_cast<std::uint32_t>(first + done);
    kernel(words.data(), magics.data() + i, n - i, i, target.data() + done, words.size());
    done += words.size();
  }
}

void randperm_prefix(generator& gen, std::uint32_t n, std::span<std::int32_t> scratch, std::span<std::int32_t> out,
                     std::span<const std::uint64_t> magics) noexcept {
  assert(scratch.size() >= n && out.size() <= n && magics.size() >= out.size() && n < 0xFFFFFFFFu / 20);
  static const detail::iota_kernel iota = detail::best_torch_cpu_kernels().iota;
  iota(scratch.data(), n);
  const std::size_t k = out.size();
  const std::size_t steps = n == 0 ? 0 : std::min<std::size_t>(k, n - 1);
  // The draws of a block of steps are turned into targets by a vector kernel first; the swaps then
  // run with the next targets' entries already on their way into the cache.
  constexpr std::size_t block = 512, ahead = 16;
  std::array<std::uint32_t, block> target;
  for (std::size_t first = 0; first < steps; first += block) {
    const std::size_t m = std::min(block, steps - first);
    randperm_targets(gen, n, static_cast<std::uint32_t>(first), magics, std::span(target).first(m));
    for (std::size_t j = 0; j < m; ++j) {
      if (j + ahead < m) __builtin_prefetch(&scratch[target[j + ahead]], 1);
      const std::size_t i = first + j;
      std::swap(scratch[i], scratch[target[j]]);
      out[i] = scratch[i];
    }
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

namespace tritium::detail {
namespace {

constexpr std::uint32_t mt_upper = 0x80000000u, mt_lower = 0x7fffffffu, mt_matrix = 0x9908b0dfu;
constexpr std::size_t mt_words = 624;

// Word i of the twist: `far` is the old word 397 ahead (i < 227) or the new word 227 behind.
inline void mt_twist_word(std::uint32_t* s, std::size_t i, std::size_t next, std::size_t far) noexcept {
  const std::uint32_t y = (s[i] & mt_upper) | (s[next] & mt_lower);
  s[i] = s[far] ^ (y >> 1) ^ ((0u - (y & 1u)) & mt_matrix);
}

inline std::uint32_t mt_temper(std::uint32_t t) noexcept {
  t ^= t >> 11;
  t ^= (t << 7) & 0x9d2c5680u;
  t ^= (t << 15) & 0xefc60000u;
  t ^= t >> 18;
  return t;
}

// The twist in three loops: words 0..226 read the old words 397 ahead, words 227..622 the new words
// 227 behind, and the last wraps to word 0. A vector of W words reads words i + 1 … i + W of the first
// loop before any of them is written, and the second loop's reads lie 227 words behind, already new:
// so both loops run W words at a time, and the words a vector cannot cover finish one by one.
void mt_refill_portable(std::uint32_t* s, std::uint32_t* out) {
  for (std::size_t i = 0; i < 227; ++i) mt_twist_word(s, i, i + 1, i + 397);
  for (std::size_t i = 227; i < mt_words - 1; ++i) mt_twist_word(s, i, i + 1, i - 227);
  mt_twist_word(s, mt_words - 1, 0, 396);
  for (std::size_t i = 0; i < mt_words; ++i) out[i] = mt_temper(s[i]);
}

void walk_targets_portable(const std::uint32_t* x, const std::uint64_t* magic, std::uint32_t d, std::uint32_t first,
                           std::uint32_t* target, std::size_t count) {
  for (std::size_t j = 0; j < count; ++j) {
    const auto jj = static_cast<std::uint32_t>(j);
    target[j] = first + jj + torch_cpu::fast_mod(x[j], magic[j], d - jj);
  }
}

void iota_portable(std::int32_t* a, std::size_t n) { std::iota(a, a + n, 0); }

bool contains_portable(const std::uint32_t* a, std::size_t n, std::uint32_t value) {
  return std::find(a, a + n, value) != a + n;
}

#if defined(__x86_64__)
__attribute__((target("avx2"))) void iota_avx2(std::int32_t* a, std::size_t n) {
  __m256i v = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  const __m256i step = _mm256_set1_epi32(8);
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8, v = _mm256_add_epi32(v, step)) _mm256_storeu_si256(reinterpret_cast<__m256i*>(a + i), v);
  for (; i < n; ++i) a[i] = static_cast<std::int32_t>(i);
}

__attribute__((target("avx2"))) bool contains_avx2(const std::uint32_t* a, std::size_t n, std::uint32_t value) {
  const __m256i v = _mm256_set1_epi32(static_cast<int>(value));
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + i));
    if (!_mm256_testz_si256(_mm256_cmpeq_epi32(x, v), _mm256_cmpeq_epi32(x, v))) return true;
  }
  return contains_portable(a + i, n - i, value);
}

__attribute__((target("avx2"))) inline void mt_twist_avx2(std::uint32_t* s, std::size_t i, std::size_t far) {
  const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(s + i));
  const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(s + i + 1));
  const __m256i f = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(s + far));
  const __m256i y = _mm256_or_si256(_mm256_and_si256(a, _mm256_set1_epi32(static_cast<int>(mt_upper))),
                                    _mm256_and_si256(b, _mm256_set1_epi32(mt_lower)));
  const __m256i odd = _mm256_and_si256(_mm256_sub_epi32(_mm256_setzero_si256(), _mm256_and_si256(y, _mm256_set1_epi32(1))),
                                       _mm256_set1_epi32(static_cast<int>(mt_matrix)));
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(s + i), _mm256_xor_si256(f, _mm256_xor_si256(_mm256_srli_epi32(y, 1), odd)));
}

__attribute__((target("avx2"))) void mt_refill_avx2(std::uint32_t* s, std::uint32_t* out) {
  std::size_t i = 0;
  for (; i + 8 <= 227; i += 8) mt_twist_avx2(s, i, i + 397);
  for (; i < 227; ++i) mt_twist_word(s, i, i + 1, i + 397);
  for (; i + 8 <= mt_words - 1; i += 8) mt_twist_avx2(s, i, i - 227);
  for (; i < mt_words - 1; ++i) mt_twist_word(s, i, i + 1, i - 227);
  mt_twist_word(s, mt_words - 1, 0, 396);
  const __m256i m7 = _mm256_set1_epi32(static_cast<int>(0x9d2c5680u)), m15 = _mm256_set1_epi32(static_cast<int>(0xefc60000u));
  for (i = 0; i < mt_words; i += 8) {  // 624 = 78 · 8
    __m256i t = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(s + i));
    t = _mm256_xor_si256(t, _mm256_srli_epi32(t, 11));
    t = _mm256_xor_si256(t, _mm256_and_si256(_mm256_slli_epi32(t, 7), m7));
    t = _mm256_xor_si256(t, _mm256_and_si256(_mm256_slli_epi32(t, 15), m15));
    t = _mm256_xor_si256(t, _mm256_srli_epi32(t, 18));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + i), t);
  }
}

// fast_mod in 64-bit lanes: x · magic mod 2^64 and the high word of its product with d, each from
// 32 × 32-bit products, as the scalar function splits them.
__attribute__((target("avx2"))) void walk_targets_avx2(const std::uint32_t* x, const std::uint64_t* magic,
                                                       std::uint32_t d, std::uint32_t first, std::uint32_t* target,
                                                       std::size_t count) {
  const __m256i lane64 = _mm256_setr_epi64x(0, 1, 2, 3), low_words = _mm256_setr_epi32(0, 2, 4, 6, 0, 2, 4, 6);
  const __m128i lane32 = _mm_setr_epi32(0, 1, 2, 3);
  std::size_t j = 0;
  for (; j + 4 <= count; j += 4) {
    const __m256i xv = _mm256_cvtepu32_epi64(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x + j)));
    const __m256i m = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(magic + j));
    const __m256i low = _mm256_add_epi64(_mm256_mul_epu32(m, xv),
                                         _mm256_slli_epi64(_mm256_mul_epu32(_mm256_srli_epi64(m, 32), xv), 32));
    const __m256i dv = _mm256_sub_epi64(_mm256_set1_epi64x(static_cast<long long>(d - j)), lane64);
    const __m256i high = _mm256_mul_epu32(_mm256_srli_epi64(low, 32), dv);
    const __m256i rest = _mm256_srli_epi64(_mm256_mul_epu32(low, dv), 32);
    const __m256i r = _mm256_srli_epi64(_mm256_add_epi64(high, rest), 32);
    const __m128i r32 = _mm256_castsi256_si128(_mm256_permutevar8x32_epi32(r, low_words));
    const __m128i at = _mm_add_epi32(_mm_set1_epi32(static_cast<int>(first + j)), lane32);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(target + j), _mm_add_epi32(r32, at));
  }
  walk_targets_portable(x + j, magic + j, d - static_cast<std::uint32_t>(j), first + static_cast<std::uint32_t>(j),
                        target + j, count - j);
}

// GCC 12's avx512fintrin.h builds its intrinsics on _mm512_undefined_*(), which its own
// -W(maybe-)uninitialized then reports inside the header; every value here is defined.
#pragma GCC diagnostic push
#if !defined(__clang__)  // clang has no -Wmaybe-uninitialized (and does not warn here)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
__attribute__((target("avx512f"))) void iota_avx512(std::int32_t* a, std::size_t n) {
  __m512i v = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  const __m512i step = _mm512_set1_epi32(16);
  std::size_t i = 0;
  for (; i + 16 <= n; i += 16, v = _mm512_add_epi32(v, step)) _mm512_storeu_si512(a + i, v);
  for (; i < n; ++i) a[i] = static_cast<std::int32_t>(i);
}

__attribute__((target("avx512f"))) bool contains_avx512(const std::uint32_t* a, std::size_t n, std::uint32_t value) {
  const __m512i v = _mm512_set1_epi32(static_cast<int>(value));
  std::size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    if (_mm512_cmpeq_epi32_mask(_mm512_loadu_si512(a + i), v) != 0) return true;
  }
  return contains_portable(a + i, n - i, value);
}

__attribute__((target("avx512f"))) inline void mt_twist_avx512(std::uint32_t* s, std::size_t i, std::size_t far) {
  const __m512i a = _mm512_loadu_si512(s + i);
  const __m512i b = _mm512_loadu_si512(s + i + 1);
  const __m512i f = _mm512_loadu_si512(s + far);
  const __m512i y = _mm512_or_si512(_mm512_and_si512(a, _mm512_set1_epi32(static_cast<int>(mt_upper))),
                                    _mm512_and_si512(b, _mm512_set1_epi32(mt_lower)));
  const __m512i odd = _mm512_and_si512(_mm512_sub_epi32(_mm512_setzero_si512(), _mm512_and_si512(y, _mm512_set1_epi32(1))),
                                       _mm512_set1_epi32(static_cast<int>(mt_matrix)));
  _mm512_storeu_si512(s + i, _mm512_xor_si512(f, _mm512_xor_si512(_mm512_srli_epi32(y, 1), odd)));
}

__attribute__((target("avx512f"))) void mt_refill_avx512(std::uint32_t* s, std::uint32_t* out) {
  std::size_t i = 0;
  for (; i + 16 <= 227; i += 16) mt_twist_avx512(s, i, i + 397);
  for (; i < 227; ++i) mt_twist_word(s, i, i + 1, i + 397);
  for (; i + 16 <= mt_words - 1; i += 16) mt_twist_avx512(s, i, i - 227);
  for (; i < mt_words - 1; ++i) mt_twist_word(s, i, i + 1, i - 227);
  mt_twist_word(s, mt_words - 1, 0, 396);
  const __m512i m7 = _mm512_set1_epi32(static_cast<int>(0x9d2c5680u)), m15 = _mm512_set1_epi32(static_cast<int>(0xefc60000u));
  for (i = 0; i < mt_words; i += 16) {  // 624 = 39 · 16
    __m512i t = _mm512_loadu_si512(s + i);
    t = _mm512_xor_si512(t, _mm512_srli_epi32(t, 11));
    t = _mm512_xor_si512(t, _mm512_and_si512(_mm512_slli_epi32(t, 7), m7));
    t = _mm512_xor_si512(t, _mm512_and_si512(_mm512_slli_epi32(t, 15), m15));
    t = _mm512_xor_si512(t, _mm512_srli_epi32(t, 18));
    _mm512_storeu_si512(out + i, t);
  }
}

__attribute__((target("avx512f"))) void walk_targets_avx512(const std::uint32_t* x, const std::uint64_t* magic,
                                                            std::uint32_t d, std::uint32_t first, std::uint32_t* target,
                                                            std::size_t count) {
  const __m512i lane64 = _mm512_setr_epi64(0, 1, 2, 3, 4, 5, 6, 7);
  const __m256i lane32 = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  std::size_t j = 0;
  for (; j + 8 <= count; j += 8) {
    const __m512i xv = _mm512_cvtepu32_epi64(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + j)));
    const __m512i m = _mm512_loadu_si512(magic + j);
    const __m512i low = _mm512_add_epi64(_mm512_mul_epu32(m, xv),
                                         _mm512_slli_epi64(_mm512_mul_epu32(_mm512_srli_epi64(m, 32), xv), 32));
    const __m512i dv = _mm512_sub_epi64(_mm512_set1_epi64(static_cast<long long>(d - j)), lane64);
    const __m512i high = _mm512_mul_epu32(_mm512_srli_epi64(low, 32), dv);
    const __m512i rest = _mm512_srli_epi64(_mm512_mul_epu32(low, dv), 32);
    const __m256i r32 = _mm512_cvtepi64_epi32(_mm512_srli_epi64(_mm512_add_epi64(high, rest), 32));
    const __m256i at = _mm256_add_epi32(_mm256_set1_epi32(static_cast<int>(first + j)), lane32);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(target + j), _mm256_add_epi32(r32, at));
  }
  walk_targets_portable(x + j, magic + j, d - static_cast<std::uint32_t>(j), first + static_cast<std::uint32_t>(j),
                        target + j, count - j);
}
#pragma GCC diagnostic pop
#endif

}  // namespace

std::vector<named_torch_cpu_kernels> available_torch_cpu_kernels() {
  std::vector<named_torch_cpu_kernels> out{{"portable", mt_refill_portable, walk_targets_portable, iota_portable, contains_portable}};
#if defined(__x86_64__)
  if (__builtin_cpu_supports("avx2")) out.push_back({"avx2", mt_refill_avx2, walk_targets_avx2, iota_avx2, contains_avx2});
  if (__builtin_cpu_supports("avx512f")) out.push_back({"avx512f", mt_refill_avx512, walk_targets_avx512, iota_avx512, contains_avx512});
#endif
  return out;
}

const named_torch_cpu_kernels& best_torch_cpu_kernels() {
  static const named_torch_cpu_kernels best = available_torch_cpu_kernels().back();
  return best;
}

}  // namespace tritium::detail
