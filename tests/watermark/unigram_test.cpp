// The Unigram scheme: its green list against an independent Python implementation of
// papers/unigram-v1.md (fixtures/kat/make_unigram_kat.py), and its dense and sparse biases.
#include <sodium.h>

#include <catch2/catch.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <vector>

#include "support/test_keys.hpp"
#include "tritium/error.hpp"
#include "tritium/key.hpp"
#include "tritium/unigram.hpp"

using namespace tritium;
using json = nlohmann::json;

namespace {

key unigram_kat_key(const json& v) {
  const auto secret = test::secret_from_hex(v["secret_hex"]);
  kgw_params p;
  p.gamma_bits = v["gamma_bits"];
  p.gamma_threshold = v["gamma_threshold"];
  p.vocab_size = v["vocab_size"];
  return key::from_secret(secret, p);
}

}  // namespace

TEST_CASE("Unigram v1 green lists match the known answers", "[unigram][kat]") {
  std::ifstream in(TRITIUM_FIXTURES_DIR "/kat/unigram_v1.json");
  REQUIRE(in);
  const json kat = json::parse(in);
  REQUIRE(kat["scheme"] == "tritium-unigram-v1");
  REQUIRE(kat["vectors"].size() == 3);
  for (const auto& v : kat["vectors"]) {
    const key k = unigram_kat_key(v);
    REQUIRE(k.id() == v["key_id"].get<std::string>());
    const unigram u(k);
    std::vector<std::uint32_t> green;
    for (std::uint32_t t = 0; t < u.vocab_size(); ++t) {
      if (u.is_green(static_cast<token_id>(t))) green.push_back(t);
    }
    const auto& expected = v["green_list"];
    INFO("V " << u.vocab_size());
    CHECK(green.size() == expected["count"].get<std::size_t>());
    CHECK(u.green_count() == expected["count"].get<std::uint32_t>());
    CHECK(std::vector<std::uint32_t>(green.begin(), green.begin() + 32) == expected["first"].get<std::vector<std::uint32_t>>());
    unsigned char digest[crypto_hash_sha256_BYTES];
    std::vector<std::uint8_t> bytes;
    for (const std::uint32_t g : green) {
      for (int b = 0; b < 4; ++b) bytes.push_back(static_cast<std::uint8_t>(g >> (8 * b)));
    }
    crypto_hash_sha256(digest, bytes.data(), bytes.size());
    std::string hex;
    for (const unsigned char c : digest) {
      static const char* digits = "0123456789abcdef";
      hex += digits[c >> 4];
      hex += digits[c & 15];
    }
    CHECK(hex == expected["sha256"].get<std::string>());
  }
}

TEST_CASE("Unigram dense and sparse biases mark exactly the green list", "[unigram]") {
  const key k = test::seeded_key(5003, 12);
  const unigram u(k);
  CHECK(u.green_count() == 5003 / 4);  // (1 · 5003) >> 2
  std::vector<float> dense(5003, 0.5f);
  u.bias_dense(dense);
  std::vector<token_id> ids(5003);
  for (std::size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<token_id>(5002 - i);
  std::vector<float> sparse(5003, 0.5f);
  u.bias_sparse(ids, sparse);
  std::size_t wrong = 0, green = 0;
  for (token_id v = 0; v < 5003; ++v) {
    const bool g = u.is_green(v);
    green += g;
    const float expected = g ? 2.5f : 0.5f;
    wrong += dense[static_cast<std::size_t>(v)] != expected;
    wrong += sparse[static_cast<std::size_t>(5002 - v)] != expected;
  }
  CHECK(wrong == 0);
  CHECK(green == u.green_count());
  std::vector<float> short_row(5002);
  CHECK_THROWS_AS(u.bias_dense(short_row), error);
  CHECK_THROWS_AS(u.is_green(5003), error);
  // Another key gives another list.
  const unigram other(test::seeded_key(5003, 13));
  std::size_t same = 0;
  for (token_id v = 0; v < 5003; ++v) same += u.is_green(v) && other.is_green(v);
  CHECK(same < u.green_count() / 2);
}
