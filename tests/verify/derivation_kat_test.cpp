// Known answers from sources independent of tritium's code: the sampling source and the control-key
// derivation from the published algorithms (fixtures/kat/make_derivation_kat.py), and filter files
// from the documented layout (fixtures/kat/make_filter_kat.py).
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>

#include "tritium/error.hpp"
#include "tritium/key.hpp"
#include "tritium/radioactivity.hpp"
#include "tritium/sampling_rng.hpp"

using namespace tritium;
using json = nlohmann::json;

namespace {

json load_kat() {
  std::ifstream in(TRITIUM_FIXTURES_DIR "/kat/derivation_v1.json");
  REQUIRE(in);
  return json::parse(in);
}

std::array<std::uint8_t, key::secret_size> secret_from_hex(const std::string& hex) {
  REQUIRE(hex.size() == 2 * key::secret_size);
  std::array<std::uint8_t, key::secret_size> secret{};
  for (std::size_t i = 0; i < secret.size(); ++i) {
    secret[i] = static_cast<std::uint8_t>(std::stoi(hex.substr(2 * i, 2), nullptr, 16));
  }
  return secret;
}

}  // namespace

TEST_CASE("sampling_rng reproduces xoshiro256** seeded by splitmix64", "[kat][sampling]") {
  const json kat = load_kat();
  REQUIRE(kat["sampling_rng"].size() == 4);
  for (const auto& v : kat["sampling_rng"]) {
    const std::uint64_t seed = std::stoull(v["seed"].get<std::string>());
    INFO("seed " << seed);
    sampling_rng rng(seed);
    for (const auto& expected : v["next"]) CHECK(rng.next() == std::stoull(expected.get<std::string>()));
    for (const auto& numerator : v["uniform_numerator_2^-53"]) {
      CHECK(rng.uniform() == static_cast<double>(std::stoull(numerator.get<std::string>())) * 0x1.0p-53);
    }
    // reseed restarts the same sequence.
    sampling_rng again(seed + 1);
    again.reseed(seed);
    CHECK(again.next() == std::stoull(v["next"][0].get<std::string>()));
  }
}

TEST_CASE("Control keys derive from the real key's secret as specified", "[kat][radioactivity]") {
  const json kat = load_kat()["control_keys"];
  kgw_params p;
  p.set_gamma(0.25);
  p.vocab_size = 1000;
  const key k = key::from_secret(secret_from_hex(kat["secret_hex"]), p);
  REQUIRE(k.id() == kat["key_id"].get<std::string>());
  const auto controls = control_keys(k, 100);
  for (const auto& c : kat["controls"]) {
    const std::size_t i = c["index"];
    INFO("control key " << i);
    CHECK(controls.at(i).id() == c["key_id"].get<std::string>());
    // The id pins the secret (SHA-256 over it): the same secret through from_secret gives it too.
    CHECK(key::from_secret(secret_from_hex(c["secret_hex"]), p).id() == c["key_id"].get<std::string>());
    CHECK(controls.at(i).params().gamma_threshold == p.gamma_threshold);
  }
}


TEST_CASE("Filter files written from the format's description load, and tritium writes the same bytes",
          "[kat][radioactivity]") {
  // fixtures/kat/make_filter_kat.py writes "tritium-filter" v1 files from the documented layout alone.
  std::ifstream in(TRITIUM_FIXTURES_DIR "/kat/filter_v1.json");
  REQUIRE(in);
  const json kat = json::parse(in);
  const std::string digest = kat["tokenizer_digest"];
  REQUIRE(kat["cases"].size() == 3);
  for (const auto& c : kat["cases"]) {
    const std::uint32_t h = c["context_width"];
    INFO("h = " << h);
    kgw_params p;
    p.set_gamma(0.25);
    p.vocab_size = kat["vocab_size"];
    p.context_width = h;
    const key k = key::from_secret(secret_from_hex(kat["secret_hex"]), p);
    REQUIRE(k.id() == kat["key_id"].get<std::string>());
    const std::filesystem::path file = std::string(TRITIUM_FIXTURES_DIR "/kat/") + c["file"].get<std::string>();
    const window_filter f = window_filter::load(file, k, digest);
    CHECK(f.key_id == k.id());
    CHECK(f.tokenizer_digest == digest);
    CHECK(f.context_width == h);
    std::set<std::vector<token_id>> distinct;
    for (const auto& w : c["windows"]) {
      const auto window = w.get<std::vector<token_id>>();
      distinct.insert(window);
      CHECK(f.windows.contains(window));
    }
    CHECK(f.windows.size() == distinct.size());
    for (const auto& w : c["absent"]) CHECK_FALSE(f.windows.contains(w.get<std::vector<token_id>>()));

    // The same windows saved by tritium: byte for byte the file the description produced.
    window_filter again;
    again.key_id = k.id();
    again.tokenizer_digest = digest;
    again.context_width = h;
    for (const auto& window : distinct) again.windows.add_windows_of(window, h);
    const auto out = std::filesystem::temp_directory_path() /
                     ("tritium-filter-kat-" + std::to_string(::getpid()) + "-" + std::to_string(h));
    {
      std::ofstream written(out, std::ios::binary);
      again.save(written);
      written.close();
      REQUIRE(written);
    }
    auto slurp = [](const std::filesystem::path& path) {
      std::ifstream s(path, std::ios::binary);
      std::ostringstream b;
      b << s.rdbuf();
      return b.str();
    };
    CHECK(slurp(out) == slurp(file));
    std::filesystem::remove(out);

    // Made for another tokenizer, or read with a key of another context width: refused, naming both.
    CHECK_THROWS_WITH(window_filter::load(file, k, "sha256:" + std::string(64, '0')),
                      Catch::Contains("made with tokenizer " + digest) && Catch::Contains(std::string(64, '0')));
    kgw_params wider = p;
    wider.context_width = h + 1;
    CHECK_THROWS_WITH(window_filter::load(file, key::from_secret(secret_from_hex(kat["secret_hex"]), wider), digest),
                      Catch::Contains("made for context width " + std::to_string(h)) &&
                          Catch::Contains("the key has " + std::to_string(h + 1)));
  }
}
