// tritium/signing.hpp — Ed25519 keys that sign evidence reports, and the base64 the reports use.
//
// Report-signing keys are separate from watermark keys: a watermark key is a shared secret that
// decides green lists; a signing key attests who produced a report, and its public half can be
// handed to anyone who must check that report. Signatures are Ed25519 (RFC 8032) through libsodium;
// they are deterministic, so the same statement signed twice gives the same bytes.
//
// Files (JSON, documented in papers/evidence-v1.md):
//   signing key  {"type": "tritium-report-signing-key", "version": 1, "algorithm": "ed25519",
//                 "key_id": ..., "public_key": <base64>, "seed": <base64>}      mode 0600
//   public key   {"type": "tritium-report-public-key", "version": 1, "algorithm": "ed25519",
//                 "key_id": ..., "public_key": <base64>}
// The key id is "ed25519:" followed by the first 32 hex digits of SHA-256(public key).
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace tritium {

/// Standard base64 (RFC 4648 §4) with padding.
std::string base64_encode(std::string_view bytes);

/// Decodes standard padded base64; throws errc::parse naming `what` and the offending offset on any
/// other character, bad padding or trailing data.
std::string base64_decode(std::string_view text, const std::string& what);

/// The public half: checks signatures.
class report_public_key {
 public:
  static report_public_key from_bytes(const std::array<std::uint8_t, 32>& bytes);
  /// Throws errc::io (unreadable), errc::parse (layout) or errc::key_corrupt (key id mismatch).
  static report_public_key load(const std::filesystem::path& path);
  /// Writes the public-key file atomically; refuses to replace an existing file unless `overwrite`.
  void save(const std::filesystem::path& path, bool overwrite = false) const;

  const std::string& key_id() const noexcept { return key_id_; }
  const std::array<std::uint8_t, 32>& bytes() const noexcept { return bytes_; }

  /// True when `signature` (64 bytes) is a valid Ed25519 signature of `message` under this key.
  [[nodiscard]] bool verify(std::string_view message, std::string_view signature) const noexcept;

 private:
  std::array<std::uint8_t, 32> bytes_{};
  std::string key_id_;
};

/// The secret half: signs. Its seed is wiped on destruction and never printed.
class report_signing_key {
 public:
  /// A fresh key from libsodium's CSPRNG.
  static report_signing_key generate();
  /// Checks that the stored public key is the one the seed derives. Throws like report_public_key::load.
  static report_signing_key load(const std::filesystem::path& path);
  /// Writes the key with mode 0600 (created so before any secret byte is written), atomically.
  void save(const std::filesystem::path& path, bool overwrite = false) const;

  report_signing_key(const report_signing_key&) = delete;
  report_signing_key& operator=(const report_signing_key&) = delete;
  report_signing_key(report_signing_key&& other) noexcept;
  report_signing_key& operator=(report_signing_key&&) = delete;
  ~report_signing_key();

  const report_public_key& public_key() const noexcept { return public_; }
  const std::string& key_id() const noexcept { return public_.key_id(); }

  /// The 64-byte Ed25519 signature of `message`.
  std::string sign(std::string_view message) const;

 private:
  report_signing_key() = default;
  std::array<std::uint8_t, 64> secret_{};  // libsodium's seed ‖ public key
  report_public_key public_;
};

}  // namespace tritium
