// The bytes every JSON Lines reader of the command line accepts (README: "What the readers accept"),
// checked in one place before a line is parsed, by the fast readers and by the full JSON parser alike.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>

#include "tritium/error.hpp"
#include "tritium/tokenizer.hpp"

namespace tritium {

/// A UTF-8 byte order mark opening the first line is read as three spaces: accepted there only, and
/// byte offsets stay those of the file.
inline void blank_byte_order_mark(std::string& line, std::uint64_t line_number) noexcept {
  if (line_number == 1 && line.compare(0, 3, "\xEF\xBB\xBF") == 0) line.replace(0, 3, "   ");
}

/// Refuses (errc::parse, "where:byte: ...") what no JSON text holds and a JSON parser could pass
/// over: a NUL byte (nlohmann stops reading at one), a byte order mark opening any line but the first
/// of a file (nlohmann skips one), and invalid UTF-8.
inline void check_json_line_bytes(const std::string& line, const std::string& where) {
  if (const void* nul = std::memchr(line.data(), '\0', line.size()); nul != nullptr) {
    const auto at = static_cast<std::size_t>(static_cast<const char*>(nul) - line.data());
    throw error(errc::parse, where + ":" + std::to_string(at + 1) + ": a NUL byte (JSON text cannot hold one)");
  }
  if (line.compare(0, 3, "\xEF\xBB\xBF") == 0) {
    throw error(errc::parse, where + ":1: a byte order mark, which is accepted only at the start of the file");
  }
  if (const std::size_t bad = find_invalid_utf8(line); bad != std::string::npos) {
    throw error(errc::parse, where + ":" + std::to_string(bad + 1) + ": invalid UTF-8");
  }
}

}  // namespace tritium
