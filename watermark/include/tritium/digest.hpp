// tritium/digest.hpp — SHA-256 digests of files and buffers, as recorded in keys and reports.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace tritium {

/// "sha256:<64 hex digits>" of `bytes`.
std::string sha256_digest(std::string_view bytes);

/// "sha256:<64 hex digits>" of a file's contents, read in chunks. Throws errc::io.
std::string sha256_file_digest(const std::filesystem::path& path);

}  // namespace tritium
