// Internal: every call into OpenSSL and libsodium goes through this header, so that the rest of the
// library sees standard types only and the cryptographic surface can be audited in one folder.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "tritium/private_file.hpp"

namespace tritium::detail {

/// AES-128 round keys (FIPS-197), expanded once per scheme and shared read-only across threads.
struct aes128_key {
  alignas(16) std::uint8_t round_keys[176];
  std::uint8_t raw[16];
};

void aes128_expand(const std::uint8_t key[16], aes128_key& out) noexcept;

/// ECB-encrypts `n` independent 16-byte blocks. Uses AES-NI when the CPU has it, otherwise OpenSSL.
void aes128_encrypt_blocks(const aes128_key& key, const std::uint8_t* in, std::uint8_t* out,
                           std::size_t n) noexcept;

/// Counter-mode blocks: block i is AES(prefix[0..12) || LE32(word3 + i)), i < n. The caller keeps
/// word3 + n from carrying into bits it does not own.
void aes128_counter_blocks(const aes128_key& key, const std::uint8_t prefix[12], std::uint32_t word3,
                           std::size_t n, std::uint8_t* out) noexcept;

/// The first words of blocks that vary in words 0 and 1 only (the self-hash rows of papers/prf-v1.md
/// §4): block i is `base` with word 1 (bytes 4..7, little-endian) set to word1 + i and, when `word0s`
/// is not null, word 0 set to word0s[i]; out[words·i + w] = word w of AES(block i), for w < words ∈
/// {1, 2}. The caller keeps word1 + n below 2^32.
void aes128_counter_heads(const aes128_key& key, const std::uint8_t base[16], std::uint32_t word1,
                          const std::uint32_t* word0s, std::size_t n, unsigned words,
                          std::uint32_t* out) noexcept;

/// A self-hash lane row in one pass (papers/prf-v1.md §4). For candidates v = v0 + i, i < n: the anchor
/// is the token t of `tokens[0..distinct)` whose rank block (`rank_base` with word 0 = t and word 1 =
/// v) encrypts to the smallest first 8 bytes read little-endian, the earlier token on ties; lanes[i] =
/// word 0 of the encrypted lane block (`lane_base` with word 0 = the anchor and word 1 = v) & `mask`
/// (at most 0xffff). Handles a multiple of 32 leading candidates and returns how many (0 without
/// VAES): the caller does the rest.
std::size_t aes128_selfhash_row(const aes128_key& key, const std::uint8_t rank_base[16],
                                const std::uint8_t lane_base[16], const std::uint32_t* tokens,
                                std::size_t distinct, std::uint32_t v0, std::size_t n,
                                std::uint32_t mask, std::uint16_t* lanes) noexcept;

/// The same through OpenSSL's EVP interface only: the reference the AES-NI path is tested against.
void aes128_encrypt_blocks_openssl(const aes128_key& key, const std::uint8_t* in,
                                   std::uint8_t* out, std::size_t n);

bool aes128_has_hardware() noexcept;

/// HMAC-SHA256 (RFC 2104) via libsodium.
void hmac_sha256(std::span<const std::uint8_t> key, std::span<const std::uint8_t> message,
                 std::uint8_t out[32]) noexcept;

/// HKDF-Expand (RFC 5869 §2.3) with SHA-256, for output lengths up to 32 bytes (one block).
void hkdf_expand_sha256(std::span<const std::uint8_t> prk, std::string_view info,
                        std::span<std::uint8_t> out) noexcept;

/// HKDF-Expand-SHA256 of many info strings under one PRK, with the HMAC key pads hashed once
/// (ranking a registry derives one account field per account). Same output as hkdf_expand_sha256.
class hkdf_sha256_expander {
 public:
  explicit hkdf_sha256_expander(std::span<const std::uint8_t> prk);
  ~hkdf_sha256_expander();
  hkdf_sha256_expander(const hkdf_sha256_expander&) = delete;
  hkdf_sha256_expander& operator=(const hkdf_sha256_expander&) = delete;

  /// Up to 32 bytes of output; safe to call from several threads at once.
  void expand(std::span<const std::uint8_t> info, std::span<std::uint8_t> out) const noexcept;

 private:
  struct state;
  std::unique_ptr<state> state_;
};

void sha256(std::span<const std::uint8_t> message, std::uint8_t out[32]) noexcept;

/// SipHash-2-4 with a 128-bit output (libsodium crypto_shorthash_siphashx24).
void siphash24_128(const std::uint8_t key[16], std::span<const std::uint8_t> message,
                   std::uint8_t out[16]) noexcept;

/// Bytes from libsodium's CSPRNG.
void random_bytes(std::span<std::uint8_t> out);

/// A 64-bit seed from libsodium's CSPRNG.
std::uint64_t random_seed();

}  // namespace tritium::detail
