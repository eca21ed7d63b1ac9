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

  /// Calls f(begin, end) for each match, as find_all would list them, without building a list.
  template <class F>
  void for_each_match(std::string_view text, F&& f) const;

  /// The same, using the ASCII fast path only when `fast` (false: PCRE2 alone).
  template <class F>
  void for_each_match(std::string_view text, bool fast, F&& f) const;

  /// The same through PCRE2 alone, without the ASCII fast path (for differential tests).
  void find_all_pcre2(std::string_view text, std::vector<std::pair<std::size_t, std::size_t>>& out) const;

  const std::string& pattern() const noexcept { return pattern_; }

  /// Pre-tokenizer patterns with a hand-written ASCII matcher (regex_fast.cpp), recognised by their
  /// exact text.
  enum class family { none, gpt2, qwen2, llama3, o200k };
  family fast_family() const noexcept { return family_; }

  /// The leftmost match at or after `start` through PCRE2; false when there is none. A pattern that
  /// backtracks past PCRE2's limits on `text` throws errc::invalid_argument naming the tokenizer
  /// component (`where` of the constructor) and the pattern: the tokenizer is at fault, not the text.
  bool match_pcre2(std::string_view text, std::size_t start, std::size_t& begin, std::size_t& end) const;

 private:
  struct compiled;
  std::unique_ptr<compiled> c_;
  std::string pattern_;
  std::string where_;
  family family_ = family::none;
};

/// The exact pattern texts of the GPT-2 and Llama 3 families (tests use them).
const char* gpt2_pattern_text() noexcept;
const char* llama3_pattern_text() noexcept;
const char* qwen2_pattern_text() noexcept;

/// The family of a pattern, or family::none.
regex::family fast_family_of(const std::string& pattern) noexcept;

/// The match of `f`'s pattern that starts at `i` (every position starts one), computed for ASCII
/// text: true with its end, or false when a character it would have to examine is not ASCII (the
/// caller then asks PCRE2). Exact: tests compare it with PCRE2 on random strings.
bool match_ascii(regex::family f, std::string_view text, std::size_t i, std::size_t& end) noexcept;


template <class F>
void regex::for_each_match(std::string_view text, F&& f) const {
  for_each_match(text, family_ != family::none, std::forward<F>(f));
}

template <class F>
void regex::for_each_match(std::string_view text, bool fast, F&& f) const {
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t b = 0, e = 0;
    if (fast && start < text.size() && match_ascii(family_, text, start, e)) {
      b = start;
    } else if (!match_pcre2(text, start, b, e)) {
      break;
    }
    if (e > b) {
      f(b, e);
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
