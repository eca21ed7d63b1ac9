// Sampling completions from a language_model, with or without the watermark: temperature and
// nucleus (top-p) shaping of the model's distribution, then a draw through the KGW stream. Shared by
// `tritium generate` and the demo.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <span>
#include <vector>

#include "tritium/kgw_stream.hpp"
#include "tritium/language_model.hpp"
#include "tritium/scheme_stream.hpp"

namespace tritium {

class next_token_sampler {
 public:
  /// `valid_ids`: ids at or above it (a model wider than its tokenizer) are never drawn; 0 = all.
  next_token_sampler(const language_model& lm, std::shared_ptr<const kgw> scheme, bool no_watermark,
                     double temperature, double top_p, std::uint32_t valid_ids = 0);

  /// Marks every watermarked completion with an account (papers/trace-v1.md; nullptr: KGW only). Not
  /// owned: the caller keeps `code` alive while this sampler or any copy of it generates. Throws as
  /// kgw_stream::set_account (errc::mismatch for a key without trace parameters).
  void set_account(const account_code* code);

  /// Marks with `kind`, one of the schemes `schemes` names, instead of the KGW scheme given to the
  /// constructor: Unigram biases the shaped distribution; Gumbel chooses the token from it, with
  /// repeated windows sampled plainly (scheme_stream.hpp). KGW here is the constructor's KGW. Throws
  /// errc::mismatch for a scheme the key does not name, errc::invalid_argument for an unwatermarked
  /// sampler or one with an account (accounts ride on KGW).
  void use_scheme(std::shared_ptr<const key_schemes> schemes, scheme_kind kind);

  /// `count` new tokens after `prompt`, reproducible from `seed`.
  std::vector<token_id> generate(std::span<const token_id> prompt, std::uint32_t count, std::uint64_t seed);

 private:
  void shape();

  const language_model& lm_;
  std::shared_ptr<const kgw> scheme_;
  bool watermark_;
  double temperature_;
  double top_p_;
  std::uint32_t valid_ids_;
  const account_code* account_ = nullptr;  ///< not owned (see set_account)
  std::shared_ptr<const key_schemes> schemes_;  ///< with use_scheme: Gumbel or Unigram
  scheme_kind kind_ = scheme_kind::kgw;
  std::vector<float> logits_;
  std::vector<double> probs_;
  std::vector<std::uint32_t> order_;
  sampling_scratch scratch_;
};

/// The seed of the `index`-th prompt (from 0) of a run seeded with `seed`: every prompt draws from its
/// own stream, so a completion depends on its prompt, its index and the seed alone — never on which
/// worker drew it or in what order. `generate` and the closed-model radioactivity test share it.
constexpr std::uint64_t prompt_seed(std::uint64_t seed, std::uint64_t index) noexcept {
  return seed * 1000003ULL + index;
}

/// Completions of many prompts on `threads` workers (0: every core, at most max_threads), each worker
/// with its own copy of `sampler`: completion i is `sampler.generate(prompts[i], count,
/// prompt_seed(seed, first_index + i))`, the same for any number of workers. `done(count)` runs on the
/// calling thread as completions finish (tritium/batch_pipeline.hpp: parallel_for).
std::vector<std::vector<token_id>> generate_completions(const next_token_sampler& sampler,
                                                        std::span<const std::vector<token_id>> prompts,
                                                        std::uint32_t count, std::uint64_t seed,
                                                        std::uint64_t first_index, unsigned threads,
                                                        const std::function<void(std::size_t)>& done = {});

}  // namespace tritium
