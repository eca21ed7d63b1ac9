#include <catch2/catch.hpp>
#include <sstream>

#include "token_jsonl.hpp"
#include "tritium/error.hpp"

using namespace tritium;
using namespace tritium::cli;

namespace {

std::string parse_error(const std::string& line) {
  token_document doc;
  try {
    token_jsonl_reader::parse_line(line, doc, "f.jsonl:7");
  } catch (const error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("JSONL documents parse with any field order and extra fields", "[jsonl]") {
  std::istringstream in(
      "{\"id\": \"a\", \"tokens\": [1, 2, 3]}\n"
      "\n"
      "{\"meta\": {\"x\": [1, {\"y\": null}], \"s\": \"q\\\"\\u00e9\"}, \"tokens\":[], \"id\": 42}\n"
      "  {\"tokens\" : [ 7 ,8 ] }  \r\n");
  token_jsonl_reader r(in, "in.jsonl");
  token_document d;
  REQUIRE(r.next(d));
  CHECK(d.id_json == "\"a\"");
  CHECK(d.tokens == std::vector<token_id>{1, 2, 3});
  CHECK(d.line == 1);
  REQUIRE(r.next(d));
  CHECK(d.id_json == "42");
  CHECK(d.tokens.empty());
  CHECK(d.line == 3);
  REQUIRE(r.next(d));
  CHECK(d.id_json == "null");
  CHECK(d.tokens == std::vector<token_id>{7, 8});
  CHECK_FALSE(r.next(d));
}

TEST_CASE("Malformed JSONL names the file, line and byte", "[jsonl]") {
  CHECK(parse_error("{\"id\": 1, \"tokens\": [1, 2,]}") ==
        "f.jsonl:7:27: field \"tokens\"[2]: expected an integer token id");
  CHECK(parse_error("{\"id\": 1}") ==
        "f.jsonl:7:10: missing field \"tokens\" (expected {\"id\": ..., \"tokens\": [...]})");
  CHECK(parse_error("{\"tokens\": [1, -2]}") ==
        "f.jsonl:7:16: field \"tokens\"[1]: expected a token id >= 0, got a negative number");
  CHECK(parse_error("{\"tokens\": [1.5]}") ==
        "f.jsonl:7:14: field \"tokens\"[0]: expected an integer token id");
  CHECK(parse_error("{\"tokens\": [1] ") == "f.jsonl:7:16: expected ',' or '}' in an object, got end of line");
  CHECK(parse_error("[1, 2]") == "f.jsonl:7:1: expected '{' at the start of a JSON object, got '['");
  CHECK(parse_error("{\"tokens\": [1], \"tokens\": [2]}") == "f.jsonl:7:27: duplicate field \"tokens\"");
  CHECK(parse_error("{\"tokens\": [99999999999]}") ==
        "f.jsonl:7:13: field \"tokens\"[0]: token id too large for a 32-bit id");
  CHECK(parse_error("{\"tokens\": [1]} x") == "f.jsonl:7:17: unexpected text after the JSON object");
}
