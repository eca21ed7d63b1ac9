#include "tritium/trace.hpp"

#include <array>
#include <cmath>
#include <cstring>
#include <string>

#include "context_field.hpp"
#include "crypto/crypto.hpp"
#include "tritium/error.hpp"
#include "tritium/key.hpp"
#include "tritium/utf8.hpp"

namespace tritium {

namespace {

constexpr std::uint32_t min_code_length = 64;
constexpr std::uint32_t max_code_length = 4096;
constexpr double max_account_delta = 8.0;

void put_u32le(std::uint8_t* p, std::uint32_t v) noexcept {
  p[0] = static_cast<std::uint8_t>(v);
  p[1] = static_cast<std::uint8_t>(v >> 8);
  p[2] = static_cast<std::uint8_t>(v >> 16);
  p[3] = static_cast<std::uint8_t>(v >> 24);
}

void check_account_id(std::string_view id) {
  if (id.empty() || id.size() > trace_v1::max_account_bytes) {
    throw error(errc::invalid_argument,
                "account id: expected 1 to " + std::to_string(trace_v1::max_account_bytes) +
                    " bytes of UTF-8, got " + std::to_string(id.size()) + " bytes");
  }
  if (const std::size_t bad = find_invalid_utf8(id); bad != std::string_view::npos) {
    static const char hex[] = "0123456789abcdef";
    const auto byte = static_cast<unsigned char>(id[bad]);
    throw error(errc::invalid_argument,
                std::string("account id: expected valid UTF-8, got byte 0x") + hex[byte >> 4] +
                    hex[byte & 15] + " at byte offset " + std::to_string(bad));
  }
}

}  // namespace

void trace_params::validate() const {
  auto bad = [](const std::string& what) { throw error(errc::invalid_argument, what); };
  // A power of two makes the position LE32(·) mod L exactly uniform (papers/trace-v1.md §4).
  if (code_length < min_code_length || code_length > max_code_length ||
      (code_length & (code_length - 1)) != 0) {
    bad("trace code_length: expected a power of two in [" + std::to_string(min_code_length) + ", " +
        std::to_string(max_code_length) + "], got " + std::to_string(code_length));
  }
  if (symbol_bits != 1 && symbol_bits != 2) {
    bad("trace symbol_bits: expected 1 or 2, got " + std::to_string(symbol_bits));
  }
  if (position_width < 1 || position_width > prf_v1::max_context_width) {
    bad("trace position_width: expected 1 <= h_p <= " + std::to_string(prf_v1::max_context_width) +
        ", got " + std::to_string(position_width));
  }
  if (!(account_delta > 0.0) || !(account_delta <= max_account_delta)) {
    bad("trace account_delta: expected a value in (0, 8], got " + std::to_string(account_delta));
  }
}

namespace {

// The HKDF info string of an account: the ASCII label, 0x00, LE32(n), the n bytes. The 0x00 ends
// the label and LE32(n) fixes where the id starts and ends, so the string is injective over ids
// (ids may hold NUL or be prefixes of one another) and disjoint from every decoy's.
struct info_buffer {
  std::array<std::uint8_t, 64 + trace_v1::max_account_bytes> bytes{};
  std::size_t size = 0;

  info_buffer(std::string_view label, std::string_view payload) noexcept {
    std::memcpy(bytes.data(), label.data(), label.size());
    size = label.size();
    bytes[size++] = 0;
    put_u32le(bytes.data() + size, static_cast<std::uint32_t>(payload.size()));
    size += 4;
    std::memcpy(bytes.data() + size, payload.data(), payload.size());
    size += payload.size();
  }
  std::span<const std::uint8_t> view() const noexcept { return {bytes.data(), size}; }
};

}  // namespace

account_field derive_account_field(const key& k, std::string_view account_utf8) {
  check_account_id(account_utf8);
  const info_buffer info(trace_v1::account_label, account_utf8);
  account_field field;
  detail::hkdf_expand_sha256(
      k.secret_bytes(),
      std::string_view(reinterpret_cast<const char*>(info.bytes.data()), info.size), field);
  return field;
}

account_code derive_account_code(const key& k, std::string_view account_utf8,
                                 const trace_params& params) {
  return account_codebook(k, params).code(account_utf8);
}

struct account_codebook::subkeys {
  explicit subkeys(std::span<const std::uint8_t> secret) : fields(secret) {}
  detail::hkdf_sha256_expander fields;
  detail::aes128_key aes;
};

account_codebook::account_codebook(const key& k, const trace_params& params) : params_(params) {
  params_.validate();
  keys_ = std::make_unique<subkeys>(k.secret_bytes());
  std::uint8_t aes_key[16];
  detail::hkdf_expand_sha256(k.secret_bytes(), trace_v1::aes_label, aes_key);
  detail::aes128_expand(aes_key, keys_->aes);
  detail::secure_zero(aes_key, sizeof aes_key);
}

account_codebook::~account_codebook() {
  if (keys_) detail::secure_zero(&keys_->aes, sizeof keys_->aes);
}

std::size_t account_codebook::packed_size() const noexcept {
  return static_cast<std::size_t>(params_.code_length) * params_.symbol_bits / 8;
}

void account_codebook::code_word(const account_field& field,
                                 std::span<std::uint8_t> out) const noexcept {
  // Symbol j is the b_a-bit field at bit j·b_a of AES(k_trace, F_A || LE24(i) || 0x06), i = 0, 1, …
  // (at most 4096·2/128 = 64 blocks, so the counter never reaches the tag byte). The stream's
  // bytes, in order, are the packed code word.
  constexpr std::size_t max_blocks = max_code_length * 2 / 128;
  std::uint8_t stream[16 * max_blocks];
  const std::size_t blocks = (out.size() + 15) / 16;
  const std::uint32_t word3 = static_cast<std::uint32_t>(trace_v1::tag::code_word) << 24;
  detail::aes128_counter_blocks(keys_->aes, field.data(), word3, blocks, stream);
  std::memcpy(out.data(), stream, out.size());
  detail::secure_zero(stream, 16 * blocks);
}

account_field account_codebook::packed(std::string_view account_utf8,
                                       std::span<std::uint8_t> out) const {
  check_account_id(account_utf8);
  if (out.size() != packed_size()) {
    throw error(errc::invalid_argument, "packed code word: expected a buffer of " +
                                            std::to_string(packed_size()) + " bytes, got " +
                                            std::to_string(out.size()));
  }
  const info_buffer info(trace_v1::account_label, account_utf8);
  account_field field;
  keys_->fields.expand(info.view(), field);
  code_word(field, out);
  return field;
}

account_field account_codebook::packed_decoy(std::uint32_t index,
                                             std::span<std::uint8_t> out) const {
  if (out.size() != packed_size()) {
    throw error(errc::invalid_argument, "packed code word: expected a buffer of " +
                                            std::to_string(packed_size()) + " bytes, got " +
                                            std::to_string(out.size()));
  }
  // The decoy info is label || 0x00 || LE32(index) (papers/attribution.md §4.4); the label differs
  // from the account label, so no account id can produce it.
  std::uint8_t info[trace_v1::decoy_label.size() + 5];
  std::memcpy(info, trace_v1::decoy_label.data(), trace_v1::decoy_label.size());
  info[trace_v1::decoy_label.size()] = 0;
  put_u32le(info + trace_v1::decoy_label.size() + 1, index);
  account_field field;
  keys_->fields.expand(info, field);
  code_word(field, out);
  return field;
}

account_code account_codebook::unpack(const account_field& field,
                                      std::span<const std::uint8_t> packed) const {
  account_code code;
  code.field = field;
  code.symbols.resize(params_.code_length);
  for (std::size_t j = 0; j < code.symbols.size(); ++j) {
    const std::uint64_t bit = static_cast<std::uint64_t>(j) * params_.symbol_bits;
    code.symbols[j] = static_cast<std::uint8_t>(
        (packed[bit >> 3] >> (bit & 7)) & ((1u << params_.symbol_bits) - 1));
  }
  return code;
}

account_code account_codebook::code(std::string_view account_utf8) const {
  std::vector<std::uint8_t> buffer(packed_size());
  const account_field field = packed(account_utf8, buffer);
  account_code c = unpack(field, buffer);
  detail::secure_zero(buffer.data(), buffer.size());
  return c;
}

account_code account_codebook::decoy(std::uint32_t index) const {
  std::vector<std::uint8_t> buffer(packed_size());
  const account_field field = packed_decoy(index, buffer);
  return unpack(field, buffer);
}

struct trace_prf::subkeys {
  detail::aes128_key aes;
  std::uint8_t siphash[16];
};

trace_prf::trace_prf(const key& k, const trace_params& params)
    : keys_(std::make_unique<subkeys>()), params_(params) {
  params_.validate();
  std::uint8_t aes_key[16];
  detail::hkdf_expand_sha256(k.secret_bytes(), trace_v1::aes_label, aes_key);
  detail::aes128_expand(aes_key, keys_->aes);
  detail::secure_zero(aes_key, sizeof aes_key);
  detail::hkdf_expand_sha256(k.secret_bytes(), trace_v1::siphash_label, keys_->siphash);
}

trace_prf::~trace_prf() { detail::secure_zero(keys_.get(), sizeof(subkeys)); }

prf_context trace_prf::context(std::span<const token_id> window) const {
  if (window.size() != params_.position_width) {
    throw error(errc::invalid_argument, "trace position window: expected position_width = " +
                                            std::to_string(params_.position_width) +
                                            " tokens, got " + std::to_string(window.size()));
  }
  return detail::context_field(keys_->siphash, window);
}

std::uint32_t trace_prf::position(const prf_context& g) const noexcept {
  std::uint8_t in[16];
  std::uint8_t out[16];
  std::memcpy(in, g.bytes.data(), 12);
  std::memset(in + 12, 0, 3);
  in[15] = static_cast<std::uint8_t>(trace_v1::tag::position);
  detail::aes128_encrypt_blocks(keys_->aes, in, out, 1);
  const std::uint32_t word = out[0] | static_cast<std::uint32_t>(out[1]) << 8 |
                             static_cast<std::uint32_t>(out[2]) << 16 |
                             static_cast<std::uint32_t>(out[3]) << 24;
  // L is a power of two, so the reduction keeps j exactly uniform.
  return word & (params_.code_length - 1);
}

std::uint32_t trace_prf::account_lane(const prf_context& g, token_id v) const noexcept {
  const std::uint64_t bit =
      static_cast<std::uint64_t>(static_cast<std::uint32_t>(v)) * params_.symbol_bits;
  const auto counter = static_cast<std::uint32_t>(bit >> 7);
  std::uint8_t in[16];
  std::uint8_t out[16];
  std::memcpy(in, g.bytes.data(), 12);
  in[12] = static_cast<std::uint8_t>(counter);
  in[13] = static_cast<std::uint8_t>(counter >> 8);
  in[14] = static_cast<std::uint8_t>(counter >> 16);
  in[15] = static_cast<std::uint8_t>(trace_v1::tag::account_lane);
  detail::aes128_encrypt_blocks(keys_->aes, in, out, 1);
  return detail::lane_at(out, bit, params_.symbol_bits);
}

void trace_prf::positions_and_lanes(const prf_context* g, const token_id* v, std::size_t n,
                                    std::uint32_t* positions, std::uint32_t* lanes) const noexcept {
  constexpr std::size_t chunk = 64;
  std::uint8_t in[2 * 16 * chunk];
  std::uint8_t out[2 * 16 * chunk];
  for (std::size_t start = 0; start < n; start += chunk) {
    const std::size_t m = n - start < chunk ? n - start : chunk;
    for (std::size_t i = 0; i < m; ++i) {
      // Block 2i: the position input; block 2i + 1: the lane block of the candidate (§4).
      std::uint8_t* p = in + 32 * i;
      std::memcpy(p, g[start + i].bytes.data(), 12);
      std::memset(p + 12, 0, 3);
      p[15] = static_cast<std::uint8_t>(trace_v1::tag::position);
      const std::uint64_t bit =
          static_cast<std::uint64_t>(static_cast<std::uint32_t>(v[start + i])) * params_.symbol_bits;
      const auto counter = static_cast<std::uint32_t>(bit >> 7);
      std::memcpy(p + 16, g[start + i].bytes.data(), 12);
      p[28] = static_cast<std::uint8_t>(counter);
      p[29] = static_cast<std::uint8_t>(counter >> 8);
      p[30] = static_cast<std::uint8_t>(counter >> 16);
      p[31] = static_cast<std::uint8_t>(trace_v1::tag::account_lane);
    }
    detail::aes128_encrypt_blocks(keys_->aes, in, out, 2 * m);
    for (std::size_t i = 0; i < m; ++i) {
      const std::uint8_t* o = out + 32 * i;
      const std::uint32_t word = o[0] | static_cast<std::uint32_t>(o[1]) << 8 |
                                 static_cast<std::uint32_t>(o[2]) << 16 |
                                 static_cast<std::uint32_t>(o[3]) << 24;
      positions[start + i] = word & (params_.code_length - 1);
      const std::uint64_t bit =
          static_cast<std::uint64_t>(static_cast<std::uint32_t>(v[start + i])) * params_.symbol_bits;
      lanes[start + i] = detail::lane_at(o + 16, bit, params_.symbol_bits);
    }
  }
}

void trace_prf::stream_blocks(const prf_context& g, std::uint32_t first, std::size_t n,
                              std::uint8_t* out) const noexcept {
  // Bytes 12..15 of an input block read as a little-endian word are counter | tag << 24; candidates
  // stay below 2^24, so the counter stays below 2^18 and incrementing the word never reaches the tag.
  const std::uint32_t word3 =
      first | static_cast<std::uint32_t>(trace_v1::tag::account_lane) << 24;
  detail::aes128_counter_blocks(keys_->aes, g.bytes.data(), word3, n, out);
}

}  // namespace tritium
