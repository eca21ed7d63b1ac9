// Known answers for the sampling source and the control-key derivation, produced from the published
// algorithms by fixtures/kat/make_derivation_kat.py (no tritium code).
#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

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
