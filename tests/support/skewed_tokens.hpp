// Token ids drawn independently of any key from a skewed law, so that texts repeat themselves and
// deduplication acts: id = ⌊V · U^exponent⌋, U uniform on [0, 1).
#pragma once

#include <cmath>
#include <random>
#include <vector>

#include "tritium/prf.hpp"

namespace tritium::test {

inline std::vector<token_id> skewed_tokens(std::mt19937_64& rng, std::uint32_t vocab, std::size_t n,
                                           double exponent) {
  std::uniform_real_distribution<double> unif(0.0, 1.0);
  std::vector<token_id> tokens(n);
  for (auto& t : tokens) t = static_cast<token_id>(vocab * std::pow(unif(rng), exponent));
  return tokens;
}

}  // namespace tritium::test
