// Code points this build cannot classify as the reference tokenizers would. Pre-tokenizer regexes
// split on Unicode categories, and the libraries here know a fixed Unicode version (utf8proc 2.8:
// Unicode 15; PCRE2 10.42: Unicode 14), older than the one tiktoken or the tokenizers library may use.
// A character unassigned in utf8proc's tables, or one whose letter/mark/number/separator class PCRE2
// sees differently, could split differently: tritium refuses such text instead of guessing.
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <utf8proc.h>

#include <bitset>
#include <memory>

#include "unicode.hpp"

namespace tritium::detail {
namespace {

constexpr char32_t table_end = 0x40000;  // planes 0–3; plane 14 is handled apart

int utf8proc_class(char32_t c) {
  const auto k = utf8proc_category(static_cast<utf8proc_int32_t>(c));
  if (k == UTF8PROC_CATEGORY_CN) return -1;
  if (k >= UTF8PROC_CATEGORY_LU && k <= UTF8PROC_CATEGORY_LO) return 1;
  if (k >= UTF8PROC_CATEGORY_MN && k <= UTF8PROC_CATEGORY_ME) return 2;
  if (k >= UTF8PROC_CATEGORY_ND && k <= UTF8PROC_CATEGORY_NO) return 3;
  if (k >= UTF8PROC_CATEGORY_ZS && k <= UTF8PROC_CATEGORY_ZP) return 4;
  return 0;
}

std::unique_ptr<std::bitset<table_end>> build() {
  auto unknown = std::make_unique<std::bitset<table_end>>();
  int code = 0;
  PCRE2_SIZE offset = 0;
  pcre2_code* re = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(R"(^(?:(\p{L})|(\p{M})|(\p{N})|(\p{Z})|(\p{Cn}))$)"),
                                 PCRE2_ZERO_TERMINATED, PCRE2_UTF, &code, &offset, nullptr);
  pcre2_match_data* data = pcre2_match_data_create(8, nullptr);
  if (re != nullptr) pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
  std::string buffer;
  for (char32_t c = 0x80; c < table_end; ++c) {
    if (c >= 0xD800 && c <= 0xDFFF) continue;
    const int ours = utf8proc_class(c);
    int theirs = 0;
    if (re != nullptr) {
      buffer.clear();
      append_utf8(buffer, c);
      const int rc = pcre2_match(re, reinterpret_cast<PCRE2_SPTR>(buffer.data()), buffer.size(), 0, 0, data, nullptr);
      if (rc > 1) theirs = rc - 1 == 5 ? -1 : rc - 1;  // the number of the group that matched
    }
    if (ours == -1 || theirs == -1 || ours != theirs) unknown->set(c);
  }
  pcre2_match_data_free(data);
  pcre2_code_free(re);
  return unknown;
}

}  // namespace

bool unknown_to_this_build(char32_t c) noexcept {
  if (c < 0x80) return false;
  if (c < table_end) {
    static const std::unique_ptr<std::bitset<table_end>> table = build();
    return table->test(c);
  }
  if (c >= 0xE0000 && c < 0xF0000) return utf8proc_class(c) == -1;  // tags and variation selectors
  return c < 0xF0000;  // planes 4–13 hold no assigned characters; 15–16 are private use
}

}  // namespace tritium::detail
