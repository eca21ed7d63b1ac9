#include "tritium/prf.hpp"

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

}  // namespace tritium
