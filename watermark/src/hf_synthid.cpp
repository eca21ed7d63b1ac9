// SynthID-Text as transformers runs it (tritium/hf_synthid.hpp).
#include "tritium/hf_synthid.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "tritium/error.hpp"
#include "tritium/torch_cpu_rng.hpp"

namespace tritium {

hf_synthid::hf_synthid(hf_synthid_params params) : params_(std::move(params)) {
  if (params_.ngram_len < 2 || params_.ngram_len > 64) {
    throw error(errc::invalid_argument, "hf_synthid: ngram_len: expected 2 to 64, got " + std::to_string(params_.ngram_len));
  }
  if (params_.keys.empty() || params_.keys.size() > 1024) {
    throw error(errc::invalid_argument, "hf_synthid: keys: expected 1 to 1024 keys (one per layer)");
  }
  if (params_.sampling_table_size < 2 || params_.sampling_table_size > (1u << 24)) {
    throw error(errc::invalid_argument, "hf_synthid: sampling_table_size: expected 2 to 2^24, got " +
                                            std::to_string(params_.sampling_table_size));
  }
  if (params_.context_history_size < 1) {
    throw error(errc::invalid_argument, "hf_synthid: context_history_size: expected at least 1");
  }
  table_.resize(params_.sampling_table_size);
  torch_cpu::generator gen(params_.sampling_table_seed);
  for (auto& g : table_) g = static_cast<std::uint8_t>(torch_cpu::randint(gen, 0, 2));
}

std::uint64_t hf_synthid::context_hash(std::span<const token_id> context) const noexcept {
  std::uint64_t h = 1;
  for (const token_id t : context) h = hf_synthid_fold(h, static_cast<std::uint64_t>(static_cast<std::int64_t>(t)));
  return h;
}

std::uint8_t hf_synthid::g_value(std::uint64_t token_hash, std::uint32_t layer) const noexcept {
  const auto h = static_cast<std::int64_t>(hf_synthid_fold(token_hash, static_cast<std::uint64_t>(params_.keys[layer])));
  // torch's % on int64 is Python's: the result has the divisor's sign.
  const auto size = static_cast<std::int64_t>(params_.sampling_table_size);
  const std::int64_t index = ((h % size) + size) % size;
  return table_[static_cast<std::size_t>(index)];
}

void hf_synthid::g_values(std::span<const token_id> ngram, std::span<std::uint8_t> out) const noexcept {
  const std::uint64_t token_hash = context_hash(ngram);  // the fold over the whole n-gram
  for (std::uint32_t l = 0; l < depth(); ++l) out[l] = g_value(token_hash, l);
}

void hf_synthid::reweight_dense(std::span<const token_id> context, std::span<float> scores) const {
  const std::size_t vocab = scores.size();
  const std::uint64_t h_context = context_hash(context);
  std::vector<double> probs(vocab);
  const float top = *std::max_element(scores.begin(), scores.end());
  double total = 0.0;
  for (std::size_t v = 0; v < vocab; ++v) total += probs[v] = std::exp(static_cast<double>(scores[v] - top));
  for (auto& p : probs) p /= total;
  const std::uint32_t size = params_.sampling_table_size;
  if ((size & (size - 1)) == 0 && size <= (1u << 16)) {
    // A power-of-two table reads the low bits of (h_v + key_l)·M + 1, which depend only on u_v = h_v mod
    // size (papers/hf-synthid.md §4): every token of one u has the same g-value in every layer, so the
    // tournament runs over the `size` buckets of summed probability, each layer's multiplier
    // (1 + g − mass) is kept per bucket, and each token's probability is scaled by its bucket's product.
    const std::uint32_t mask = size - 1;
    std::vector<double> bucket(size, 0.0), factor(size, 1.0);
    std::vector<std::uint32_t> u(vocab);
    for (std::size_t v = 0; v < vocab; ++v) {
      u[v] = static_cast<std::uint32_t>(hf_synthid_fold(h_context, v)) & mask;
      bucket[u[v]] += probs[v];
    }
    std::vector<std::uint8_t> g(size);
    for (std::uint32_t l = 0; l < depth(); ++l) {
      const auto key = static_cast<std::uint64_t>(params_.keys[l]);
      double mass = 0.0;
      for (std::uint32_t x = 0; x < size; ++x) {
        g[x] = table_[static_cast<std::uint32_t>(hf_synthid_fold(x, key)) & mask];
        mass += bucket[x] * static_cast<double>(g[x]);  // branch-free: g is a coin toss per bucket
      }
      for (std::uint32_t x = 0; x < size; ++x) {
        const double m = 1.0 + static_cast<double>(g[x]) - mass;
        bucket[x] *= m;
        factor[x] *= m;
      }
    }
    for (std::size_t v = 0; v < vocab; ++v) {
      const double p = probs[v] * factor[u[v]];
      scores[v] = p > 0.0 ? static_cast<float>(std::log(p)) : std::numeric_limits<float>::lowest();
    }
    return;
  }
  std::vector<std::uint64_t> token_hash(vocab);
  for (std::size_t v = 0; v < vocab; ++v) token_hash[v] = hf_synthid_fold(h_context, v);
  std::vector<std::uint8_t> g(vocab);
  for (std::uint32_t l = 0; l < depth(); ++l) {
    double mass = 0.0;
    for (std::size_t v = 0; v < vocab; ++v) {
      g[v] = g_value(token_hash[v], l);
      mass += g[v] ? probs[v] : 0.0;
    }
    // The N = 2 tournament (Dathathri et al. 2024, Algorithm 2 with two leaves).
    for (std::size_t v = 0; v < vocab; ++v) probs[v] *= 1.0 + static_cast<double>(g[v]) - mass;
  }
  for (std::size_t v = 0; v < vocab; ++v) {
    scores[v] = probs[v] > 0.0 ? static_cast<float>(std::log(probs[v])) : std::numeric_limits<float>::lowest();
  }
}

hf_synthid_state::hf_synthid_state(const hf_synthid& scheme)
    : scheme_(scheme), context_(scheme.context_size(), 0), history_(scheme.params().context_history_size, 0) {}

bool hf_synthid_state::apply(token_id last_token, std::span<float> scores) {
  if (calls_ > 0) {  // the first call starts from the zero context; later calls shift the last token in
    std::rotate(context_.begin(), context_.begin() + 1, context_.end());
    context_.back() = last_token;
  }
  ++calls_;
  if (scheme_.params().skip_first_ngram_calls && calls_ < scheme_.params().ngram_len) return false;
  const std::uint64_t h = scheme_.context_hash(context_);
  const bool repeated = std::find(history_.begin(), history_.end(), h) != history_.end();
  std::rotate(history_.rbegin(), history_.rbegin() + 1, history_.rend());  // newest first
  history_.front() = h;
  if (repeated) return false;
  scheme_.reweight_dense(context_, scores);
  return true;
}

}  // namespace tritium
