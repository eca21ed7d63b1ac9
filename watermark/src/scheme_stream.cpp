#include "tritium/scheme_stream.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "tritium/error.hpp"

namespace tritium {

key_schemes::key_schemes(const key& k)
    : names(k.params().schemes), vocab_size(k.params().vocab_size), context_width(k.params().context_width),
      key_id(k.id()) {
  if (k.params().names(scheme_kind::kgw)) kgw_scheme = std::make_shared<const kgw>(k);
  if (k.params().names(scheme_kind::gumbel)) gumbel_scheme = std::make_shared<const gumbel>(k);
  if (k.params().names(scheme_kind::unigram)) unigram_scheme = std::make_shared<const unigram>(k);
}

scheme_stream::scheme_stream(std::shared_ptr<const key_schemes> schemes, scheme_kind kind, stream_options options)
    : schemes_(std::move(schemes)), kind_(kind), options_(options), rng_(options.seed) {
  if (!schemes_) throw error(errc::invalid_argument, "stream: expected a key's schemes, got null");
  if ((schemes_->names & scheme_bit(kind)) == 0) {
    throw error(errc::mismatch, std::string("stream: the key ") + schemes_->key_id.substr(0, 16) + " names the scheme(s) " +
                                    scheme_list_text(schemes_->names) + " (params.schemes), not " + scheme_name(kind) +
                                    "; make a key with `tritium keygen --scheme " + scheme_name(kind) + "`");
  }
  if (kind_ == scheme_kind::kgw) kgw_.emplace(schemes_->kgw_scheme, options);
  history_.reserve(schemes_->context_width);
}

std::span<const token_id> scheme_stream::window() const noexcept { return history_; }

void scheme_stream::begin(std::span<const token_id> prompt_tail) {
  if (kgw_) return kgw_->begin(prompt_tail);
  reset();
  for (const token_id t : prompt_tail) accept(t);
  used_windows_.clear();  // the prompt's windows were not chosen by this sequence
}

void scheme_stream::accept(token_id t) {
  if (kgw_) return kgw_->accept(t);
  if (t < 0 || static_cast<std::uint32_t>(t) >= schemes_->vocab_size) {
    throw error(errc::out_of_range, "accept: token " + std::to_string(t) + " is outside [0, " +
                                        std::to_string(schemes_->vocab_size) + ")");
  }
  if (kind_ != scheme_kind::gumbel) return;  // Unigram has no context
  if (history_.size() == schemes_->context_width) {
    if (options_.mask_repeated_contexts) used_windows_.insert(history_);
    history_.erase(history_.begin());
  }
  history_.push_back(t);
}

void scheme_stream::reset() noexcept {
  if (kgw_) return kgw_->reset();
  history_.clear();
  used_windows_.clear();
}

bool scheme_stream::active() const {
  switch (kind_) {
    case scheme_kind::kgw: return kgw_->active();
    case scheme_kind::unigram: return true;
    case scheme_kind::gumbel:
      return history_.size() == schemes_->context_width &&
             !(options_.mask_repeated_contexts && used_windows_.count(history_) != 0);
  }
  return false;
}

void scheme_stream::bias_dense(std::span<float> logits) const {
  switch (kind_) {
    case scheme_kind::kgw: return kgw_->bias_dense(logits);
    case scheme_kind::unigram: return schemes_->unigram_scheme->bias_dense(logits);
    case scheme_kind::gumbel: break;
  }
  throw error(errc::usage, "bias: Gumbel chooses the token itself; call sample or sample_candidates");
}

void scheme_stream::bias_sparse(std::span<const token_id> ids, std::span<float> logits) const {
  switch (kind_) {
    case scheme_kind::kgw: return kgw_->bias_sparse(ids, logits);
    case scheme_kind::unigram: return schemes_->unigram_scheme->bias_sparse(ids, logits);
    case scheme_kind::gumbel: break;
  }
  throw error(errc::usage, "bias: Gumbel chooses the token itself; call sample or sample_candidates");
}

token_id scheme_stream::draw(std::span<const float> logits) { return kgw::sample_plain(logits, rng_, scratch_); }

namespace {

/// softmax(logits) relative to the largest logit, as non-normalised weights (what Gumbel's choice reads).
void softmax_weights(std::span<const float> logits, std::vector<float>& out) {
  out.resize(logits.size());
  float top = -std::numeric_limits<float>::infinity();
  for (const float x : logits) top = std::max(top, x);
  if (!std::isfinite(top)) throw error(errc::invalid_argument, "sample: expected a finite largest logit");
  for (std::size_t i = 0; i < logits.size(); ++i) out[i] = std::exp(logits[i] - top);
}

}  // namespace

token_id scheme_stream::sample(std::span<const float> logits) {
  if (logits.size() != schemes_->vocab_size) {
    throw error(errc::mismatch, "sample: expected a row of V = " + std::to_string(schemes_->vocab_size) +
                                    " logits, got " + std::to_string(logits.size()));
  }
  switch (kind_) {
    case scheme_kind::kgw: return kgw_->sample(logits);
    case scheme_kind::unigram:
      work_.assign(logits.begin(), logits.end());
      schemes_->unigram_scheme->bias_dense(work_);
      return draw(work_);
    case scheme_kind::gumbel:
      if (!active()) return draw(logits);
      softmax_weights(logits, work_);
      return schemes_->gumbel_scheme->select(window(), work_);
  }
  return 0;
}

token_id scheme_stream::sample_candidates(std::span<const token_id> ids, std::span<const float> logits) {
  if (ids.size() != logits.size() || ids.empty()) {
    throw error(errc::invalid_argument, "sample_candidates: expected as many logits as ids, at least one");
  }
  if (kind_ == scheme_kind::gumbel && active()) {
    softmax_weights(logits, work_);
    return schemes_->gumbel_scheme->select_candidates(window(), ids, work_);
  }
  for (const token_id t : ids) {
    if (t < 0 || static_cast<std::uint32_t>(t) >= schemes_->vocab_size) {
      throw error(errc::out_of_range, "sample_candidates: id " + std::to_string(t) + " is outside [0, " +
                                          std::to_string(schemes_->vocab_size) + ")");
    }
  }
  work_.assign(logits.begin(), logits.end());
  if (kind_ == scheme_kind::kgw) kgw_->bias_sparse(ids, work_);  // a no-op when the step is inactive
  if (kind_ == scheme_kind::unigram) schemes_->unigram_scheme->bias_sparse(ids, work_);
  sampling_rng& r = kgw_ ? kgw_->rng() : rng_;
  return ids[static_cast<std::size_t>(kgw::sample_plain(work_, r, scratch_))];
}

void scheme_stream::set_account(const account_code* code) {
  if (!kgw_) {
    if (code == nullptr) return;
    throw error(errc::mismatch, std::string("account: account tracing marks through KGW, not ") + scheme_name(kind_));
  }
  kgw_->set_account(code);
}

sampling_rng& scheme_stream::rng() noexcept { return kgw_ ? kgw_->rng() : rng_; }

}  // namespace tritium
