#include "tritium/json_document.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <optional>
#include <unordered_set>
#include <vector>

#include "tritium/error.hpp"

namespace tritium::detail {
namespace {

[[noreturn]] void refuse(const std::string& what, std::size_t offset, const std::string& reason) {
  throw error(errc::parse, what + ": not valid JSON at byte " + std::to_string(offset) + ": " + reason);
}

bool starts_number(char c) { return c == '-' || (c >= '0' && c <= '9'); }

bool in_number(char c) {
  return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E';
}

// One pass over the bytes outside string literals, before nlohmann sees them: nlohmann treats a NUL
// as the end of its input (so whatever follows would be ignored), and deep nesting, though parsed
// iteratively, would make every later recursive walk of the tree overflow the stack. When
// `find_huge_number` is set, also returns the offset of the first number literal that does not fit
// a double (nlohmann refuses those without saying where).
std::optional<std::size_t> scan(std::string_view bytes, const std::string& what, bool find_huge_number) {
  std::size_t depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    const char c = bytes[i];
    if (c == '\0') refuse(what, i, "a NUL byte");
    if (in_string) {
      if (c == '\\') {
        if (i + 1 < bytes.size() && bytes[i + 1] == '\0') refuse(what, i + 1, "a NUL byte");
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > json_max_depth) {
        refuse(what, i, "arrays and objects nested deeper than " + std::to_string(json_max_depth) + " levels");
      }
    } else if (c == ']' || c == '}') {
      if (depth > 0) --depth;
    } else if (find_huge_number && starts_number(c)) {
      std::size_t end = i;
      while (end < bytes.size() && in_number(bytes[end])) ++end;
      const std::string literal(bytes.substr(i, end - i));
      if (!std::isfinite(std::strtod(literal.c_str(), nullptr))) return i;
      i = end - 1;
    }
  }
  return std::nullopt;
}

// Refuses a key given twice in one object, naming it and the object by its JSON pointer: nlohmann
// would keep the last one silently, so two readers of one file could see different values.
template <class Json>
class duplicate_key_check {
 public:
  explicit duplicate_key_check(const std::string& what) : what_(what) {}

  using parse_event_t = typename Json::parse_event_t;

  bool operator()(int /*depth*/, parse_event_t event, Json& parsed) {
    switch (event) {
      case parse_event_t::object_start:
      case parse_event_t::array_start:
        frames_.push_back({event == parse_event_t::object_start, {}, {}, 0});
        break;
      case parse_event_t::key: {
        auto& f = frames_.back();
        f.key = parsed.template get<std::string>();
        if (!f.keys.insert(f.key).second) {
          throw error(errc::parse, what_ + ": the key " + quoted_for_message(f.key) +
                                       " appears twice in the object at JSON pointer " +
                                       quoted_for_message(pointer()));
        }
        break;
      }
      case parse_event_t::object_end:
      case parse_event_t::array_end:
        frames_.pop_back();
        element_done();
        break;
      case parse_event_t::value:
        element_done();
        break;
    }
    return true;
  }

 private:
  struct frame {
    bool object;
    std::unordered_set<std::string> keys;
    std::string key;        // the member being read (objects)
    std::size_t index;      // the element being read (arrays)
  };

  void element_done() {
    if (!frames_.empty() && !frames_.back().object) ++frames_.back().index;
  }

  // RFC 6901 pointer of the innermost open object.
  std::string pointer() const {
    std::string out;
    for (std::size_t i = 0; i + 1 < frames_.size(); ++i) {
      out += '/';
      if (!frames_[i].object) {
        out += std::to_string(frames_[i].index);
        continue;
      }
      for (const char c : frames_[i].key) {
        if (c == '~') out += "~0";
        else if (c == '/') out += "~1";
        else out += c;
      }
    }
    return out;
  }

  const std::string& what_;
  std::vector<frame> frames_;
};

}  // namespace

template <class Json>
Json parse_json_document(std::string_view bytes, const std::string& what) {
  scan(bytes, what, false);
  try {
    return Json::parse(bytes, duplicate_key_check<Json>(what));
  } catch (const typename Json::parse_error& e) {
    // nlohmann counts bytes from 1 and counts the end of the input as one more byte.
    const std::size_t at = std::min<std::size_t>(e.byte == 0 ? 0 : e.byte - 1, bytes.size());
    if (at >= bytes.size()) refuse(what, at, "the text ends early (truncated?)");
    const std::string reason = std::string(e.what()).find("expected end of input") != std::string::npos
                                   ? "unexpected text after the JSON value"
                                   : "syntax error";
    refuse(what, at, reason);
  } catch (const typename Json::out_of_range&) {
    const auto at = scan(bytes, what, true);
    refuse(what, at.value_or(0), "a number outside the range of a double");
  }
}

template nlohmann::json parse_json_document<nlohmann::json>(std::string_view, const std::string&);
template nlohmann::ordered_json parse_json_document<nlohmann::ordered_json>(std::string_view,
                                                                             const std::string&);

}  // namespace tritium::detail
