// tritium/kgw.hpp — KGW embedding (Kirchenbauer et al., ICML 2023, arXiv:2301.10226).
//
// Given the last h tokens, each token v of the vocabulary is green with probability exactly γ,
// decided by the keyed PRF (tritium/prf.hpp), and green logits get +δ. Three ways in, all exact:
//   - `bias_dense`: a full logits row (O(V) PRF lanes, one AES block per 128/b tokens);
//   - `bias_sparse`: a candidate list (what a server holds after top-k/top-p), O(k) PRF lanes;
//   - `sample`: a draw from softmax(logits + δ·green) by rejection from softmax(logits), evaluating
//     the PRF only on proposed tokens; it falls back to the dense path after `max_proposals`.
// Unlike the original implementation, green lists are i.i.d. Bernoulli(γ) per token rather than a
// permutation prefix of exactly ⌊γV⌋ tokens (papers/prf-v1.md §4 explains why): this makes
// single-token membership cheap and every distinct (context, token) tuple independent under the null.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "tritium/key.hpp"
#include "tritium/prf.hpp"
#include "tritium/sampling_rng.hpp"
#include "tritium/trace.hpp"

namespace tritium {

/// Reusable scratch memory for `kgw::sample`, so that the per-token path does not allocate.
struct sampling_scratch {
  std::vector<double> weights;     ///< unnormalised probabilities, filled by `kgw::prepare*`
  std::vector<double> cumulative;  ///< their running sums
  double total = 0.0;
  std::vector<std::uint8_t> green;   ///< dense fallback: the green mask
  std::vector<double> biased;        ///< dense fallback: running sums of the biased weights
  std::vector<std::uint8_t> account_match;  ///< dense fallback with an account: the match mask
  std::uint64_t proposals = 0;  ///< rejection proposals made so far (statistics only)
  std::uint64_t fallbacks = 0;  ///< draws that needed the dense fallback (statistics only)
};

/// Rejection proposals tried before `kgw::sample` switches to the exact dense draw.
inline constexpr int kgw_max_proposals = 32;

/// The account half of one step (papers/trace-v1.md §4): the context field G of the position window
/// and the code-word symbol w_A[j] at the position j it picks. Made by `kgw::account_step_at`.
struct account_step {
  prf_context g{};
  std::uint32_t symbol = 0;
};

/// The KGW scheme for one key. Immutable, thread-safe; share it between streams with shared_ptr.
class kgw {
 public:
  explicit kgw(const key& k);

  const kgw_params& params() const noexcept { return params_; }
  /// The key's id (64 hex digits), for messages.
  const std::string& key_id() const noexcept { return key_id_; }
  const kgw_prf& prf() const noexcept { return prf_; }
  std::uint32_t context_width() const noexcept { return params_.context_width; }
  std::uint32_t vocab_size() const noexcept { return params_.vocab_size; }

  /// Whether `v` is green after `window` (exactly h tokens, oldest first). Throws on another size.
  bool is_green(std::span<const token_id> window, token_id v) const;

  /// Writes 1 (green) or 0 for every token of the vocabulary into `out` (size V).
  void green_mask(std::span<const token_id> window, std::span<std::uint8_t> out) const;

  /// Adds δ to the green entries of a full logits row (size V).
  void bias_dense(std::span<const token_id> window, std::span<float> logits) const;

  /// Adds δ to `logits[i]` where `ids[i]` is green; `ids` and `logits` have equal size.
  void bias_sparse(std::span<const token_id> window, std::span<const token_id> ids,
                   std::span<float> logits) const;

  /// The key's tracing PRF, or nullptr for a key without trace parameters.
  const trace_prf* trace() const noexcept { return trace_.get(); }

  /// The account half of a step whose last h_p tokens (oldest first) are `position_window`.
  /// Throws errc::mismatch when the key has no trace parameters (naming `keygen --trace`) and
  /// errc::invalid_argument when the window or the code word does not fit them.
  account_step account_step_at(std::span<const token_id> position_window,
                               const account_code& code) const;
  /// The same without checks, for a caller that validated the window size and the code once.
  account_step account_step_unchecked(std::span<const token_id> position_window,
                                      const account_code& code) const noexcept;

  /// Throws errc::mismatch / invalid_argument as `account_step_at` when `code` cannot be used with
  /// this key (no trace parameters, or a code word of another length or symbol width).
  void check_account_code(const account_code& code) const;

  /// Fused account tracing (design (b), papers/attribution.md §3.2): logit[v] += δ·green(v) +
  /// δ_a·[account lane of v = the step's symbol], in one pass over the row. The key must have trace
  /// parameters (else errc::mismatch).
  void bias_dense(std::span<const token_id> window, std::span<float> logits,
                  const account_step& account) const;
  void bias_sparse(std::span<const token_id> window, std::span<const token_id> ids,
                   std::span<float> logits, const account_step& account) const;

  /// Draws a token from softmax(logits + δ·green) (size V). Exact; see the header comment.
  token_id sample(std::span<const token_id> window, std::span<const float> logits,
                  sampling_rng& rng, sampling_scratch& scratch) const;

  /// Draws a token from softmax(logits) with the same numerics: the unwatermarked baseline.
  static token_id sample_plain(std::span<const float> logits, sampling_rng& rng,
                               sampling_scratch& scratch);

  /// The two halves of `sample` and `sample_plain`, for callers that draw more than once from one
  /// distribution (and for measuring what the watermark adds): `prepare` computes the cumulative
  /// weights once (O(V)); the draws then cost a binary search, plus PRF lanes for the watermark.
  static void prepare(std::span<const float> logits, sampling_scratch& scratch);
  /// The same from probabilities (or any non-negative weights with a positive sum).
  static void prepare_probabilities(std::span<const double> probs, sampling_scratch& scratch);
  token_id draw_prepared(std::span<const token_id> window, sampling_rng& rng,
                         sampling_scratch& scratch) const;
  /// With an account (nullptr: exactly the overload above): a draw from softmax(logits + δ·green +
  /// δ_a·match), by rejection with acceptance e^{δ(green−1) + δ_a(match−1)}, and the exact dense
  /// draw after `kgw_max_proposals` rejections.
  token_id draw_prepared(std::span<const token_id> window, sampling_rng& rng,
                         sampling_scratch& scratch, const account_step* account) const;
  static token_id draw_plain_prepared(sampling_rng& rng, const sampling_scratch& scratch);

 private:
  bool green_lane(std::uint32_t lane) const noexcept { return lane < params_.gamma_threshold; }
  void check_window(std::span<const token_id> window) const;
  void check_row(std::size_t size, const char* what) const;
  void require_trace() const;
  void check_sparse(std::span<const token_id> ids, std::span<float> logits) const;
  void bias_dense_impl(std::span<const token_id> window, std::span<float> logits,
                       const account_step* account) const;
  void bias_sparse_impl(std::span<const token_id> window, std::span<const token_id> ids,
                        std::span<float> logits, const account_step* account) const;

  kgw_params params_;
  kgw_prf prf_;
  /// Owned; null for a key without trace parameters.
  std::unique_ptr<const trace_prf> trace_;
  std::string key_id_;  ///< for messages
  float account_delta_ = 0.0f;
  float delta_;
  /// For b ≤ 8: the green flags of the 8/b lanes packed in one keystream byte, one flag per byte.
  std::uint64_t byte_flags_[256];
};

}  // namespace tritium
