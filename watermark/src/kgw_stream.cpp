#include "tritium/kgw_stream.hpp"

#include <algorithm>
#include <string>

#include "tritium/error.hpp"

namespace tritium {

kgw_stream::kgw_stream(std::shared_ptr<const kgw> scheme, stream_options options)
    : scheme_(std::move(scheme)), options_(options), rng_(options.seed) {
  if (!scheme_) throw error(errc::invalid_argument, "stream: expected a scheme, got null");
  // A stream embeds KGW: a key that names other schemes only must not be marked with it quietly.
  if (!scheme_->params().names(scheme_kind::kgw)) {
    throw error(errc::mismatch, "KGW embedding: the key " + scheme_->key_id().substr(0, 16) + " names the scheme(s) " +
                                    scheme_list_text(scheme_->params().schemes) +
                                    " (params.schemes), not kgw; embed it with the library's scheme classes, "
                                    "or make a key with `tritium keygen --scheme kgw`");
  }
  keep_ = scheme_->context_width();
  if (scheme_->trace() != nullptr) {
    keep_ = std::max<std::size_t>(keep_, scheme_->trace()->params().position_width);
  }
  history_.reserve(keep_);
}

std::span<const token_id> kgw_stream::last(std::size_t n) const noexcept {
  const std::size_t m = std::min(n, history_.size());
  return std::span<const token_id>(history_).subspan(history_.size() - m, m);
}

std::span<const token_id> kgw_stream::window() const noexcept {
  return last(scheme_->context_width());
}

void kgw_stream::begin(std::span<const token_id> prompt_tail) {
  reset();
  const std::size_t skip = prompt_tail.size() > keep_ ? prompt_tail.size() - keep_ : 0;
  for (std::size_t i = skip; i < prompt_tail.size(); ++i) {
    const token_id t = prompt_tail[i];
    if (t < 0 || static_cast<std::uint32_t>(t) >= scheme_->vocab_size()) {
      throw error(errc::out_of_range, "prompt token " + std::to_string(i) + ": expected 0 <= id < " +
                                          std::to_string(scheme_->vocab_size()) + ", got " +
                                          std::to_string(t));
    }
    history_.push_back(t);
  }
}

void kgw_stream::accept(token_id t) {
  if (t < 0 || static_cast<std::uint32_t>(t) >= scheme_->vocab_size()) {
    throw error(errc::out_of_range, "accepted token: expected 0 <= id < " +
                                        std::to_string(scheme_->vocab_size()) + ", got " +
                                        std::to_string(t));
  }
  if (options_.mask_repeated_contexts && history_.size() >= scheme_->context_width()) {
    used_contexts_.insert(window_fingerprint());
  }
  if (history_.size() == keep_) history_.erase(history_.begin());
  history_.push_back(t);
}

void kgw_stream::reset() noexcept {
  history_.clear();
  used_contexts_.clear();
}

void kgw_stream::set_account(const account_code* code) {
  if (code != nullptr) scheme_->check_account_code(*code);
  account_ = code;
}

std::uint64_t kgw_stream::window_fingerprint() const noexcept {
  // A 64-bit fingerprint of the window; a collision can only leave one step unbiased.
  std::uint64_t f = 0x243f6a8885a308d3ULL;
  for (token_id t : window()) {
    f = (f ^ static_cast<std::uint32_t>(t)) * 0x100000001b3ULL;
    f ^= f >> 29;
  }
  return f;
}

bool kgw_stream::active() const {
  if (history_.size() < scheme_->context_width()) return false;
  return !(options_.mask_repeated_contexts && used_contexts_.count(window_fingerprint()) != 0);
}

bool kgw_stream::account_active() const {
  return account_ != nullptr && history_.size() >= scheme_->trace()->params().position_width &&
         active();
}

void kgw_stream::bias_dense(std::span<float> logits) const {
  // Checked even when inactive, so that a wrong logits width fails on the first step, not the h-th.
  if (logits.size() != scheme_->vocab_size()) {
    throw error(errc::mismatch, "logits row: expected the key's vocabulary size " +
                                    std::to_string(scheme_->vocab_size()) + ", got " +
                                    std::to_string(logits.size()));
  }
  if (account_active()) {
    const std::size_t h_p = scheme_->trace()->params().position_width;
    scheme_->bias_dense(window(), logits, scheme_->account_step_unchecked(last(h_p), *account_));
  } else if (active()) {
    scheme_->bias_dense(window(), logits);
  }
}

void kgw_stream::bias_sparse(std::span<const token_id> ids, std::span<float> logits) const {
  if (ids.size() != logits.size()) {
    throw error(errc::invalid_argument, "sparse bias: expected as many logits as ids (" +
                                            std::to_string(ids.size()) + "), got " +
                                            std::to_string(logits.size()));
  }
  if (account_active()) {
    const std::size_t h_p = scheme_->trace()->params().position_width;
    scheme_->bias_sparse(window(), ids, logits,
                         scheme_->account_step_unchecked(last(h_p), *account_));
  } else if (active()) {
    scheme_->bias_sparse(window(), ids, logits);
  }
}

token_id kgw_stream::sample(std::span<const float> logits) {
  if (account_active()) {
    if (logits.size() != scheme_->vocab_size()) {
      throw error(errc::mismatch, "logits row: expected the key's vocabulary size " +
                                      std::to_string(scheme_->vocab_size()) + ", got " +
                                      std::to_string(logits.size()));
    }
    const std::size_t h_p = scheme_->trace()->params().position_width;
    const account_step step = scheme_->account_step_unchecked(last(h_p), *account_);
    kgw::prepare(logits, scratch_);
    return scheme_->draw_prepared(window(), rng_, scratch_, &step);
  }
  if (active()) return scheme_->sample(window(), logits, rng_, scratch_);
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
  if (account_active()) {
    const std::size_t h_p = scheme_->trace()->params().position_width;
    const account_step step = scheme_->account_step_unchecked(last(h_p), *account_);
    return scheme_->draw_prepared(window(), rng_, scratch_, &step);
  }
  if (active()) return scheme_->draw_prepared(window(), rng_, scratch_);
  return kgw::draw_plain_prepared(rng_, scratch_);
}

}  // namespace tritium
