// tritium/hf_kgw_detect.hpp — detection of KGW as transformers and TGI run it, with a valid p-value.
//
// What is scored is what transformers' `WatermarkDetector` scores (n-grams of width
// n = context_width + 1 − [selfhash]; the first n − 1 tokens have no full context; a leading BOS is
// stripped), but the statistics are tritium's (papers/hf-kgw.md §5), not transformers':
//   - deduplication on (generator seed, token): two such tuples have the same green verdict, so
//     each is scored once (transformers' `ignore_repeated_ngrams` is a no-op, notes/schemes.md §2.3);
//   - under H0 (the text does not depend on the green lists) the green lists of distinct seeds are
//     independent uniform random G-subsets of the V tokens, so the green count of the k distinct tokens
//     of one seed is Hypergeometric(V, G, k) and the total S is a sum of independent hypergeometric
//     counts: a Poisson-binomial variable (Vatutin & Mikhailov 1982) of mean T·γ', γ' = G/V;
//   - Hoeffding (1956, Theorem 4): P(S ≥ s) ≤ P(Binomial(T, γ') ≥ s) for s ≥ T·γ' + 1. tritium
//     reports that binomial tail (`p_is_bound`), and p = 1 below T·γ' + 1, where the bound does not
//     apply (no evidence there in any case).
// transformers' own p-value ½·e^(−2z²/π) understates p in the tail and reaches 0 near z ≈ 7.6; it is
// not used.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "tritium/detect.hpp"
#include "tritium/hf_kgw.hpp"

namespace tritium {

struct hf_kgw_detect_options {
  double alpha = default_alpha;
  /// Strip this token when it opens the text (transformers strips model_config.bos_token_id).
  std::optional<token_id> bos;
  bool want_marks = false;  ///< fill `detection::marks`, one per token (after any stripped BOS)
};

/// Scores one document. Throws errc::out_of_range naming the index of a token outside [0, V).
detection hf_kgw_detect(const hf_kgw& scheme, std::span<const token_id> tokens,
                        const hf_kgw_detect_options& options = {});

/// ln P(S ≥ s) for S the sum of T independent Bernoulli-like hypergeometric counts of mean T·γ', as
/// bounded above: ln P(Binomial(T, γ') ≥ s) when s ≥ T·γ' + 1, else 0.
double hf_kgw_p_bound_ln(std::uint64_t scored, std::uint64_t green, double gamma_prime);

}  // namespace tritium
