#include <catch2/catch.hpp>
#include <cstring>
#include <random>
#include <vector>

#include "crypto/crypto.hpp"

using namespace tritium::detail;

TEST_CASE("AES-128 matches the FIPS-197 Appendix C.1 example", "[crypto]") {
  std::uint8_t key[16];
  std::uint8_t plain[16];
  for (int i = 0; i < 16; ++i) {
    key[i] = static_cast<std::uint8_t>(i);
    plain[i] = static_cast<std::uint8_t>(i * 0x11);
  }
  const std::uint8_t expected[16] = {0x69, 0xc4, 0xe0, 0xd8, 0x6a, 0x7b, 0x04, 0x30,
                                     0xd8, 0xcd, 0xb7, 0x80, 0x70, 0xb4, 0xc5, 0x5a};
  aes128_key k;
  aes128_expand(key, k);
  std::uint8_t out[16];
  aes128_encrypt_blocks(k, plain, out, 1);
  CHECK(std::memcmp(out, expected, 16) == 0);
  aes128_encrypt_blocks_openssl(k, plain, out, 1);
  CHECK(std::memcmp(out, expected, 16) == 0);
}

TEST_CASE("The AES-NI path and OpenSSL agree on random keys and batch sizes", "[crypto]") {
  std::mt19937_64 rng(20261127);
  for (std::size_t n : {1u, 7u, 8u, 9u, 64u, 131u}) {
    std::uint8_t raw[16];
    for (auto& b : raw) b = static_cast<std::uint8_t>(rng());
    aes128_key k;
    aes128_expand(raw, k);
    std::vector<std::uint8_t> in(16 * n), a(16 * n), b(16 * n);
    for (auto& x : in) x = static_cast<std::uint8_t>(rng());
    aes128_encrypt_blocks(k, in.data(), a.data(), n);
    aes128_encrypt_blocks_openssl(k, in.data(), b.data(), n);
    CHECK(a == b);
  }
}

TEST_CASE("HKDF-Expand-SHA256 matches RFC 5869 test case 1 (first 32 bytes of T(1))", "[crypto]") {
  // RFC 5869 A.1: PRK and info given; OKM's first 32 bytes are T(1).
  const std::uint8_t prk[32] = {0x07, 0x77, 0x09, 0x36, 0x2c, 0x2e, 0x32, 0xdf, 0x0d, 0xdc, 0x3f,
                                0x0d, 0xc4, 0x7b, 0xba, 0x63, 0x90, 0xb6, 0xc7, 0x3b, 0xb5, 0x0f,
                                0x9c, 0x31, 0x22, 0xec, 0x84, 0x4a, 0xd7, 0xc2, 0xb3, 0xe5};
  const char info[] = "\xf0\xf1\xf2\xf3\xf4\xf5\xf6\xf7\xf8\xf9";
  const std::uint8_t expected[32] = {0x3c, 0xb2, 0x5f, 0x25, 0xfa, 0xac, 0xd5, 0x7a, 0x90, 0x43, 0x4f,
                                     0x64, 0xd0, 0x36, 0x2f, 0x2a, 0x2d, 0x2d, 0x0a, 0x90, 0xcf, 0x1a,
                                     0x5a, 0x4c, 0x5d, 0xb0, 0x2d, 0x56, 0xec, 0xc4, 0xc5, 0xbf};
  std::uint8_t out[32];
  hkdf_expand_sha256(prk, std::string_view(info, 10), out);
  CHECK(std::memcmp(out, expected, 32) == 0);
}

TEST_CASE("Counter-mode blocks equal explicitly encrypted counter blocks", "[crypto]") {
  std::mt19937_64 rng(31);
  std::uint8_t raw[16];
  for (auto& b : raw) b = static_cast<std::uint8_t>(rng());
  aes128_key k;
  aes128_expand(raw, k);
  std::uint8_t prefix[12];
  for (auto& b : prefix) b = static_cast<std::uint8_t>(rng());
  for (std::size_t n : {1u, 8u, 31u, 32u, 33u, 100u, 1000u}) {
    const std::uint32_t word3 = 0x01000000u | static_cast<std::uint32_t>(rng() % 4096);
    std::vector<std::uint8_t> in(16 * n), expected(16 * n), got(16 * n);
    for (std::size_t i = 0; i < n; ++i) {
      std::memcpy(&in[16 * i], prefix, 12);
      const std::uint32_t w = word3 + static_cast<std::uint32_t>(i);
      for (int b = 0; b < 4; ++b) in[16 * i + 12 + static_cast<std::size_t>(b)] = static_cast<std::uint8_t>(w >> (8 * b));
    }
    aes128_encrypt_blocks_openssl(k, in.data(), expected.data(), n);
    aes128_counter_blocks(k, prefix, word3, n, got.data());
    INFO("n = " << n);
    CHECK(got == expected);
  }
}

TEST_CASE("Counter heads equal the first words of explicitly encrypted blocks", "[crypto]") {
  std::mt19937_64 rng(20261204);
  std::uint8_t raw[16];
  for (auto& b : raw) b = static_cast<std::uint8_t>(rng());
  aes128_key k;
  aes128_expand(raw, k);
  std::uint8_t base[16];
  for (auto& b : base) b = static_cast<std::uint8_t>(rng());
  for (std::size_t n : {1u, 31u, 32u, 33u, 100u, 1000u}) {
    for (unsigned words : {1u, 2u}) {
      for (bool with_word0 : {false, true}) {
        const auto word1 = static_cast<std::uint32_t>(rng() % 200000);
        std::vector<std::uint32_t> word0s(n);
        for (auto& w : word0s) w = static_cast<std::uint32_t>(rng());
        std::vector<std::uint8_t> in(16 * n), encrypted(16 * n);
        for (std::size_t i = 0; i < n; ++i) {
          std::memcpy(&in[16 * i], base, 16);
          const std::uint32_t w = word1 + static_cast<std::uint32_t>(i);
          for (int b = 0; b < 4; ++b) {
            in[16 * i + 4 + static_cast<std::size_t>(b)] = static_cast<std::uint8_t>(w >> (8 * b));
            if (with_word0) in[16 * i + static_cast<std::size_t>(b)] = static_cast<std::uint8_t>(word0s[i] >> (8 * b));
          }
        }
        aes128_encrypt_blocks_openssl(k, in.data(), encrypted.data(), n);
        std::vector<std::uint32_t> expected(words * n), got(words * n);
        for (std::size_t i = 0; i < n; ++i) {
          for (unsigned w = 0; w < words; ++w) {
            std::memcpy(&expected[words * i + w], &encrypted[16 * i + 4 * w], 4);  // little-endian host
          }
        }
        aes128_counter_heads(k, base, word1, with_word0 ? word0s.data() : nullptr, n, words, got.data());
        INFO("n = " << n << " words = " << words << " word0s " << with_word0);
        CHECK(got == expected);
        // In place, as the self-hash candidate lists use it.
        aes128_encrypt_blocks(k, in.data(), in.data(), n);
        CHECK(in == encrypted);
      }
    }
  }
}
