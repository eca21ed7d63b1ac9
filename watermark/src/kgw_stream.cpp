#include "tritium/kgw_stream.hpp"

#include <string>

#include "tritium/error.hpp"

namespace tritium {

kgw_stream::kgw_stream(std::shared_ptr<const kgw> scheme, stream_options options)
    : scheme_(std::move(scheme)), options_(options), rng_(options.seed) {
  if (!scheme_) throw error(errc::invalid_argument, "stream: expected a scheme, got null");
  window_.reserve(scheme_->context_width());
}

void kgw_stream::begin(std::span<const token_id> prompt_tail) {
  reset();
  const std::size_t h = scheme_->context_width();
  const std::size_t skip = prompt_tail.size() > h ? prompt_tail.size() - h : 0;
  for (std::size_t i = skip; i < prompt_tail.size(); ++i) {
    const token_id t = prompt_tail[i];
    if (t < 0 || static_cast<std::uint32_t>(t) >= scheme_->vocab_size()) {
      throw error(errc::out_of_range, "prompt token " + std::to_string(i) + ": expected 0 <= id < " +
                                          std::to_string(scheme_->vocab_size()) + ", got " +
                                          std::to_string(t));
    }
    window_.push_back(t);
  }
}

void kgw_stream::accept(token_id t) {
  if (t < 0 || static_cast<std::uint32_t>(t) >= scheme_->vocab_size()) {
    throw error(errc::out_of_range, "accepted token: expected 0 <= id < " +
                                        std::to_string(scheme_->vocab_size()) + ", got " +
                                        std::to_string(t));
  }
  const std::size_t h = scheme_->context_width();
  if (options_.mask_repeated_contexts && window_.size() == h) {
    used_contexts_.insert(window_fingerprint());
  }
  if (window_.size() == h) window_.erase(window_.begin());
  window_.push_back(t);
}

void kgw_stream::reset() noexcept {
  window_.clear();
  used_contexts_.clear();
}

std::uint64_t kgw_stream::window_fingerprint() const noexcept {
  // A 64-bit fingerprint of the window; a collision can only leave one step unbiased.
  std::uint64_t f = 0x243f6a8885a308d3ULL;
  for (token_id t : window_) {
    f = (f ^ static_cast<std::uint32_t>(t)) * 0x100000001b3ULL;
    f ^= f >> 29;
  }
  return f;
}

bool kgw_stream::active() const {
  if (window_.size() < scheme_->context_width()) return false;
  return !(options_.mask_repeated_contexts && used_contexts_.count(window_fingerprint()) != 0);
}

void kgw_stream::bias_dense(std::span<float> logits) const {
  // Checked even when inactive, so that a wrong logits width fails on the first step, not the h-th.
  if (logits.size() != scheme_->vocab_size()) {
    throw error(errc::mismatch, "logits row: expected the key's vocabulary size " +
                                    std::to_string(scheme_->vocab_size()) + ", got " +
                                    std::to_string(logits.size()));
  }
  if (active()) scheme_->bias_dense(window_, logits);
}

void kgw_stream::bias_sparse(std::span<const token_id> ids, std::span<float> logits) const {
  if (ids.size() != logits.size()) {
    throw error(errc::invalid_argument, "sparse bias: expected as many logits as ids (" +
                                            std::to_string(ids.size()) + "), got " +
                                            std::to_string(logits.size()));
  }
  if (active()) scheme_->bias_sparse(window_, ids, logits);
}

token_id kgw_stream::sample(std::span<const float> logits) {
  if (active()) return scheme_->sample(window_, logits, rng_, scratch_);
  if (logits.size() != scheme_->vocab_size()) {
    throw error(errc::mismatch, "logits row: expected the key's vocabulary size " +
                                    std::to_string(scheme_->vocab_size()) + ", got " +
                                    std::to_string(logits.size()));
  }
  return kgw::sample_plain(logits, rng_, scratch_);
}

}  // namespace tritium

namespace tritium {

token_id kgw_stream::sample_probabilities(std::span<const double> probs) {
  if (probs.size() != scheme_->vocab_size()) {
    throw error(errc::mismatch, "probabilities: expected the key's vocabulary size " +
                                    std::to_string(scheme_->vocab_size()) + ", got " +
                                    std::to_string(probs.size()));
  }
  kgw::prepare_probabilities(probs, scratch_);
  if (active()) return scheme_->draw_prepared(window_, rng_, scratch_);
  return kgw::draw_plain_prepared(rng_, scratch_);
}

}  // namespace tritium
