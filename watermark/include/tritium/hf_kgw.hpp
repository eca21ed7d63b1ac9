// tritium/hf_kgw.hpp — KGW exactly as Hugging Face transformers and TGI seed it.
//
// transformers' `WatermarkLogitsProcessor` (configured by `WatermarkingConfig`) and TGI's watermark
// run the original KGW design (Kirchenbauer et al., ICML 2023) on PyTorch's CPU generator: the green
// list after a context is the first G = int(V · greenlist_ratio) entries of `randperm(V)` once the
// generator is seeded from the context. tritium reproduces that seeding bit for bit
// (notes/schemes.md §§2–3; golden vectors from real torch in fixtures/kat/torch_cpu_v1.json; spec
// papers/hf-kgw.md), so it marks the tokens transformers marks and tests text transformers marked:
//   - lefthash: seed = hashing_key · x_{t−1} (a Python integer) mod (2^64 − 1);
//   - selfhash: a_i = T[x_i mod 1,000,003] + 1 over the last `context_width` tokens, the candidate
//     last, b = its own a; seed = the signed minimum of the wrapped int64 products hashing_key·a_i·b,
//     mod (2^64 − 1) as Python computes it; T = randperm(1,000,003) seeded with hashing_key;
// and manual_seed keeps the low 32 bits of the seed. TGI is lefthash with hashing_key 15,485,863,
// greenlist_ratio γ (default 0.5) and V = the logits width.
// Only the CPU generator is reproduced: a deployment that watermarks on a GPU uses CUDA's generator and
// other green lists. The hashing key of these schemes is public by default; it is a seed, not a secret.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "tritium/prf.hpp"

namespace tritium {

enum class hf_seeding : std::uint8_t { lefthash = 0, selfhash = 1 };

/// The `WatermarkingConfig` fields (transformers' defaults) and the vocabulary size they act on.
struct hf_kgw_params {
  std::uint32_t vocab_size = 0;      ///< model_config.vocab_size (TGI: the logits width)
  double greenlist_ratio = 0.25;     ///< in (0, 1)
  float bias = 2.0f;                 ///< δ, added to green logits in float32 as torch does
  std::uint64_t hashing_key = 15485863;  ///< in [0, 2^63): torch multiplies it as an int64
  hf_seeding seeding = hf_seeding::lefthash;
  std::uint32_t context_width = 1;   ///< tokens the seed reads (lefthash uses only the last)

  /// TGI's watermark: lefthash, key 15,485,863, V = the logits width (notes/schemes.md §3).
  static hf_kgw_params tgi(std::uint32_t logits_width, double gamma = 0.5, float delta = 2.0f);
};

/// Selfhash candidates transformers tries, highest score first (its `_score_rejection_sampling`).
inline constexpr std::uint32_t hf_selfhash_candidates = 40;
/// Size of the selfhash table T.
inline constexpr std::uint32_t hf_selfhash_table_size = 1'000'003;

/// One configuration. Immutable and thread-safe once built; building a selfhash scheme draws T
/// (1,000,003 entries, a few milliseconds). Throws errc::invalid_argument on a bad parameter.
class hf_kgw {
 public:
  explicit hf_kgw(const hf_kgw_params& params);

  const hf_kgw_params& params() const noexcept { return params_; }
  std::uint32_t vocab_size() const noexcept { return params_.vocab_size; }
  /// G = int(V · greenlist_ratio), truncated as Python's int() does.
  std::uint32_t greenlist_size() const noexcept { return greenlist_size_; }
  /// Tokens a seed reads: context_width, the candidate included for selfhash.
  std::uint32_t seed_width() const noexcept { return params_.context_width; }

  /// The value transformers gives manual_seed for this window (the last `seed_width()` tokens it
  /// reads, oldest first; for selfhash the candidate is the last). Tokens must be ≥ 0.
  std::uint64_t seed(std::span<const token_id> window) const noexcept;
  /// What the generator keeps of it.
  static std::uint32_t seed32(std::uint64_t seed) noexcept { return static_cast<std::uint32_t>(seed); }

  /// The green list for a generator seed, in randperm order. `scratch` holds V entries (any
  /// contents); `out` holds greenlist_size() entries and may be scratch's first ones.
  void green_list(std::uint32_t seed32, std::span<std::int32_t> scratch,
                  std::span<std::int32_t> out) const noexcept;
  /// Whether v is among the first G entries of randperm(V) under this seed, without the permutation:
  /// it follows v's position through the first G Fisher–Yates steps (at most G draws, no memory).
  bool is_green(std::uint32_t seed32, token_id v) const noexcept;
  /// is_green for several tokens under one seed in one walk (seeding the generator, 624 words, costs
  /// as much as a few hundred steps). green[i] receives the verdict for tokens[i]; sizes must match
  /// (errc::invalid_argument), tokens lie in [0, V) (errc::out_of_range, naming the index).
  void are_green(std::uint32_t seed32, std::span<const token_id> tokens, std::span<std::uint8_t> green) const;

  /// The processor on one logits row of V floats: `history` is the sequence so far (prompt and
  /// generated tokens). Returns false, leaving the row alone, when history is shorter than
  /// context_width (transformers skips the step). lefthash adds bias to the green list; selfhash
  /// adds it to those of the 40 highest logits (ties: lower id first) that are green under their
  /// own seed. `scratch` holds V entries.
  bool bias_dense(std::span<const token_id> history, std::span<float> logits,
                  std::span<std::int32_t> scratch) const;
  /// The same choice over a candidate list (a chain's row after top-k/top-p, or any subset of the
  /// vocabulary): adds bias to logits[i] where ids[i] is one transformers would bias on the full row,
  /// taking the candidates for the row (selfhash: the 40 highest among them). ids lie in [0, V) and are
  /// distinct; sizes must match. Returns false, as bias_dense does, when history is too short. Cost: one
  /// walk of the green list's draws (lefthash), no V-sized array.
  bool bias_candidates(std::span<const token_id> history, std::span<const token_id> ids,
                       std::span<float> logits) const;

 private:
  hf_kgw_params params_;
  std::uint32_t greenlist_size_ = 0;
  std::vector<std::uint64_t> magics_;  ///< randperm's first G divisors' fast-modulo magics (torch_cpu_rng.hpp)
  std::vector<std::int32_t> table_;  ///< selfhash: T = randperm(1,000,003) seeded with hashing_key
};

}  // namespace tritium
