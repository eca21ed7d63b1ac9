// Test support: reproducible KGW keys (γ = 0.25, δ = 2) whose secrets come from a seed, so that a
// statistical test is the same run every time and different seeds give independent keys.
#pragma once

#include <array>
#include <cstdint>
#include <random>
#include <string>

#include "tritium/key.hpp"

namespace tritium::test {

inline key seeded_key(std::uint32_t vocab, std::uint64_t seed, std::uint32_t h = 1,
                      seeding s = seeding::lefthash) {
  std::mt19937_64 rng(seed);
  std::array<std::uint8_t, key::secret_size> secret{};
  for (auto& b : secret) b = static_cast<std::uint8_t>(rng());
  kgw_params p;
  p.set_gamma(0.25);
  p.delta = 2.0;
  p.context_width = h;
  p.seeding_scheme = s;
  p.vocab_size = vocab;
  return key::from_secret(secret, p);
}

/// The 32 secret bytes written as 64 hex digits, as the known-answer files store them.
inline std::array<std::uint8_t, key::secret_size> secret_from_hex(const std::string& hex) {
  std::array<std::uint8_t, key::secret_size> secret{};
  for (std::size_t i = 0; i < secret.size(); ++i) {
    secret[i] = static_cast<std::uint8_t>(std::stoi(hex.substr(2 * i, 2), nullptr, 16));
  }
  return secret;
}

}  // namespace tritium::test
