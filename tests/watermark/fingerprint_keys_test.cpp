// The keyed part of tritium-fingerprint-v1 (watermark/include/tritium/fingerprint_keys.hpp) against
// the known answers of the independent Python script (fixtures/kat/fingerprint_v1.json), and the raw
// SHA-256 bytes of digest.hpp.
#include <array>
#include <catch2/catch.hpp>
#include <cstdint>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "tritium/digest.hpp"
#include "tritium/fingerprint_keys.hpp"
#include "tritium/key.hpp"

using namespace tritium;

namespace {

std::string hex(const std::uint8_t* p, std::size_t n) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < n; ++i) {
    out.push_back(digits[p[i] >> 4]);
    out.push_back(digits[p[i] & 15]);
  }
  return out;
}

// The word list index of a four-letter word (papers/fingerprint-v1.md §3), written out independently
// of verify's fingerprint_word.
std::size_t word_index(const std::string& w) {
  const std::string consonants = "bdfgkpvz", vowels = "aeou";
  const std::size_t first = consonants.find(w[0]) * 4 + vowels.find(w[1]);
  const std::size_t second = consonants.find(w[2]) * 4 + vowels.find(w[3]);
  return first * 32 + second;
}

}  // namespace

TEST_CASE("sha256_bytes gives the raw bytes of the FIPS 180-2 digest of abc", "[digest]") {
  const auto d = sha256_bytes("abc");
  CHECK(hex(d.data(), d.size()) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK("sha256:" + hex(d.data(), d.size()) == sha256_digest("abc"));
}

TEST_CASE("Fingerprint key stream: k_fp and the first block's draws match the known answers", "[fingerprint][kat]") {
  std::ifstream in(TRITIUM_FIXTURES_DIR "/kat/fingerprint_v1.json");
  REQUIRE(in);
  const auto kat = nlohmann::json::parse(in);
  for (const auto& v : kat["sets"]) {
    const std::string secret_hex = v["secret"];
    std::array<std::uint8_t, key::secret_size> secret{};
    for (std::size_t i = 0; i < secret.size(); ++i) {
      secret[i] = static_cast<std::uint8_t>(std::stoi(secret_hex.substr(2 * i, 2), nullptr, 16));
    }
    kgw_params p;
    p.vocab_size = 1000;
    const key k = key::from_secret(secret, p);
    const auto k_fp = k.derive(std::string(fingerprint_keys_v1::key_label)).secret_bytes();
    CHECK(hex(k_fp.data(), k_fp.size()) == v["k_fp"].get<std::string>());

    const fingerprint_keystream stream(k);
    const auto block = stream.block(0);
    // Block 0 gives the first 8 draws; when they are distinct they are the first 8 candidates.
    std::set<std::size_t> draws;
    for (std::size_t d = 0; d < 8; ++d) draws.insert((block[2 * d] | std::size_t{block[2 * d + 1]} << 8) & 1023);
    REQUIRE(draws.size() == 8);
    for (std::size_t d = 0; d < 8; ++d) {
      const std::size_t w = (block[2 * d] | std::size_t{block[2 * d + 1]} << 8) & 1023;
      CHECK(w == word_index(v["first_candidates"][d].get<std::string>()));
    }
    CHECK(stream.block(1) != block);
    CHECK(fingerprint_keystream(k).block(1) == stream.block(1));
  }
}
