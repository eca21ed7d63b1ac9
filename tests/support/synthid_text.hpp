// Test support: text from a synthetic model (fresh Gaussian logits each step, N(0, 2), over `vocab`
// ids), reweighted by transformers' SynthID processor when `marked`, then drawn by softmax. The
// generator and the normal distribution are the caller's, so that successive texts continue one
// random stream.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <random>
#include <vector>

#include "tritium/hf_synthid.hpp"

namespace tritium::test {

inline std::vector<token_id> synthid_text(const hf_synthid& scheme, bool marked, std::size_t vocab, std::size_t length,
                                          std::mt19937_64& rng, std::normal_distribution<float>& normal) {
  hf_synthid_state state(scheme);
  std::vector<float> scores(vocab);
  std::vector<double> weights(vocab);
  std::vector<token_id> text;
  token_id last = 1;
  while (text.size() < length) {
    for (auto& s : scores) s = normal(rng);
    if (marked) state.apply(last, scores);
    const float top = *std::max_element(scores.begin(), scores.end());
    for (std::size_t v = 0; v < vocab; ++v) weights[v] = std::exp(static_cast<double>(scores[v] - top));
    std::discrete_distribution<int> draw(weights.begin(), weights.end());
    last = draw(rng);
    text.push_back(last);
  }
  return text;
}

}  // namespace tritium::test
