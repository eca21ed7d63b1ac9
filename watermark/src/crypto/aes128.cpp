// AES-128 block encryption for the PRF (papers/prf-v1.md). The hot paths use AES-NI directly, because
// one block per token must cost nanoseconds and an EVP call per block costs more than the cipher.
// Machines without AES-NI fall back to OpenSSL's EVP interface; tests check that both agree.
#include <openssl/evp.h>

#include <cstring>
#include <exception>

#include "crypto.hpp"
#include "tritium/error.hpp"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <immintrin.h>
#define TRITIUM_HAVE_AESNI_PATH 1
#endif

namespace tritium::detail {

#ifdef TRITIUM_HAVE_AESNI_PATH
namespace {

__attribute__((target("aes,sse2"))) inline __m128i expand_step(__m128i key, __m128i assist) {
  assist = _mm_shuffle_epi32(assist, 0xff);
  key = _mm_xor_si128(key, _mm_slli_si128(key, 4));
  key = _mm_xor_si128(key, _mm_slli_si128(key, 4));
  key = _mm_xor_si128(key, _mm_slli_si128(key, 4));
  return _mm_xor_si128(key, assist);
}

__attribute__((target("aes,sse2"))) void expand_aesni(const std::uint8_t key[16],
                                                      std::uint8_t round_keys[176]) {
  __m128i k[11];
  k[0] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(key));
  // The round constants must be immediates, hence the unrolled sequence (FIPS-197 §5.2).
  k[1] = expand_step(k[0], _mm_aeskeygenassist_si128(k[0], 0x01));
  k[2] = expand_step(k[1], _mm_aeskeygenassist_si128(k[1], 0x02));
  k[3] = expand_step(k[2], _mm_aeskeygenassist_si128(k[2], 0x04));
  k[4] = expand_step(k[3], _mm_aeskeygenassist_si128(k[3], 0x08));
  k[5] = expand_step(k[4], _mm_aeskeygenassist_si128(k[4], 0x10));
  k[6] = expand_step(k[5], _mm_aeskeygenassist_si128(k[5], 0x20));
  k[7] = expand_step(k[6], _mm_aeskeygenassist_si128(k[6], 0x40));
  k[8] = expand_step(k[7], _mm_aeskeygenassist_si128(k[7], 0x80));
  k[9] = expand_step(k[8], _mm_aeskeygenassist_si128(k[8], 0x1b));
  k[10] = expand_step(k[9], _mm_aeskeygenassist_si128(k[9], 0x36));
  for (int i = 0; i < 11; ++i) {
    _mm_store_si128(reinterpret_cast<__m128i*>(round_keys + 16 * i), k[i]);
  }
}

__attribute__((target("aes,sse2"))) void encrypt_aesni(const std::uint8_t* round_keys,
                                                       const std::uint8_t* in, std::uint8_t* out,
                                                       std::size_t n) {
  __m128i rk[11];
  for (int i = 0; i < 11; ++i) {
    rk[i] = _mm_load_si128(reinterpret_cast<const __m128i*>(round_keys + 16 * i));
  }
  std::size_t i = 0;
  // Eight independent blocks in flight hide the latency of aesenc.
  for (; i + 8 <= n; i += 8) {
    __m128i b[8];
    for (std::size_t j = 0; j < 8; ++j) {
      b[j] = _mm_xor_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(in + 16 * (i + j))),
                           rk[0]);
    }
    for (int r = 1; r < 10; ++r) {
      for (std::size_t j = 0; j < 8; ++j) b[j] = _mm_aesenc_si128(b[j], rk[r]);
    }
    for (std::size_t j = 0; j < 8; ++j) {
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 16 * (i + j)),
                       _mm_aesenclast_si128(b[j], rk[10]));
    }
  }
  for (; i < n; ++i) {
    __m128i b = _mm_xor_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(in + 16 * i)), rk[0]);
    for (int r = 1; r < 10; ++r) b = _mm_aesenc_si128(b, rk[r]);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 16 * i), _mm_aesenclast_si128(b, rk[10]));
  }
}

__attribute__((target("aes,sse4.1"))) void counter_aesni(const std::uint8_t* round_keys,
                                                          const std::uint8_t prefix[12],
                                                          std::uint32_t word3, std::size_t n,
                                                          std::uint8_t* out) {
  __m128i rk[11];
  for (int i = 0; i < 11; ++i) {
    rk[i] = _mm_load_si128(reinterpret_cast<const __m128i*>(round_keys + 16 * i));
  }
  std::uint8_t first[16];
  std::memcpy(first, prefix, 12);
  std::memset(first + 12, 0, 4);
  const __m128i base = _mm_loadu_si128(reinterpret_cast<const __m128i*>(first));
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m128i b[8];
    for (std::size_t j = 0; j < 8; ++j) {
      const int word = static_cast<int>(word3 + static_cast<std::uint32_t>(i + j));
      b[j] = _mm_xor_si128(_mm_insert_epi32(base, word, 3), rk[0]);
    }
    for (int r = 1; r < 10; ++r) {
      for (std::size_t j = 0; j < 8; ++j) b[j] = _mm_aesenc_si128(b[j], rk[r]);
    }
    for (std::size_t j = 0; j < 8; ++j) {
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 16 * (i + j)),
                       _mm_aesenclast_si128(b[j], rk[10]));
    }
  }
  for (; i < n; ++i) {
    const int word = static_cast<int>(word3 + static_cast<std::uint32_t>(i));
    __m128i b = _mm_xor_si128(_mm_insert_epi32(base, word, 3), rk[0]);
    for (int r = 1; r < 10; ++r) b = _mm_aesenc_si128(b, rk[r]);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 16 * i), _mm_aesenclast_si128(b, rk[10]));
  }
}

// VAES: four blocks per 512-bit instruction, 32 blocks in flight. Same output as counter_aesni.
// GCC 12's avx512fintrin.h seeds broadcasts with _mm512_undefined_epi32() and then warns about it.
#pragma GCC diagnostic push
#if !defined(__clang__)  // clang has no -Wmaybe-uninitialized (and does not warn here)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#pragma GCC diagnostic ignored "-Wuninitialized"
__attribute__((target("vaes,avx512f,aes,sse4.1"))) void counter_vaes512(
    const std::uint8_t* round_keys, const std::uint8_t prefix[12], std::uint32_t word3, std::size_t n,
    std::uint8_t* out) {
  __m512i rk[11];
  for (int i = 0; i < 11; ++i) {
    rk[i] = _mm512_broadcast_i32x4(_mm_load_si128(reinterpret_cast<const __m128i*>(round_keys + 16 * i)));
  }
  std::uint8_t first[16];
  std::memcpy(first, prefix, 12);
  std::memcpy(first + 12, &word3, 4);
  // Word 3 of the four 128-bit lanes counts 0, 1, 2, 3 above the first block.
  const __m512i base = _mm512_add_epi32(
      _mm512_broadcast_i32x4(_mm_loadu_si128(reinterpret_cast<const __m128i*>(first))),
      _mm512_set_epi32(3, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0));
  std::size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    __m512i b[8];
    for (std::size_t j = 0; j < 8; ++j) {
      const int step = static_cast<int>(i + 4 * j);
      b[j] = _mm512_xor_si512(
          _mm512_add_epi32(base, _mm512_set_epi32(step, 0, 0, 0, step, 0, 0, 0, step, 0, 0, 0, step, 0, 0, 0)),
          rk[0]);
    }
    for (int r = 1; r < 10; ++r) {
      for (std::size_t j = 0; j < 8; ++j) b[j] = _mm512_aesenc_epi128(b[j], rk[r]);
    }
    for (std::size_t j = 0; j < 8; ++j) {
      _mm512_storeu_si512(out + 16 * (i + 4 * j), _mm512_aesenclast_epi128(b[j], rk[10]));
    }
  }
  if (i < n) counter_aesni(round_keys, prefix, word3 + static_cast<std::uint32_t>(i), n - i, out + 16 * i);
}

// ECB over blocks already in memory, 32 in flight. Same output as encrypt_aesni.
__attribute__((target("vaes,avx512f,aes,sse4.1"))) void encrypt_vaes512(const std::uint8_t* round_keys,
                                                                         const std::uint8_t* in,
                                                                         std::uint8_t* out, std::size_t n) {
  __m512i rk[11];
  for (int i = 0; i < 11; ++i) {
    rk[i] = _mm512_broadcast_i32x4(_mm_load_si128(reinterpret_cast<const __m128i*>(round_keys + 16 * i)));
  }
  std::size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    __m512i b[8];
    for (std::size_t j = 0; j < 8; ++j) {
      b[j] = _mm512_xor_si512(_mm512_loadu_si512(in + 16 * (i + 4 * j)), rk[0]);
    }
    for (int r = 1; r < 10; ++r) {
      for (std::size_t j = 0; j < 8; ++j) b[j] = _mm512_aesenc_epi128(b[j], rk[r]);
    }
    for (std::size_t j = 0; j < 8; ++j) {
      _mm512_storeu_si512(out + 16 * (i + 4 * j), _mm512_aesenclast_epi128(b[j], rk[10]));
    }
  }
  if (i < n) encrypt_aesni(round_keys, in + 16 * i, out + 16 * i, n - i);
}

// Blocks that differ in words 0 and 1 only, reduced to their first words (the self-hash rank and lane
// rows of papers/prf-v1.md §4, which count the candidate in word 1 and put the anchor in word 0):
// block i is `base` with word 1 = word1 + i and, when `word0s` is given, word 0 = word0s[i]; `out`
// gets words [0, Words) of each encrypted block. Four blocks per instruction, 32 in flight; the
// words are packed with a compress, so nothing but them is stored.
template <int Words>
__attribute__((target("vaes,avx512f,aes,sse4.1"))) std::size_t heads_vaes512(
    const std::uint8_t* round_keys, const std::uint8_t base_block[16], std::uint32_t word1,
    const std::uint32_t* word0s, std::size_t n, std::uint32_t* out) {
  __m512i rk[11];
  for (int i = 0; i < 11; ++i) {
    rk[i] = _mm512_broadcast_i32x4(_mm_load_si128(reinterpret_cast<const __m128i*>(round_keys + 16 * i)));
  }
  std::uint8_t first[16];
  std::memcpy(first, base_block, 16);
  std::memcpy(first + 4, &word1, 4);
  // Word 1 of the four 128-bit lanes counts 0, 1, 2, 3 above the first block.
  const __m512i base = _mm512_add_epi32(
      _mm512_broadcast_i32x4(_mm_loadu_si128(reinterpret_cast<const __m128i*>(first))),
      _mm512_set_epi32(0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 0, 0));
  constexpr __mmask16 keep = Words == 1 ? 0x1111 : 0x3333;
  std::size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    __m512i b[8];
    for (std::size_t j = 0; j < 8; ++j) {
      const int step = static_cast<int>(i + 4 * j);
      b[j] = _mm512_add_epi32(base, _mm512_set_epi32(0, 0, step, 0, 0, 0, step, 0, 0, 0, step, 0, 0, 0, step, 0));
      if (word0s != nullptr) b[j] = _mm512_mask_expandloadu_epi32(b[j], 0x1111, word0s + i + 4 * j);
      b[j] = _mm512_xor_si512(b[j], rk[0]);
    }
    for (int r = 1; r < 10; ++r) {
      for (std::size_t j = 0; j < 8; ++j) b[j] = _mm512_aesenc_epi128(b[j], rk[r]);
    }
    for (std::size_t j = 0; j < 8; ++j) {
      const __m512i packed = _mm512_maskz_compress_epi32(keep, _mm512_aesenclast_epi128(b[j], rk[10]));
      if constexpr (Words == 1) {
        _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i + 4 * j), _mm512_castsi512_si128(packed));
      } else {
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 2 * (i + 4 * j)), _mm512_castsi512_si256(packed));
      }
    }
  }
  return i;
}
// The self-hash row in registers (papers/prf-v1.md §4): for 32 candidates at a time, each distinct
// window token's rank blocks, a running unsigned minimum of their first 8 bytes with the token that
// holds it (strictly lower replaces, so ties keep the earlier token), then the lane blocks with the
// anchor in word 0. Nothing but the lane words is stored.
__attribute__((target("vaes,avx512f,aes,sse4.1"))) std::size_t selfhash_row_vaes512(
    const std::uint8_t* round_keys, const std::uint8_t rank_base[16], const std::uint8_t lane_base[16],
    const std::uint32_t* tokens, std::size_t distinct, std::uint32_t v0, std::size_t n,
    std::uint32_t mask, std::uint16_t* lanes) {
  __m512i rk[11];
  for (int i = 0; i < 11; ++i) {
    rk[i] = _mm512_broadcast_i32x4(_mm_load_si128(reinterpret_cast<const __m128i*>(round_keys + 16 * i)));
  }
  // Both bases with word 1 counting v0, v0 + 1, v0 + 2, v0 + 3 across the four 128-bit lanes.
  const __m512i lanes_0123 = _mm512_set_epi32(0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 1, 0, 0, 0, 0, 0);
  std::uint8_t first[16];
  std::memcpy(first, rank_base, 16);
  std::memcpy(first + 4, &v0, 4);
  const __m512i rank0 = _mm512_add_epi32(
      _mm512_broadcast_i32x4(_mm_loadu_si128(reinterpret_cast<const __m128i*>(first))), lanes_0123);
  std::memcpy(first, lane_base, 16);
  std::memcpy(first + 4, &v0, 4);
  const __m512i lane0 = _mm512_add_epi32(
      _mm512_broadcast_i32x4(_mm_loadu_si128(reinterpret_cast<const __m128i*>(first))), lanes_0123);
  std::size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    __m512i best[8], anchor[8];
    for (std::size_t d = 0; d < distinct; ++d) {
      const __m512i token = _mm512_set1_epi32(static_cast<int>(tokens[d]));
      const __m512i base = _mm512_mask_mov_epi32(rank0, 0x1111, token);
      __m512i b[8];
      for (std::size_t j = 0; j < 8; ++j) {
        const int step = static_cast<int>(i + 4 * j);
        b[j] = _mm512_xor_si512(
            _mm512_add_epi32(base, _mm512_set_epi32(0, 0, step, 0, 0, 0, step, 0, 0, 0, step, 0, 0, 0, step, 0)),
            rk[0]);
      }
      for (int r = 1; r < 10; ++r) {
        for (std::size_t j = 0; j < 8; ++j) b[j] = _mm512_aesenc_epi128(b[j], rk[r]);
      }
      for (std::size_t j = 0; j < 8; ++j) {
        b[j] = _mm512_aesenclast_epi128(b[j], rk[10]);
        if (d == 0) {
          best[j] = b[j];
          anchor[j] = token;
        } else {
          // The rank is qword 0 of each 128-bit lane (qwords 0, 2, 4, 6 of the register).
          const __mmask8 lower = _mm512_mask_cmplt_epu64_mask(0x55, b[j], best[j]);
          best[j] = _mm512_mask_mov_epi64(best[j], lower, b[j]);
          anchor[j] = _mm512_mask_mov_epi64(anchor[j], lower, token);
        }
      }
    }
    __m512i b[8];
    for (std::size_t j = 0; j < 8; ++j) {
      const int step = static_cast<int>(i + 4 * j);
      b[j] = _mm512_add_epi32(lane0, _mm512_set_epi32(0, 0, step, 0, 0, 0, step, 0, 0, 0, step, 0, 0, 0, step, 0));
      b[j] = _mm512_xor_si512(_mm512_mask_mov_epi32(b[j], 0x1111, anchor[j]), rk[0]);
    }
    for (int r = 1; r < 10; ++r) {
      for (std::size_t j = 0; j < 8; ++j) b[j] = _mm512_aesenc_epi128(b[j], rk[r]);
    }
    // Word 0 of each block, masked to the lane width (≤ 16 bits, so the unsigned pack is exact).
    const __m128i lane_mask = _mm_set1_epi32(static_cast<int>(mask));
    for (std::size_t j = 0; j < 8; ++j) {
      const __m512i packed = _mm512_maskz_compress_epi32(0x1111, _mm512_aesenclast_epi128(b[j], rk[10]));
      const __m128i words = _mm_and_si128(_mm512_castsi512_si128(packed), lane_mask);
      _mm_storel_epi64(reinterpret_cast<__m128i*>(lanes + i + 4 * j), _mm_packus_epi32(words, words));
    }
  }
  return i;
}
#pragma GCC diagnostic pop

// VAES is read from CPUID leaf 7 (ECX bit 9) because clang 14's __builtin_cpu_supports does not
// know "vaes". The builtin's "avx512f" also checks (XGETBV) that the OS saves the 512-bit state,
// which the 512-bit VAES instructions need as well.
bool has_vaes512() noexcept {
  static const bool has = [] {
    unsigned eax = 0, ebx = 0, ecx = 0, edx = 0;
    const bool vaes = __get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx) != 0 && (ecx & bit_VAES) != 0;
    return vaes && __builtin_cpu_supports("avx512f");
  }();
  return has;
}

}  // namespace

bool aes128_has_hardware() noexcept {
  static const bool has = __builtin_cpu_supports("aes") && __builtin_cpu_supports("sse4.1");
  return has;
}
#else
bool aes128_has_hardware() noexcept { return false; }
#endif

void aes128_expand(const std::uint8_t key[16], aes128_key& out) noexcept {
  std::memcpy(out.raw, key, 16);
  std::memset(out.round_keys, 0, sizeof out.round_keys);
#ifdef TRITIUM_HAVE_AESNI_PATH
  if (aes128_has_hardware()) expand_aesni(key, out.round_keys);
#endif
}

void aes128_encrypt_blocks_openssl(const aes128_key& key, const std::uint8_t* in, std::uint8_t* out,
                                   std::size_t n) {
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  if (ctx == nullptr) throw error(errc::no_memory, "OpenSSL: EVP_CIPHER_CTX_new failed");
  int ok = EVP_EncryptInit_ex(ctx, EVP_aes_128_ecb(), nullptr, key.raw, nullptr);
  ok = ok && EVP_CIPHER_CTX_set_padding(ctx, 0);
  int written = 0;
  ok = ok && EVP_EncryptUpdate(ctx, out, &written, in, static_cast<int>(16 * n));
  EVP_CIPHER_CTX_free(ctx);
  if (!ok || written != static_cast<int>(16 * n)) {
    throw error(errc::internal, "OpenSSL: AES-128-ECB encryption failed");
  }
}

void aes128_encrypt_blocks(const aes128_key& key, const std::uint8_t* in, std::uint8_t* out,
                           std::size_t n) noexcept {
#ifdef TRITIUM_HAVE_AESNI_PATH
  if (aes128_has_hardware()) {
    if (n >= 32 && has_vaes512()) {
      encrypt_vaes512(key.round_keys, in, out, n);
    } else {
      encrypt_aesni(key.round_keys, in, out, n);
    }
    return;
  }
#endif
  // Without AES-NI the only failure mode of EVP is an allocation failure; treat it as fatal rather
  // than returning unkeyed bytes, which would silently produce a wrong green list.
  try {
    aes128_encrypt_blocks_openssl(key, in, out, n);
  } catch (...) {
    std::terminate();
  }
}

}  // namespace tritium::detail

namespace tritium::detail {

void aes128_counter_blocks(const aes128_key& key, const std::uint8_t prefix[12], std::uint32_t word3,
                           std::size_t n, std::uint8_t* out) noexcept {
#ifdef TRITIUM_HAVE_AESNI_PATH
  if (aes128_has_hardware()) {
    if (n >= 32 && has_vaes512()) {
      counter_vaes512(key.round_keys, prefix, word3, n, out);
    } else {
      counter_aesni(key.round_keys, prefix, word3, n, out);
    }
    return;
  }
#endif
  constexpr std::size_t batch = 64;
  std::uint8_t in[16 * batch];
  for (std::size_t done = 0; done < n;) {
    const std::size_t m = n - done < batch ? n - done : batch;
    for (std::size_t i = 0; i < m; ++i) {
      const std::uint32_t word = word3 + static_cast<std::uint32_t>(done + i);
      std::memcpy(in + 16 * i, prefix, 12);
      for (int b = 0; b < 4; ++b) in[16 * i + 12 + static_cast<std::size_t>(b)] = static_cast<std::uint8_t>(word >> (8 * b));
    }
    aes128_encrypt_blocks(key, in, out + 16 * done, m);
    done += m;
  }
}

void aes128_counter_heads(const aes128_key& key, const std::uint8_t base[16], std::uint32_t word1,
                          const std::uint32_t* word0s, std::size_t n, unsigned words,
                          std::uint32_t* out) noexcept {
  std::size_t done = 0;
#ifdef TRITIUM_HAVE_AESNI_PATH
  if (aes128_has_hardware() && n >= 32 && has_vaes512()) {
    done = words == 1 ? heads_vaes512<1>(key.round_keys, base, word1, word0s, n, out)
                      : heads_vaes512<2>(key.round_keys, base, word1, word0s, n, out);
  }
#endif
  // The rest (or everything, without VAES) through prepared blocks.
  constexpr std::size_t batch = 64;
  std::uint8_t in[16 * batch];
  while (done < n) {
    const std::size_t m = n - done < batch ? n - done : batch;
    for (std::size_t i = 0; i < m; ++i) {
      std::uint8_t* b = in + 16 * i;
      std::memcpy(b, base, 16);
      const std::uint32_t w1 = word1 + static_cast<std::uint32_t>(done + i);
      for (int k = 0; k < 4; ++k) b[4 + k] = static_cast<std::uint8_t>(w1 >> (8 * k));
      if (word0s != nullptr) {
        for (int k = 0; k < 4; ++k) b[k] = static_cast<std::uint8_t>(word0s[done + i] >> (8 * k));
      }
    }
    aes128_encrypt_blocks(key, in, in, m);
    for (std::size_t i = 0; i < m; ++i) {
      for (unsigned w = 0; w < words; ++w) {
        const std::uint8_t* b = in + 16 * i + 4 * w;
        out[words * (done + i) + w] = b[0] | static_cast<std::uint32_t>(b[1]) << 8 |
                                      static_cast<std::uint32_t>(b[2]) << 16 |
                                      static_cast<std::uint32_t>(b[3]) << 24;
      }
    }
    done += m;
  }
}

std::size_t aes128_selfhash_row(const aes128_key& key, const std::uint8_t rank_base[16],
                                const std::uint8_t lane_base[16], const std::uint32_t* tokens,
                                std::size_t distinct, std::uint32_t v0, std::size_t n,
                                std::uint32_t mask, std::uint16_t* lanes) noexcept {
#ifdef TRITIUM_HAVE_AESNI_PATH
  if (distinct >= 1 && mask <= 0xffffu && aes128_has_hardware() && has_vaes512()) {
    return selfhash_row_vaes512(key.round_keys, rank_base, lane_base, tokens, distinct, v0, n, mask, lanes);
  }
#endif
  return 0;
}

}  // namespace tritium::detail
