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
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "tritium/detect.hpp"
#include "tritium/hf_kgw.hpp"

namespace tritium {

/// Green lists already drawn, kept across the documents of a scan. Drawing one costs G steps of the
/// torch generator (tens of microseconds at V = 151,936), and a corpus meets the same seeds again and
/// again (lefthash: one seed per previous token, and text repeats its tokens), so a scan that keeps
/// them pays once per seed instead of once per document. A seed is kept from its second meeting on (a
/// seed met once is tested by a walk, which is cheaper than drawing the list); when the cache is full
/// the least recently used is dropped (CLOCK). Not thread-safe: one per worker.
class hf_kgw_green_cache {
 public:
  /// At most `max_bytes` of green lists (V bits each); at least one is kept.
  hf_kgw_green_cache(const hf_kgw& scheme, std::size_t max_bytes);

  /// The green lists of seed32 as V bits, when kept; null otherwise. Draws and keeps it when the seed
  /// has been met before.
  const std::uint64_t* find_or_draw(std::uint32_t seed32);

  std::uint64_t hits() const noexcept { return hits_; }
  std::uint64_t draws() const noexcept { return draws_; }
  std::size_t capacity() const noexcept { return capacity_; }

 private:
  const hf_kgw& scheme_;
  std::size_t words_;     ///< 64-bit words per list
  std::size_t capacity_;  ///< lists kept at most
  std::vector<std::uint64_t> bits_;           ///< capacity_ lists of words_ words
  std::vector<std::uint32_t> slot_seed_;
  std::vector<std::uint8_t> referenced_;
  std::unordered_map<std::uint32_t, std::uint32_t> slot_of_;
  std::unordered_set<std::uint32_t> met_once_;
  std::size_t used_ = 0, hand_ = 0;
  std::vector<std::int32_t> scratch_, green_;
  std::uint64_t hits_ = 0, draws_ = 0;
};

struct hf_kgw_detect_options {
  double alpha = default_alpha;
  /// Strip this token when it opens the text (transformers strips model_config.bos_token_id).
  std::optional<token_id> bos;
  bool want_marks = false;  ///< fill `detection::marks`, one per token (after any stripped BOS)
  /// Green lists kept across documents (same scheme); null: each document draws its own. Never changes
  /// a result, only its cost.
  hf_kgw_green_cache* cache = nullptr;
};

/// Scores one document. Throws errc::out_of_range naming the index of a token outside [0, V).
detection hf_kgw_detect(const hf_kgw& scheme, std::span<const token_id> tokens,
                        const hf_kgw_detect_options& options = {});

namespace detail {
struct hf_kgw_tuple {
  std::uint32_t seed32;
  token_id token;
  std::uint32_t first_position;  ///< where it first occurs in its document (marks)
};
}  // namespace detail

/// One test over many documents (`detect --hf-config --pool`): the (seed, token) tuples of every
/// document, deduplicated across all of them, in one binomial bound. §5's null holds for any set of
/// distinct tuples, wherever they were read, so the bound is the one a single document gets. Short
/// texts that are each too short to decide can decide together; a tuple repeated across documents
/// (boilerplate, a quoted sentence) counts once. Documents may be added in any order: the result is
/// the same.
class hf_kgw_pool {
 public:
  /// options.want_marks must be false (there are no per-token marks) and options.cache null (each
  /// seed is met once, after deduplication, so a kept list would never be read): errc::invalid_argument.
  hf_kgw_pool(const hf_kgw& scheme, const hf_kgw_detect_options& options);
  ~hf_kgw_pool();
  hf_kgw_pool(const hf_kgw_pool&) = delete;
  hf_kgw_pool& operator=(const hf_kgw_pool&) = delete;

  /// Adds one document (its BOS stripped as options.bos says). Throws errc::out_of_range naming the
  /// index of a token outside [0, V); the pool is then unchanged.
  void add(std::span<const token_id> tokens);
  /// The pooled test: tokens summed over the documents, scored = distinct tuples.
  detection result();
  std::uint64_t documents() const noexcept { return documents_; }

 private:
  void compact();  ///< sorts and deduplicates tuples_
  const hf_kgw& scheme_;
  hf_kgw_detect_options options_;
  std::vector<detail::hf_kgw_tuple> tuples_;
  std::size_t compacted_ = 0;
  std::uint64_t documents_ = 0, tokens_ = 0;
};

/// ln P(S ≥ s) for S the sum of T independent Bernoulli-like hypergeometric counts of mean T·γ', as
/// bounded above: ln P(Binomial(T, γ') ≥ s) when s ≥ T·γ' + 1, else 0.
double hf_kgw_p_bound_ln(std::uint64_t scored, std::uint64_t green, double gamma_prime);

}  // namespace tritium
