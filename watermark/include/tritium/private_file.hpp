// tritium/private_file.hpp — handling secrets: the files that hold them, their comparison, their
// erasure. Shared by watermark keys and report-signing keys (tritium/evidence/signing.hpp).
//
// write_private_file writes a file that holds a secret. The file is created with mode 0600 (by mkstemp)
// before any byte is written, synced, then linked into place (never replacing an existing file
// unless asked), so a reader sees the complete file or none.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string_view>

namespace tritium::detail {

/// Throws errc::io naming `what` and the path; "refusing to overwrite the existing <what> <path>"
/// when the target exists and `overwrite` is false.
void write_private_file(const std::filesystem::path& path, std::string_view text, bool overwrite,
                        const char* what);

/// Constant-time comparison of two equal-length buffers.
bool equal_constant_time(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b) noexcept;

/// Zeroes memory in a way the compiler may not elide.
void secure_zero(void* p, std::size_t n) noexcept;

}  // namespace tritium::detail
