#include "tritium/text_source.hpp"

#include <algorithm>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "json_escape.hpp"
#include "tritium/json_records.hpp"
#include "tritium/error.hpp"
#include "tritium/tokenizer.hpp"

namespace tritium {

const char* text_field_name(text_field f) noexcept { return f == text_field::prompt ? "prompt" : "text"; }

namespace {

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw error(errc::invalid_argument, "cannot open input " + p.string());
  std::ostringstream s;
  s << in.rdbuf();
  if (in.bad()) throw error(errc::invalid_argument, "read error in " + p.string());
  return s.str();
}

// The id of a text file is its name as a JSON string, which must be UTF-8: a name that is not is
// refused (exit 3) rather than altered, since two altered names could give the same id.
std::string file_id(const std::string& name) {
  if (const std::size_t bad = find_invalid_utf8(name); bad != std::string::npos) {
    throw error(errc::invalid_argument, "input file name " + quoted_for_message(name) +
                                            ": expected UTF-8 (it becomes the document id), got an invalid byte at " +
                                            std::to_string(bad) + "; rename the file");
  }
  return nlohmann::json(name).dump();
}

bool has_jsonl_extension(const std::filesystem::path& p) {
  const auto e = p.extension().string();
  return e == ".jsonl" || e == ".json" || e == ".ndjson";
}

// The text of the value of the last member called `name` (compared decoded, as a JSON parser
// compares them) of the object in `line`, which a JSON parser has just accepted; empty when there is
// none. Ids are copied as written: a parsed value printed again can differ (a number above 2^64
// becomes a rounded double, so two ids could collide).
std::string_view raw_member(std::string_view s, std::string_view name) {
  std::size_t i = s.find('{') + 1;
  auto space = [&] {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n')) ++i;
  };
  auto skip_string = [&] {
    for (++i; s[i] != '"'; ++i) {
      if (s[i] == '\\') ++i;
    }
    ++i;
  };
  auto skip_value = [&] {
    if (s[i] == '"') return skip_string();
    if (s[i] == '{' || s[i] == '[') {
      int depth = 0;
      do {
        if (s[i] == '"') {
          skip_string();
          continue;
        }
        if (s[i] == '{' || s[i] == '[') ++depth;
        if (s[i] == '}' || s[i] == ']') --depth;
        ++i;
      } while (depth > 0);
      return;
    }
    while (i < s.size() && s[i] != ',' && s[i] != '}' && s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n') ++i;
  };
  std::string_view found;
  space();
  if (s[i] == '}') return found;
  while (true) {
    space();
    const std::size_t key_start = i;
    skip_string();
    const std::string_view key = s.substr(key_start, i - key_start);
    space();
    ++i;  // ':'
    space();
    const std::size_t value_start = i;
    skip_value();
    const bool match = key.find('\\') == std::string_view::npos
                           ? key.substr(1, key.size() - 2) == name
                           : nlohmann::json::parse(key).get<std::string>() == name;
    if (match) found = s.substr(value_start, i - value_start);
    space();
    if (s[i] != ',') return found;
    ++i;
  }
}

}  // namespace

// The full parser: every record the fast path below does not take, and every error message.
void parse_text_record_slow(const std::string& line, const std::string& where, text_document& doc) {
  const nlohmann::json j = parse_json_line(line, where);
  if (!j.is_object()) throw error(errc::parse, where + ": expected a JSON object {\"id\": ..., \"text\": ...}");
  const std::string name = text_field_name(doc.field);
  const auto text = j.find(name);
  // Never another field in place of the one read: a missing answer is not replaced by the prompt.
  if (doc.field == text_field::text && j.contains("completion")) {
    if (text != j.end()) {
      throw error(errc::parse, where + ": fields \"text\" and \"completion\": ambiguous, expected the answer in \"text\" alone");
    }
    throw error(errc::parse, where + ": missing field \"text\" (this line has \"completion\": the answer goes in \"text\")");
  }
  if (text == j.end()) {
    if (doc.field == text_field::text && j.contains("tokens")) {
      throw error(errc::parse, where + ": field \"text\" missing (this line has \"tokens\": run detect without --tokenizer)");
    }
    if (doc.field == text_field::text && j.contains("prompt")) {
      throw error(errc::parse, where + ": missing field \"text\" (this line has only \"prompt\", which is never tested)");
    }
    if (doc.field == text_field::prompt && j.contains("text")) {
      throw error(errc::parse, where + ": missing field \"prompt\" (a prompts file gives each prompt in \"prompt\")");
    }
    throw error(errc::parse, where + ": missing field \"" + name + "\"");
  }
  if (!text->is_string()) throw error(errc::parse, where + ": field \"" + name + "\": expected a string");
  doc.text = text->get<std::string>();
  const auto id = j.find("id");
  if (id == j.end()) {
    doc.id_json = "null";
  } else if (id->is_string() || id->is_number()) {
    doc.id_json = raw_member(line, "id");
  } else {
    throw error(errc::parse, where + ": field \"id\": expected a string or a number");
  }
  doc.where = where;
}

namespace {

// A one-pass reader for the common record: an object whose values are strings, integers, true,
// false or null. It gives up (returns false) on anything else — nesting, fractions, \u surrogates,
// non-ASCII, any error — and the full parser then decides, so both accept and refuse exactly the
// same lines and produce the same document (tests/verify/token_jsonl_test.cpp compares them).
class fast_record {
 public:
  explicit fast_record(std::string_view s) : s_(s) {}

  bool parse(text_document& doc) {
    const std::string_view wanted = text_field_name(doc.field);
    std::string key, text, id_json = "null";
    bool has_text = false;
    skip_space();
    if (!eat('{')) return false;
    skip_space();
    if (peek() == '}') return false;  // let the full parser word the error
    while (true) {
      skip_space();
      if (!string(key)) return false;
      skip_space();
      if (!eat(':')) return false;
      skip_space();
      if (key == wanted) {
        if (!string(text)) return false;
        has_text = true;
      } else if (key == "completion" && doc.field == text_field::text) {
        return false;  // the full parser words the error
      } else if (key == "id") {
        const std::size_t from = i_;
        if (peek() == '"') {
          std::string value;
          if (!string(value)) return false;
        } else if (!integer()) {
          return false;
        }
        id_json.assign(s_.substr(from, i_ - from));  // as written, like the full parser
      } else if (!skip_value()) {
        return false;
      }
      skip_space();
      if (eat(',')) continue;
      if (eat('}')) break;
      return false;
    }
    skip_space();
    if (i_ != s_.size() || !has_text) return false;
    doc.text = std::move(text);
    doc.id_json = std::move(id_json);
    return true;
  }

 private:
  char peek() const { return i_ < s_.size() ? s_[i_] : '\0'; }
  bool eat(char c) {
    if (peek() != c) return false;
    ++i_;
    return true;
  }
  void skip_space() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\r' || s_[i_] == '\n')) ++i_;
  }
  static int hex(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }
  // Length of the well-formed UTF-8 sequence at i_ (RFC 3629, as the full parser checks it), or 0.
  std::size_t utf8_length() const {
    auto at = [&](std::size_t k) { return i_ + k < s_.size() ? static_cast<unsigned char>(s_[i_ + k]) : 0u; };
    auto in = [](unsigned c, unsigned lo, unsigned hi) { return c >= lo && c <= hi; };
    const unsigned c = at(0);
    if (in(c, 0xC2, 0xDF)) return in(at(1), 0x80, 0xBF) ? 2 : 0;
    if (c == 0xE0) return in(at(1), 0xA0, 0xBF) && in(at(2), 0x80, 0xBF) ? 3 : 0;
    if (in(c, 0xE1, 0xEC) || in(c, 0xEE, 0xEF)) return in(at(1), 0x80, 0xBF) && in(at(2), 0x80, 0xBF) ? 3 : 0;
    if (c == 0xED) return in(at(1), 0x80, 0x9F) && in(at(2), 0x80, 0xBF) ? 3 : 0;
    if (c == 0xF0) return in(at(1), 0x90, 0xBF) && in(at(2), 0x80, 0xBF) && in(at(3), 0x80, 0xBF) ? 4 : 0;
    if (in(c, 0xF1, 0xF3)) return in(at(1), 0x80, 0xBF) && in(at(2), 0x80, 0xBF) && in(at(3), 0x80, 0xBF) ? 4 : 0;
    if (c == 0xF4) return in(at(1), 0x80, 0x8F) && in(at(2), 0x80, 0xBF) && in(at(3), 0x80, 0xBF) ? 4 : 0;
    return 0;
  }
  bool string(std::string& out) {
    out.clear();
    had_escape_ = false;
    if (!eat('"')) return false;
    while (true) {
      const std::size_t start = i_;
      while (i_ < s_.size()) {
        const auto c = static_cast<unsigned char>(s_[i_]);
        if (c == '"' || c == '\\' || c < 0x20) break;
        if (c < 0x80) {
          ++i_;
          continue;
        }
        const std::size_t n = utf8_length();
        if (n == 0) return false;  // the full parser names the error
        i_ += n;
      }
      out.append(s_.data() + start, i_ - start);
      if (i_ >= s_.size()) return false;
      const auto c = static_cast<unsigned char>(s_[i_]);
      if (c == '"') {
        ++i_;
        return true;
      }
      if (c != '\\') return false;
      had_escape_ = true;
      if (i_ + 1 >= s_.size()) return false;
      const char e = s_[i_ + 1];
      i_ += 2;
      if (const int simple = json_simple_escape(e); simple >= 0) {
        out += static_cast<char>(simple);
        continue;
      }
      switch (e) {
        case 'u': {
          if (i_ + 4 > s_.size()) return false;
          int v = 0;
          for (int k = 0; k < 4; ++k) {
            const int h = hex(s_[i_ + static_cast<std::size_t>(k)]);
            if (h < 0) return false;
            v = v * 16 + h;
          }
          i_ += 4;
          if (v >= 0xD800 && v <= 0xDFFF) return false;  // surrogates: the full parser
          if (v < 0x80) {
            out += static_cast<char>(v);
          } else if (v < 0x800) {
            out += static_cast<char>(0xC0 | (v >> 6));
            out += static_cast<char>(0x80 | (v & 0x3F));
          } else {
            out += static_cast<char>(0xE0 | (v >> 12));
            out += static_cast<char>(0x80 | ((v >> 6) & 0x3F));
            out += static_cast<char>(0x80 | (v & 0x3F));
          }
          break;
        }
        default: return false;
      }
    }
  }
  // -?(0|[1-9][0-9]*), at most 18 digits; fractions, exponents and longer numbers (which can be
  // out of range) are left to the full parser.
  bool integer() {
    eat('-');
    const std::size_t digits = i_;
    while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') ++i_;
    const std::size_t n = i_ - digits;
    if (n == 0 || n > 18 || (n > 1 && s_[digits] == '0')) return false;
    const char c = peek();
    return c != '.' && c != 'e' && c != 'E';
  }
  bool literal(std::string_view word) {
    if (s_.substr(i_, word.size()) != word) return false;
    i_ += word.size();
    return true;
  }
  bool skip_value() {
    std::string ignored;
    switch (peek()) {
      case '"': return string(ignored);
      case 't': return literal("true");
      case 'f': return literal("false");
      case 'n': return literal("null");
      default: return integer();
    }
  }

  std::string_view s_;
  std::size_t i_ = 0;
  bool had_escape_ = false;
};

}  // namespace

void parse_text_record(const std::string& line, const std::string& where, text_document& doc,
                       invalid_utf8 policy) {
  if (policy == invalid_utf8::replace && find_invalid_utf8(line) != std::string::npos) {
    parse_text_record(replace_invalid_utf8(line), where, doc);
    return;
  }
  parse_text_record(line, where, doc);
}

void parse_text_record(const std::string& line, const std::string& where, text_document& doc) {
  fast_record fast(line);
  if (fast.parse(doc)) {
    doc.where = where;
    return;
  }
  parse_text_record_slow(line, where, doc);
}

void resolve(text_document& doc) {
  if (!doc.unparsed) return;
  const std::string line = std::move(doc.text);
  const std::string where = doc.where;
  parse_text_record(line, where, doc, doc.policy);
  doc.unparsed = false;
}

text_source::text_source(const std::string& path, const std::string& format) : name_(path) {
  namespace fs = std::filesystem;
  if (path == "-") {
    kind_ = format == "text" ? kind::single_text : kind::jsonl;
    in_ = &std::cin;
    name_ = "<stdin>";
    return;
  }
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    kind_ = kind::folder;
    root_ = path;
    for (auto it = fs::recursive_directory_iterator(path, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec)) {
      if (it->is_regular_file() && it->path().extension() == ".txt") files_.push_back(it->path());
    }
    if (ec) throw error(errc::invalid_argument, "cannot list folder " + path + ": " + ec.message());
    std::sort(files_.begin(), files_.end());
    for (const auto& f : files_) file_id(std::filesystem::relative(f, root_).generic_string());  // refused before any work
    return;
  }
  if (!fs::exists(path, ec)) throw error(errc::invalid_argument, "cannot open input " + path + ": no such file");
  const bool jsonl = format == "jsonl" || (format == "auto" && has_jsonl_extension(path));
  kind_ = jsonl ? kind::jsonl : kind::single_text;
  if (!jsonl) file_id(path);  // refused before any work
  if (jsonl) {
    file_.open(path, std::ios::binary);
    if (!file_) throw error(errc::invalid_argument, "cannot open input " + path);
    in_ = &file_;
  }
}

bool text_source::next(text_document& doc) {
  switch (kind_) {
    case kind::jsonl:
      while (std::getline(*in_, line_)) {
        ++line_number_;
        blank_byte_order_mark(line_, line_number_);
        if (line_.find_first_not_of(" \t\r") == std::string::npos) continue;
        if (defer_) {
          doc.text.swap(line_);
          doc.where = name_ + ":" + std::to_string(line_number_);
          doc.unparsed = true;
          doc.policy = policy_;
          doc.field = field_;
          return true;
        }
        doc.field = field_;
        parse_text_record(line_, name_ + ":" + std::to_string(line_number_), doc, policy_);
        doc.unparsed = false;
        return true;
      }
      if (in_->bad()) throw error(errc::invalid_argument, "read error in " + name_);
      return false;
    case kind::single_text:
      if (single_done_) return false;
      single_done_ = true;
      if (in_ != nullptr) {
        std::ostringstream s;
        s << in_->rdbuf();
        doc.text = s.str();
      } else {
        doc.text = read_file(name_);
      }
      doc.id_json = file_id(name_);
      doc.where = name_;
      return true;
    case kind::folder:
      if (next_file_ >= files_.size()) return false;
      {
        const auto& p = files_[next_file_++];
        doc.text = read_file(p);
        doc.id_json = file_id(std::filesystem::relative(p, root_).generic_string());
        doc.where = p.string();
      }
      return true;
  }
  return false;
}

}  // namespace tritium
