#include "tritium/sampler.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "tritium/batch_pipeline.hpp"
#include "tritium/error.hpp"
#include "tritium/inputs.hpp"

namespace tritium {

next_token_sampler::next_token_sampler(const language_model& lm, std::shared_ptr<const kgw> scheme,
                                       bool no_watermark, double temperature, double top_p,
                                       std::uint32_t valid_ids)
    : lm_(lm), scheme_(std::move(scheme)), watermark_(!no_watermark && scheme_ != nullptr),
      temperature_(temperature), top_p_(top_p),
      valid_ids_(valid_ids == 0 || valid_ids > lm.vocab_size() ? lm.vocab_size() : valid_ids),
      probs_(lm.vocab_size()) {
  if (!(temperature > 0.0)) throw error(errc::invalid_argument, "temperature: expected > 0");
  if (!(top_p > 0.0 && top_p <= 1.0)) throw error(errc::invalid_argument, "top-p: expected a value in (0, 1]");
}

void next_token_sampler::set_account(const account_code* code) {
  if (code != nullptr) {
    if (kind_ != scheme_kind::kgw) {
      throw error(errc::invalid_argument, std::string("account: accounts are marked through kgw only, not ") +
                                              scheme_name(kind_));
    }
    if (!watermark_) {
      throw error(errc::invalid_argument, "account: expected a watermarked sampler (a key, not --no-watermark)");
    }
    scheme_->check_account_code(*code);  // the stream's checks, once, before any generation
  }
  account_ = code;
}

void next_token_sampler::use_scheme(std::shared_ptr<const key_schemes> schemes, scheme_kind kind) {
  if (!watermark_) throw error(errc::invalid_argument, "scheme: expected a watermarked sampler (a key, not --no-watermark)");
  if (account_ != nullptr && kind != scheme_kind::kgw) {
    throw error(errc::invalid_argument, std::string("scheme ") + scheme_name(kind) + ": accounts are marked through kgw only");
  }
  if (!schemes || (schemes->names & scheme_bit(kind)) == 0) {
    throw error(errc::mismatch, std::string("scheme ") + scheme_name(kind) + ": the key does not name it");
  }
  if (kind == scheme_kind::kgw) {
    schemes_.reset();
    kind_ = kind;
    return;
  }
  schemes_ = std::move(schemes);
  kind_ = kind;
}

void next_token_sampler::shape() {
  // Ids the tokenizer does not have (padding of a wider logits row) can never be drawn.
  std::fill(probs_.begin() + valid_ids_, probs_.end(), 0.0);
  if (temperature_ != 1.0) {
    // p^(1/T) relative to the largest p, so that small temperatures cannot underflow everything.
    const double log_top = std::log(*std::max_element(probs_.begin(), probs_.end()));
    double total = 0.0;
    for (double& p : probs_) {
      p = p > 0.0 ? std::exp((std::log(p) - log_top) / temperature_) : 0.0;
      total += p;
    }
    for (double& p : probs_) p /= total;
  }
  if (top_p_ >= 1.0) return;
  // The nucleus: the fewest most probable tokens whose mass reaches top_p (Holtzman et al. 2020).
  // Tokens below 1e-3 of the maximum are sorted only when the others do not reach top_p.
  const double top = *std::max_element(probs_.begin(), probs_.end());
  for (const double cut : {top * 1e-3, 0.0}) {
    order_.clear();
    for (std::uint32_t v = 0; v < probs_.size(); ++v) {
      if (probs_[v] >= cut) order_.push_back(v);
    }
    std::sort(order_.begin(), order_.end(), [&](std::uint32_t a, std::uint32_t b) {
      return probs_[a] != probs_[b] ? probs_[a] > probs_[b] : a < b;
    });
    double mass = 0.0;
    std::size_t keep = 0;
    while (keep < order_.size() && mass < top_p_) mass += probs_[order_[keep++]];
    if (mass >= top_p_ || cut == 0.0) {
      std::vector<char> kept(probs_.size(), 0);
      for (std::size_t i = 0; i < keep; ++i) kept[order_[i]] = 1;
      for (std::uint32_t v = 0; v < probs_.size(); ++v) {
        if (!kept[v]) probs_[v] = 0.0;
      }
      return;
    }
  }
}

std::vector<token_id> next_token_sampler::generate(std::span<const token_id> prompt, std::uint32_t count,
                                                   std::uint64_t seed) {
  std::vector<token_id> history(prompt.begin(), prompt.end());
  std::vector<token_id> out;
  out.reserve(count);
  std::unique_ptr<kgw_stream> stream;
  sampling_rng rng(seed);
  if (schemes_) {
    // Gumbel or Unigram: the stream takes the shaped distribution as log-probabilities.
    stream_options o;
    o.seed = seed;
    o.mask_repeated_contexts = kind_ == scheme_kind::gumbel;  // a repeated window cannot lock a loop
    scheme_stream other(schemes_, kind_, o);
    other.begin(prompt);
    logits_.resize(probs_.size());
    const std::size_t context = lm_.context_length();
    for (std::uint32_t i = 0; i < count; ++i) {
      const std::size_t from = history.size() > context ? history.size() - context : 0;
      lm_.distribution(std::span<const token_id>(history).subspan(from), probs_);
      shape();
      for (std::size_t v = 0; v < probs_.size(); ++v) {
        logits_[v] = probs_[v] > 0.0 ? static_cast<float>(std::log(probs_[v])) : -std::numeric_limits<float>::infinity();
      }
      const token_id next = other.sample(logits_);
      other.accept(next);
      history.push_back(next);
      out.push_back(next);
    }
    return out;
  }
  if (watermark_) {
    stream_options o;
    o.seed = seed;
    stream = std::make_unique<kgw_stream>(scheme_, o);
    stream->set_account(account_);
    stream->begin(prompt);
  }
  const std::size_t context = lm_.context_length();
  for (std::uint32_t i = 0; i < count; ++i) {
    const std::size_t from = history.size() > context ? history.size() - context : 0;
    lm_.distribution(std::span<const token_id>(history).subspan(from), probs_);
    shape();
    token_id next;
    if (stream) {
      next = stream->sample_probabilities(probs_);
      stream->accept(next);
    } else {
      kgw::prepare_probabilities(probs_, scratch_);
      next = kgw::draw_plain_prepared(rng, scratch_);
    }
    history.push_back(next);
    out.push_back(next);
  }
  return out;
}

std::vector<std::vector<token_id>> generate_completions(const next_token_sampler& sampler,
                                                        std::span<const std::vector<token_id>> prompts,
                                                        std::uint32_t count, std::uint64_t seed,
                                                        std::uint64_t first_index, unsigned threads,
                                                        const std::function<void(std::size_t)>& done) {
  const unsigned workers = static_cast<unsigned>(
      std::min<std::size_t>(default_threads(threads), std::max<std::size_t>(prompts.size(), 1)));
  // A sampler keeps its shaping buffers between tokens: one per worker.
  std::vector<next_token_sampler> samplers(workers, sampler);
  std::vector<std::vector<token_id>> completions(prompts.size());
  parallel_for(
      workers, prompts.size(),
      [&](std::size_t i, unsigned w) {
        completions[i] = samplers[w].generate(prompts[i], count, prompt_seed(seed, first_index + i));
      },
      done);
  return completions;
}

}  // namespace tritium
