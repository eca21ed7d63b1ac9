// tritium/utf8.hpp — the one UTF-8 validity check (RFC 3629) shared by every reader of text and
// ids.
//
// Well-formed means: no stray continuation byte, no truncated sequence, no overlong encoding, no
// surrogate (U+D800..U+DFFF) and nothing above U+10FFFF.
#pragma once

#include <cstddef>
#include <string_view>

namespace tritium {

/// Checks UTF-8; returns the byte offset of the first invalid sequence, or npos when valid.
std::size_t find_invalid_utf8(std::string_view text) noexcept;

}  // namespace tritium
