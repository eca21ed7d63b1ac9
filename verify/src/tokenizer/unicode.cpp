#include "unicode.hpp"

#include <utf8proc.h>

#include <cstdlib>
#include <memory>
#include <vector>

#include "tritium/error.hpp"
#include "tritium/tokenizer.hpp"

namespace tritium {

std::string replace_invalid_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  std::size_t i = 0;
  while (i < s.size()) {
    const std::size_t bad = find_invalid_utf8(s.substr(i));
    if (bad == std::string_view::npos) {
      out.append(s.substr(i));
      break;
    }
    out.append(s.substr(i, bad));
    i += bad;
    // A maximal subpart (Unicode §3.9, "U+FFFD substitution of maximal subparts"): the longest prefix
    // of a well-formed sequence, or one byte.
    const unsigned char c = p[i];
    std::size_t take = 1;
    unsigned char lo = 0x80, hi = 0xBF;
    std::size_t need = 0;
    if (c >= 0xC2 && c <= 0xDF) need = 1;
    else if (c == 0xE0) need = 2, lo = 0xA0;
    else if (c >= 0xE1 && c <= 0xEC) need = 2;
    else if (c == 0xED) need = 2, hi = 0x9F;
    else if (c >= 0xEE && c <= 0xEF) need = 2;
    else if (c == 0xF0) need = 3, lo = 0x90;
    else if (c >= 0xF1 && c <= 0xF3) need = 3;
    else if (c == 0xF4) need = 3, hi = 0x8F;
    for (std::size_t k = 1; k <= need && i + k < s.size(); ++k) {
      const unsigned char b = p[i + k];
      const unsigned char l = k == 1 ? lo : 0x80;
      const unsigned char h = k == 1 ? hi : 0xBF;
      if (b < l || b > h) break;
      take = k + 1;
    }
    out.append("\xEF\xBF\xBD");
    i += take;
  }
  return out;
}

namespace detail {

char32_t next_code_point(std::string_view s, std::size_t& i) noexcept {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const unsigned char c = p[i];
  if (c < 0x80) {
    ++i;
    return c;
  }
  if (c < 0xE0) {
    const char32_t cp = static_cast<char32_t>((c & 0x1F) << 6 | (p[i + 1] & 0x3F));
    i += 2;
    return cp;
  }
  if (c < 0xF0) {
    const char32_t cp = static_cast<char32_t>((c & 0x0F) << 12 | (p[i + 1] & 0x3F) << 6 | (p[i + 2] & 0x3F));
    i += 3;
    return cp;
  }
  const char32_t cp = static_cast<char32_t>((c & 0x07) << 18 | (p[i + 1] & 0x3F) << 12 |
                                            (p[i + 2] & 0x3F) << 6 | (p[i + 3] & 0x3F));
  i += 4;
  return cp;
}

void append_utf8(std::string& out, char32_t c) {
  if (c < 0x80) {
    out += static_cast<char>(c);
  } else if (c < 0x800) {
    out += static_cast<char>(0xC0 | (c >> 6));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else if (c < 0x10000) {
    out += static_cast<char>(0xE0 | (c >> 12));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (c >> 18));
    out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  }
}

namespace {

std::string normalize_all(std::string_view s, unicode_form form) {
  int options = UTF8PROC_STABLE;
  switch (form) {
    case unicode_form::nfc: options |= UTF8PROC_COMPOSE; break;
    case unicode_form::nfd: options |= UTF8PROC_DECOMPOSE; break;
    case unicode_form::nfkc: options |= UTF8PROC_COMPOSE | UTF8PROC_COMPAT; break;
    case unicode_form::nfkd: options |= UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT; break;
  }
  utf8proc_uint8_t* result = nullptr;
  const utf8proc_ssize_t n =
      utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(s.data()), static_cast<utf8proc_ssize_t>(s.size()),
                   &result, static_cast<utf8proc_option_t>(options));
  if (n < 0) {
    throw error(errc::parse, std::string("Unicode normalization failed: ") + utf8proc_errmsg(n));
  }
  std::unique_ptr<utf8proc_uint8_t, decltype(&std::free)> owned(result, &std::free);
  return std::string(reinterpret_cast<const char*>(result), static_cast<std::size_t>(n));
}

}  // namespace

std::string normalize(std::string_view s, unicode_form form) {
  // ASCII is invariant under all four forms, and no canonical or compatibility composition has an
  // ASCII character as its second element. So the text can be cut between two consecutive ASCII
  // characters without changing the result: runs of ASCII are copied, and only the stretches around
  // non-ASCII characters go through utf8proc.
  std::string out;
  out.reserve(s.size());
  std::size_t i = 0;
  while (i < s.size()) {
    std::size_t j = i;
    while (j < s.size() && static_cast<unsigned char>(s[j]) < 0x80) ++j;
    if (j == s.size()) {
      out.append(s.substr(i));
      break;
    }
    // s[j] is the first non-ASCII byte. Keep the ASCII character before it with the segment (it may
    // compose with a following mark), and end the segment before the next pair of ASCII characters.
    const std::size_t start = j > i ? j - 1 : j;
    out.append(s.substr(i, start - i));
    std::size_t end = j;
    while (end < s.size()) {
      if (static_cast<unsigned char>(s[end]) < 0x80 &&
          (end + 1 == s.size() || static_cast<unsigned char>(s[end + 1]) < 0x80)) {
        break;
      }
      ++end;
    }
    out += normalize_all(s.substr(start, end - start), form);
    i = end;
  }
  return out;
}

std::string lowercase(std::string_view s) {
  // Full lowercase mapping as Rust's str::to_lowercase (used by the tokenizers library): simple
  // mappings from utf8proc, plus the two conditional/multi-character cases of SpecialCasing.txt that
  // apply without a locale: U+0130 → "i̇", and a word-final capital sigma → U+03C2.
  std::string out;
  out.reserve(s.size());
  std::vector<char32_t> cps;
  for (std::size_t i = 0; i < s.size();) cps.push_back(next_code_point(s, i));
  for (std::size_t k = 0; k < cps.size(); ++k) {
    const char32_t c = cps[k];
    if (c == 0x130) {
      append_utf8(out, 0x69);
      append_utf8(out, 0x307);
    } else if (c == 0x3A3) {
      const bool after_letter = k > 0 && is_letter(cps[k - 1]);
      const bool before_letter = k + 1 < cps.size() && is_letter(cps[k + 1]);
      append_utf8(out, after_letter && !before_letter ? 0x3C2 : 0x3C3);
    } else {
      append_utf8(out, static_cast<char32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(c))));
    }
  }
  return out;
}

namespace {

utf8proc_category_t category(char32_t c) noexcept {
  return utf8proc_category(static_cast<utf8proc_int32_t>(c));
}

}  // namespace

bool is_letter(char32_t c) noexcept {
  if (c < 0x80) return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
  const auto k = category(c);
  return k >= UTF8PROC_CATEGORY_LU && k <= UTF8PROC_CATEGORY_LO;
}

bool is_number(char32_t c) noexcept {
  if (c < 0x80) return c >= '0' && c <= '9';
  const auto k = category(c);
  return k >= UTF8PROC_CATEGORY_ND && k <= UTF8PROC_CATEGORY_NO;
}

bool is_mark(char32_t c) noexcept {
  const auto k = category(c);
  return k >= UTF8PROC_CATEGORY_MN && k <= UTF8PROC_CATEGORY_ME;
}

bool is_punctuation(char32_t c) noexcept {
  const auto k = category(c);
  return k >= UTF8PROC_CATEGORY_PC && k <= UTF8PROC_CATEGORY_PO;
}

bool is_white_space(char32_t c) noexcept {
  // The White_Space property of PropList.txt (Unicode 15), which is what \s means in Rust's regex.
  switch (c) {
    case 0x09: case 0x0A: case 0x0B: case 0x0C: case 0x0D: case 0x20: case 0x85: case 0xA0:
    case 0x1680: case 0x2028: case 0x2029: case 0x202F: case 0x205F: case 0x3000:
      return true;
    default:
      return c >= 0x2000 && c <= 0x200A;
  }
}

const std::array<char32_t, 256>& byte_to_code_point() noexcept {
  // GPT-2's alphabet (Radford et al. 2019, encoder.py): printable Latin-1 bytes map to themselves,
  // the other 68 bytes to U+0100 onwards, in byte order.
  static const std::array<char32_t, 256> table = [] {
    std::array<char32_t, 256> t{};
    char32_t next = 256;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      t[static_cast<std::size_t>(b)] = printable ? static_cast<char32_t>(b) : next++;
    }
    return t;
  }();
  return table;
}

int code_point_to_byte(char32_t c) noexcept {
  static const auto inverse = [] {
    std::array<int, 324> t{};
    t.fill(-1);
    const auto& forward = byte_to_code_point();
    for (int b = 0; b < 256; ++b) t[forward[static_cast<std::size_t>(b)]] = b;
    return t;
  }();
  return c < inverse.size() ? inverse[c] : -1;
}

}  // namespace detail
}  // namespace tritium
