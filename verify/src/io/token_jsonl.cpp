#include "tritium/token_jsonl.hpp"

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <limits>

#include "json_escape.hpp"
#include "tritium/json_lines.hpp"
#include "tritium/error.hpp"
#include "tritium/tokenizer.hpp"

namespace tritium {
namespace {

constexpr int max_depth = 64;

class line_parser {
 public:
  line_parser(const std::string& text, const std::string& where) : s_(text), where_(where) {}

  void document(token_document& doc) {
    ws();
    expect('{', "'{' at the start of a JSON object");
    ws();
    bool have_tokens = false;
    bool have_id = false;
    doc.tokens.clear();
    doc.id_json = "null";
    if (peek() != '}') {
      while (true) {
        ws();
        const std::string name = string_value();
        ws();
        expect(':', "':' after a field name");
        ws();
        if (name == "tokens") {
          if (have_tokens) fail("duplicate field \"tokens\"");
          tokens(doc.tokens);
          have_tokens = true;
        } else if (name == "id") {
          if (have_id) fail("duplicate field \"id\"");
          const std::size_t start = i_;
          if (peek() == '"') {
            string_value();
          } else if (peek() == '-' || (peek() >= '0' && peek() <= '9')) {
            number();
            // Kept as written, but like every reader (the full JSON parser refuses it too), a number
            // beyond the range of a double is refused: no JSON reader downstream could hold it.
            const std::string text = s_.substr(start, i_ - start);
            if (std::isinf(std::strtod(text.c_str(), nullptr))) {
              i_ = start;
              fail("field \"id\": a number out of range");
            }
          } else {
            fail("field \"id\": expected a string or a number");
          }
          doc.id_json = s_.substr(start, i_ - start);
          have_id = true;
        } else {
          skip_value(0);
        }
        ws();
        if (peek() == ',') {
          ++i_;
          continue;
        }
        break;
      }
    }
    expect('}', "',' or '}' in an object");
    ws();
    if (i_ != s_.size()) fail("unexpected text after the JSON object");
    if (!have_tokens) fail("missing field \"tokens\" (expected {\"id\": ..., \"tokens\": [...]})");
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw error(errc::parse, where_ + ":" + std::to_string(i_ + 1) + ": " + what);
  }

  char peek() const noexcept { return i_ < s_.size() ? s_[i_] : '\0'; }

  void ws() noexcept {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\r' || s_[i_] == '\n')) ++i_;
  }

  void expect(char c, const char* what) {
    if (peek() != c) {
      fail(std::string("expected ") + what + ", got " +
           (i_ < s_.size() ? "'" + std::string(1, s_[i_]) + "'" : "end of line"));
    }
    ++i_;
  }

  std::string string_value() {
    expect('"', "a string");
    std::string out;
    while (true) {
      if (i_ >= s_.size()) fail("unterminated string");
      const char c = s_[i_++];
      if (c == '"') return out;
      if (static_cast<unsigned char>(c) < 0x20) fail("control character inside a string");
      if (c == '\\') {
        const char e = peek();
        ++i_;
        if (const int simple = json_simple_escape(e); simple >= 0) {
          out += static_cast<char>(simple);
          continue;
        }
        switch (e) {
          case 'u': {
            // Only validated: the field names that matter are ASCII and ids are copied verbatim.
            const unsigned unit = hex4();
            if (unit >= 0xDC00 && unit <= 0xDFFF) fail("unpaired low surrogate in a \\u escape");
            if (unit >= 0xD800 && unit <= 0xDBFF) {
              if (peek() != '\\' || i_ + 1 >= s_.size() || s_[i_ + 1] != 'u') {
                fail("unpaired high surrogate in a \\u escape");
              }
              i_ += 2;
              const unsigned low = hex4();
              if (low < 0xDC00 || low > 0xDFFF) fail("unpaired high surrogate in a \\u escape");
            }
            out += '?';
            break;
          }
          default: --i_; fail("bad escape in a string");
        }
      } else {
        out += c;
      }
    }
  }

  unsigned hex4() {
    unsigned v = 0;
    for (int k = 0; k < 4; ++k) {
      const char c = peek();
      if (!std::isxdigit(static_cast<unsigned char>(c))) fail("bad \\u escape");
      v = v * 16 + static_cast<unsigned>(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
      ++i_;
    }
    return v;
  }

  void number() {
    const std::size_t start = i_;
    if (peek() == '-') ++i_;
    if (peek() == '0') {
      ++i_;
    } else if (peek() >= '1' && peek() <= '9') {
      while (peek() >= '0' && peek() <= '9') ++i_;
    } else {
      i_ = start;
      fail("expected a number");
    }
    if (peek() == '.') {
      ++i_;
      if (!(peek() >= '0' && peek() <= '9')) fail("expected digits after '.'");
      while (peek() >= '0' && peek() <= '9') ++i_;
    }
    if (peek() == 'e' || peek() == 'E') {
      ++i_;
      if (peek() == '+' || peek() == '-') ++i_;
      if (!(peek() >= '0' && peek() <= '9')) fail("expected digits in an exponent");
      while (peek() >= '0' && peek() <= '9') ++i_;
    }
  }

  void literal(const char* word) {
    for (const char* p = word; *p; ++p) {
      if (peek() != *p) fail(std::string("expected '") + word + "'");
      ++i_;
    }
  }

  void skip_value(int depth) {
    if (depth > max_depth) fail("nesting deeper than 64 levels");
    switch (peek()) {
      case '"': string_value(); return;
      case '{':
        ++i_;
        ws();
        if (peek() == '}') { ++i_; return; }
        while (true) {
          ws();
          string_value();
          ws();
          expect(':', "':' after a field name");
          ws();
          skip_value(depth + 1);
          ws();
          if (peek() == ',') { ++i_; continue; }
          expect('}', "',' or '}' in an object");
          return;
        }
      case '[':
        ++i_;
        ws();
        if (peek() == ']') { ++i_; return; }
        while (true) {
          ws();
          skip_value(depth + 1);
          ws();
          if (peek() == ',') { ++i_; continue; }
          expect(']', "',' or ']' in an array");
          return;
        }
      case 't': literal("true"); return;
      case 'f': literal("false"); return;
      case 'n': literal("null"); return;
      default: number(); return;
    }
  }

  void tokens(std::vector<token_id>& out) {
    expect('[', "field \"tokens\" to be an array of token ids");
    ws();
    if (peek() == ']') { ++i_; return; }
    while (true) {
      ws();
      const std::size_t start = i_;
      // -0 is valid JSON for zero (RFC 8259 §6), and zero is a token id.
      if (peek() == '-' && i_ + 1 < s_.size() && s_[i_ + 1] == '0' &&
          (i_ + 2 >= s_.size() || std::string_view(",] \t\r\n").find(s_[i_ + 2]) != std::string_view::npos)) {
        i_ += 2;
        out.push_back(0);
        ws();
        if (peek() == ',') { ++i_; continue; }
        expect(']', "',' or ']' in the tokens array");
        return;
      }
      if (peek() == '-') {
        fail("field \"tokens\"[" + std::to_string(out.size()) +
             "]: expected a token id >= 0, got a negative number");
      }
      if (peek() == '0' && i_ + 1 < s_.size() && s_[i_ + 1] >= '0' && s_[i_ + 1] <= '9') {
        fail("field \"tokens\"[" + std::to_string(out.size()) + "]: leading zeros are not valid JSON");
      }
      std::uint64_t value = 0;
      const auto [end, ec] = std::from_chars(s_.data() + i_, s_.data() + s_.size(), value);
      if (ec == std::errc::invalid_argument || end == s_.data() + i_) {
        fail("field \"tokens\"[" + std::to_string(out.size()) + "]: expected an integer token id");
      }
      i_ = static_cast<std::size_t>(end - s_.data());
      if (peek() == '.' || peek() == 'e' || peek() == 'E') {
        fail("field \"tokens\"[" + std::to_string(out.size()) + "]: expected an integer token id");
      }
      if (ec == std::errc::result_out_of_range ||
          value > static_cast<std::uint64_t>(std::numeric_limits<token_id>::max())) {
        i_ = start;
        throw error(errc::out_of_range, where_ + ":" + std::to_string(i_ + 1) + ": field \"tokens\"[" +
                                            std::to_string(out.size()) +
                                            "]: token id too large for a 32-bit id");
      }
      out.push_back(static_cast<token_id>(value));
      ws();
      if (peek() == ',') { ++i_; continue; }
      expect(']', "',' or ']' in the tokens array");
      return;
    }
  }

  const std::string& s_;
  const std::string& where_;
  std::size_t i_ = 0;
};

}  // namespace

token_jsonl_reader::token_jsonl_reader(std::istream& in, std::string name)
    : in_(in), name_(name == "-" ? "<stdin>" : std::move(name)) {}

void token_jsonl_reader::parse_line(const std::string& line, token_document& doc,
                                    const std::string& where) {
  check_json_line_bytes(line, where);
  line_parser(line, where).document(doc);
}

bool token_jsonl_reader::next(token_document& doc) {
  while (std::getline(in_, line_)) {
    ++line_number_;
    blank_byte_order_mark(line_, line_number_);
    const auto first = line_.find_first_not_of(" \t\r");
    if (first == std::string::npos) continue;
    doc.line = line_number_;
    parse_line(line_, doc, name_ + ":" + std::to_string(line_number_));
    return true;
  }
  if (in_.bad()) {
    throw error(errc::invalid_argument, name_ + ": read error after line " + std::to_string(line_number_) +
                                            " (is it a regular file?)");
  }
  return false;
}

}  // namespace tritium
