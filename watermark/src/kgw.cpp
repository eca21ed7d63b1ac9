#include "tritium/kgw.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#include "tritium/error.hpp"

#include "bias_kernels.hpp"
#include "context_field.hpp"

namespace tritium {
namespace {

// Tokens handled per keystream chunk: 8192·b/8 bytes (at most 16 KiB) stay in L1 with the logits.
constexpr std::size_t chunk_tokens = 8192;
// Self-hash candidates per call into the batched PRF: 4 KiB of lanes on the stack.
constexpr std::size_t selfhash_slice = 2048;

template <unsigned Bits>
void expand_flags(const std::uint8_t* keystream, std::size_t n_tokens, const std::uint64_t* table,
                  std::uint32_t threshold, std::uint8_t* flags) {
  if constexpr (Bits == 16) {
    for (std::size_t i = 0; i < n_tokens; ++i) {
      const std::uint32_t lane = keystream[2 * i] | static_cast<std::uint32_t>(keystream[2 * i + 1]) << 8;
      flags[i] = lane < threshold ? 1 : 0;
    }
  } else {
    constexpr std::size_t per_byte = 8 / Bits;
    const std::size_t n_bytes = (n_tokens + per_byte - 1) / per_byte;
    std::uint8_t expanded[8];
    for (std::size_t i = 0; i + 1 < n_bytes; ++i) {
      std::memcpy(expanded, &table[keystream[i]], 8);
      std::memcpy(flags + i * per_byte, expanded, per_byte);
    }
    // The last byte may hold lanes past the end of the vocabulary: copy only the real ones.
    std::memcpy(expanded, &table[keystream[n_bytes - 1]], 8);
    std::memcpy(flags + (n_bytes - 1) * per_byte, expanded, n_tokens - (n_bytes - 1) * per_byte);
  }
}

}  // namespace

kgw::kgw(const key& k)
    : params_(k.params()),
      prf_(k),
      trace_(k.trace() != nullptr ? std::make_unique<const trace_prf>(k, *k.trace()) : nullptr),
      key_id_(k.id()),
      account_delta_(k.trace() != nullptr ? static_cast<float>(k.trace()->account_delta) : 0.0f),
      delta_(static_cast<float>(k.params().delta)) {
  params_.validate();
  // Little-endian packing: flag byte j of entry x is the j-th lane (LSB first) of keystream byte x.
  const std::uint32_t bits = params_.gamma_bits;
  for (std::uint32_t x = 0; x < 256; ++x) {
    std::uint64_t packed = 0;
    if (bits <= 8) {
      for (std::uint32_t j = 0; j < 8 / bits; ++j) {
        const std::uint32_t lane = (x >> (j * bits)) & ((1u << bits) - 1);
        if (green_lane(lane)) packed |= std::uint64_t{1} << (8 * j);
      }
    }
    byte_flags_[x] = packed;
  }
}

void kgw::check_window(std::span<const token_id> window) const {
  if (window.size() != params_.context_width) {
    throw error(errc::invalid_argument, "context window: expected h = " +
                                            std::to_string(params_.context_width) +
                                            " tokens, got " + std::to_string(window.size()));
  }
}

void kgw::check_row(std::size_t size, const char* what) const {
  if (size != params_.vocab_size) {
    throw error(errc::mismatch, std::string(what) + ": expected the key's vocabulary size " +
                                    std::to_string(params_.vocab_size) + ", got " +
                                    std::to_string(size));
  }
}

bool kgw::is_green(std::span<const token_id> window, token_id v) const {
  check_window(window);
  if (params_.seeding_scheme == seeding::selfhash) {
    return green_lane(prf_.selfhash_lane(prf_.selfhash_anchor(window, v), v));
  }
  return green_lane(prf_.lane(prf_.context(window), v));
}

void kgw::green_mask(std::span<const token_id> window, std::span<std::uint8_t> out) const {
  check_window(window);
  check_row(out.size(), "green mask");
  const std::size_t vocab = out.size();
  if (params_.seeding_scheme == seeding::selfhash) {
    std::uint16_t lanes[selfhash_slice];
    for (std::size_t start = 0; start < vocab; start += selfhash_slice) {
      const std::size_t n = std::min(selfhash_slice, vocab - start);
      prf_.selfhash_lanes(window, static_cast<token_id>(start), n, lanes);
      const auto t = static_cast<std::uint16_t>(params_.gamma_threshold);  // a local: bytes alias all
      for (std::size_t j = 0; j < n; ++j) out[start + j] = lanes[j] < t ? 1 : 0;
    }
    return;
  }
  const prf_context ctx = prf_.context(window);
  const std::uint32_t bits = params_.gamma_bits;
  alignas(64) std::uint8_t keystream[chunk_tokens * 16 / 8];
  for (std::size_t start = 0; start < vocab; start += chunk_tokens) {
    const std::size_t n = std::min(chunk_tokens, vocab - start);
    const std::size_t blocks = (n * bits + 127) / 128;
    prf_.stream_blocks(ctx, static_cast<std::uint32_t>(start * bits / 128), blocks, keystream);
    std::uint8_t* flags = out.data() + start;
    switch (bits) {
      case 1: expand_flags<1>(keystream, n, byte_flags_, params_.gamma_threshold, flags); break;
      case 2: expand_flags<2>(keystream, n, byte_flags_, params_.gamma_threshold, flags); break;
      case 4: expand_flags<4>(keystream, n, byte_flags_, params_.gamma_threshold, flags); break;
      case 8: expand_flags<8>(keystream, n, byte_flags_, params_.gamma_threshold, flags); break;
      default: expand_flags<16>(keystream, n, byte_flags_, params_.gamma_threshold, flags); break;
    }
  }
}

void kgw::require_trace() const {
  if (!trace_) {
    throw error(errc::mismatch, "account: the key " + key_id_.substr(0, 16) +
                                    " has no trace parameters (params.trace), so it cannot mark "
                                    "accounts; make a key with `tritium keygen --trace`");
  }
}

void kgw::check_account_code(const account_code& code) const {
  require_trace();
  const trace_params& t = trace_->params();
  if (code.symbols.size() != t.code_length) {
    throw error(errc::invalid_argument,
                "account code: expected L = " + std::to_string(t.code_length) +
                    " symbols (derived with this key's trace parameters), got " +
                    std::to_string(code.symbols.size()));
  }
  for (std::size_t j = 0; j < code.symbols.size(); ++j) {
    if (code.symbols[j] >= (1u << t.symbol_bits)) {
      throw error(errc::invalid_argument,
                  "account code: symbol " + std::to_string(j) + ": expected a value below " +
                      std::to_string(1u << t.symbol_bits) + ", got " +
                      std::to_string(code.symbols[j]));
    }
  }
}

account_step kgw::account_step_at(std::span<const token_id> position_window,
                                  const account_code& code) const {
  check_account_code(code);
  const prf_context g = trace_->context(position_window);  // checks the window's size
  return {g, code.symbols[trace_->position(g)]};
}

account_step kgw::account_step_unchecked(std::span<const token_id> position_window,
                                         const account_code& code) const noexcept {
  const prf_context g = trace_->context(position_window);
  return {g, code.symbols[trace_->position(g)]};
}

void kgw::bias_dense(std::span<const token_id> window, std::span<float> logits) const {
  bias_dense_impl(window, logits, nullptr);
}

void kgw::bias_dense(std::span<const token_id> window, std::span<float> logits,
                     const account_step& account) const {
  require_trace();
  bias_dense_impl(window, logits, &account);
}

void kgw::bias_dense_impl(std::span<const token_id> window, std::span<float> logits,
                          const account_step* account) const {
  check_window(window);
  check_row(logits.size(), "logits row");
  const std::size_t vocab = logits.size();
  const std::uint32_t account_bits = account != nullptr ? trace_->params().symbol_bits : 0;
  // Account lanes of one chunk: 8192·2/8 bytes, padded for the kernels' 4-byte loads.
  alignas(64) std::uint8_t account_stream[chunk_tokens * 2 / 8 + 64];
  auto account_chunk = [&](std::size_t start, std::size_t n) {
    trace_->stream_blocks(account->g, static_cast<std::uint32_t>(start * account_bits / 128),
                          (n * account_bits + 127) / 128, account_stream);
    return detail::account_lanes{account_stream, account_bits, account->symbol, account_delta_};
  };
  if (params_.seeding_scheme == seeding::selfhash) {
    // (h + 1)·V AES blocks a row (h rank rows and one lane row, fewer when the window repeats a
    // token), a slice at a time so that the lanes stay in L1 next to their logits.
    static const detail::below_kernel below = detail::best_below_kernel();
    std::uint16_t lanes[selfhash_slice];
    for (std::size_t start = 0; start < vocab; start += selfhash_slice) {
      const std::size_t n = std::min(selfhash_slice, vocab - start);
      prf_.selfhash_lanes(window, static_cast<token_id>(start), n, lanes);
      below(logits.data() + start, lanes, n, params_.gamma_threshold, delta_);
    }
    if (account != nullptr) {
      for (std::size_t start = 0; start < vocab; start += chunk_tokens) {
        const std::size_t n = std::min(chunk_tokens, vocab - start);
        detail::add_account_matches(logits.data() + start, n, account_chunk(start, n));
      }
    }
    return;
  }
  // Chunked and fused: the keystream of each 8192-token slice stays in L1 next to its logits.
  static const detail::bias_kernel kernel = detail::best_bias_kernel();
  static const detail::fused_bias_kernel fused = detail::best_fused_bias_kernel();
  const prf_context ctx = prf_.context(window);
  const std::uint32_t bits = params_.gamma_bits;
  alignas(64) std::uint8_t keystream[chunk_tokens * 16 / 8 + 64];
  for (std::size_t start = 0; start < vocab; start += chunk_tokens) {
    const std::size_t n = std::min(chunk_tokens, vocab - start);
    const std::size_t blocks = (n * bits + 127) / 128;
    prf_.stream_blocks(ctx, static_cast<std::uint32_t>(start * bits / 128), blocks, keystream);
    if (account != nullptr) {
      fused(logits.data() + start, keystream, n, bits, params_.gamma_threshold, delta_,
            account_chunk(start, n));
    } else {
      kernel(logits.data() + start, keystream, n, bits, params_.gamma_threshold, delta_);
    }
  }
}

void kgw::bias_sparse(std::span<const token_id> window, std::span<const token_id> ids,
                      std::span<float> logits) const {
  bias_sparse_impl(window, ids, logits, nullptr);
}

void kgw::bias_sparse(std::span<const token_id> window, std::span<const token_id> ids,
                      std::span<float> logits, const account_step& account) const {
  require_trace();
  bias_sparse_impl(window, ids, logits, &account);
}

void kgw::bias_sparse_impl(std::span<const token_id> window, std::span<const token_id> ids,
                           std::span<float> logits, const account_step* account) const {
  check_window(window);
  if (ids.size() != logits.size()) {
    throw error(errc::invalid_argument, "sparse bias: expected as many logits as ids (" +
                                            std::to_string(ids.size()) + "), got " +
                                            std::to_string(logits.size()));
  }
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] < 0 || static_cast<std::uint32_t>(ids[i]) >= params_.vocab_size) {
      throw error(errc::out_of_range, "sparse bias: candidate " + std::to_string(i) +
                                          ": expected 0 <= id < " +
                                          std::to_string(params_.vocab_size) + ", got " +
                                          std::to_string(ids[i]));
    }
  }
  // The account's +δ_a comes after the green +δ for each candidate, as in the dense kernels.
  auto add_account = [&] {
    if (account == nullptr) return;
    for (std::size_t i = 0; i < ids.size(); ++i) {
      if (trace_->account_lane(account->g, ids[i]) == account->symbol) logits[i] += account_delta_;
    }
  };
  if (params_.seeding_scheme == seeding::selfhash) {
    std::uint16_t lanes[selfhash_slice];
    for (std::size_t start = 0; start < ids.size(); start += selfhash_slice) {
      const std::size_t n = std::min(selfhash_slice, ids.size() - start);
      prf_.selfhash_lanes(window, ids.subspan(start, n), lanes);
      for (std::size_t j = 0; j < n; ++j) {
        if (green_lane(lanes[j])) logits[start + j] += delta_;
      }
    }
    add_account();
    return;
  }
  const prf_context ctx = prf_.context(window);
  constexpr std::size_t batch = 64;
  std::uint8_t in[16 * batch];
  std::uint8_t out[16 * batch];
  for (std::size_t done = 0; done < ids.size(); done += batch) {
    const std::size_t m = std::min(batch, ids.size() - done);
    for (std::size_t i = 0; i < m; ++i) {
      kgw_prf::stream_input(ctx, prf_.block_of(ids[done + i]), in + 16 * i);
    }
    prf_.encrypt(in, out, m);
    for (std::size_t i = 0; i < m; ++i) {
      if (green_lane(prf_.lane_in_block(out + 16 * i, ids[done + i]))) logits[done + i] += delta_;
    }
  }
  add_account();
}

namespace {

token_id draw(const std::vector<double>& cumulative, double total, sampling_rng& rng) {
  const double u = rng.uniform() * total;
  const auto it = std::upper_bound(cumulative.begin(), cumulative.end(), u);
  const auto index = it == cumulative.end() ? cumulative.size() - 1
                                            : static_cast<std::size_t>(it - cumulative.begin());
  return static_cast<token_id>(index);
}

}  // namespace

void kgw::prepare(std::span<const float> logits, sampling_scratch& scratch) {
  // cumulative[i] = Σ_{j ≤ i} exp(logits[j] − max), in double so that a 10^5-token tail keeps its mass.
  scratch.cumulative.resize(logits.size());
  scratch.weights.resize(logits.size());
  float top = -std::numeric_limits<float>::infinity();
  for (float l : logits) top = l > top ? l : top;
  if (!(top > -std::numeric_limits<float>::infinity()) || !std::isfinite(top)) {
    throw error(errc::invalid_argument,
                "logits row: expected at least one finite logit and no NaN or +inf");
  }
  double total = 0.0;
  for (std::size_t i = 0; i < logits.size(); ++i) {
    const double w = std::exp(static_cast<double>(logits[i]) - static_cast<double>(top));
    scratch.weights[i] = w;
    total += w;
    scratch.cumulative[i] = total;
  }
  if (!std::isfinite(total)) throw error(errc::invalid_argument, "logits row: contains NaN");
  scratch.total = total;
}

void kgw::prepare_probabilities(std::span<const double> probs, sampling_scratch& scratch) {
  scratch.weights.assign(probs.begin(), probs.end());
  scratch.cumulative.resize(probs.size());
  double total = 0.0;
  for (std::size_t i = 0; i < probs.size(); ++i) {
    if (!(probs[i] >= 0.0)) {
      throw error(errc::invalid_argument, "probabilities: entry " + std::to_string(i) +
                                              " is negative or NaN");
    }
    total += probs[i];
    scratch.cumulative[i] = total;
  }
  if (!(total > 0.0) || !std::isfinite(total)) {
    throw error(errc::invalid_argument, "probabilities: expected a positive, finite sum");
  }
  scratch.total = total;
}

token_id kgw::draw_plain_prepared(sampling_rng& rng, const sampling_scratch& scratch) {
  return draw(scratch.cumulative, scratch.total, rng);
}

token_id kgw::sample_plain(std::span<const float> logits, sampling_rng& rng,
                           sampling_scratch& scratch) {
  prepare(logits, scratch);
  return draw_plain_prepared(rng, scratch);
}

token_id kgw::sample(std::span<const token_id> window, std::span<const float> logits,
                     sampling_rng& rng, sampling_scratch& scratch) const {
  check_row(logits.size(), "logits row");
  prepare(logits, scratch);
  return draw_prepared(window, rng, scratch);
}

token_id kgw::draw_prepared(std::span<const token_id> window, sampling_rng& rng,
                            sampling_scratch& scratch) const {
  check_window(window);
  check_row(scratch.cumulative.size(), "prepared distribution");
  if (!(scratch.total > 0.0) || scratch.weights.size() != scratch.cumulative.size()) {
    throw error(errc::invalid_argument, "draw_prepared: expected kgw::prepare first");
  }
  // Rejection sampling: propose v ~ softmax(logits), accept green always and red with e^{-δ}.
  // The accepted draw has law ∝ p(v)·e^{δ·green(v)}, i.e. softmax(logits + δ·green) exactly.
  const double accept_red = std::exp(-params_.delta);
  const bool left = params_.seeding_scheme == seeding::lefthash;
  const prf_context ctx = left ? prf_.context(window) : prf_context{};
  for (int attempt = 0; attempt < kgw_max_proposals; ++attempt) {
    const token_id v = draw(scratch.cumulative, scratch.total, rng);
    ++scratch.proposals;
    const bool green = left ? green_lane(prf_.lane(ctx, v))
                            : green_lane(prf_.selfhash_lane(prf_.selfhash_anchor(window, v), v));
    if (green || rng.uniform() < accept_red) return v;
  }
  // Every proposal was rejected (little green mass and a large δ): draw exactly from the biased
  // distribution instead. Conditioning on this event does not change the law of the result.
  ++scratch.fallbacks;
  const std::size_t n = scratch.weights.size();
  scratch.green.resize(n);
  green_mask(window, scratch.green);
  const double boost = std::exp(params_.delta);
  scratch.biased.resize(n);
  double running = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    const double p = scratch.weights[i];
    running += scratch.green[i] ? p * boost : p;
    scratch.biased[i] = running;
  }
  return draw(scratch.biased, running, rng);
}

token_id kgw::draw_prepared(std::span<const token_id> window, sampling_rng& rng,
                            sampling_scratch& scratch, const account_step* account) const {
  if (account == nullptr) return draw_prepared(window, rng, scratch);
  require_trace();
  check_window(window);
  check_row(scratch.cumulative.size(), "prepared distribution");
  if (!(scratch.total > 0.0) || scratch.weights.size() != scratch.cumulative.size()) {
    throw error(errc::invalid_argument, "draw_prepared: expected kgw::prepare first");
  }
  // Rejection as above with the weight e^{δ·green + δ_a·match} (design (b), papers/attribution.md
  // §3.2): its maximum is e^{δ + δ_a}, so a proposal is accepted with e^{δ(green−1) + δ_a(match−1)}.
  const double delta = params_.delta;
  const double account_delta = trace_->params().account_delta;
  const double accept_green_only = std::exp(-account_delta);
  const double accept_match_only = std::exp(-delta);
  const double accept_neither = std::exp(-delta - account_delta);
  const bool left = params_.seeding_scheme == seeding::lefthash;
  const prf_context ctx = left ? prf_.context(window) : prf_context{};
  for (int attempt = 0; attempt < kgw_max_proposals; ++attempt) {
    const token_id v = draw(scratch.cumulative, scratch.total, rng);
    ++scratch.proposals;
    const bool green = left ? green_lane(prf_.lane(ctx, v))
                            : green_lane(prf_.selfhash_lane(prf_.selfhash_anchor(window, v), v));
    const bool match = trace_->account_lane(account->g, v) == account->symbol;
    if (green && match) return v;
    const double accept = green ? accept_green_only : match ? accept_match_only : accept_neither;
    if (rng.uniform() < accept) return v;
  }
  ++scratch.fallbacks;
  const std::size_t n = scratch.weights.size();
  scratch.green.resize(n);
  green_mask(window, scratch.green);
  scratch.account_match.resize(n);
  const std::uint32_t bits = trace_->params().symbol_bits;
  std::uint8_t block[16];
  for (std::size_t v = 0; v < n; ++v) {
    const std::uint64_t bit = static_cast<std::uint64_t>(v) * bits;
    if ((bit & 127) == 0) trace_->stream_blocks(account->g, static_cast<std::uint32_t>(bit >> 7), 1, block);
    scratch.account_match[v] = detail::lane_at(block, bit, bits) == account->symbol ? 1 : 0;
  }
  const double boost = std::exp(delta);
  const double account_boost = std::exp(account_delta);
  scratch.biased.resize(n);
  double running = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    double p = scratch.weights[i];
    if (scratch.green[i]) p *= boost;
    if (scratch.account_match[i]) p *= account_boost;
    running += p;
    scratch.biased[i] = running;
  }
  return draw(scratch.biased, running, rng);
}

}  // namespace tritium
