// The keyed part of tritium-fingerprint-v1 (papers/fingerprint-v1.md §2).
#include "tritium/fingerprint_keys.hpp"

#include <algorithm>

#include "crypto/crypto.hpp"
#include "tritium/key.hpp"

namespace tritium {

struct fingerprint_keystream::subkeys {
  detail::aes128_key aes;
  std::uint8_t prefix[12];
};

fingerprint_keystream::fingerprint_keystream(const key& k) : keys_(std::make_unique<subkeys>()) {
  std::array<std::uint8_t, 32> k_fp{};
  detail::hkdf_expand_sha256(k.secret_bytes(), fingerprint_keys_v1::key_label, k_fp);
  detail::aes128_expand(k_fp.data(), keys_->aes);
  std::copy(k_fp.begin() + 16, k_fp.begin() + 28, keys_->prefix);
  detail::secure_zero(k_fp.data(), k_fp.size());
}

fingerprint_keystream::~fingerprint_keystream() { detail::secure_zero(keys_.get(), sizeof(subkeys)); }

std::array<std::uint8_t, fingerprint_keys_v1::block_size> fingerprint_keystream::block(
    std::uint32_t j) const noexcept {
  std::array<std::uint8_t, fingerprint_keys_v1::block_size> out{};
  detail::aes128_counter_blocks(keys_->aes, keys_->prefix, j, 1, out.data());
  return out;
}

}  // namespace tritium
