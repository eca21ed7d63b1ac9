// Internal: the regular expressions of tokenizer.json (Split pre-tokenizers, Replace normalizers),
// compiled by PCRE2 with UTF and Unicode properties and JIT-compiled when the platform allows.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tritium::detail {

class regex {
 public:
  /// Compiles `pattern`; throws errc::invalid_argument naming `where` and PCRE2's message.
  regex(const std::string& pattern, const std::string& where);
  regex(regex&&) noexcept;
  ~regex();

  /// Appends the [begin, end) byte ranges of all non-overlapping matches, left to right (empty
  /// matches advance by one character, as Rust and Oniguruma iterate).
  void find_all(std::string_view text, std::vector<std::pair<std::size_t, std::size_t>>& out) const;

  const std::string& pattern() const noexcept { return pattern_; }

 private:
  struct compiled;
  std::unique_ptr<compiled> c_;
  std::string pattern_;
};

}  // namespace tritium::detail
