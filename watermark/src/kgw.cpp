#include "tritium/kgw.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#include "tritium/error.hpp"

#include "bias_kernels.hpp"

namespace tritium {
namespace {

// Tokens handled per keystream chunk: 8192·b/8 bytes (at most 16 KiB) stay in L1 with the logits.
constexpr std::size_t chunk_tokens = 8192;

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
    : params_(k.params()), prf_(k), delta_(static_cast<float>(k.params().delta)) {
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
    for (std::size_t v = 0; v < vocab; ++v) out[v] = is_green(window, static_cast<token_id>(v)) ? 1 : 0;
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

void kgw::bias_dense(std::span<const token_id> window, std::span<float> logits) const {
  check_window(window);
  check_row(logits.size(), "logits row");
  const std::size_t vocab = logits.size();
  if (params_.seeding_scheme == seeding::selfhash) {
    for (std::size_t v = 0; v < vocab; ++v) {
      if (is_green(window, static_cast<token_id>(v))) logits[v] += delta_;
    }
    return;
  }
  // Chunked and fused: the keystream of each 8192-token slice stays in L1 next to its logits.
  static const detail::bias_kernel kernel = detail::best_bias_kernel();
  const prf_context ctx = prf_.context(window);
  const std::uint32_t bits = params_.gamma_bits;
  alignas(64) std::uint8_t keystream[chunk_tokens * 16 / 8 + 64];
  for (std::size_t start = 0; start < vocab; start += chunk_tokens) {
    const std::size_t n = std::min(chunk_tokens, vocab - start);
    const std::size_t blocks = (n * bits + 127) / 128;
    prf_.stream_blocks(ctx, static_cast<std::uint32_t>(start * bits / 128), blocks, keystream);
    kernel(logits.data() + start, keystream, n, bits, params_.gamma_threshold, delta_);
  }
}

void kgw::bias_sparse(std::span<const token_id> window, std::span<const token_id> ids,
                      std::span<float> logits) const {
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
  if (params_.seeding_scheme == seeding::selfhash) {
    for (std::size_t i = 0; i < ids.size(); ++i) {
      if (is_green(window, ids[i])) logits[i] += delta_;
    }
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

}  // namespace tritium
