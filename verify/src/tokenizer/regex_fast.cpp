// Hand-written matchers for the pre-tokenizer regexes of GPT-2, Qwen 2/3, Llama 3 and o200k on
// ASCII text. They follow the regex engine's rules exactly — alternatives in order, greedy
// quantifiers with backtracking, the (?!\S) look-ahead — and give up (return false) as soon as a
// character they would examine is not ASCII, leaving that match to PCRE2. Where the character
// classes of the patterns meet ASCII: \p{Lu} = A–Z, \p{Ll} = a–z, no ASCII character is Lt, Lm, Lo or
// M, \p{N} = 0–9, \s = TAB, LF, VT, FF, CR, SPACE. tests/verify/tokenizer_test.cpp compares these
// matchers with PCRE2 on a million random strings.
#include <cstring>

#include "regex.hpp"

namespace tritium::detail {
namespace {

// The pre-tokenizer patterns of these families exactly as their tokenizer.json files (and llama.cpp's
// pre-tokenizer table, for GGUF vocabularies) write them.
constexpr const char* o200k_text =
    R"([^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr const char* qwen2_text =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr const char* llama3_text =
    R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
constexpr const char* gpt2_text =
    R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

// Character at k as 0–127, -1 past the end, or 128 for any byte of a non-ASCII character.
struct cursor {
  const unsigned char* p;
  std::size_t n;
  int at(std::size_t k) const noexcept { return k >= n ? -1 : p[k] < 0x80 ? p[k] : 128; }
};

bool upper(int c) { return c >= 'A' && c <= 'Z'; }
bool lower(int c) { return c >= 'a' && c <= 'z'; }
bool letter(int c) { return upper(c) || lower(c); }
bool digit(int c) { return c >= '0' && c <= '9'; }
bool space(int c) { return c == ' ' || (c >= 9 && c <= 13); }
bool newline(int c) { return c == '\r' || c == '\n'; }
bool punct(int c) { return c >= 0 && c < 128 && !space(c) && !letter(c) && !digit(c); }
// [^\r\n\p{L}\p{N}]
bool prefix(int c) { return c >= 0 && c < 128 && !newline(c) && !letter(c) && !digit(c); }

// How the matchers report: a definite end, no match of this alternative, or "needs non-ASCII".
enum class result { match, fail, unsure };

// Run of characters satisfying `in` from k; unsure if it stops at a non-ASCII character.
template <class In>
result run(const cursor& t, std::size_t k, In in, std::size_t& end) {
  while (in(t.at(k))) ++k;
  end = k;
  return t.at(k) == 128 ? result::unsure : result::match;
}

// (?i:'s|'t|'re|'ve|'m|'ll|'d) or its case-sensitive form at k: the length matched (0 if none).
result contraction(const cursor& t, std::size_t k, bool fold_case, std::size_t& length) {
  length = 0;
  if (t.at(k) != '\'') return result::fail;
  int c = t.at(k + 1);
  if (c == 128) return fold_case ? result::unsure : result::fail;  // e.g. U+017F folds to 's'
  if (fold_case && upper(c)) c += 32;
  if (c == 's' || c == 't' || c == 'm' || c == 'd') {
    length = 2;
    return result::match;
  }
  if (c == 'r' || c == 'v' || c == 'l') {
    int d = t.at(k + 2);
    if (d == 128) return fold_case ? result::unsure : result::fail;
    if (fold_case && upper(d)) d += 32;
    if ((c == 'r' && d == 'e') || (c == 'v' && d == 'e') || (c == 'l' && d == 'l')) {
      length = 3;
      return result::match;
    }
  }
  return result::fail;
}

// \s*[\r\n]+ , \s+(?!\S) and \s+ at i (the whitespace alternatives every family ends with).
result whitespace(const cursor& t, std::size_t i, bool with_newline_alternative, std::size_t& end) {
  if (!space(t.at(i))) return t.at(i) == 128 ? result::unsure : result::fail;
  std::size_t k = 0;
  if (run(t, i, space, k) == result::unsure) return result::unsure;
  if (with_newline_alternative) {
    for (std::size_t q = k; q > i; --q) {
      if (newline(t.at(q - 1))) {
        end = q;  // \s* gives back to the last newline, [\r\n]+ takes it
        return result::match;
      }
    }
  }
  if (t.at(k) == -1) {
    end = k;  // (?!\S) holds at the end of the text
    return result::match;
  }
  // The next character is ASCII and not a space: \s+(?!\S) backtracks one character if it can.
  end = k - i >= 2 ? k - 1 : k;
  return result::match;
}

// ` ?[^\s\p{L}\p{N}]+` followed by a trailing class (`[\r\n/]*`, `[\r\n]*` or nothing).
result punctuation(const cursor& t, std::size_t i, const char* trailing, std::size_t& end) {
  std::size_t j = t.at(i) == ' ' ? i + 1 : i;
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (punct(t.at(j))) {
      std::size_t k = 0;
      if (run(t, j, punct, k) == result::unsure) return result::unsure;
      while (t.at(k) >= 0 && t.at(k) < 128 && std::strchr(trailing, t.at(k)) != nullptr && t.at(k) != 0) ++k;
      end = k;
      return result::match;
    }
    if (t.at(j) == 128) return result::unsure;
    if (j == i) break;
    j = i;  // without the optional space
  }
  return result::fail;
}

// o200k's first two alternatives: prefix? [upper-ish]* [lower-ish]+ contraction?  and
// prefix? [upper-ish]+ [lower-ish]* contraction?  (ASCII: A–Z then a–z, disjoint classes).
result o200k_word(const cursor& t, std::size_t i, bool second, std::size_t& end) {
  std::size_t j = i;
  if (!letter(t.at(i))) {
    if (t.at(i) == 128) return result::unsure;
    if (!prefix(t.at(i))) return result::fail;
    j = i + 1;
  }
  std::size_t u = 0;
  if (run(t, j, upper, u) == result::unsure) return result::unsure;
  std::size_t l = 0;
  if (run(t, u, lower, l) == result::unsure) return result::unsure;
  if (!second ? l == u : u == j) return result::fail;  // [lower]+ or [upper]+ needs one character
  std::size_t length = 0;
  if (contraction(t, l, true, length) == result::unsure) return result::unsure;
  end = l + length;
  return result::match;
}

}  // namespace

const char* gpt2_pattern_text() noexcept { return gpt2_text; }
const char* llama3_pattern_text() noexcept { return llama3_text; }
const char* qwen2_pattern_text() noexcept { return qwen2_text; }

regex::family fast_family_of(const std::string& pattern) noexcept {
  if (pattern == o200k_text) return regex::family::o200k;
  if (pattern == qwen2_text) return regex::family::qwen2;
  if (pattern == llama3_text) return regex::family::llama3;
  if (pattern == gpt2_text) return regex::family::gpt2;
  return regex::family::none;
}

bool match_ascii(regex::family f, std::string_view text, std::size_t i, std::size_t& end) noexcept {
  const cursor t{reinterpret_cast<const unsigned char*>(text.data()), text.size()};
  const int c = t.at(i);
  if (c == 128 || c == -1) return false;
  result r = result::fail;
  auto settle = [&](result x) {
    r = x;
    return x != result::fail;
  };
  switch (f) {
    case regex::family::o200k: {
      if (settle(o200k_word(t, i, false, end)) || settle(o200k_word(t, i, true, end))) break;
      if (digit(c)) {
        std::size_t k = i;
        while (k - i < 3 && digit(t.at(k))) ++k;
        if (k - i < 3 && t.at(k) == 128) return false;  // \p{N} could continue
        end = k;
        return true;
      }
      if (settle(punctuation(t, i, "\r\n/", end))) break;
      settle(whitespace(t, i, true, end));
      break;
    }
    case regex::family::qwen2:
    case regex::family::llama3: {
      std::size_t length = 0;
      if (settle(contraction(t, i, true, length))) {
        if (r == result::match) end = i + length;
        break;
      }
      std::size_t j = i;
      bool word = letter(c);
      if (!word && prefix(c)) {
        if (t.at(i + 1) == 128) return false;
        word = letter(t.at(i + 1));
        j = i + 1;
      }
      if (word) {
        settle(run(t, j, letter, end));
        break;
      }
      if (digit(c)) {
        const std::size_t most = f == regex::family::qwen2 ? 1 : 3;
        std::size_t k = i;
        while (k - i < most && digit(t.at(k))) ++k;
        if (k - i < most && t.at(k) == 128) return false;
        end = k;
        return true;
      }
      if (settle(punctuation(t, i, "\r\n", end))) break;
      settle(whitespace(t, i, true, end));
      break;
    }
    case regex::family::gpt2: {
      std::size_t length = 0;
      if (contraction(t, i, false, length) == result::match) {
        end = i + length;
        return true;
      }
      const std::size_t j = c == ' ' ? i + 1 : i;
      const int d = t.at(j);
      if (d == 128) return false;
      if (letter(d)) {
        settle(run(t, j, letter, end));
        break;
      }
      if (digit(d)) {
        settle(run(t, j, digit, end));
        break;
      }
      if (settle(punctuation(t, i, "", end))) break;
      settle(whitespace(t, i, false, end));
      break;
    }
    case regex::family::none:
      return false;
  }
  return r == result::match;
}

}  // namespace tritium::detail
