#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tritium/error.hpp"
#include "tritium/key.hpp"

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

// ---- Issue 10: found by fuzzing the key file reader (tests/fuzz/key_file_fuzz.cpp) -----------------

TEST_CASE("Key files: a format that is not a string, fractions and huge numbers are refused", "[key]") {
  const fs::path dir = scratch_dir();
  const fs::path good = dir / "fuzz-good.key";
  key::generate(params_v(1000)).save(good, true);
  const std::string text = slurp(good);
  int n = 0;
  // The key file with the first `from` replaced by `to`.
  auto with = [&](const std::string& from, const std::string& to) {
    std::string t = text;
    const auto at = t.find(from);
    REQUIRE(at != std::string::npos);
    t.replace(at, from.size(), to);
    const fs::path p = dir / ("fuzz-" + std::to_string(n++) + ".key");
    spit(p, t);
    fs::permissions(p, fs::perms::owner_read | fs::perms::owner_write);
    return p;
  };
  // Before: an internal error (a JSON type error escaped the loader).
  const fs::path format = with("\"tritium-key\"", "5");
  CHECK(load_error(format) == errc::parse);
  CHECK_THAT(load_message(format), Catch::Contains("expected format \"tritium-key\""));
  // Before: undefined behaviour (a float cast to int), then "unsupported version" with whatever came out.
  const fs::path huge = with("\"version\": 1", "\"version\": 1e300");
  CHECK(load_error(huge) == errc::key_corrupt);
  CHECK_THAT(load_message(huge), Catch::EndsWith("field 'version': expected an integer in [-2147483648, 2147483647], got 1e+300"));
  // Before: read as version 1, and the key loaded.
  CHECK_THAT(load_message(with("\"version\": 1", "\"version\": 1.7")), Catch::EndsWith("got 1.7"));
  CHECK_THAT(load_message(with("\"gamma_bits\": 2", "\"gamma_bits\": 1e30")),
             Catch::EndsWith("field 'gamma_bits': expected an integer in [0, 4294967295], got 1e+30"));
  CHECK_THAT(load_message(with("\"vocab_size\": 1000", "\"vocab_size\": -1")), Catch::EndsWith("got -1"));
  CHECK_THAT(load_message(with("\"vocab_size\": 1000", "\"vocab_size\": \"1000\"")),
             Catch::EndsWith("field 'vocab_size': expected an integer in [0, 4294967295], got string"));
  fs::remove_all(dir);
}
