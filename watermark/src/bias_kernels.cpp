// Dense KGW bias kernels, selected once at run time by CPU features. All of them compute the same
// thing; tests/watermark/kgw_test.cpp checks each available one against the portable loop.
#include "bias_kernels.hpp"

#include <algorithm>
#include <cstring>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace tritium::detail {
namespace {

// The dense kernels add δ to the logits whose b-bit lane in the keystream is below T. Token j of a
// group starts at bit j·b, in 32-bit word (j·b)/32 at shift (j·b)%32, both fixed per b. Comparing the
// masked word with T shifted into place, lane < T ⟺ (w & (2^b−1) << s) < T << s, gives the green mask
// of 16 (AVX-512) or 8 (AVX2) tokens with a permute, an and and a compare. The keystream buffer is
// padded so that the last vector load stays inside it.
struct lane_layout {
  std::uint32_t word[16];
  std::uint32_t mask[16];
  std::uint32_t limit[16];
};

lane_layout layout_for(std::uint32_t bits, std::uint32_t threshold) {
  lane_layout l{};
  const std::uint32_t lane_mask = (1u << bits) - 1;
  for (std::uint32_t j = 0; j < 16; ++j) {
    const std::uint32_t shift = (j * bits) % 32;
    l.word[j] = (j * bits) / 32;
    l.mask[j] = lane_mask << shift;
    l.limit[j] = threshold << shift;
  }
  return l;
}

void bias_lanes_tail(float* logits, const std::uint8_t* keystream, std::size_t first,
                       std::size_t n, std::uint32_t bits, std::uint32_t threshold, float delta) {
  for (std::size_t i = first; i < n; ++i) {
    const std::size_t bit = i * bits;
    const std::uint8_t* p = keystream + bit / 8;
    const std::uint32_t lane = bits == 16 ? static_cast<std::uint32_t>(p[0] | p[1] << 8)
                                          : (static_cast<std::uint32_t>(*p) >> (bit % 8)) & ((1u << bits) - 1);
    if (lane < threshold) logits[i] += delta;
  }
}

std::uint32_t lane_of(const std::uint8_t* keystream, std::size_t i, std::uint32_t bits) noexcept {
  const std::size_t bit = i * bits;
  const std::uint8_t* p = keystream + bit / 8;
  return bits == 16 ? static_cast<std::uint32_t>(p[0] | p[1] << 8)
                    : (static_cast<std::uint32_t>(*p) >> (bit % 8)) & ((1u << bits) - 1);
}

void fused_tail(float* logits, const std::uint8_t* keystream, std::size_t first, std::size_t n,
                std::uint32_t bits, std::uint32_t threshold, float delta, const account_lanes& a) {
  for (std::size_t i = first; i < n; ++i) {
    if (lane_of(keystream, i, bits) < threshold) logits[i] += delta;
    if (lane_of(a.keystream, i, a.bits) == a.symbol) logits[i] += a.delta;
  }
}

// Account lanes have at most 2 bits, so the 16 lanes of a group sit in one 32-bit word: token j at
// shift j·b_a. `want` is the symbol shifted into each token's place.
struct match_layout {
  std::uint32_t mask[16];
  std::uint32_t want[16];
};

match_layout match_layout_for(std::uint32_t bits, std::uint32_t symbol) {
  match_layout l{};
  for (std::uint32_t j = 0; j < 16; ++j) {
    const std::uint32_t shift = (j * bits) % 32;
    l.mask[j] = ((1u << bits) - 1) << shift;
    l.want[j] = symbol << shift;
  }
  return l;
}

#if defined(__x86_64__)
// GCC 12's avx512fintrin.h builds masked intrinsics on _mm512_undefined_epi32(), which its own
// -Wmaybe-uninitialized then reports inside the header; the values are fully defined.
#pragma GCC diagnostic push
#if !defined(__clang__)  // clang has no -Wmaybe-uninitialized (and does not warn here)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
__attribute__((target("avx512f"))) void bias_lanes_avx512(float* logits, const std::uint8_t* keystream,
                                                          std::size_t n, std::uint32_t bits,
                                                          std::uint32_t threshold, float delta) {
  const lane_layout l = layout_for(bits, threshold);
  const __m512i word = _mm512_loadu_si512(l.word);
  const __m512i mask = _mm512_loadu_si512(l.mask);
  const __m512i limit = _mm512_loadu_si512(l.limit);
  const __m512 d = _mm512_set1_ps(delta);
  std::size_t i = 0;
  if (bits <= 2) {
    // 16 lanes of at most 2 bits fit in one 32-bit word: a broadcast load replaces the permute.
    for (; i + 32 <= n; i += 32) {
      std::uint32_t w0, w1;
      std::memcpy(&w0, keystream + i * bits / 8, 4);
      std::memcpy(&w1, keystream + (i + 16) * bits / 8, 4);
      const __mmask16 green0 =
          _mm512_cmplt_epu32_mask(_mm512_and_si512(_mm512_set1_epi32(static_cast<int>(w0)), mask), limit);
      const __mmask16 green1 =
          _mm512_cmplt_epu32_mask(_mm512_and_si512(_mm512_set1_epi32(static_cast<int>(w1)), mask), limit);
      const __m512 x0 = _mm512_loadu_ps(logits + i);
      const __m512 x1 = _mm512_loadu_ps(logits + i + 16);
      _mm512_storeu_ps(logits + i, _mm512_mask_add_ps(x0, green0, x0, d));
      _mm512_storeu_ps(logits + i + 16, _mm512_mask_add_ps(x1, green1, x1, d));
    }
  }
  for (; i + 32 <= n; i += 32) {
    const __m512i data0 = _mm512_loadu_si512(keystream + i * bits / 8);
    const __m512i data1 = _mm512_loadu_si512(keystream + (i + 16) * bits / 8);
    const __mmask16 green0 = _mm512_cmplt_epu32_mask(
        _mm512_and_si512(_mm512_permutexvar_epi32(word, data0), mask), limit);
    const __mmask16 green1 = _mm512_cmplt_epu32_mask(
        _mm512_and_si512(_mm512_permutexvar_epi32(word, data1), mask), limit);
    const __m512 x0 = _mm512_loadu_ps(logits + i);
    const __m512 x1 = _mm512_loadu_ps(logits + i + 16);
    _mm512_storeu_ps(logits + i, _mm512_mask_add_ps(x0, green0, x0, d));
    _mm512_storeu_ps(logits + i + 16, _mm512_mask_add_ps(x1, green1, x1, d));
  }
  bias_lanes_tail(logits, keystream, i, n, bits, threshold, delta);
}
#pragma GCC diagnostic pop

__attribute__((target("avx2"))) void bias_lanes_avx2(float* logits, const std::uint8_t* keystream,
                                                     std::size_t n, std::uint32_t bits,
                                                     std::uint32_t threshold, float delta) {
  const lane_layout l = layout_for(bits, threshold);
  const __m256i word = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(l.word));
  const __m256i mask = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(l.mask));
  // AVX2 compares signed words: flipping the top bit of both sides makes the compare unsigned.
  const __m256i flip = _mm256_set1_epi32(static_cast<int>(0x80000000u));
  const __m256i limit =
      _mm256_xor_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(l.limit)), flip);
  const __m256 d = _mm256_set1_ps(delta);
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256i data = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(keystream + i * bits / 8));
    const __m256i lanes = _mm256_xor_si256(
        _mm256_and_si256(_mm256_permutevar8x32_epi32(data, word), mask), flip);
    const __m256 green = _mm256_castsi256_ps(_mm256_cmpgt_epi32(limit, lanes));
    const __m256 x = _mm256_loadu_ps(logits + i);
    _mm256_storeu_ps(logits + i, _mm256_add_ps(x, _mm256_and_ps(green, d)));
  }
  bias_lanes_tail(logits, keystream, i, n, bits, threshold, delta);
}

#pragma GCC diagnostic push
#if !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
// The account matches of 16 tokens whose lanes start at `p`: lane == symbol ⟺ (word ^ the symbol in
// every lane) & the lane's mask == 0, one test instruction.
__attribute__((target("avx512f"), always_inline)) inline __mmask16 match16(const std::uint8_t* p,
                                                                           std::uint32_t symbols,
                                                                           __m512i amask) {
  std::uint32_t aw;
  std::memcpy(&aw, p, 4);
  return _mm512_testn_epi32_mask(_mm512_set1_epi32(static_cast<int>(aw ^ symbols)), amask);
}

__attribute__((target("avx512f"))) void fused_avx512(float* logits, const std::uint8_t* keystream,
                                                     std::size_t n, std::uint32_t bits,
                                                     std::uint32_t threshold, float delta,
                                                     const account_lanes& a) {
  const lane_layout l = layout_for(bits, threshold);
  const match_layout m = match_layout_for(a.bits, a.symbol);
  const __m512i word = _mm512_loadu_si512(l.word);
  const __m512i mask = _mm512_loadu_si512(l.mask);
  const __m512i limit = _mm512_loadu_si512(l.limit);
  const __m512i amask = _mm512_loadu_si512(m.mask);
  const std::uint32_t symbols = a.symbol * (a.bits == 1 ? 0xffffffffu : 0x55555555u);
  const __m512 d = _mm512_set1_ps(delta);
  const __m512 da = _mm512_set1_ps(a.delta);
  std::size_t i = 0;
  if (bits <= 2 && (threshold & (threshold - 1)) == 0) {
    // The fast path (γ = 1/4 or 1/2 at b ≤ 2): every compare is one test against a broadcast loaded
    // straight from memory. Green: lane < T ⟺ the lane's bits at and above log2 T are zero. Match:
    // the account words are first XORed with the symbol repeated in every lane (a copy per slice,
    // 16·b_a bits per 16 tokens), so lane == symbol ⟺ the flipped lane is zero. Port 5, which
    // issues the tests, then does two per 16 tokens, as the KGW kernel does for its compare.
    alignas(64) std::uint32_t low[16];
    for (std::uint32_t j = 0; j < 16; ++j) low[j] = (threshold - 1) << ((j * bits) % 32);
    const __m512i high = _mm512_andnot_si512(_mm512_load_si512(low), mask);
    const __m512i flip = _mm512_set1_epi32(static_cast<int>(symbols));
    constexpr std::size_t slice = 8192;
    alignas(64) std::uint8_t flipped[slice * 2 / 8 + 64];
    const std::size_t main_end = n / 32 * 32;
    for (std::size_t base = 0; base < main_end; base += slice) {
      const std::size_t end = std::min(main_end, base + slice);
      const std::size_t bytes = ((end - base) * a.bits + 7) / 8;
      const std::uint8_t* from = a.keystream + base * a.bits / 8;
      for (std::size_t b = 0; b < bytes; b += 64) {
        _mm512_store_si512(flipped + b, _mm512_xor_si512(_mm512_loadu_si512(from + b), flip));
      }
      // 32 tokens take 4·b keystream bytes and 4·b_a flipped bytes: pointers step, no multiplies.
      const std::uint8_t* g = keystream + base * bits / 8;
      const std::uint8_t* f = flipped;
      const std::size_t g_step = 4 * bits;
      const std::size_t f_step = 4 * a.bits;
      for (i = base; i < end; i += 32, g += g_step, f += f_step) {
        std::uint32_t w0, w1, f0, f1;
        std::memcpy(&w0, g, 4);
        std::memcpy(&w1, g + 2 * bits, 4);
        std::memcpy(&f0, f, 4);
        std::memcpy(&f1, f + 2 * a.bits, 4);
        const __mmask16 green0 = _mm512_testn_epi32_mask(_mm512_set1_epi32(static_cast<int>(w0)), high);
        const __mmask16 green1 = _mm512_testn_epi32_mask(_mm512_set1_epi32(static_cast<int>(w1)), high);
        const __mmask16 match0 = _mm512_testn_epi32_mask(_mm512_set1_epi32(static_cast<int>(f0)), amask);
        const __mmask16 match1 = _mm512_testn_epi32_mask(_mm512_set1_epi32(static_cast<int>(f1)), amask);
        __m512 x0 = _mm512_loadu_ps(logits + i);
        __m512 x1 = _mm512_loadu_ps(logits + i + 16);
        x0 = _mm512_mask_add_ps(x0, green0, x0, d);
        x1 = _mm512_mask_add_ps(x1, green1, x1, d);
        x0 = _mm512_mask_add_ps(x0, match0, x0, da);
        x1 = _mm512_mask_add_ps(x1, match1, x1, da);
        _mm512_storeu_ps(logits + i, x0);
        _mm512_storeu_ps(logits + i + 16, x1);
      }
    }
    i = main_end;
  }
  for (; i + 16 <= n; i += 16) {
    __mmask16 green;
    if (bits <= 2) {
      std::uint32_t w;
      std::memcpy(&w, keystream + i * bits / 8, 4);
      green = _mm512_cmplt_epu32_mask(_mm512_and_si512(_mm512_set1_epi32(static_cast<int>(w)), mask), limit);
    } else {
      const __m512i data = _mm512_loadu_si512(keystream + i * bits / 8);
      green = _mm512_cmplt_epu32_mask(_mm512_and_si512(_mm512_permutexvar_epi32(word, data), mask), limit);
    }
    const __mmask16 match = match16(a.keystream + i * a.bits / 8, symbols, amask);
    __m512 x = _mm512_loadu_ps(logits + i);
    x = _mm512_mask_add_ps(x, green, x, d);
    x = _mm512_mask_add_ps(x, match, x, da);
    _mm512_storeu_ps(logits + i, x);
  }
  fused_tail(logits, keystream, i, n, bits, threshold, delta, a);
}
#pragma GCC diagnostic pop

__attribute__((target("avx2"))) void fused_avx2(float* logits, const std::uint8_t* keystream,
                                                std::size_t n, std::uint32_t bits,
                                                std::uint32_t threshold, float delta,
                                                const account_lanes& a) {
  const lane_layout l = layout_for(bits, threshold);
  const match_layout m = match_layout_for(a.bits, a.symbol);
  const __m256i word = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(l.word));
  const __m256i mask = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(l.mask));
  const __m256i flip = _mm256_set1_epi32(static_cast<int>(0x80000000u));
  const __m256i limit =
      _mm256_xor_si256(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(l.limit)), flip);
  const __m256i amask = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(m.mask));
  const __m256i want = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(m.want));
  const __m256 d = _mm256_set1_ps(delta);
  const __m256 da = _mm256_set1_ps(a.delta);
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256i data = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(keystream + i * bits / 8));
    const __m256i lanes = _mm256_xor_si256(
        _mm256_and_si256(_mm256_permutevar8x32_epi32(data, word), mask), flip);
    const __m256 green = _mm256_castsi256_ps(_mm256_cmpgt_epi32(limit, lanes));
    std::uint32_t aw;
    std::memcpy(&aw, a.keystream + i * a.bits / 8, 4);
    const __m256 match = _mm256_castsi256_ps(_mm256_cmpeq_epi32(
        _mm256_and_si256(_mm256_set1_epi32(static_cast<int>(aw)), amask), want));
    __m256 x = _mm256_loadu_ps(logits + i);
    x = _mm256_add_ps(x, _mm256_and_ps(green, d));
    x = _mm256_add_ps(x, _mm256_and_ps(match, da));
    _mm256_storeu_ps(logits + i, x);
  }
  fused_tail(logits, keystream, i, n, bits, threshold, delta, a);
}
#endif

void bias_lanes_portable(float* logits, const std::uint8_t* keystream, std::size_t n,
                         std::uint32_t bits, std::uint32_t threshold, float delta) {
  bias_lanes_tail(logits, keystream, 0, n, bits, threshold, delta);
}

// A select rather than a branch (a random quarter of the tokens is green) and rather than adding 0.0f
// to the others (which would turn a −0.0 logit into +0.0, where the vector kernels leave it).
void below_portable(float* logits, const std::uint16_t* lanes, std::size_t n, std::uint32_t threshold, float delta) {
  for (std::size_t i = 0; i < n; ++i) logits[i] = lanes[i] < threshold ? logits[i] + delta : logits[i];
}

#if defined(__x86_64__)
__attribute__((target("avx2"))) void below_avx2(float* logits, const std::uint16_t* lanes, std::size_t n,
                                                std::uint32_t threshold, float delta) {
  const __m256i limit = _mm256_set1_epi32(static_cast<int>(threshold));
  const __m256 d = _mm256_set1_ps(delta);
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256i lane = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(lanes + i)));
    const __m256 green = _mm256_castsi256_ps(_mm256_cmpgt_epi32(limit, lane));  // lanes and limit < 2^31
    const __m256 x = _mm256_loadu_ps(logits + i);
    _mm256_storeu_ps(logits + i, _mm256_blendv_ps(x, _mm256_add_ps(x, d), green));
  }
  below_portable(logits + i, lanes + i, n - i, threshold, delta);
}

#pragma GCC diagnostic push
#if !defined(__clang__)  // GCC 12's avx512fintrin.h: see bias_lanes_avx512
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
__attribute__((target("avx512f"))) void below_avx512(float* logits, const std::uint16_t* lanes, std::size_t n,
                                                     std::uint32_t threshold, float delta) {
  const __m512i limit = _mm512_set1_epi32(static_cast<int>(threshold));
  const __m512 d = _mm512_set1_ps(delta);
  std::size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const __m512i lane = _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(lanes + i)));
    const __mmask16 green = _mm512_cmplt_epu32_mask(lane, limit);
    const __m512 x = _mm512_loadu_ps(logits + i);
    _mm512_storeu_ps(logits + i, _mm512_mask_add_ps(x, green, x, d));
  }
  below_portable(logits + i, lanes + i, n - i, threshold, delta);
}
#pragma GCC diagnostic pop
#endif

}  // namespace

std::vector<named_below_kernel> available_below_kernels() {
  std::vector<named_below_kernel> out{{"portable", below_portable}};
#if defined(__x86_64__)
  if (__builtin_cpu_supports("avx2")) out.push_back({"avx2", below_avx2});
  if (__builtin_cpu_supports("avx512f")) out.push_back({"avx512f", below_avx512});
#endif
  return out;
}

below_kernel best_below_kernel() { return available_below_kernels().back().kernel; }

std::vector<named_bias_kernel> available_bias_kernels() {
  std::vector<named_bias_kernel> out{{"portable", bias_lanes_portable}};
#if defined(__x86_64__)
  if (__builtin_cpu_supports("avx2")) out.push_back({"avx2", bias_lanes_avx2});
  if (__builtin_cpu_supports("avx512f")) out.push_back({"avx512f", bias_lanes_avx512});
#endif
  return out;
}

bias_kernel best_bias_kernel() { return available_bias_kernels().back().kernel; }

namespace {
void fused_portable(float* logits, const std::uint8_t* keystream, std::size_t n, std::uint32_t bits,
                    std::uint32_t threshold, float delta, const account_lanes& account) {
  fused_tail(logits, keystream, 0, n, bits, threshold, delta, account);
}
}  // namespace

void add_account_matches(float* logits, std::size_t n, const account_lanes& account) noexcept {
  for (std::size_t i = 0; i < n; ++i) {
    if (lane_of(account.keystream, i, account.bits) == account.symbol) logits[i] += account.delta;
  }
}

std::vector<named_fused_bias_kernel> available_fused_bias_kernels() {
  std::vector<named_fused_bias_kernel> out{{"portable", fused_portable}};
#if defined(__x86_64__)
  if (__builtin_cpu_supports("avx2")) out.push_back({"avx2", fused_avx2});
  if (__builtin_cpu_supports("avx512f")) out.push_back({"avx512f", fused_avx512});
#endif
  return out;
}

fused_bias_kernel best_fused_bias_kernel() { return available_fused_bias_kernels().back().kernel; }


}  // namespace tritium::detail
