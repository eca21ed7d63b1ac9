// Sampling completions from a language_model, with or without the watermark: temperature and
// nucleus (top-p) shaping of the model's distribution, then a draw through the KGW stream. Shared by
// `tritium generate` and the demo.
#pragma once

#include <memory>
#include <span>
#include <vector>

#include "tritium/kgw_stream.hpp"
#include "tritium/language_model.hpp"

namespace tritium {

class next_token_sampler {
 public:
  /// `valid_ids`: ids at or above it (a model wider than its tokenizer) are never drawn; 0 = all.
  next_token_sampler(const language_model& lm, std::shared_ptr<const kgw> scheme, bool no_watermark,
                     double temperature, double top_p, std::uint32_t valid_ids = 0);

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
  std::vector<double> probs_;
  std::vector<std::uint32_t> order_;
  sampling_scratch scratch_;
};

}  // namespace tritium
