#include "tritium/unigram.hpp"

#include <algorithm>
#include <cstring>
#include <string>
#include <utility>

#include "crypto/crypto.hpp"
#include "tritium/error.hpp"
#include "tritium/key.hpp"

namespace tritium {

namespace {

std::uint64_t rank_in(const std::uint8_t* b) noexcept {
  std::uint64_t r = 0;
  for (int i = 7; i >= 0; --i) r = r << 8 | b[i];
  return r;
}

void rank_block(std::uint8_t* b, std::uint32_t v) noexcept {
  b[0] = static_cast<std::uint8_t>(v);
  b[1] = static_cast<std::uint8_t>(v >> 8);
  b[2] = static_cast<std::uint8_t>(v >> 16);
  b[3] = static_cast<std::uint8_t>(v >> 24);
  std::memset(b + 4, 0xff, 8);
  std::memset(b + 12, 0, 3);
  b[15] = unigram_v1::rank_tag;
}

}  // namespace

unigram::unigram(const key& k)
    : vocab_size_(k.params().vocab_size),
      green_count_(static_cast<std::uint32_t>((static_cast<std::uint64_t>(k.params().gamma_threshold) * vocab_size_) >>
                                              k.params().gamma_bits)),
      delta_(static_cast<float>(k.params().delta)),
      green_(vocab_size_, 0),
      bias_(vocab_size_, 0.0f) {
  std::uint8_t raw[16];
  detail::hkdf_expand_sha256(k.secret_bytes(), unigram_v1::aes_label, raw);
  detail::aes128_key aes;
  detail::aes128_expand(raw, aes);
  detail::secure_zero(raw, sizeof raw);
  // Every token's rank, then the G smallest (rank, id) pairs: ties go to the lower id.
  std::vector<std::pair<std::uint64_t, std::uint32_t>> ranked(vocab_size_);
  constexpr std::size_t batch = 1024;
  std::vector<std::uint8_t> blocks(16 * batch);
  for (std::uint32_t start = 0; start < vocab_size_; start += batch) {
    const std::size_t m = std::min<std::size_t>(batch, vocab_size_ - start);
    for (std::size_t i = 0; i < m; ++i) rank_block(blocks.data() + 16 * i, start + static_cast<std::uint32_t>(i));
    detail::aes128_encrypt_blocks(aes, blocks.data(), blocks.data(), m);
    for (std::size_t i = 0; i < m; ++i) {
      ranked[start + i] = {rank_in(blocks.data() + 16 * i), start + static_cast<std::uint32_t>(i)};
    }
  }
  detail::secure_zero(&aes, sizeof aes);
  if (green_count_ > 0) {
    std::nth_element(ranked.begin(), ranked.begin() + (green_count_ - 1), ranked.end());
    for (std::uint32_t i = 0; i < green_count_; ++i) {
      green_[ranked[i].second] = 1;
      bias_[ranked[i].second] = delta_;
    }
  }
}

bool unigram::is_green(token_id v) const {
  if (v < 0 || static_cast<std::uint32_t>(v) >= vocab_size_) {
    throw error(errc::out_of_range, "Unigram: expected 0 <= id < " + std::to_string(vocab_size_) + ", got " +
                                        std::to_string(v));
  }
  return green_[static_cast<std::size_t>(v)] != 0;
}

void unigram::bias_dense(std::span<float> logits) const {
  if (logits.size() != vocab_size_) {
    throw error(errc::mismatch, "Unigram logits row: expected the key's vocabulary size " +
                                    std::to_string(vocab_size_) + ", got " + std::to_string(logits.size()));
  }
  float* row = logits.data();
  const float* add = bias_.data();
  for (std::size_t v = 0; v < logits.size(); ++v) row[v] += add[v];
}

void unigram::bias_sparse(std::span<const token_id> ids, std::span<float> logits) const {
  if (ids.size() != logits.size()) {
    throw error(errc::invalid_argument, "Unigram sparse bias: expected as many logits as ids (" +
                                            std::to_string(ids.size()) + "), got " + std::to_string(logits.size()));
  }
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (is_green(ids[i])) logits[i] += delta_;
  }
}

}  // namespace tritium
