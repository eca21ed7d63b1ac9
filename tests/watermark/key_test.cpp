#include <sys/stat.h>

#include <array>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <tuple>
#include <vector>

#include "tritium/error.hpp"
#include "tritium/key.hpp"
#include "tritium/kgw_stream.hpp"

using namespace tritium;
namespace fs = std::filesystem;

namespace {

kgw_params params_v(std::uint32_t vocab) {
  kgw_params p;
  p.set_gamma(0.25);
  p.vocab_size = vocab;
  return p;
}

fs::path scratch_dir() {
  const fs::path dir = fs::temp_directory_path() / ("tritium-key-test-" + std::to_string(::getpid()));
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

errc load_error(const fs::path& p) {
  try {
    key::load(p);
  } catch (const error& e) {
    return e.code();
  }
  return errc::internal;
}

std::string load_message(const fs::path& p) {
  try {
    key::load(p);
  } catch (const error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("gamma is stored exactly with the fewest lane bits", "[key]") {
  kgw_params p;
  p.set_gamma(0.25);
  CHECK(p.gamma_bits == 2);
  CHECK(p.gamma_threshold == 1);
  p.set_gamma(0.5);
  CHECK(p.gamma_bits == 1);
  p.set_gamma(0.375);
  CHECK(p.gamma_bits == 4);
  CHECK(p.gamma_threshold == 6);
  p.set_gamma(0.1);
  CHECK(p.gamma_bits == 16);
  CHECK(p.gamma_threshold == 6554);
  CHECK_THROWS_AS(p.set_gamma(0.0), error);
  CHECK_THROWS_AS(p.set_gamma(1.0), error);
  CHECK_THROWS_AS(p.set_gamma(1e-9), error);
}

TEST_CASE("A saved key loads back identically, with mode 0600", "[key]") {
  const fs::path dir = scratch_dir();
  const fs::path file = dir / "k1.key";
  fs::remove(file);
  const key k = key::generate(params_v(50257));
  k.save(file);
  struct stat st {};
  REQUIRE(::stat(file.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  key_load_info info;
  const key back = key::load(file, &info);
  CHECK_FALSE(info.permissions_too_open);
  CHECK(back.id() == k.id());
  CHECK(back.secret_bytes() == k.secret_bytes());
  CHECK(back.params().vocab_size == 50257);
  // Two generated keys differ (CSPRNG), and the id is the documented commitment, not the secret.
  const key other = key::generate(params_v(50257));
  CHECK(other.id() != k.id());
  CHECK(k.id().size() == 64);
  fs::remove_all(dir);
}

TEST_CASE("The public JSON and the key id never contain the secret", "[key]") {
  const key k = key::generate(params_v(1000));
  std::string hex;
  static const char digits[] = "0123456789abcdef";
  for (auto b : k.secret_bytes()) {
    hex += digits[b >> 4];
    hex += digits[b & 15];
  }
  CHECK(k.public_json().find(hex) == std::string::npos);
  CHECK(k.public_json().find(hex.substr(0, 16)) == std::string::npos);
  CHECK(k.id() != hex);
}

TEST_CASE("Saving never replaces an existing key unless asked", "[key]") {
  const fs::path dir = scratch_dir();
  const fs::path file = dir / "k2.key";
  fs::remove(file);
  const key a = key::generate(params_v(1000));
  const key b = key::generate(params_v(1000));
  a.save(file);
  CHECK_THROWS_AS(b.save(file), error);
  CHECK(key::load(file).id() == a.id());
  b.save(file, true);
  CHECK(key::load(file).id() == b.id());
  // No temporary files are left behind.
  std::size_t entries = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir)) ++entries;
  CHECK(entries == 1);
  fs::remove_all(dir);
}

TEST_CASE("Missing, truncated, edited and group-readable key files", "[key]") {
  const fs::path dir = scratch_dir();
  const fs::path good = dir / "good.key";
  fs::remove(good);
  key::generate(params_v(1000)).save(good);
  const std::string text = slurp(good);

  CHECK(load_error(dir / "missing.key") == errc::io);

  const fs::path truncated = dir / "truncated.key";
  spit(truncated, text.substr(0, text.size() / 2));
  CHECK(load_error(truncated) == errc::key_corrupt);
  CHECK_THAT(load_message(truncated), Catch::Contains("truncated.key") && Catch::Contains("byte"));

  const fs::path empty = dir / "empty.key";
  spit(empty, "");
  CHECK(load_error(empty) == errc::key_corrupt);

  // An edited parameter fails the HMAC; the message says so without echoing the secret.
  std::string edited = text;
  const auto pos = edited.find("\"delta\": 2.0");
  REQUIRE(pos != std::string::npos);
  edited.replace(pos, 12, "\"delta\": 3.0");
  const fs::path edited_path = dir / "edited.key";
  spit(edited_path, edited);
  CHECK(load_error(edited_path) == errc::key_corrupt);
  CHECK_THAT(load_message(edited_path), Catch::Contains("integrity"));

  // A derived field is covered too: the MAC is over the params object as stored.
  std::string gamma_edit = text;
  const auto g = gamma_edit.find("\"gamma\": 0.25");
  REQUIRE(g != std::string::npos);
  gamma_edit.replace(g, 13, "\"gamma\": 0.90");
  const fs::path gamma_path = dir / "gamma.key";
  spit(gamma_path, gamma_edit);
  CHECK(load_error(gamma_path) == errc::key_corrupt);

  // A flipped secret digit no longer matches the key id.
  std::string flipped = text;
  const auto s = flipped.find("\"secret\": \"") + 11;
  flipped[s] = flipped[s] == 'a' ? 'b' : 'a';
  const fs::path flipped_path = dir / "flipped.key";
  spit(flipped_path, flipped);
  CHECK(load_error(flipped_path) == errc::key_corrupt);
  CHECK_THAT(load_message(flipped_path), Catch::Contains("key id"));

  const fs::path not_key = dir / "other.json";
  spit(not_key, "{\"hello\": 1}");
  CHECK(load_error(not_key) == errc::parse);

  ::chmod(good.c_str(), 0644);
  key_load_info info;
  key::load(good, &info);
  CHECK(info.permissions_too_open);
  fs::remove_all(dir);
}

TEST_CASE("Parameter checks name the field and the expected range", "[key]") {
  const key k = key::generate(params_v(1000));
  CHECK_THROWS_WITH(k.require_vocab_size(1001), Catch::Contains("V = 1000") && Catch::Contains("V = 1001"));
  kgw_params p = params_v(1);
  CHECK_THROWS_WITH(p.validate(), Catch::Contains("vocab_size"));
  p = params_v(1000);
  p.context_width = 0;
  CHECK_THROWS_WITH(p.validate(), Catch::Contains("context_width"));
  p = params_v(1000);
  p.delta = -1;
  CHECK_THROWS_WITH(p.validate(), Catch::Contains("delta"));
}

TEST_CASE("Key files are read strictly: JSON types, integer ranges, unknown and repeated fields", "[key]") {
  const fs::path dir = scratch_dir();
  const fs::path good = dir / "strict.key";
  fs::remove(good);
  key::generate(params_v(1000)).save(good);
  const std::string text = slurp(good);
  const fs::path bad = dir / "bad.key";
  auto edited = [&](const std::string& from, const std::string& to) {
    std::string t = text;
    const auto at = t.find(from);
    REQUIRE(at != std::string::npos);
    t.replace(at, from.size(), to);
    spit(bad, t);
    return bad;
  };
  auto refused = [&](const fs::path& p, errc code, const std::string& message) {
    INFO(message);
    CHECK(load_error(p) == code);
    CHECK_THAT(load_message(p), Catch::Contains(message));
  };

  // Each used to escape as a json exception (exit 70), convert a float to an integer (undefined
  // behaviour for 1e30) or load as something else.
  refused(edited("\"format\": \"tritium-key\"", "\"format\": 5"), errc::parse,
          "bad.key: expected format \"tritium-key\", got 5");
  refused(edited("\"version\": 1", "\"version\": 1.7"), errc::key_corrupt, "unsupported version: expected 1, got 1.7");
  refused(edited("\"version\": 1", "\"version\": 1e300"), errc::key_corrupt,
          "unsupported version: expected 1, got 1e+300");
  refused(edited("\"gamma_bits\": 2", "\"gamma_bits\": 1e30"), errc::key_corrupt,
          "field 'params.gamma_bits': expected an integer in [0, 4294967295], got 1e+30");
  refused(edited("\"gamma_bits\": 2", "\"gamma_bits\": 2.0"), errc::key_corrupt,
          "field 'params.gamma_bits': expected an integer in [0, 4294967295], got 2.0");
  refused(edited("\"gamma_bits\": 2", "\"gamma_bits\": -2"), errc::key_corrupt,
          "field 'params.gamma_bits': expected an integer in [0, 4294967295], got -2");
  refused(edited("\"vocab_size\": 1000", "\"vocab_size\": 4294968296"), errc::key_corrupt,
          "field 'params.vocab_size': expected an integer in [0, 4294967295], got 4294968296");
  refused(edited("\"vocab_size\": 1000", "\"vocab_size\": \"1000\""), errc::key_corrupt,
          "field 'params.vocab_size': expected an integer in [0, 4294967295], got \"1000\"");
  refused(edited("\"delta\": 2.0", "\"delta\": \"2\""), errc::key_corrupt,
          "field 'params.delta': expected a number, got \"2\"");
  refused(edited("\"scheme\": \"kgw\"", "\"scheme\": [\"kgw\"]"), errc::key_corrupt,
          "field 'scheme': expected a string, got array");
  // A field this version does not know is not covered by the MAC: refused, not ignored.
  refused(edited("\"format\"", "\"comment\": \"x\", \"format\""), errc::key_corrupt, "unknown field \"comment\"");
  refused(edited("\"delta\"", "\"extra\": 0, \"delta\""), errc::key_corrupt, "unknown field \"params.extra\"");
  refused(edited("\"format\"", "\"version\": 1, \"format\""), errc::key_corrupt,
          "the key \"version\" appears twice in the object at JSON pointer \"\"");
  // A NUL byte and what follows it are not ignored.
  spit(bad, text + std::string(1, '\0') + "trailing garbage");
  refused(bad, errc::key_corrupt, "bad.key: not valid JSON at byte " + std::to_string(text.size()) + ": a NUL byte");
  spit(bad, text + "{}");
  refused(bad, errc::key_corrupt, "not valid JSON at byte " + std::to_string(text.size()) + ": unexpected text after");
  fs::remove_all(dir);
}

TEST_CASE("Strings from a key file reach messages quoted, terminal controls escaped", "[key]") {
  const fs::path dir = scratch_dir();
  const fs::path good = dir / "quoted.key";
  fs::remove(good);
  key::generate(params_v(1000)).save(good);
  const std::string text = slurp(good);
  const fs::path bad = dir / "bad.key";
  for (const auto& [from, to, shown] : std::vector<std::tuple<std::string, std::string, std::string>>{
           {"\"scheme\": \"kgw\"", "\"scheme\": \"\\u001b]0;owned\\u0007\"", "got \"\\u001b]0;owned\\u0007\""},
           {"\"prf\": \"tritium-prf-v1\"", "\"prf\": \"\\u001b[2J\"", "got \"\\u001b[2J\""},
           {"\"seeding\": \"lefthash\"", "\"seeding\": \"\\u009b31m\"", "got \"\\u009b31m\""},
           {"\"format\": \"tritium-key\"", "\"format\": \"\\u001b[2J\"", "got \"\\u001b[2J\""}}) {
    std::string t = text;
    t.replace(t.find(from), from.size(), to);
    spit(bad, t);
    const std::string message = load_message(bad);
    INFO(message);
    CHECK_THAT(message, Catch::Contains(shown));
    CHECK(message.find('\x1b') == std::string::npos);
    CHECK(message.find("\xC2\x9B") == std::string::npos);
  }
  fs::remove_all(dir);
}

TEST_CASE("A tokenizer digest is \"sha256:\" and 64 hex digits, so a key file cannot put other text in messages", "[key]") {
  kgw_params p = params_v(1000);
  p.tokenizer_digest = "sha256:" + std::string(64, 'a');
  CHECK_NOTHROW(p.validate());
  p.tokenizer_digest = "sha256:" + std::string(63, 'a') + "\x1b";
  CHECK_THROWS_WITH(p.validate(), "tokenizer_digest: expected \"sha256:\" and 64 lowercase hex digits, got \"sha256:" +
                                      std::string(63, 'a') + "\\u001b\"");
  p.tokenizer_digest = "md5:0";
  CHECK_THROWS_AS(p.validate(), error);

  const fs::path dir = scratch_dir();
  const fs::path good = dir / "digest.key";
  fs::remove(good);
  key::generate(params_v(1000)).save(good);
  std::string text = slurp(good);
  text.replace(text.find("\"tokenizer_digest\": null"), 24, "\"tokenizer_digest\": \"\\u001b]0;owned\\u0007\"");
  spit(dir / "bad.key", text);
  CHECK(load_error(dir / "bad.key") == errc::key_corrupt);
  CHECK_THAT(load_message(dir / "bad.key"), Catch::EndsWith("got \"\\u001b]0;owned\\u0007\""));
  fs::remove_all(dir);
}

TEST_CASE("A new key's V is the model's width or else --vocab-size or else the tokenizer's ids (issue 13)", "[key]") {
  using origin = key_vocab_choice::origin;
  auto choose = [](std::uint32_t requested, std::uint32_t model, std::uint32_t ids) {
    return choose_key_vocab_size({requested, model, ids});
  };
  // Qwen3: a model's 151,936 logits are wider than its tokenizer's 151,669 ids; V is the logits width.
  CHECK(choose(0, 151936, 151669).vocab_size == 151936);
  CHECK(choose(0, 151936, 151669).from == origin::model);
  CHECK(choose(151936, 151936, 0).from == origin::model);
  CHECK(choose(151936, 0, 151669).vocab_size == 151936);
  CHECK(choose(151936, 0, 151669).from == origin::requested);
  CHECK(choose(0, 0, 151669).vocab_size == 151669);
  CHECK(choose(0, 0, 151669).from == origin::tokenizer);
  auto failure = [&](std::uint32_t requested, std::uint32_t model, std::uint32_t ids) {
    try {
      (void)choose(requested, model, ids);
    } catch (const error& e) {
      return std::make_pair(e.code(), std::string(e.what()));
    }
    return std::make_pair(errc::internal, std::string("accepted"));
  };
  CHECK(failure(151669, 151936, 0) ==
        std::make_pair(errc::invalid_argument,
                       std::string("vocabulary size: --vocab-size 151669 disagrees with the model's logits width 151936 "
                                   "(a key's V is the width of the logits it watermarks); give only --model, or "
                                   "--vocab-size 151936")));
  CHECK(failure(0, 0, 0) ==
        std::make_pair(errc::invalid_argument, std::string("vocabulary size: give --model, --vocab-size or --tokenizer")));
  CHECK(failure(1000, 0, 151669) ==
        std::make_pair(errc::mismatch, std::string("vocabulary size: the tokenizer has 151669 ids, more than --vocab-size "
                                                   "1000 (every id needs a logit); give --model, or --vocab-size 151669 "
                                                   "or more")));
  CHECK(failure(0, 50000, 50257).first == errc::mismatch);
  CHECK_THAT(failure(0, 50000, 50257).second, Catch::Contains("more than the model's logits width 50000"));
}

TEST_CASE("Width mismatches name both numbers and the fix (issue 13)", "[key]") {
  const key k = key::generate(params_v(151669));
  const std::string id = k.id().substr(0, 16);
  CHECK_NOTHROW(k.require_logits_width(151669, "m.tlm"));
  CHECK_NOTHROW(k.require_tokenizer_ids(151669, "t.json"));
  CHECK_NOTHROW(k.require_tokenizer_ids(100, "t.json"));
  CHECK_NOTHROW(k.require_vocab_size(151669));
  auto failure = [](auto&& f) {
    try {
      f();
    } catch (const error& e) {
      return std::make_pair(e.code(), std::string(e.what()));
    }
    return std::make_pair(errc::internal, std::string("accepted"));
  };
  CHECK(failure([&] { k.require_logits_width(151936, "qwen.tlm"); }) ==
        std::make_pair(errc::mismatch,
                       "vocabulary size: the key " + id + " was made for V = 151669, but the model \"qwen.tlm\" has "
                       "logits of width 151936; make the key with `tritium keygen --model` on this model (or "
                       "--vocab-size 151936)"));
  const key narrow = key::generate(params_v(1000));
  CHECK(failure([&] { narrow.require_tokenizer_ids(151669, "t.json"); }) ==
        std::make_pair(errc::mismatch,
                       "vocabulary size: the tokenizer \"t.json\" has 151669 ids, more than the key " +
                           narrow.id().substr(0, 16) +
                           "'s V = 1000 (the width of the logits it watermarks); make the key with `tritium keygen "
                           "--model` on this tokenizer's model, or `--tokenizer` on this tokenizer"));
  CHECK(failure([&] { k.require_vocab_size(151936); }) ==
        std::make_pair(errc::mismatch,
                       "vocabulary size: the key " + id + " was made for V = 151669, got V = 151936 (V is the width "
                       "of the logits a key watermarks); make a key with `tritium keygen --vocab-size 151936` or --model"));
}

TEST_CASE("Key derivation reads the whole HKDF info string however long", "[key]") {
  // Two 300-byte labels that differ only in their last byte: HKDF-Expand (RFC 5869) must MAC all of
  // info, so they derive different secrets. Expected values: Python's hmac over label || 0x01.
  std::array<std::uint8_t, key::secret_size> secret{};
  for (std::size_t i = 0; i < secret.size(); ++i) secret[i] = static_cast<std::uint8_t>(i);
  const key k = key::from_secret(secret, params_v(1000));
  const std::string stem = "tritium/test/" + std::string(286, 'x');
  const auto hex = [](const key& d) {
    static const char digits[] = "0123456789abcdef";
    std::string out;
    for (const std::uint8_t b : d.secret_bytes()) {
      out += digits[b >> 4];
      out += digits[b & 15];
    }
    return out;
  };
  CHECK(hex(k.derive(stem + "a")) == "8eae330856afe8a638e117e5216c566bc37aae75f48541a0c1de1d11263d7aa5");
  CHECK(hex(k.derive(stem + "b")) == "a10bd51ff859d4679a21fb9f3b0f4e350005c74bd8025032cce5fa5893f25450");
}

TEST_CASE("A key names its schemes: saved and loaded with them and refused for an embedding it does not name", "[key]") {
  const fs::path dir = scratch_dir();
  const fs::path file = dir / "schemes.key";
  fs::remove(file);
  kgw_params p = params_v(1000);
  p.schemes = static_cast<scheme_set>(scheme_bit(scheme_kind::gumbel) | scheme_bit(scheme_kind::unigram));
  const key k = key::generate(p);
  k.save(file);
  const key back = key::load(file);
  CHECK(back.params().schemes == p.schemes);
  CHECK(scheme_list_text(back.params().schemes) == "gumbel, unigram");
  CHECK(k.public_json().find("\"schemes\": [") != std::string::npos);
  CHECK_NOTHROW(back.require_scheme(scheme_kind::gumbel, "detect gumbel"));
  CHECK_THROWS_WITH(back.require_scheme(scheme_kind::kgw, "detect kgw"),
                    Catch::Contains("names the scheme(s) gumbel, unigram (params.schemes), not kgw"));
  // The KGW stream (behind the C ABI and the llama.cpp sampler) refuses to mark with such a key.
  try {
    kgw_stream stream(std::make_shared<const kgw>(back), {});
    FAIL("a KGW stream was built for a key that does not name kgw");
  } catch (const error& e) {
    CHECK(e.code() == errc::mismatch);
    CHECK_THAT(e.what(), Catch::Contains("KGW embedding") && Catch::Contains("not kgw"));
  }
  // Tracing rides on KGW.
  CHECK_THROWS_AS(key::generate(p, trace_defaults_for(p)), error);
  // A KGW-only key writes no member, so that it keeps its bytes for older readers.
  CHECK(key::generate(params_v(1000)).public_json().find("schemes") == std::string::npos);
  p.schemes = 0;
  CHECK_THROWS_WITH(key::generate(p), Catch::Contains("schemes: expected a non-empty set"));
  fs::remove_all(dir);
}
