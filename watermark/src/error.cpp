#include "tritium/error.hpp"

namespace tritium {

const char* errc_name(errc code) noexcept {
  switch (code) {
    case errc::invalid_argument: return "invalid_argument";
    case errc::io: return "io";
    case errc::parse: return "parse";
    case errc::key_corrupt: return "key_corrupt";
    case errc::mismatch: return "mismatch";
    case errc::out_of_range: return "out_of_range";
    case errc::internal: return "internal";
    case errc::no_memory: return "no_memory";
    case errc::verification_failed: return "verification_failed";
    case errc::usage: return "usage";
  }
  return "unknown";
}

namespace {

// Appends the escaped form of `text` to `out` (without the surrounding quotes); returns whether any
// character other than a quote or a backslash needed escaping.
bool escape_for_message(std::string_view text, std::string* out) {
  static const char hex[] = "0123456789abcdef";
  bool controls = false;
  auto unit = [&](unsigned u) {
    if (out != nullptr) {
      *out += "\\u";
      for (int shift = 12; shift >= 0; shift -= 4) *out += hex[(u >> shift) & 15];
    }
  };
  std::size_t i = 0;
  while (i < text.size()) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      if (c == '"' || c == '\\') {
        if (out != nullptr) {
          *out += '\\';
          *out += static_cast<char>(c);
        }
      } else if (c < 0x20 || c == 0x7f) {
        controls = true;
        unit(c);
      } else if (out != nullptr) {
        *out += static_cast<char>(c);
      }
      ++i;
      continue;
    }
    // A well-formed UTF-8 sequence (RFC 3629), or U+FFFD for the offending byte.
    const std::size_t n = (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    unsigned cp = n == 2 ? (c & 0x1Fu) : n == 3 ? (c & 0x0Fu) : (c & 0x07u);
    bool ok = n != 0 && i + n <= text.size();
    for (std::size_t k = 1; ok && k < n; ++k) {
      const auto b = static_cast<unsigned char>(text[i + k]);
      ok = (b & 0xC0) == 0x80;
      cp = (cp << 6) | (b & 0x3Fu);
    }
    ok = ok && cp >= (n == 2 ? 0x80u : n == 3 ? 0x800u : 0x10000u) && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF);
    if (!ok) {
      controls = true;
      unit(0xFFFD);
      ++i;
      continue;
    }
    const bool c1 = cp >= 0x80 && cp <= 0x9F;
    const bool bidi = (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0x200E ||
                      cp == 0x200F || cp == 0x061C;
    if (c1 || bidi) {
      controls = true;
      unit(cp);
    } else if (out != nullptr) {
      out->append(text.substr(i, n));
    }
    i += n;
  }
  return controls;
}

}  // namespace

std::string quoted_for_message(std::string_view text) {
  std::string out = "\"";
  escape_for_message(text, &out);
  out += '"';
  return out;
}

bool has_control_characters(std::string_view text) { return escape_for_message(text, nullptr); }

}  // namespace tritium
