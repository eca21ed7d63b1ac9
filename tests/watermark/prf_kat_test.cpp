// Known answers for tritium-prf-v1, produced by an independent Python implementation of the written
// specification (fixtures/kat/make_prf_kat.py, papers/prf-v1.md).
#include <sodium.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <vector>

#include "support/test_keys.hpp"
#include "tritium/key.hpp"
#include "tritium/kgw.hpp"

using namespace tritium;
using json = nlohmann::json;

namespace {

json load_kat() {
  std::ifstream in(TRITIUM_FIXTURES_DIR "/kat/prf_v1.json");
  REQUIRE(in);
  return json::parse(in);
}

key key_from(const json& v) {
  const auto secret = test::secret_from_hex(v["secret_hex"]);
  kgw_params p;
  p.gamma_bits = v["gamma_bits"];
  p.gamma_threshold = v["gamma_threshold"];
  p.context_width = v["context_width"];
  p.seeding_scheme = *seeding_from_name(v["seeding"]);
  p.vocab_size = v["vocab_size"];
  return key::from_secret(secret, p);
}

}  // namespace

TEST_CASE("PRF v1 lanes, green decisions and key ids match the known answers", "[kat]") {
  const json kat = load_kat();
  REQUIRE(kat["prf"] == "tritium-prf-v1");
  REQUIRE(kat["vectors"].size() >= 10);
  for (const auto& v : kat["vectors"]) {
    const key k = key_from(v);
    CHECK(k.id() == v["key_id"].get<std::string>());
    const kgw scheme(k);
    for (const auto& s : v["samples"]) {
      const std::vector<token_id> window = s["window"];
      const token_id t = s["token"];
      INFO("case seeding=" << v["seeding"] << " h=" << v["context_width"] << " token=" << t);
      const std::uint32_t lane = k.params().seeding_scheme == seeding::lefthash
                                     ? scheme.prf().lane(scheme.prf().context(window), t)
                                     : scheme.prf().selfhash_lane(scheme.prf().selfhash_anchor(window, t), t);
      CHECK(lane == s["lane"].get<std::uint32_t>());
      CHECK(scheme.is_green(window, t) == s["green"].get<bool>());
    }
  }
}

TEST_CASE("Full green lists match the known answers on the dense path", "[kat]") {
  const json kat = load_kat();
  int checked = 0;
  for (const auto& v : kat["vectors"]) {
    if (!v.contains("green_list")) continue;
    const key k = key_from(v);
    const kgw scheme(k);
    const std::vector<token_id> window = v["green_list"]["window"];
    std::vector<std::uint8_t> mask(k.params().vocab_size);
    scheme.green_mask(window, mask);
    std::vector<std::uint8_t> packed;
    std::vector<token_id> green;
    for (std::size_t i = 0; i < mask.size(); ++i) {
      if (!mask[i]) continue;
      green.push_back(static_cast<token_id>(i));
      for (int b = 0; b < 4; ++b) packed.push_back(static_cast<std::uint8_t>(i >> (8 * b)));
    }
    CHECK(green.size() == v["green_list"]["count"].get<std::size_t>());
    const std::vector<token_id> first = v["green_list"]["first"];
    CHECK(std::vector<token_id>(green.begin(), green.begin() + static_cast<long>(first.size())) == first);
    std::uint8_t digest[32];
    crypto_hash_sha256(digest, packed.data(), packed.size());
    static const char hexdigits[] = "0123456789abcdef";
    std::string hex;
    for (auto b : digest) {
      hex += hexdigits[b >> 4];
      hex += hexdigits[b & 15];
    }
    CHECK(hex == v["green_list"]["sha256"].get<std::string>());
    ++checked;
  }
  CHECK(checked >= 5);
}
