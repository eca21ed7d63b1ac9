// Texts the tokenizer targets encode with a tokenizer built from fuzzed bytes: ASCII prose, digits,
// whitespace runs, accents, CJK, an emoji, a bidirectional control and an invalid byte (both policies).
#pragma once

#include <string_view>
#include <vector>

#include "fuzz_support.hpp"
#include "tritium/tokenizer.hpp"

namespace tritium::fuzz {

inline void exercise(const tritium::tokenizer& tok) {
  static constexpr std::string_view texts[] = {
      "Hello, world! It's 2026: 12345 tokens.", "  \t\n\n  spaces   and\r\nnewlines ",
      "h\xc3\xa9llo \xe4\xb8\xad\xe6\x96\x87 \xf0\x9f\x98\x80 \xe2\x80\xaeRTL", "bad \xff byte"};
  for (const invalid_utf8 policy : {invalid_utf8::error, invalid_utf8::replace}) {
    tritium::tokenizer::session session(tok, policy);
    for (const std::string_view text : texts) {
      std::vector<token_id> ids;
      expect_clean([&] {
        session.encode(text, ids);
        (void)tok.decode(ids);
      });
    }
  }
}

}  // namespace tritium::fuzz
