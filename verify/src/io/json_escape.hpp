// The single-character escapes of JSON strings (RFC 8259 §7), shared by the hand-written JSON Lines
// readers.
#pragma once

namespace tritium {

/// The character `\e` stands for, or -1 when `e` is not a single-character escape (`u` included).
inline int json_simple_escape(char e) noexcept {
  switch (e) {
    case '"': return '"';
    case '\\': return '\\';
    case '/': return '/';
    case 'b': return '\b';
    case 'f': return '\f';
    case 'n': return '\n';
    case 'r': return '\r';
    case 't': return '\t';
    default: return -1;
  }
}

}  // namespace tritium
