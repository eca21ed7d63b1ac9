#include "tritium/prf.hpp"

#include <algorithm>
#include <cstring>
#include <string>

#include "context_field.hpp"
#include "crypto/crypto.hpp"
#include "tritium/error.hpp"
#include "tritium/key.hpp"

namespace tritium {

struct kgw_prf::subkeys {
  detail::aes128_key aes;
  std::uint8_t siphash[16];
};

namespace {

void put_u32le(std::uint8_t* p, std::uint32_t v) noexcept {
  p[0] = static_cast<std::uint8_t>(v);
  p[1] = static_cast<std::uint8_t>(v >> 8);
  p[2] = static_cast<std::uint8_t>(v >> 16);
  p[3] = static_cast<std::uint8_t>(v >> 24);
}

std::uint64_t get_u64le(const std::uint8_t* p) noexcept {
  std::uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = v << 8 | p[i];
  return v;
}

}  // namespace

kgw_prf::kgw_prf(const key& k)
    : keys_(std::make_unique<subkeys>()),
      lane_bits_(k.params().gamma_bits),
      context_width_(k.params().context_width) {
  std::uint8_t aes_key[16];
  detail::hkdf_expand_sha256(k.secret_bytes(), prf_v1::kgw_aes_label, aes_key);
  detail::aes128_expand(aes_key, keys_->aes);
  detail::secure_zero(aes_key, sizeof aes_key);
  detail::hkdf_expand_sha256(k.secret_bytes(), prf_v1::kgw_siphash_label, keys_->siphash);
}

kgw_prf::~kgw_prf() { detail::secure_zero(keys_.get(), sizeof(subkeys)); }

void detail::check_window_size(std::size_t size, const char* what) {
  if (size < 1 || size > prf_v1::max_context_width) {
    throw error(errc::invalid_argument, std::string(what) + ": expected 1 to " +
                                            std::to_string(prf_v1::max_context_width) +
                                            " context tokens, got " + std::to_string(size));
  }
}

prf_context detail::context_field(const std::uint8_t siphash_key[16],
                                  std::span<const token_id> window) noexcept {
  prf_context ctx;
  if (window.size() <= prf_v1::verbatim_context_width) {
    // Verbatim encoding is injective, so distinct windows can never share a keystream.
    std::memset(ctx.bytes.data(), 0xff, ctx.bytes.size());
    for (std::size_t i = 0; i < window.size(); ++i) {
      put_u32le(ctx.bytes.data() + 4 * i, static_cast<std::uint32_t>(window[i]));
    }
    return ctx;
  }
  std::uint8_t message[4 * prf_v1::max_context_width];
  for (std::size_t i = 0; i < window.size(); ++i) {
    put_u32le(message + 4 * i, static_cast<std::uint32_t>(window[i]));
  }
  std::uint8_t digest[16];
  detail::siphash24_128(siphash_key, {message, 4 * window.size()}, digest);
  std::memcpy(ctx.bytes.data(), digest, ctx.bytes.size());
  return ctx;
}

prf_context kgw_prf::context(std::span<const token_id> window) const {
  detail::check_window_size(window.size(), "PRF context");
  return detail::context_field(keys_->siphash, window);
}

void kgw_prf::stream_input(const prf_context& ctx, std::uint32_t counter,
                           std::uint8_t* block) noexcept {
  std::memcpy(block, ctx.bytes.data(), 12);
  block[12] = static_cast<std::uint8_t>(counter);
  block[13] = static_cast<std::uint8_t>(counter >> 8);
  block[14] = static_cast<std::uint8_t>(counter >> 16);
  block[15] = static_cast<std::uint8_t>(prf_v1::tag::lefthash_stream);
}

void kgw_prf::encrypt(const std::uint8_t* in, std::uint8_t* out, std::size_t n) const noexcept {
  detail::aes128_encrypt_blocks(keys_->aes, in, out, n);
}

void kgw_prf::stream_blocks(const prf_context& ctx, std::uint32_t first, std::size_t n,
                            std::uint8_t* out) const noexcept {
  // Bytes 12..15 of an input block read as a little-endian word are counter | tag << 24; the counter
  // stays below 2^24 (V ≤ 2^24 at 16 bits per lane), so incrementing the word never touches the tag.
  const std::uint32_t word3 = first | static_cast<std::uint32_t>(prf_v1::tag::lefthash_stream) << 24;
  detail::aes128_counter_blocks(keys_->aes, ctx.bytes.data(), word3, n, out);
}

std::uint32_t kgw_prf::lane_in_block(const std::uint8_t* block, token_id v) const noexcept {
  return detail::lane_at(block, static_cast<std::uint64_t>(v) * lane_bits_, lane_bits_);
}

std::uint32_t kgw_prf::lane(const prf_context& ctx, token_id v) const noexcept {
  std::uint8_t in[16];
  std::uint8_t out[16];
  stream_input(ctx, block_of(v), in);
  encrypt(in, out, 1);
  return lane_in_block(out, v);
}

token_id kgw_prf::selfhash_anchor(std::span<const token_id> window, token_id v) const {
  detail::check_window_size(window.size(), "self-hash window");
  if (window.size() == 1) return window[0];
  std::uint8_t in[16 * prf_v1::max_context_width];
  std::uint8_t out[16 * prf_v1::max_context_width];
  for (std::size_t i = 0; i < window.size(); ++i) {
    std::uint8_t* b = in + 16 * i;
    put_u32le(b, static_cast<std::uint32_t>(window[i]));
    put_u32le(b + 4, static_cast<std::uint32_t>(v));
    std::memset(b + 8, 0xff, 4);
    std::memset(b + 12, 0, 3);
    b[15] = static_cast<std::uint8_t>(prf_v1::tag::selfhash_rank);
  }
  encrypt(in, out, window.size());
  std::size_t best = 0;
  std::uint64_t best_rank = get_u64le(out);
  for (std::size_t i = 1; i < window.size(); ++i) {
    const std::uint64_t rank = get_u64le(out + 16 * i);
    if (rank < best_rank) {
      best_rank = rank;
      best = i;
    }
  }
  return window[best];
}

std::uint32_t kgw_prf::selfhash_lane(token_id anchor, token_id v) const noexcept {
  std::uint8_t in[16];
  std::uint8_t out[16];
  put_u32le(in, static_cast<std::uint32_t>(anchor));
  put_u32le(in + 4, static_cast<std::uint32_t>(v));
  std::memset(in + 8, 0xff, 4);
  std::memset(in + 12, 0, 3);
  in[15] = static_cast<std::uint8_t>(prf_v1::tag::selfhash_lane);
  encrypt(in, out, 1);
  const std::uint32_t low = out[0] | static_cast<std::uint32_t>(out[1]) << 8;
  return lane_bits_ == 16 ? low : low & ((1u << lane_bits_) - 1);
}

namespace {

// Tokens of a self-hash window without repeats, in order of first occurrence. A repeat has the same
// rank as its first occurrence, and ties go to the first, so dropping repeats leaves every anchor.
std::size_t distinct_window(std::span<const token_id> window, token_id* out) noexcept {
  std::size_t n = 0;
  for (const token_id c : window) {
    bool seen = false;
    for (std::size_t i = 0; i < n; ++i) seen = seen || out[i] == c;
    if (!seen) out[n++] = c;
  }
  return n;
}

// The fixed part of a self-hash input block: LE32(first) ‖ LE32(second) ‖ FF×4 ‖ 00×3 ‖ tag.
void selfhash_block(std::uint8_t* b, std::uint32_t first, std::uint32_t second, prf_v1::tag t) noexcept {
  put_u32le(b, first);
  put_u32le(b + 4, second);
  std::memset(b + 8, 0xff, 4);
  std::memset(b + 12, 0, 3);
  b[15] = static_cast<std::uint8_t>(t);
}

constexpr std::size_t selfhash_chunk = 512;

}  // namespace

void kgw_prf::selfhash_lanes(std::span<const token_id> window, token_id first, std::size_t n,
                             std::uint16_t* lanes) const {
  detail::check_window_size(window.size(), "self-hash window");
  token_id tokens[prf_v1::max_context_width];
  const std::size_t distinct = distinct_window(window, tokens);
  const std::uint32_t mask = lane_bits_ == 16 ? 0xffffu : (1u << lane_bits_) - 1;
  std::uint32_t heads[2 * selfhash_chunk];
  std::uint64_t best[selfhash_chunk];
  std::uint32_t anchor[selfhash_chunk];
  for (std::size_t start = 0; start < n; start += selfhash_chunk) {
    const std::size_t m = std::min(selfhash_chunk, n - start);
    const auto v0 = static_cast<std::uint32_t>(first) + static_cast<std::uint32_t>(start);
    std::uint8_t base[16];
    if (distinct == 1) {
      // One anchor for every candidate: the lane row is a counter row.
      selfhash_block(base, static_cast<std::uint32_t>(tokens[0]), 0, prf_v1::tag::selfhash_lane);
      detail::aes128_counter_heads(keys_->aes, base, v0, nullptr, m, 1, heads);
    } else {
      // The whole chunk in registers where VAES allows (a multiple of 32 candidates), then the rest:
      // each distinct window token's rank row (the first 8 bytes of its blocks) and the lane row with
      // each candidate's anchor in word 0.
      std::uint32_t window_words[prf_v1::max_context_width];
      for (std::size_t d = 0; d < distinct; ++d) window_words[d] = static_cast<std::uint32_t>(tokens[d]);
      std::uint8_t rank_base[16];
      selfhash_block(rank_base, 0, 0, prf_v1::tag::selfhash_rank);
      selfhash_block(base, 0, 0, prf_v1::tag::selfhash_lane);
      const std::size_t fast =
          detail::aes128_selfhash_row(keys_->aes, rank_base, base, window_words, distinct, v0, m, mask, lanes + start);
      if (fast == m) continue;
      // The generic path on candidates [fast, m) of the chunk.
      const std::size_t rest = m - fast;
      const std::uint32_t w0 = v0 + static_cast<std::uint32_t>(fast);
      for (std::size_t d = 0; d < distinct; ++d) {
        const auto c = static_cast<std::uint32_t>(tokens[d]);
        selfhash_block(base, c, 0, prf_v1::tag::selfhash_rank);
        detail::aes128_counter_heads(keys_->aes, base, w0, nullptr, rest, 2, heads);
        if (d == 0) {
          for (std::size_t j = 0; j < rest; ++j) {
            best[j] = heads[2 * j] | static_cast<std::uint64_t>(heads[2 * j + 1]) << 32;
            anchor[j] = c;
          }
          continue;
        }
        // Strict (the first of equal ranks stays the anchor) and branch-free: which token ranks
        // lowest is a coin toss per candidate, so a branch would mispredict on a third of them.
        for (std::size_t j = 0; j < rest; ++j) {
          const std::uint64_t r = heads[2 * j] | static_cast<std::uint64_t>(heads[2 * j + 1]) << 32;
          const std::uint64_t lower = std::uint64_t{0} - static_cast<std::uint64_t>(r < best[j]);
          best[j] = (r & lower) | (best[j] & ~lower);
          const auto lower32 = static_cast<std::uint32_t>(lower);
          anchor[j] = (c & lower32) | (anchor[j] & ~lower32);
        }
      }
      selfhash_block(base, 0, 0, prf_v1::tag::selfhash_lane);
      detail::aes128_counter_heads(keys_->aes, base, w0, anchor, rest, 1, heads);
      for (std::size_t j = 0; j < rest; ++j) {
        lanes[start + fast + j] = static_cast<std::uint16_t>(heads[j] & mask);
      }
      continue;
    }
    for (std::size_t j = 0; j < m; ++j) lanes[start + j] = static_cast<std::uint16_t>(heads[j] & mask);
  }
}

void kgw_prf::selfhash_lanes(std::span<const token_id> window, std::span<const token_id> ids,
                             std::uint16_t* lanes) const {
  detail::check_window_size(window.size(), "self-hash window");
  token_id tokens[prf_v1::max_context_width];
  const std::size_t distinct = distinct_window(window, tokens);
  const std::uint32_t mask = lane_bits_ == 16 ? 0xffffu : (1u << lane_bits_) - 1;
  alignas(64) std::uint8_t blocks[16 * selfhash_chunk];
  alignas(64) std::uint8_t ranks[16 * selfhash_chunk];
  std::uint64_t best[selfhash_chunk];
  std::uint32_t anchor[selfhash_chunk];
  for (std::size_t start = 0; start < ids.size(); start += selfhash_chunk) {
    const std::size_t m = std::min(selfhash_chunk, ids.size() - start);
    const token_id* v = ids.data() + start;
    if (distinct == 1) {
      for (std::size_t j = 0; j < m; ++j) anchor[j] = static_cast<std::uint32_t>(tokens[0]);
    } else {
      for (std::size_t d = 0; d < distinct; ++d) {
        const auto c = static_cast<std::uint32_t>(tokens[d]);
        for (std::size_t j = 0; j < m; ++j) {
          selfhash_block(ranks + 16 * j, c, static_cast<std::uint32_t>(v[j]), prf_v1::tag::selfhash_rank);
        }
        detail::aes128_encrypt_blocks(keys_->aes, ranks, ranks, m);
        for (std::size_t j = 0; j < m; ++j) {
          const std::uint64_t r = get_u64le(ranks + 16 * j);
          if (d == 0 || r < best[j]) {
            best[j] = r;
            anchor[j] = c;
          }
        }
      }
    }
    for (std::size_t j = 0; j < m; ++j) {
      selfhash_block(blocks + 16 * j, anchor[j], static_cast<std::uint32_t>(v[j]), prf_v1::tag::selfhash_lane);
    }
    detail::aes128_encrypt_blocks(keys_->aes, blocks, blocks, m);
    for (std::size_t j = 0; j < m; ++j) {
      const std::uint32_t low = blocks[16 * j] | static_cast<std::uint32_t>(blocks[16 * j + 1]) << 8;
      lanes[start + j] = static_cast<std::uint16_t>(low & mask);
    }
  }
}

}  // namespace tritium
