// tritium/fingerprint_keys.hpp — the keyed part of a model fingerprint set, version
// "tritium-fingerprint-v1".
//
// From one watermark key, k_fp = HKDF-Expand-SHA256(secret, "tritium/v1/fingerprint", 32); the
// AES-128 key is k_fp[0..16) and the counter prefix k_fp[16..28) (papers/fingerprint-v1.md §2).
// The set itself (word draws, questions, digest, answers) is built in tritium::verify
// (tritium/fingerprint.hpp); fixtures/kat/fingerprint_v1.json pins every byte.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

namespace tritium {

class key;

namespace fingerprint_keys_v1 {
/// HKDF-Expand info of k_fp under the key's secret (the ASCII label, no terminator).
inline constexpr std::string_view key_label = "tritium/v1/fingerprint";
inline constexpr std::size_t block_size = 16;
}  // namespace fingerprint_keys_v1

/// The AES-CTR key stream of a fingerprint set. Immutable after construction, safe to share
/// between threads; the subkeys are zeroised on destruction.
class fingerprint_keystream {
 public:
  /// Derives k_fp from `k` (the secret itself is not kept).
  explicit fingerprint_keystream(const key& k);
  ~fingerprint_keystream();
  fingerprint_keystream(const fingerprint_keystream&) = delete;
  fingerprint_keystream& operator=(const fingerprint_keystream&) = delete;

  /// Block j of the key stream: AES-128(k_fp[0..16), k_fp[16..28) || LE32(j)).
  std::array<std::uint8_t, fingerprint_keys_v1::block_size> block(std::uint32_t j) const noexcept;

 private:
  struct subkeys;
  std::unique_ptr<subkeys> keys_;
};

}  // namespace tritium
