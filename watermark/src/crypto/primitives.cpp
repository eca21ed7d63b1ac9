#include <sodium.h>

#include <cstring>
#include <mutex>

#include "crypto.hpp"
#include "tritium/error.hpp"

namespace tritium::detail {
namespace {

void ensure_sodium() {
  static const int status = sodium_init();
  if (status < 0) throw error(errc::internal, "libsodium initialisation failed");
}

}  // namespace

void hmac_sha256(std::span<const std::uint8_t> key, std::span<const std::uint8_t> message,
                 std::uint8_t out[32]) noexcept {
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, key.data(), key.size());
  crypto_auth_hmacsha256_update(&state, message.data(), message.size());
  crypto_auth_hmacsha256_final(&state, out);
  sodium_memzero(&state, sizeof state);
}

void hkdf_expand_sha256(std::span<const std::uint8_t> prk, std::string_view info,
                        std::span<std::uint8_t> out) noexcept {
  // One HKDF-Expand block: T(1) = HMAC(PRK, info || 0x01). Callers never ask for more than 32 bytes.
  // The info string is streamed into the MAC whole: binary info strings (an account id of up to
  // 1024 bytes, papers/trace-v1.md §2) must never be cut, or long ids with a common prefix would
  // share their key material.
  const std::uint8_t counter = 0x01;
  crypto_auth_hmacsha256_state state;
  crypto_auth_hmacsha256_init(&state, prk.data(), prk.size());
  crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(info.data()), info.size());
  crypto_auth_hmacsha256_update(&state, &counter, 1);
  std::uint8_t block[32];
  crypto_auth_hmacsha256_final(&state, block);
  sodium_memzero(&state, sizeof state);
  std::memcpy(out.data(), block, out.size() < 32 ? out.size() : 32);
  sodium_memzero(block, sizeof block);
}

struct hkdf_sha256_expander::state {
  crypto_auth_hmacsha256_state keyed;  // after the key pads: copied, never updated in place
};

hkdf_sha256_expander::hkdf_sha256_expander(std::span<const std::uint8_t> prk)
    : state_(std::make_unique<state>()) {
  crypto_auth_hmacsha256_init(&state_->keyed, prk.data(), prk.size());
}

hkdf_sha256_expander::~hkdf_sha256_expander() { sodium_memzero(state_.get(), sizeof(state)); }

void hkdf_sha256_expander::expand(std::span<const std::uint8_t> info,
                                  std::span<std::uint8_t> out) const noexcept {
  // T(1) = HMAC(PRK, info || 0x01), as hkdf_expand_sha256, from the precomputed pads.
  const std::uint8_t counter = 0x01;
  crypto_auth_hmacsha256_state s = state_->keyed;
  crypto_auth_hmacsha256_update(&s, info.data(), info.size());
  crypto_auth_hmacsha256_update(&s, &counter, 1);
  std::uint8_t block[32];
  crypto_auth_hmacsha256_final(&s, block);
  sodium_memzero(&s, sizeof s);
  std::memcpy(out.data(), block, out.size() < 32 ? out.size() : 32);
  sodium_memzero(block, sizeof block);
}

void sha256(std::span<const std::uint8_t> message, std::uint8_t out[32]) noexcept {
  crypto_hash_sha256(out, message.data(), message.size());
}

void siphash24_128(const std::uint8_t key[16], std::span<const std::uint8_t> message,
                   std::uint8_t out[16]) noexcept {
  crypto_shorthash_siphashx24(out, message.data(), message.size(), key);
}

void random_bytes(std::span<std::uint8_t> out) {
  ensure_sodium();
  randombytes_buf(out.data(), out.size());
}

std::uint64_t random_seed() {
  std::uint64_t seed = 0;
  random_bytes({reinterpret_cast<std::uint8_t*>(&seed), sizeof seed});
  return seed;
}

bool equal_constant_time(std::span<const std::uint8_t> a,
                         std::span<const std::uint8_t> b) noexcept {
  if (a.size() != b.size()) return false;
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

void secure_zero(void* p, std::size_t n) noexcept { sodium_memzero(p, n); }

}  // namespace tritium::detail
