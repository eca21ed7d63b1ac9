// The one policy for whole JSON documents (watermark/src/json_document.hpp): every reader of a key
// file, signing key, DSSE envelope or tokenizer.json goes through it.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <string>

#include "tritium/json_document.hpp"
#include "tritium/error.hpp"

using namespace tritium;
using nlohmann::json;

namespace {

std::string refusal(const std::string& text) {
  try {
    detail::parse_json_document<json>(text, "doc.json");
  } catch (const error& e) {
    CHECK(e.code() == errc::parse);
    return e.what();
  }
  return "accepted";
}

}  // namespace

TEST_CASE("Whole JSON documents: NUL bytes, trailing text and truncation are refused at their byte", "[json]") {
  // nlohmann alone stops at a NUL and ignores what follows it.
  CHECK(refusal(std::string("{\"a\": 1}") + '\0' + "garbage") == "doc.json: not valid JSON at byte 8: a NUL byte");
  CHECK(refusal(std::string("{\"a\": \"x") + '\0' + "\"}") == "doc.json: not valid JSON at byte 8: a NUL byte");
  CHECK(refusal("{\"a\": 1} {\"b\": 2}") ==
        "doc.json: not valid JSON at byte 9: unexpected text after the JSON value");
  CHECK(refusal("{\"a\": ") == "doc.json: not valid JSON at byte 6: the text ends early (truncated?)");
  CHECK(refusal("") == "doc.json: not valid JSON at byte 0: the text ends early (truncated?)");
  CHECK(refusal("{\"a\": 1e999}") == "doc.json: not valid JSON at byte 6: a number outside the range of a double");
  // Accepted: surrounding whitespace, a leading UTF-8 byte order mark, an escaped NUL inside a string.
  CHECK(detail::parse_json_document<json>(" \n{\"a\": 1}\n\t", "doc.json") == json{{"a", 1}});
  CHECK(detail::parse_json_document<json>("\xEF\xBB\xBF{\"a\": 1}", "doc.json") == json{{"a", 1}});
  CHECK(detail::parse_json_document<json>("[\"\\u0000\"]", "doc.json")[0] == std::string(1, '\0'));
}

TEST_CASE("Whole JSON documents: nesting is limited before parsing", "[json]") {
  const std::size_t limit = detail::json_max_depth;
  CHECK(detail::parse_json_document<json>(std::string(limit, '[') + std::string(limit, ']'), "d").is_array());
  CHECK(refusal(std::string(limit + 1, '[') + std::string(limit + 1, ']')) ==
        "doc.json: not valid JSON at byte 64: arrays and objects nested deeper than 64 levels");
  // A million open brackets: refused at once, never parsed or copied.
  CHECK(refusal(std::string(1000000, '[')) ==
        "doc.json: not valid JSON at byte 64: arrays and objects nested deeper than 64 levels");
  // Brackets inside strings do not count.
  CHECK(detail::parse_json_document<json>("[\"" + std::string(1000, '[') + "\\\"{\"]", "d").size() == 1);
}

TEST_CASE("Whole JSON documents: a key given twice is refused, named with its object's pointer", "[json]") {
  CHECK(refusal("{\"a\": {\"b\": 1, \"b\": 2}}") ==
        "doc.json: the key \"b\" appears twice in the object at JSON pointer \"/a\"");
  CHECK(refusal("[{\"x\": [0, {\"k\": 1, \"k\": 1}]}]") ==
        "doc.json: the key \"k\" appears twice in the object at JSON pointer \"/0/x/1\"");
  // Keys are compared after unescaping, and shown escaped.
  CHECK(refusal("{\"\\u001b]0;x\": 1, \"\\u001b]0;x\": 2}") ==
        "doc.json: the key \"\\u001b]0;x\" appears twice in the object at JSON pointer \"\"");
  CHECK(refusal("{\"a\": 1, \"\\u0061\": 2}") == "doc.json: the key \"a\" appears twice in the object at JSON pointer \"\"");
  // The same key in different objects is fine, and an ordered document keeps its order.
  const auto o = detail::parse_json_document<nlohmann::ordered_json>("{\"z\": {\"k\": 1}, \"a\": {\"k\": 2}}", "d");
  CHECK(o.dump() == "{\"z\":{\"k\":1},\"a\":{\"k\":2}}");
}
