#include "tritium/synthetic_lm.hpp"

#include <cmath>
#include <limits>
#include <string>

#include "tritium/error.hpp"

namespace tritium {
namespace {

std::uint64_t mix64(std::uint64_t z) noexcept {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace

synthetic_lm::synthetic_lm(std::uint32_t vocab_size, std::uint64_t seed, double zipf_exponent)
    : vocab_size_(vocab_size), seed_(seed), log_rank_(vocab_size) {
  if (vocab_size < 2) {
    throw error(errc::invalid_argument,
                "synthetic LM: expected a vocabulary of at least 2, got " + std::to_string(vocab_size));
  }
  if (!(zipf_exponent > 0.0) || !std::isfinite(zipf_exponent)) {
    throw error(errc::invalid_argument, "synthetic LM: expected a positive Zipf exponent, got " +
                                            std::to_string(zipf_exponent));
  }
  for (std::uint32_t r = 0; r < vocab_size; ++r) {
    log_rank_[r] = static_cast<float>(-zipf_exponent * std::log1p(static_cast<double>(r)));
  }
}

void synthetic_lm::logits(token_id previous, std::span<float> out) const {
  if (out.size() != vocab_size_) {
    throw error(errc::mismatch, "synthetic LM: expected a logits row of " +
                                    std::to_string(vocab_size_) + ", got " +
                                    std::to_string(out.size()));
  }
  const std::uint64_t base = mix64(seed_ ^ mix64(static_cast<std::uint64_t>(previous) + 1));
  for (std::uint32_t v = 0; v < vocab_size_; ++v) {
    // Lemire's multiply-shift maps 32 random bits onto [0, V) without a division.
    const std::uint64_t bits = mix64(base + v) >> 32;
    out[v] = log_rank_[static_cast<std::size_t>((bits * vocab_size_) >> 32)];
  }
}

double synthetic_lm::entropy(std::span<const float> logits) {
  float top = -std::numeric_limits<float>::infinity();
  for (float l : logits) top = l > top ? l : top;
  double z = 0.0;
  double weighted = 0.0;
  for (float l : logits) {
    const double d = static_cast<double>(l) - static_cast<double>(top);
    const double e = std::exp(d);
    z += e;
    weighted += e * d;
  }
  return std::log(z) - weighted / z;
}

}  // namespace tritium
