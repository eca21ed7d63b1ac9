// Internal: writes a file that holds a secret. The file is created with mode 0600 (by mkstemp)
// before any byte is written, synced, then linked into place (never replacing an existing file
// unless asked), so a reader sees the complete file or none.
#pragma once

#include <filesystem>
#include <string_view>

namespace tritium::detail {

/// Throws errc::io naming `what` and the path; "refusing to overwrite the existing <what> <path>"
/// when the target exists and `overwrite` is false.
void write_private_file(const std::filesystem::path& path, std::string_view text, bool overwrite,
                        const char* what);

}  // namespace tritium::detail
