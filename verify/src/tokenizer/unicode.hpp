// Internal: UTF-8 and Unicode helpers of the tokenizer (utf8proc for the Unicode data).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace tritium::detail {

/// Decodes one code point at `i` of valid UTF-8 and advances `i`.
char32_t next_code_point(std::string_view s, std::size_t& i) noexcept;

void append_utf8(std::string& out, char32_t c);

/// Length in bytes of the UTF-8 sequence that starts with byte `lead` (valid input assumed).
inline std::size_t utf8_length(unsigned char lead) noexcept {
  return lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
}

enum class unicode_form { nfc, nfd, nfkc, nfkd };
std::string normalize(std::string_view s, unicode_form form);
std::string lowercase(std::string_view s);

/// General category classes used by pre-tokenizers.
bool is_letter(char32_t c) noexcept;
bool is_number(char32_t c) noexcept;
bool is_mark(char32_t c) noexcept;
bool is_white_space(char32_t c) noexcept;  ///< the Unicode White_Space property
bool is_punctuation(char32_t c) noexcept;  ///< general category P*

/// True for a code point this build's Unicode tables do not know, or classify differently between
/// utf8proc and PCRE2 (unicode_gap.cpp); such text is refused rather than tokenized differently.
bool unknown_to_this_build(char32_t c) noexcept;

/// GPT-2's reversible map from bytes to printable code points ("bytes_to_unicode").
const std::array<char32_t, 256>& byte_to_code_point() noexcept;
/// The inverse: code point → byte, or -1 if the code point is not in the alphabet.
int code_point_to_byte(char32_t c) noexcept;

}  // namespace tritium::detail
