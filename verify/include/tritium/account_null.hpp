// tritium/account_null.hpp — the account score and its exact null law, given the counts.
//
// papers/attribution.md §4.2–§4.4. An account's score is S_A = Σ_j h_j(w_A[j]) with h_j(s) = C[j][s]
// (the count score). Under H0(A) — the corpus holds no text generated for A — A's code word is
// independent of the counts, so given them S_A is a sum of L independent uniforms over
// {h_j(0), …, h_j(r−1)}: its law is their convolution, computed exactly here. p-values are upper
// tails of that law (conservative: P(p ≤ t) ≤ t); a randomised version is exactly uniform and serves
// the checks. The family-wise correction over N accounts is Šidák's, exact for independent tests.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "tritium/trace_counts.hpp"

namespace tritium {

/// h_j(s) for every position, with byte-sliced sums for scoring packed code words: for byte q of a
/// packed code word (the 8/b_a positions it holds), sliced[q·256 + byte] is the sum of their h.
struct account_score_table {
  std::uint32_t code_length = 0;
  std::uint32_t symbol_bits = 0;
  std::vector<std::uint64_t> h;       ///< h[j·r + s]
  std::vector<std::uint64_t> sliced;  ///< (L·b_a/8)·256 entries

  /// S of a code word packed as trace-v1 cuts it (account_codebook::packed); `packed` holds
  /// L·b_a/8 bytes.
  std::uint64_t score(std::span<const std::uint8_t> packed) const noexcept {
    std::uint64_t s = 0;
    const std::uint64_t* t = sliced.data();
    for (std::uint8_t byte : packed) {
      s += t[byte];
      t += 256;
    }
    return s;
  }
  /// S of an unpacked code word (one symbol per byte), the definition the sliced sum must equal.
  std::uint64_t score_symbols(std::span<const std::uint8_t> symbols) const;
};

/// The count score's table, h_j(s) = C[j][s].
account_score_table count_table(const trace_counts& counts);

/// The exact law of S under H0 given the table.
class account_null_law {
 public:
  /// log10 P(S ≥ s); 0 at or below the smallest possible score, −infinity above the largest. Tails
  /// below 10^−280 (beyond a double's range) are computed on demand by an exponentially tilted
  /// convolution (one more convolution per call); every other score is a look-up.
  double log10_p(std::uint64_t score) const;
  /// P(S > s) + u·P(S = s) for u in [0, 1]: exactly uniform under H0 when u is.
  double randomised_p(std::uint64_t score, double u) const noexcept;
  /// The smallest score whose p-value is at most 10^log10_threshold, for thresholds of 10^−280 or
  /// more (max_score() + 1 if none).
  std::uint64_t threshold(double log10_threshold) const noexcept;

  double mean() const noexcept { return mean_; }
  double sd() const noexcept { return sd_; }
  std::uint64_t min_score() const noexcept { return offset_; }
  std::uint64_t max_score() const noexcept { return offset_ + (log10_tail_.size() - 1); }
  /// Number of support points the law was computed on (max − min + 1).
  std::size_t support() const noexcept { return log10_tail_.size(); }

 private:
  friend account_null_law account_null(const account_score_table& table);
  double tilted_log10_p(std::uint64_t shifted) const;

  std::uint32_t symbols_ = 0;
  std::vector<std::uint32_t> spread_;  ///< h_j(s) − min_s h_j(s), r per position with a spread
  std::uint64_t offset_ = 0;
  std::vector<double> log10_tail_;  ///< log10 P(S ≥ offset + i); NaN where below 10^−280
  std::vector<double> pmf_;         ///< P(S = offset + i) (0 where it underflows)
  double mean_ = 0.0, sd_ = 0.0;
};

/// The convolution of papers/attribution.md §4.3 by dynamic programming over the integer support
/// (r·Σ_j support_j additions).
account_null_law account_null(const account_score_table& table);

/// Šidák's family-wise p-value over `n` independent tests, 1 − (1 − p)^n, as log10, from log10 p
/// (accurate for p far below the range of a double).
double sidak_log10(double log10_p, std::uint64_t n) noexcept;

}  // namespace tritium
