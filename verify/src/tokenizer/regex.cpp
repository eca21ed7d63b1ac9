#define PCRE2_CODE_UNIT_WIDTH 8
#include "regex.hpp"

#include <pcre2.h>

#include "tritium/error.hpp"

namespace tritium::detail {

namespace {

// The White_Space property (Unicode PropList.txt), which is what \s means in the Rust regex engines
// behind tiktoken and tokenizers. PCRE2's \s differs on U+0085 and U+180E, so patterns are rewritten
// to use this class before compiling.
constexpr const char* white_space_items =
    "\\t-\\r \\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}";

std::string with_unicode_white_space(const std::string& pattern) {
  std::string out;
  bool in_class = false;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    if (c == '\\' && i + 1 < pattern.size()) {
      const char n = pattern[i + 1];
      if (n == 's') {
        out += in_class ? std::string(white_space_items) : "[" + std::string(white_space_items) + "]";
      } else if (n == 'S' && !in_class) {
        out += "[^" + std::string(white_space_items) + "]";
      } else {
        out += c;
        out += n;
      }
      ++i;
      continue;
    }
    if (c == '[' && !in_class) {
      in_class = true;
      out += c;
      // A ']' or '^]' right after '[' is a literal.
      if (i + 1 < pattern.size() && pattern[i + 1] == '^') out += pattern[++i];
      if (i + 1 < pattern.size() && pattern[i + 1] == ']') out += pattern[++i];
      continue;
    }
    if (c == ']' && in_class) in_class = false;
    out += c;
  }
  return out;
}

}  // namespace

struct regex::compiled {
  pcre2_code* code = nullptr;
  bool jit = false;
  ~compiled() { pcre2_code_free(code); }
};

regex::regex(const std::string& pattern, const std::string& where)
    : c_(std::make_unique<compiled>()), pattern_(pattern), where_(where) {
  int code = 0;
  PCRE2_SIZE offset = 0;
  // UTF with Unicode properties for \d, \s, \w and POSIX classes, as in the Rust engines; the input is
  // validated once by the tokenizer, so PCRE2 need not check it again.
  const std::string rewritten = with_unicode_white_space(pattern);
  c_->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(rewritten.data()), rewritten.size(),
                           PCRE2_UTF | PCRE2_UCP | PCRE2_NO_UTF_CHECK, &code, &offset, nullptr);
  if (c_->code == nullptr) {
    PCRE2_UCHAR message[256];
    pcre2_get_error_message(code, message, sizeof message);
    throw error(errc::invalid_argument, where + ": cannot compile the regex at offset " +
                                            std::to_string(offset) + ": " +
                                            reinterpret_cast<const char*>(message));
  }
  c_->jit = pcre2_jit_compile(c_->code, PCRE2_JIT_COMPLETE) == 0;
  family_ = fast_family_of(pattern);
  // The tokenizers library keeps empty matches as split points; tritium does not implement that, so
  // such patterns are refused rather than splitting differently.
  pcre2_match_data* probe = pcre2_match_data_create(1, nullptr);
  const int rc = pcre2_match(c_->code, reinterpret_cast<PCRE2_SPTR>(""), 0, 0, 0, probe, nullptr);
  pcre2_match_data_free(probe);
  if (rc >= 0) {
    throw error(errc::invalid_argument, where + ": unsupported regex: it can match the empty string");
  }
}

regex::regex(regex&&) noexcept = default;
regex::~regex() = default;

bool regex::match_pcre2(std::string_view text, std::size_t start, std::size_t& begin,
                        std::size_t& end) const {
  struct match_data_deleter {
    void operator()(pcre2_match_data* m) const { pcre2_match_data_free(m); }
  };
  thread_local std::unique_ptr<pcre2_match_data, match_data_deleter> data(
      pcre2_match_data_create(16, nullptr));
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  const int rc = c_->jit ? pcre2_jit_match(c_->code, subject, text.size(), start, 0, data.get(), nullptr)
                         : pcre2_match(c_->code, subject, text.size(), start, PCRE2_NO_UTF_CHECK,
                                       data.get(), nullptr);
  if (rc == PCRE2_ERROR_NOMATCH) return false;
  if (rc < 0) {
    PCRE2_UCHAR message[256];
    pcre2_get_error_message(rc, message, sizeof message);
    const std::string reason = reinterpret_cast<const char*>(message);
    if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT || rc == PCRE2_ERROR_HEAPLIMIT ||
        rc == PCRE2_ERROR_JIT_STACKLIMIT) {
      // Catastrophic backtracking: a property of the tokenizer's pattern, which any text may trigger.
      throw error(errc::invalid_argument, where_ + ": the regex " + quoted_for_message(pattern_) +
                                              " exceeds PCRE2's limits on the text from byte " +
                                              std::to_string(start) + " (" + reason +
                                              "): the tokenizer's pattern backtracks too much");
    }
    throw error(errc::internal, where_ + ": matching the regex " + quoted_for_message(pattern_) + " failed: " + reason);
  }
  const PCRE2_SIZE* v = pcre2_get_ovector_pointer(data.get());
  begin = v[0];
  end = v[1];
  return true;
}

void regex::find_all_pcre2(std::string_view text, std::vector<std::pair<std::size_t, std::size_t>>& out) const {
  for_each_match(text, false, [&](std::size_t b, std::size_t e) { out.emplace_back(b, e); });
}

void regex::find_all(std::string_view text, std::vector<std::pair<std::size_t, std::size_t>>& out) const {
  // Every position starts a match of the fast-path patterns, so the match PCRE2 would find from a
  // position is the one at it; the ASCII matcher gives it directly, PCRE2 answers where it cannot.
  for_each_match(text, [&](std::size_t b, std::size_t e) { out.emplace_back(b, e); });
}

}  // namespace tritium::detail
