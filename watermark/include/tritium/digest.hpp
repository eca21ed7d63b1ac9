// tritium/digest.hpp — SHA-256 digests of files and buffers, as recorded in keys and reports.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

namespace tritium {

/// "sha256:<64 hex digits>" of `bytes`.
std::string sha256_digest(std::string_view bytes);

/// The 32 raw bytes of SHA-256(`bytes`).
std::array<std::uint8_t, 32> sha256_bytes(std::string_view bytes);

/// "sha256:<64 hex digits>" of a file's contents, read in chunks. Throws errc::io.
std::string sha256_file_digest(const std::filesystem::path& path);

/// SHA-256 of a byte stream given in pieces.
class sha256_stream {
 public:
  sha256_stream();
  ~sha256_stream();
  sha256_stream(const sha256_stream&) = delete;
  sha256_stream& operator=(const sha256_stream&) = delete;
  void update(std::string_view bytes);
  /// "sha256:<64 hex digits>" of everything given; the stream must not be used afterwards.
  std::string finish();

 private:
  struct state;
  std::unique_ptr<state> state_;
};

}  // namespace tritium
