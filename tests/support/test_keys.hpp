// Test support: reproducible KGW keys (γ = 0.25, δ = 2) whose secrets come from a seed, so that a
// statistical test is the same run every time and different seeds give independent keys.
#pragma once

#include <array>
#include <cstdint>
#include <random>

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

}  // namespace tritium::test
