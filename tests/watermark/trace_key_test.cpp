// Key files with trace parameters (papers/key-file-v1.md §1, `params.trace`): round trip, MAC
// coverage, old keys, and the refusals of a stream or C caller whose key cannot trace.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "tritium/error.hpp"
#include "tritium/key.hpp"
#include "tritium/kgw.hpp"
#include "tritium/kgw_stream.hpp"
#include "tritium/trace.hpp"

using namespace tritium;
namespace fs = std::filesystem;

namespace {

kgw_params small_params(std::uint32_t context_width = 1) {
  kgw_params p;
  p.set_gamma(0.25);
  p.vocab_size = 1000;
  p.context_width = context_width;
  return p;
}

fs::path scratch_dir() {
  const fs::path dir =
      fs::temp_directory_path() / ("tritium-trace-key-test-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  return dir;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void spit(const fs::path& p, const std::string& text) { std::ofstream(p, std::ios::trunc) << text; }

// Replaces the one occurrence of `from` in the file's text.
void edit(const fs::path& from_file, const fs::path& to_file, const std::string& from,
          const std::string& to) {
  std::string text = slurp(from_file);
  const auto at = text.find(from);
  REQUIRE(at != std::string::npos);
  REQUIRE(text.find(from, at + 1) == std::string::npos);
  text.replace(at, from.size(), to);
  spit(to_file, text);
}

std::string load_message(const fs::path& p, errc expected) {
  try {
    key::load(p);
  } catch (const error& e) {
    CHECK(e.code() == expected);
    return e.what();
  }
  FAIL("the key file " << p << " loaded");
  return "";
}

}  // namespace

TEST_CASE("Trace parameters round-trip through a key file and its public JSON", "[key][trace]") {
  const fs::path dir = scratch_dir();
  trace_params t;
  t.code_length = 256;
  t.symbol_bits = 1;
  t.position_width = 5;
  t.account_delta = 0.625;
  const key k = key::generate(small_params(), t);
  REQUIRE(k.trace() != nullptr);
  k.save(dir / "trace.key", true);
  const key back = key::load(dir / "trace.key");
  REQUIRE(back.trace() != nullptr);
  CHECK(back.trace()->code_length == 256);
  CHECK(back.trace()->symbol_bits == 1);
  CHECK(back.trace()->position_width == 5);
  CHECK(back.trace()->account_delta == 0.625);
  CHECK(back.id() == k.id());
  CHECK(back.public_json().find("\"tritium-trace-v1\"") != std::string::npos);
  // A derived (control) key keeps the trace parameters.
  REQUIRE(k.derive("control").trace() != nullptr);
  CHECK(k.derive("control").trace()->code_length == 256);
  // Invalid parameters never make a key.
  t.code_length = 100;
  CHECK_THROWS_AS(key::generate(small_params(), t), error);
}

TEST_CASE("Keys without trace parameters write no trace member and still load", "[key][trace]") {
  const fs::path dir = scratch_dir();
  const key k = key::generate(small_params());
  CHECK(k.trace() == nullptr);
  k.save(dir / "plain.key", true);
  CHECK(slurp(dir / "plain.key").find("trace") == std::string::npos);
  CHECK(key::load(dir / "plain.key").trace() == nullptr);
  // A key file written before the member existed (the CLI fixture) loads with its MAC unchanged.
  const key old = key::load(TRITIUM_FIXTURES_DIR "/cli/test.key");
  CHECK(old.trace() == nullptr);
}

TEST_CASE("Every edit of params.trace is refused", "[key][trace]") {
  const fs::path dir = scratch_dir();
  const fs::path good = dir / "good.key";
  const fs::path bad = dir / "bad.key";
  key::generate(small_params(), trace_params{}).save(good, true);
  REQUIRE_NOTHROW(key::load(good));

  // In-range edits fail the MAC, which covers the whole params object.
  edit(good, bad, "\"account_delta\": 0.75", "\"account_delta\": 0.5");
  CHECK_THAT(load_message(bad, errc::key_corrupt), Catch::Contains("integrity"));
  edit(good, bad, "\"code_length\": 1024", "\"code_length\": 2048");
  CHECK_THAT(load_message(bad, errc::key_corrupt), Catch::Contains("integrity"));
  edit(good, bad, "\"position_width\": 3", "\"position_width\": 4");
  CHECK_THAT(load_message(bad, errc::key_corrupt), Catch::Contains("integrity"));
  edit(good, bad, "\"symbol_bits\": 2", "\"symbol_bits\": 1");
  CHECK_THAT(load_message(bad, errc::key_corrupt), Catch::Contains("integrity"));

  // Out-of-range values, unknown members and another derivation name are named before the MAC.
  edit(good, bad, "\"code_length\": 1024", "\"code_length\": 1000");
  CHECK_THAT(load_message(bad, errc::key_corrupt),
             Catch::Contains("trace code_length: expected a power of two in [64, 4096], got 1000"));
  edit(good, bad, "\"account_delta\": 0.75", "\"account_delta\": 0.75, \"colour\": 1");
  CHECK_THAT(load_message(bad, errc::key_corrupt),
             Catch::Contains("unknown field \"params.trace.colour\""));
  edit(good, bad, "\"tritium-trace-v1\"", "\"tritium-trace-v2\"");
  CHECK_THAT(load_message(bad, errc::key_corrupt),
             Catch::Contains("field 'params.trace.prf': expected tritium-trace-v1"));
  edit(good, bad, "\"symbol_bits\": 2", "\"symbol_bits\": \"2\"");
  CHECK_THAT(load_message(bad, errc::key_corrupt), Catch::Contains("field 'params.trace.symbol_bits'"));

  // Removing the member (a key that silently stops tracing) fails the MAC too.
  std::string text = slurp(good);
  const auto open = text.find("\"trace\": {");
  const auto close = text.find('}', open);
  REQUIRE(open != std::string::npos);
  std::string stripped = text.substr(0, open) + text.substr(close + 1);
  // The member sat between "tokenizer_digest" and "vocab_size": drop the comma it leaves.
  const auto comma = stripped.rfind(',', open);
  stripped.erase(comma, 1);
  spit(bad, stripped);
  CHECK_THAT(load_message(bad, errc::key_corrupt), Catch::Contains("integrity"));
}

TEST_CASE("keygen's trace defaults widen the position window to the key's context", "[key][trace]") {
  CHECK(trace_defaults_for(small_params(1)).position_width == 3);
  CHECK(trace_defaults_for(small_params(3)).position_width == 3);
  CHECK(trace_defaults_for(small_params(5)).position_width == 5);
  CHECK(trace_defaults_for(small_params(5)).code_length == trace_default_code_length);
  CHECK(trace_defaults_for(small_params(5)).account_delta == trace_default_account_delta);
}

TEST_CASE("A stream refuses an account on a key without trace parameters and names the fix",
          "[key][trace]") {
  const key plain = key::generate(small_params());
  const key tracing = key::generate(small_params(), trace_params{});
  const account_code code = derive_account_code(tracing, "acct-1", *tracing.trace());
  kgw_stream stream(std::make_shared<const kgw>(plain));
  try {
    stream.set_account(&code);
    FAIL("set_account accepted a key without trace parameters");
  } catch (const error& e) {
    CHECK(e.code() == errc::mismatch);
    CHECK_THAT(std::string(e.what()), Catch::Contains("has no trace parameters") &&
                                          Catch::Contains("tritium keygen --trace"));
  }
  CHECK(stream.account() == nullptr);
  CHECK_THROWS_AS(plain.require_trace("--account"), error);

  // A code word derived with other trace parameters is refused by a tracing stream.
  trace_params other;
  other.code_length = 64;
  const account_code short_code = derive_account_code(tracing, "acct-1", other);
  kgw_stream traced(std::make_shared<const kgw>(tracing));
  try {
    traced.set_account(&short_code);
    FAIL("set_account accepted a code of the wrong length");
  } catch (const error& e) {
    CHECK(e.code() == errc::invalid_argument);
    CHECK_THAT(std::string(e.what()), Catch::Contains("expected L = 1024 symbols"));
  }
  traced.set_account(&code);
  CHECK(traced.account() == &code);
  traced.set_account(nullptr);
  CHECK(traced.account() == nullptr);
}
