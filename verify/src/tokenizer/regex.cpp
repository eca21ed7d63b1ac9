#define PCRE2_CODE_UNIT_WIDTH 8
#include "regex.hpp"

#include <pcre2.h>

#include "tritium/error.hpp"

namespace tritium::detail {

struct regex::compiled {
  pcre2_code* code = nullptr;
  bool jit = false;
  ~compiled() { pcre2_code_free(code); }
};

regex::regex(const std::string& pattern, const std::string& where)
    : c_(std::make_unique<compiled>()), pattern_(pattern) {
  int code = 0;
  PCRE2_SIZE offset = 0;
  // UTF with Unicode properties for \d, \s, \w and POSIX classes, as in the Rust engines; the input is
  // validated once by the tokenizer, so PCRE2 need not check it again.
  c_->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                           PCRE2_UTF | PCRE2_UCP | PCRE2_NO_UTF_CHECK, &code, &offset, nullptr);
  if (c_->code == nullptr) {
    PCRE2_UCHAR message[256];
    pcre2_get_error_message(code, message, sizeof message);
    throw error(errc::invalid_argument, where + ": cannot compile the regex at offset " +
                                            std::to_string(offset) + ": " +
                                            reinterpret_cast<const char*>(message));
  }
  c_->jit = pcre2_jit_compile(c_->code, PCRE2_JIT_COMPLETE) == 0;
}

regex::regex(regex&&) noexcept = default;
regex::~regex() = default;

void regex::find_all(std::string_view text, std::vector<std::pair<std::size_t, std::size_t>>& out) const {
  struct match_data_deleter {
    void operator()(pcre2_match_data* m) const { pcre2_match_data_free(m); }
  };
  thread_local std::unique_ptr<pcre2_match_data, match_data_deleter> data(
      pcre2_match_data_create(16, nullptr));
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  std::size_t start = 0;
  while (start <= text.size()) {
    const int rc = c_->jit ? pcre2_jit_match(c_->code, subject, text.size(), start, 0, data.get(), nullptr)
                           : pcre2_match(c_->code, subject, text.size(), start, PCRE2_NO_UTF_CHECK,
                                         data.get(), nullptr);
    if (rc == PCRE2_ERROR_NOMATCH) break;
    if (rc < 0) {
      PCRE2_UCHAR message[256];
      pcre2_get_error_message(rc, message, sizeof message);
      throw error(errc::internal, "regex match failed: " + std::string(reinterpret_cast<const char*>(message)));
    }
    const PCRE2_SIZE* v = pcre2_get_ovector_pointer(data.get());
    const std::size_t b = v[0];
    const std::size_t e = v[1];
    if (e > b) {
      out.emplace_back(b, e);
      start = e;
    } else {
      // Skip an empty match by one whole character.
      if (b >= text.size()) break;
      std::size_t step = 1;
      while (b + step < text.size() && (static_cast<unsigned char>(text[b + step]) & 0xC0) == 0x80) ++step;
      start = b + step;
    }
  }
}

}  // namespace tritium::detail
