// tritium/trace.hpp — per-account marks from one master key, version "tritium-trace-v1".
//
// The derivation layer of account tracing (papers/trace-v1.md; design in papers/attribution.md
// §3.2): an account id derives a 12-byte account field and from it a code word of L symbols of b_a
// bits; a window of the last h_p tokens picks which code-word position a step carries, and each
// candidate token gets a b_a-bit account lane. Nothing is stored per account.
// fixtures/kat/trace_v1.json pins every output; anything that changes a single output bit needs a
// new version name.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "tritium/prf.hpp"

namespace tritium {

class key;

namespace trace_v1 {
inline constexpr const char* name = "tritium-trace-v1";
inline constexpr std::string_view aes_label = "tritium/v1/trace/aes128";
inline constexpr std::string_view siphash_label = "tritium/v1/trace/siphash";
/// The ASCII label that opens the binary HKDF info string of an account (papers/trace-v1.md §2).
inline constexpr std::string_view account_label = "tritium/v1/trace/account";
/// The label of decoy accounts: code words derived like an account's but from an index, never
/// issued, ranked beside a registry as controls (papers/trace-v1.md §6; papers/attribution.md §4.4).
inline constexpr std::string_view decoy_label = "tritium/v1/trace/decoy";
inline constexpr std::size_t account_field_size = 12;
/// Account ids are 1 to 1024 bytes of UTF-8.
inline constexpr std::size_t max_account_bytes = 1024;

/// Domain tags under k_trace, disjoint from prf-v1's 0x01–0x03 (those are under another key
/// anyway).
enum class tag : std::uint8_t {
  account_lane = 0x04,  ///< account lanes of the candidates at a step
  position = 0x05,      ///< the code-word position a step carries
  code_word = 0x06,     ///< the code-word symbols of an account
};
}  // namespace trace_v1

/// Defaults: the operating point of papers/attribution.md §0 and §5.2 (L = 1024 positions so that a
/// cluster of 8 colluders stays above the cross-talk ceiling, §4.6; r = 4 symbols; a 3-token
/// position window; δ_a = 0.75 with δ = 1.9, §5.1).
inline constexpr std::uint32_t trace_default_code_length = 1024;
inline constexpr std::uint32_t trace_default_symbol_bits = 2;
inline constexpr std::uint32_t trace_default_position_width = 3;
inline constexpr double trace_default_account_delta = 0.75;
/// The KGW bias a traced key defaults to (`keygen --trace` without --delta): with δ_a = 0.75 it keeps
/// text quality within 1% of single-key KGW at δ = 2 on the reference model (+0.81% ± 0.17 step
/// perplexity) for 1.10–1.18× the scored tokens (papers/attribution.md §7.1); δ = 2 with δ_a = 0.75
/// costs +3.1%.
inline constexpr double trace_default_kgw_delta = 1.9;

/// Public parameters of account tracing.
struct trace_params {
  std::uint32_t code_length = trace_default_code_length;  ///< L: a power of two in [64, 4096]
  std::uint32_t symbol_bits = trace_default_symbol_bits;  ///< b_a ∈ {1, 2}: r = 2^b_a symbols
  std::uint32_t position_width = trace_default_position_width;  ///< h_p ∈ [1, 16] tokens
  double account_delta = trace_default_account_delta;           ///< δ_a ∈ (0, 8]

  /// Throws errc::invalid_argument naming the first field outside its range and its value.
  void validate() const;
};

/// The 12-byte account field F_A (papers/trace-v1.md §2).
using account_field = std::array<std::uint8_t, trace_v1::account_field_size>;

/// The code word of one account: L symbols, each in [0, 2^b_a).
struct account_code {
  account_field field{};
  std::vector<std::uint8_t> symbols;
};

/// F_A of an account id: HKDF-Expand-SHA256 of the key's secret with the binary info string
/// "tritium/v1/trace/account" || 0x00 || LE32(n) || id. The id is taken as bytes, never normalised.
/// Throws errc::invalid_argument when the id is empty, longer than 1024 bytes or not valid UTF-8
/// (naming the byte offset of the first invalid sequence).
account_field derive_account_field(const key& k, std::string_view account_utf8);

/// F_A and the L-symbol code word of an account. Validates `params` and the id as above.
account_code derive_account_code(const key& k, std::string_view account_utf8,
                                 const trace_params& params);

/// Code words in bulk, for ranking a registry: the HMAC pads and the AES round keys are computed
/// once, and a code word comes out packed — symbol j at bit j·b_a of the byte string, least
/// significant bit first, exactly as trace-v1 §3 cuts it from the AES stream. derive_account_code
/// is this class. Immutable after construction, safe to share between threads.
class account_codebook {
 public:
  /// Validates `params`.
  account_codebook(const key& k, const trace_params& params);
  ~account_codebook();
  account_codebook(const account_codebook&) = delete;
  account_codebook& operator=(const account_codebook&) = delete;

  const trace_params& params() const noexcept { return params_; }
  /// Bytes of a packed code word: L·b_a / 8.
  std::size_t packed_size() const noexcept;

  /// F_A and the packed code word of an account id (`out` holds packed_size() bytes). Throws
  /// errc::invalid_argument for an id derive_account_field refuses.
  account_field packed(std::string_view account_utf8, std::span<std::uint8_t> out) const;
  /// Decoy `index`: F = HKDF-Expand(K, "tritium/v1/trace/decoy" || 0x00 || LE32(index), 12), then
  /// the code word as an account's. No account id gives the same info string.
  account_field packed_decoy(std::uint32_t index, std::span<std::uint8_t> out) const;

  account_code code(std::string_view account_utf8) const;
  account_code decoy(std::uint32_t index) const;

 private:
  void code_word(const account_field& field, std::span<std::uint8_t> out) const noexcept;
  account_code unpack(const account_field& field, std::span<const std::uint8_t> packed) const;

  struct subkeys;
  std::unique_ptr<subkeys> keys_;
  trace_params params_;
};

/// The keyed choices of tracing at one step. Immutable after construction, safe to share between
/// threads.
class trace_prf {
 public:
  /// Derives the tracing subkeys of `k` (the secret itself is not kept); validates `params`.
  trace_prf(const key& k, const trace_params& params);
  ~trace_prf();
  trace_prf(const trace_prf&) = delete;
  trace_prf& operator=(const trace_prf&) = delete;

  const trace_params& params() const noexcept { return params_; }

  /// The context field G of a position window of exactly `position_width` tokens, oldest first.
  /// Throws errc::invalid_argument for another size.
  prf_context context(std::span<const token_id> window) const;

  /// The code-word position j ∈ [0, L) a step with context field `g` carries.
  std::uint32_t position(const prf_context& g) const noexcept;
  std::uint32_t position(std::span<const token_id> window) const {
    return position(context(window));
  }

  /// The account lane ∈ [0, 2^b_a) of candidate `v` (0 ≤ v < 2^24) at a step with context field
  /// `g`.
  std::uint32_t account_lane(const prf_context& g, token_id v) const noexcept;
  std::uint32_t account_lane(std::span<const token_id> window, token_id v) const {
    return account_lane(context(window), v);
  }

  /// position(g[i]) and account_lane(g[i], v[i]) for n steps at once, with one AES call for all
  /// their blocks (a scan's batches). Candidates as account_lane.
  void positions_and_lanes(const prf_context* g, const token_id* v, std::size_t n,
                           std::uint32_t* positions, std::uint32_t* lanes) const noexcept;
  /// Blocks `first` … `first + n − 1` of the account-lane stream of `g` (16·n bytes into `out`):
  /// the lane of candidate v is the b_a-bit field at bit v·b_a of the whole stream. For dense rows.
  void stream_blocks(const prf_context& g, std::uint32_t first, std::size_t n,
                     std::uint8_t* out) const noexcept;

 private:
  struct subkeys;
  std::unique_ptr<subkeys> keys_;
  trace_params params_;
};

}  // namespace tritium
