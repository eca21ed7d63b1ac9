#include "tritium/gumbel.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "context_field.hpp"
#include "crypto/crypto.hpp"
#include "tritium/error.hpp"
#include "tritium/key.hpp"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace tritium {

struct gumbel::subkeys {
  detail::aes128_key aes;
  std::uint8_t siphash[16];
};

gumbel::gumbel(const key& k)
    : keys_(std::make_unique<subkeys>()),
      context_width_(k.params().context_width),
      vocab_size_(k.params().vocab_size) {
  std::uint8_t aes_key[16];
  detail::hkdf_expand_sha256(k.secret_bytes(), gumbel_v1::aes_label, aes_key);
  detail::aes128_expand(aes_key, keys_->aes);
  detail::secure_zero(aes_key, sizeof aes_key);
  detail::hkdf_expand_sha256(k.secret_bytes(), gumbel_v1::siphash_label, keys_->siphash);
}

gumbel::~gumbel() { detail::secure_zero(keys_.get(), sizeof(subkeys)); }

namespace {

std::uint32_t word_at(const std::uint8_t* b) noexcept {
  return b[0] | static_cast<std::uint32_t>(b[1]) << 8 | static_cast<std::uint32_t>(b[2]) << 16 |
         static_cast<std::uint32_t>(b[3]) << 24;
}

// The uniform r_v = (U_v + 1/2)/2^32 of the sampling rule, strictly inside (0, 1), and its −ln.
double exponential(std::uint32_t u) noexcept { return -std::log((static_cast<double>(u) + 0.5) * 0x1p-32); }

}  // namespace

void gumbel::uniforms(std::span<const token_id> window, std::uint32_t first, std::size_t n,
                      std::uint32_t* out) const {
  if (window.size() != context_width_) {
    throw error(errc::invalid_argument, "Gumbel window: expected " + std::to_string(context_width_) +
                                            " context tokens, got " + std::to_string(window.size()));
  }
  if (n > vocab_size_ || first > vocab_size_ - n) {
    throw error(errc::out_of_range, "Gumbel uniforms: tokens beyond V = " + std::to_string(vocab_size_));
  }
  if (n == 0) return;
  const prf_context ctx = detail::context_field(keys_->siphash, window);
  // Token v's U_v is word v mod 4 of keystream block ⌊v/4⌋ (papers/gumbel-v1.md §3).
  const std::uint32_t first_block = first / 4;
  const std::uint32_t last_block = static_cast<std::uint32_t>((first + n - 1) / 4);
  constexpr std::size_t batch = 1024;
  alignas(64) std::uint8_t blocks[16 * batch];
  std::size_t written = 0;
  for (std::uint32_t b = first_block; b <= last_block; b += batch) {
    const std::size_t m = std::min<std::size_t>(batch, last_block - b + 1);
    const std::uint32_t word3 = b | static_cast<std::uint32_t>(gumbel_v1::stream_tag) << 24;
    detail::aes128_counter_blocks(keys_->aes, ctx.bytes.data(), word3, m, blocks);
    for (std::size_t j = 0; j < 4 * m && written < n; ++j) {
      const std::uint64_t v = 4 * static_cast<std::uint64_t>(b) + j;
      if (v < first) continue;
      out[written++] = word_at(blocks + 4 * j);
    }
  }
}

std::uint32_t gumbel::uniform(std::span<const token_id> window, token_id v) const {
  if (v < 0) throw error(errc::out_of_range, "Gumbel uniform: negative token id " + std::to_string(v));
  std::uint32_t u = 0;
  uniforms(window, static_cast<std::uint32_t>(v), 1, &u);
  return u;
}

void gumbel::uniforms_at(std::span<const token_id> tokens, std::span<const std::size_t> positions,
                         std::uint32_t* out) const {
  const std::size_t h = context_width_;
  constexpr std::size_t batch = 64;
  std::uint8_t in[16 * batch], blocks[16 * batch];
  for (std::size_t done = 0; done < positions.size(); done += batch) {
    const std::size_t m = std::min(batch, positions.size() - done);
    for (std::size_t i = 0; i < m; ++i) {
      const std::size_t pos = positions[done + i];
      if (pos < h || pos >= tokens.size()) {
        throw error(errc::out_of_range, "Gumbel uniforms: position " + std::to_string(pos) + " has no full context");
      }
      const prf_context ctx = detail::context_field(keys_->siphash, tokens.subspan(pos - h, h));
      std::uint8_t* b = in + 16 * i;
      std::memcpy(b, ctx.bytes.data(), 12);
      const auto block = static_cast<std::uint32_t>(tokens[pos]) / 4;
      b[12] = static_cast<std::uint8_t>(block);
      b[13] = static_cast<std::uint8_t>(block >> 8);
      b[14] = static_cast<std::uint8_t>(block >> 16);
      b[15] = gumbel_v1::stream_tag;
    }
    detail::aes128_encrypt_blocks(keys_->aes, in, blocks, m);
    for (std::size_t i = 0; i < m; ++i) {
      const auto v = static_cast<std::uint32_t>(tokens[positions[done + i]]);
      out[done + i] = word_at(blocks + 16 * i + 4 * (v % 4));
    }
  }
}

double gumbel::score(std::uint32_t u) noexcept { return -std::log1p(-static_cast<double>(u) * 0x1p-32); }

namespace {

// Bit j of bits[j / 64] = 1 when token j may beat the best value b: w_j > 0 and a lower bound of
// 1 − r_j is below c·w_j, with c = b·(1 + 1e-5). (~U >> 1)·2^-31 ≤ 1 − r_j = (2^32 − U − 1/2)/2^32,
// and the float roundings (relative 6e-8 each) stay far inside the 1e-5 margin, so a token that
// could beat b is never dropped (E_j = −ln r_j ≥ 1 − r_j). The survivors are then decided in double
// precision. An AVX-512 version (sixteen tokens a compare) and a portable one, chosen at run time.
void survivors_portable(const float* w, const std::uint32_t* u, std::size_t n, float c, std::uint64_t* bits) {
  for (std::size_t j = 0; j < n; j += 64) {
    std::uint64_t word = 0;
    const std::size_t m = std::min<std::size_t>(64, n - j);
    for (std::size_t k = 0; k < m; ++k) {
      const float one_minus_r = static_cast<float>(static_cast<std::int32_t>(~u[j + k] >> 1)) * 0x1p-31f;
      const bool may = (w[j + k] > 0.0f) & (one_minus_r < c * w[j + k]);
      word |= static_cast<std::uint64_t>(may) << k;
    }
    bits[j / 64] = word;
  }
}

// The row's largest weight, and whether every weight is finite.
float row_max_portable(const float* w, std::size_t n, bool& finite) {
  float top = -std::numeric_limits<float>::infinity();
  finite = true;
  for (std::size_t j = 0; j < n; ++j) {
    finite = finite && std::isfinite(w[j]);
    top = w[j] > top ? w[j] : top;
  }
  return top;
}

#if defined(__x86_64__)
// GCC 12's avx512fintrin.h seeds some intrinsics with _mm512_undefined_*() and then warns about it.
#pragma GCC diagnostic push
#if !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#pragma GCC diagnostic ignored "-Wuninitialized"
__attribute__((target("avx512f"))) void survivors_avx512(const float* w, const std::uint32_t* u, std::size_t n,
                                                         float c, std::uint64_t* bits) {
  const __m512 scale = _mm512_set1_ps(0x1p-31f);
  const __m512 cc = _mm512_set1_ps(c);
  const __m512i ones = _mm512_set1_epi32(-1);
  for (std::size_t j = 0; j < n; j += 64) {
    std::uint64_t word = 0;
    for (std::size_t k = 0; k < 64 && j + k < n; k += 16) {
      const std::size_t left = n - (j + k);
      const __mmask16 live = left >= 16 ? __mmask16(0xffff) : static_cast<__mmask16>((1u << left) - 1);
      const __m512i uu = left >= 16 ? _mm512_loadu_si512(u + j + k) : _mm512_maskz_loadu_epi32(live, u + j + k);
      const __m512 ww = left >= 16 ? _mm512_loadu_ps(w + j + k) : _mm512_maskz_loadu_ps(live, w + j + k);
      const __m512 omr = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_srli_epi32(_mm512_xor_si512(uu, ones), 1)), scale);
      const __mmask16 positive = _mm512_mask_cmp_ps_mask(live, ww, _mm512_setzero_ps(), _CMP_GT_OQ);
      const __mmask16 may = _mm512_mask_cmp_ps_mask(positive, omr, _mm512_mul_ps(cc, ww), _CMP_LT_OQ);
      word |= static_cast<std::uint64_t>(may) << k;
    }
    bits[j / 64] = word;
  }
}

__attribute__((target("avx512f"))) float row_max_avx512(const float* w, std::size_t n, bool& finite) {
  const __m512 biggest = _mm512_set1_ps(std::numeric_limits<float>::max());
  __m512 top[4];
  for (auto& t : top) t = _mm512_set1_ps(-std::numeric_limits<float>::infinity());
  __mmask16 all_finite = 0xffff;
  std::size_t j = 0;
  // Four independent maxima over whole 64-float strides, then the tail with masked loads.
  for (; j + 64 <= n; j += 64) {
    for (int a = 0; a < 4; ++a) {
      const __m512 x = _mm512_loadu_ps(w + j + 16 * static_cast<std::size_t>(a));
      // |x| ≤ FLT_MAX is false for ±inf and NaN.
      all_finite &= _mm512_cmp_ps_mask(_mm512_abs_ps(x), biggest, _CMP_LE_OQ);
      top[a] = _mm512_max_ps(top[a], x);
    }
  }
  for (; j < n; j += 16) {
    const std::size_t left = n - j;
    const __mmask16 live = left >= 16 ? __mmask16(0xffff) : static_cast<__mmask16>((1u << left) - 1);
    const __m512 x = _mm512_maskz_loadu_ps(live, w + j);
    const __mmask16 ok = _mm512_cmp_ps_mask(_mm512_abs_ps(x), biggest, _CMP_LE_OQ);
    all_finite &= static_cast<__mmask16>(ok | static_cast<__mmask16>(~live));
    top[0] = _mm512_mask_max_ps(top[0], live, top[0], x);
  }
  finite = all_finite == 0xffff;
  return _mm512_reduce_max_ps(_mm512_max_ps(_mm512_max_ps(top[0], top[1]), _mm512_max_ps(top[2], top[3])));
}

// The first index holding `value` (n when none does).
__attribute__((target("avx512f"))) std::size_t find_avx512(const float* w, std::size_t n, float value) {
  const __m512 x = _mm512_set1_ps(value);
  std::size_t j = 0;
  for (; j + 16 <= n; j += 16) {
    const __mmask16 hit = _mm512_cmp_ps_mask(_mm512_loadu_ps(w + j), x, _CMP_EQ_OQ);
    if (hit != 0) return j + static_cast<std::size_t>(__builtin_ctz(hit));
  }
  for (; j < n; ++j) {
    if (w[j] == value) return j;
  }
  return n;
}
#pragma GCC diagnostic pop
#endif

using survivor_kernel = void (*)(const float*, const std::uint32_t*, std::size_t, float, std::uint64_t*);
using max_kernel = float (*)(const float*, std::size_t, bool&);
using find_kernel = std::size_t (*)(const float*, std::size_t, float);
std::size_t find_portable(const float* w, std::size_t n, float value) {
  return static_cast<std::size_t>(std::find(w, w + n, value) - w);
}
struct row_kernels {
  survivor_kernel survivors;
  max_kernel row_max;
  find_kernel find;
};
row_kernels best_row_kernels() {
#if defined(__x86_64__)
  if (__builtin_cpu_supports("avx512f")) return {survivors_avx512, row_max_avx512, find_avx512};
#endif
  return {survivors_portable, row_max_portable, find_portable};
}

}  // namespace

token_id gumbel::select(std::span<const token_id> window, std::span<const float> weights) const {
  if (weights.size() != vocab_size_) {
    throw error(errc::mismatch, "Gumbel row: expected the key's vocabulary size " + std::to_string(vocab_size_) +
                                    ", got " + std::to_string(weights.size()));
  }
  if (window.size() != context_width_) {
    throw error(errc::invalid_argument, "Gumbel window: expected " + std::to_string(context_width_) +
                                            " context tokens, got " + std::to_string(window.size()));
  }
  static const row_kernels kernels = best_row_kernels();
  const float* w = weights.data();
  bool finite = true;
  const float top = kernels.row_max(w, weights.size(), finite);
  if (!finite) {
    std::size_t v = 0;
    while (std::isfinite(w[v])) ++v;
    throw error(errc::invalid_argument, "Gumbel row: weight " + std::to_string(v) + " is not finite");
  }
  if (!(top > 0.0f)) throw error(errc::invalid_argument, "Gumbel row: no positive weight");
  // Start from the heaviest token (a tight bound b = E_x/p_x), then pass over the row in id order a
  // chunk at a time: the chunk's keystream, the vectorised filter, and the exact value of each
  // survivor (usually a few dozen per row).
  const std::size_t heaviest = kernels.find(w, weights.size(), top);
  const prf_context ctx = detail::context_field(keys_->siphash, window);
  constexpr std::size_t chunk = 8192;
  alignas(64) std::uint32_t u[chunk];
  std::uint64_t bits[chunk / 64];
  std::size_t best = heaviest;
  double best_value = 0.0;
  {
    const auto block = static_cast<std::uint32_t>(heaviest / 4);
    detail::aes128_counter_blocks(keys_->aes, ctx.bytes.data(),
                                  block | static_cast<std::uint32_t>(gumbel_v1::stream_tag) << 24, 1,
                                  reinterpret_cast<std::uint8_t*>(u));
    best_value = exponential(u[heaviest % 4]) / static_cast<double>(top);
  }
  for (std::size_t start = 0; start < weights.size(); start += chunk) {
    const std::size_t n = std::min(chunk, weights.size() - start);
    const auto first_block = static_cast<std::uint32_t>(start / 4);  // chunk is a multiple of 4
    detail::aes128_counter_blocks(keys_->aes, ctx.bytes.data(),
                                  first_block | static_cast<std::uint32_t>(gumbel_v1::stream_tag) << 24,
                                  (n + 3) / 4, reinterpret_cast<std::uint8_t*>(u));
    kernels.survivors(w + start, u, n, static_cast<float>(best_value * (1.0 + 1e-5)), bits);
    for (std::size_t word_index = 0; word_index * 64 < n; ++word_index) {
      for (std::uint64_t word = bits[word_index]; word != 0; word &= word - 1) {
        const std::size_t k = 64 * word_index + static_cast<std::size_t>(__builtin_ctzll(word));
        const std::size_t v = start + k;
        const double value = exponential(u[k]) / static_cast<double>(w[v]);
        if (value < best_value || (value == best_value && v < best)) {
          best_value = value;
          best = v;
        }
      }
    }
  }
  return static_cast<token_id>(best);
}

token_id gumbel::select_candidates(std::span<const token_id> window, std::span<const token_id> ids,
                                   std::span<const float> weights) const {
  if (ids.size() != weights.size()) {
    throw error(errc::invalid_argument, "Gumbel candidates: " + std::to_string(ids.size()) + " ids but " +
                                            std::to_string(weights.size()) + " weights");
  }
  if (window.size() != context_width_) {
    throw error(errc::invalid_argument, "Gumbel window: expected " + std::to_string(context_width_) +
                                            " context tokens, got " + std::to_string(window.size()));
  }
  const prf_context ctx = detail::context_field(keys_->siphash, window);
  token_id best = -1;
  double best_value = 0.0;
  // The candidates' keystream blocks are encrypted 64 at a time.
  constexpr std::size_t batch = 64;
  std::uint8_t in[16 * batch], out[16 * batch];
  for (std::size_t done = 0; done < ids.size(); done += batch) {
    const std::size_t m = std::min(batch, ids.size() - done);
    for (std::size_t i = 0; i < m; ++i) {
      const token_id v = ids[done + i];
      if (v < 0 || static_cast<std::uint32_t>(v) >= vocab_size_) {
        throw error(errc::out_of_range, "Gumbel candidate " + std::to_string(done + i) + ": expected 0 <= id < " +
                                            std::to_string(vocab_size_) + ", got " + std::to_string(v));
      }
      if (!std::isfinite(weights[done + i])) {
        throw error(errc::invalid_argument,
                    "Gumbel candidate " + std::to_string(done + i) + ": weight is not finite");
      }
      std::uint8_t* b = in + 16 * i;
      std::memcpy(b, ctx.bytes.data(), 12);
      const auto block = static_cast<std::uint32_t>(v) / 4;
      b[12] = static_cast<std::uint8_t>(block);
      b[13] = static_cast<std::uint8_t>(block >> 8);
      b[14] = static_cast<std::uint8_t>(block >> 16);
      b[15] = gumbel_v1::stream_tag;
    }
    detail::aes128_encrypt_blocks(keys_->aes, in, out, m);
    for (std::size_t i = 0; i < m; ++i) {
      const token_id v = ids[done + i];
      const double p = weights[done + i];
      if (!(p > 0.0)) continue;
      const double value = exponential(word_at(out + 16 * i + 4 * (static_cast<std::uint32_t>(v) % 4))) / p;
      if (best < 0 || value < best_value || (value == best_value && v < best)) {
        best_value = value;
        best = v;
      }
    }
  }
  if (best < 0) throw error(errc::invalid_argument, "Gumbel candidates: no positive weight");
  return best;
}

}  // namespace tritium
