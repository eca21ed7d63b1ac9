#include <catch2/catch.hpp>
#include <sstream>

#include "tritium/token_jsonl.hpp"
#include "tritium/error.hpp"

using namespace tritium;

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

// ---- JSON Lines text records: the fast path against the full parser ----------------------------

#include <random>

#include "tritium/text_source.hpp"

namespace {

std::string outcome_of(void (*parse)(const std::string&, const std::string&, text_document&), const std::string& line) {
  text_document d;
  try {
    parse(line, "f.jsonl:3", d);
  } catch (const error& e) {
    return std::string("error: ") + e.what();
  }
  return d.id_json + "\n" + d.text + "\n" + d.where;
}

std::string random_string(std::mt19937_64& rng) {
  static const std::vector<std::string> atoms = {
      "a", "Z", " ", "0", "\\\"", "\\\\", "\\/", "\\b", "\\f", "\\n", "\\r", "\\t", "\\u0041", "\\u00e9", "\\u20ac",
      "\\ud83d\\ude00", "\\ud800", "\\udc00x", "\\u12", "\\x", "é", "€", "😀", "\xc3", "\xe2\x82", "\xed\xa0\x80",
      "\xc0\xaf", "\xf4\x90\x80\x80", "\x01", "\t", "中文", "\"", "\\"};
  std::string s;
  const auto n = rng() % 6;
  for (std::uint64_t i = 0; i < n; ++i) s += atoms[rng() % atoms.size()];
  return s;
}

std::string random_value(std::mt19937_64& rng) {
  static const std::vector<std::string> scalars = {"0", "-0", "7", "-12", "007", "1.5", "2e3", "123456789012345678",
                                                   "1234567890123456789012", "true", "false", "null", "nul", "[1]",
                                                   "{\"a\":1}", "-", "+1"};
  if (rng() % 2 == 0) return "\"" + random_string(rng) + "\"";
  return scalars[rng() % scalars.size()];
}

}  // namespace

TEST_CASE("Text records: the fast reader and the full JSON parser agree on every line", "[jsonl]") {
  std::mt19937_64 rng(20261127);
  static const std::vector<std::string> keys = {"id", "text", "prompt", "meta", "te\\u0078t", "i\\u0064", "tokens"};
  std::size_t fast_taken = 0;
  for (int round = 0; round < 200000; ++round) {
    std::string line = rng() % 10 == 0 ? " " : "";
    line += "{";
    const auto fields = rng() % 4;
    for (std::uint64_t f = 0; f < fields; ++f) {
      if (f) line += rng() % 8 == 0 ? " , " : ",";
      line += "\"" + keys[rng() % keys.size()] + "\"" + (rng() % 5 == 0 ? " : " : ":");
      line += random_value(rng);
    }
    line += rng() % 30 == 0 ? "" : "}";
    if (rng() % 20 == 0) line += rng() % 2 ? " \t" : " x";
    const std::string fast = outcome_of(parse_text_record, line);
    const std::string slow = outcome_of(parse_text_record_slow, line);
    INFO("line: " << line);
    REQUIRE(fast == slow);
    fast_taken += fast.rfind("error", 0) != 0;
  }
  CHECK(fast_taken > 5000);  // plenty of lines parse (and agree), not only errors
}

// ---- issue 10: ids are copied as written ------------------------------------------------------

TEST_CASE("Text records: ids are kept as written by both parsers, whatever the parser would print", "[jsonl]") {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"id": 12345678901234567890123, "text": "x"})", "12345678901234567890123"},  // above 2^64
      {R"({"id": 12345678901234567890124, "text": "x"})", "12345678901234567890124"},
      {R"({"id": 9007199254740993, "text": "x"})", "9007199254740993"},  // 2^53 + 1
      {R"({"id": -0, "text": "x"})", "-0"},
      {R"({"id": 1.50, "text": "x"})", "1.50"},
      {R"({"id": 1E2 , "text": "x"})", "1E2"},
      {R"({"id": "caf\u00e9", "text": "x"})", R"("caf\u00e9")"},
      {R"({"text": "x", "id": [1], "i\u0064": "last"})", R"("last")"},  // the last "id", as parsers keep it
      {R"({"meta": {"id": 5, "s": "\"}"}, "id": 7, "text": "x"})", "7"},
  };
  for (const auto& [line, id] : cases) {
    INFO("line: " << line);
    text_document fast, slow;
    parse_text_record(line, "f.jsonl:1", fast);
    parse_text_record_slow(line, "f.jsonl:1", slow);
    CHECK(fast.id_json == id);
    CHECK(slow.id_json == id);
  }
}

TEST_CASE("Token records: a numeric id beyond a double is refused like the full parser refuses it", "[jsonl]") {
  CHECK(parse_error(R"({"id": 1e999, "tokens": [1]})") == "f.jsonl:7:8: field \"id\": a number out of range");
  CHECK(parse_error(R"({"id": -1E+400, "tokens": [1]})") == "f.jsonl:7:8: field \"id\": a number out of range");
  token_document d;
  token_jsonl_reader::parse_line(R"({"id": 1e-999, "tokens": [1]})", d, "f.jsonl:1");  // underflow: a number
  CHECK(d.id_json == "1e-999");
  token_jsonl_reader::parse_line(R"({"id": 123456789012345678901234567890, "tokens": [1]})", d, "f.jsonl:1");
  CHECK(d.id_json == "123456789012345678901234567890");
}

TEST_CASE("Text records: invalid UTF-8 is named with its byte, or read as U+FFFD on request", "[jsonl]") {
  const std::string line = "{\"id\": 1, \"text\": \"a\xff" "b\"}";
  CHECK(outcome_of(parse_text_record, line) == "error: f.jsonl:3:21: invalid UTF-8");
  CHECK(outcome_of(parse_text_record_slow, line) == "error: f.jsonl:3:21: invalid UTF-8");
  text_document d;
  parse_text_record(line, "f.jsonl:3", d, invalid_utf8::replace);
  CHECK(d.text == "a\xEF\xBF\xBD" "b");
  CHECK(d.id_json == "1");
  CHECK_THROWS_WITH(parse_text_record(line, "f.jsonl:3", d, invalid_utf8::error), "f.jsonl:3:21: invalid UTF-8");
}

// ---- issue 10: what the JSON Lines readers accept (README "What the readers accept") ----------

#include "tritium/json_records.hpp"

TEST_CASE("JSON Lines: a byte order mark only at the start of the file, -0 as token 0", "[jsonl]") {
  std::istringstream in("\xEF\xBB\xBF{\"id\": 1, \"tokens\": [-0, 5]}\n{\"tokens\": [-0]}\n");
  token_jsonl_reader r(in, "in.jsonl");
  token_document d;
  REQUIRE(r.next(d));
  CHECK(d.tokens == std::vector<token_id>{0, 5});
  REQUIRE(r.next(d));
  CHECK(d.tokens == std::vector<token_id>{0});
  std::istringstream late("{\"tokens\": [1]}\n\xEF\xBB\xBF{\"tokens\": [2]}\n");
  token_jsonl_reader r2(late, "in.jsonl");
  REQUIRE(r2.next(d));
  CHECK_THROWS_WITH(r2.next(d), "in.jsonl:2:1: a byte order mark, which is accepted only at the start of the file");
  CHECK(parse_error("{\"tokens\": [-00]}") == "f.jsonl:7:13: field \"tokens\"[0]: expected a token id >= 0, got a negative number");
  CHECK(parse_error("{\"tokens\": [-1]}") == "f.jsonl:7:13: field \"tokens\"[0]: expected a token id >= 0, got a negative number");
}

TEST_CASE("JSON Lines: a NUL byte is an error naming line and byte in every parser", "[jsonl]") {
  const std::string nul_after = std::string("{\"id\": 1, \"tokens\": [1]}") + '\0' + "garbage";
  CHECK(parse_error(nul_after) == "f.jsonl:7:25: a NUL byte (JSON text cannot hold one)");
  CHECK(parse_error(std::string("{\"id\": \"a") + '\0' + "\", \"tokens\": [1]}") ==
        "f.jsonl:7:10: a NUL byte (JSON text cannot hold one)");
  const std::string text_nul = std::string("{\"id\": 1, \"text\": \"x\"}") + '\0' + "{\"text\": \"y\"}";
  CHECK(outcome_of(parse_text_record, text_nul) == "error: f.jsonl:3:23: a NUL byte (JSON text cannot hold one)");
  CHECK(outcome_of(parse_text_record_slow, text_nul) == "error: f.jsonl:3:23: a NUL byte (JSON text cannot hold one)");
  CHECK_THROWS_WITH(parse_json_line(text_nul, "g.jsonl:4"), "g.jsonl:4:23: a NUL byte (JSON text cannot hold one)");
}

TEST_CASE("JSON Lines records with token ids: each id an integer from 0 to 2^31 - 1, never converted", "[jsonl]") {
  std::vector<token_id> ids;
  CHECK(ids_of(nlohmann::json::parse(R"({"tokens": [-0, 1, 2147483647]})"), "tokens", "text", nullptr, ids, "f:1"));
  CHECK(ids == std::vector<token_id>{0, 1, 2147483647});
  for (const char* bad : {"[1, 2.5]", "[1, 4294967296]", "[1, 2147483648]", "[-1]", "[1.0]", "[\"1\"]", "{}"}) {
    INFO(bad);
    CHECK_THROWS_AS(ids_of(nlohmann::json::parse(std::string("{\"tokens\": ") + bad + "}"), "tokens", "text", nullptr, ids, "f:1"),
                    error);
  }
  CHECK_THROWS_WITH(ids_of(nlohmann::json::parse(R"({"tokens": [1, 2.5]})"), "tokens", "text", nullptr, ids, "f:1"),
                    "f:1: field \"tokens\"[1]: expected an integer token id in [0, 2^31), got 2.5");
}

// ---- issue 14, item 1: one record schema, never one field read in place of another -------------

TEST_CASE("Text records: the answer is read from \"text\" only, and a missing or ambiguous field is an error", "[jsonl]") {
  for (auto parse : {parse_text_record_slow, static_cast<void (*)(const std::string&, const std::string&, text_document&)>(parse_text_record)}) {
    // The prompt is never tested in place of a missing answer.
    CHECK(outcome_of(parse, R"({"id": 1, "prompt": "Once upon a time"})") ==
          "error: f.jsonl:3: missing field \"text\" (this line has only \"prompt\", which is never tested)");
    // What generate wrote before the schema: the answer in "completion".
    CHECK(outcome_of(parse, R"({"id": 1, "prompt": "p", "completion": "c", "tokens": [1]})") ==
          "error: f.jsonl:3: missing field \"text\" (this line has \"completion\": the answer goes in \"text\")");
    CHECK(outcome_of(parse, R"({"id": 1, "text": "a", "completion": "b"})") ==
          "error: f.jsonl:3: fields \"text\" and \"completion\": ambiguous, expected the answer in \"text\" alone");
    // A record of generate: the prompt in its own field, the answer in "text".
    CHECK(outcome_of(parse, R"({"id": 1, "prompt": "p", "text": "the answer", "tokens": [1]})") == "1\nthe answer\nf.jsonl:3");
  }
}

TEST_CASE("Prompts files: the prompt is read from \"prompt\" only", "[jsonl]") {
  text_document d;
  d.field = text_field::prompt;
  parse_text_record(R"({"id": 7, "prompt": "p", "text": "t"})", "p.jsonl:1", d);
  CHECK(d.text == "p");
  d.field = text_field::prompt;
  CHECK_THROWS_WITH(parse_text_record(R"({"id": 7, "text": "t"})", "p.jsonl:2", d),
                    "p.jsonl:2: missing field \"prompt\" (a prompts file gives each prompt in \"prompt\")");
}

TEST_CASE("Records read as ids or text: both forms only when they agree, never \"completion\" for \"text\"", "[jsonl]") {
  const tokenizer tok = tokenizer::load(std::string(TRITIUM_FIXTURES_DIR) + "/tokenizers/gpt2/tokenizer.json");
  tokenizer::session session(tok);
  const std::vector<token_id> hello = tok.encode("Hello world");
  const nlohmann::json agree = {{"tokens", hello}, {"text", "Hello world"}};
  const nlohmann::json differ = {{"tokens", hello}, {"text", "Goodbye"}};
  std::vector<token_id> ids;
  CHECK(ids_of(agree, "tokens", "text", &session, ids, "f:1"));
  CHECK(ids == hello);
  CHECK_THROWS_WITH(ids_of(differ, "tokens", "text", &session, ids, "f:2"),
                    "f:2: fields \"tokens\" and \"text\": ambiguous, expected the same text (\"text\" the decoding of "
                    "\"tokens\"), got different ones; keep one of them");
  CHECK_THROWS_WITH(ids_of(agree, "tokens", "text", nullptr, ids, "f:3"),
                    "f:3: fields \"tokens\" and \"text\": ambiguous without a tokenizer to check that they hold the "
                    "same text: give --tokenizer, or keep one of them");
  CHECK_THROWS_WITH(ids_of(nlohmann::json{{"text", "a"}, {"completion", "b"}}, "tokens", "text", &session, ids, "f:4"),
                    "f:4: fields \"text\" and \"completion\": ambiguous, expected the answer in \"text\" alone");
  CHECK_THROWS_WITH(ids_of(nlohmann::json{{"prompt", "a"}, {"completion", "b"}}, "tokens", "text", &session, ids, "f:5"),
                    "f:5: missing field \"tokens\" or \"text\" (this line has \"completion\": the answer goes in \"text\")");
  // The prompt's pair reads its own fields, whatever the answer holds.
  CHECK(ids_of(nlohmann::json{{"prompt", "Hello world"}, {"completion", "b"}}, "prompt_tokens", "prompt", &session, ids, "f:6"));
  CHECK(ids == hello);
}
