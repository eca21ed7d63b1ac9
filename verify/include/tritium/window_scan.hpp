// tritium/window_scan.hpp — windowed detection: a watermarked passage pasted into a longer text.
//
// A whole-text test dilutes a short marked passage with the unmarked text around it. The scan tests
// windows of several sizes and reports the best, with a p-value corrected for having looked at all of
// them (papers/window-scan.md):
//   - the grid is fixed before looking at the data: over the T scored tuples (in text order, after the
//     document's deduplication), sizes w_j = w_min·2^j for w_j < T, each at stride ⌈w_j/2⌉ (any run of
//     ≥ 1.5·w_j tuples contains a whole grid window of size w_j), plus the whole text: J sizes;
//   - each window's statistic is the scheme's own exact test on the tuples inside it (distinct tuples
//     are independent under H0, so a window's p-value is exact for any window chosen by position);
//   - the correction is a weighted Bonferroni bound: with n_j windows of size j, each gets weight
//     1/(J·n_j), the weights sum to 1, and p_scan = min over windows of J·n_j·p_w is a valid p-value
//     under any dependence between windows. The whole text pays only the factor J.
// Scan approximations (Naus, Glaz) and WinMax's z are not bounds and are not used.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "tritium/detect.hpp"

namespace tritium {

struct window_scan_options {
  std::uint64_t min_window = 50;  ///< w_min, in scored tuples; ≥ 10
};

// window_scan_result (the best window and the corrected p) is declared in tritium/detect.hpp.

/// Scans a sequence of scored tuples with the binomial null: green[i] ∈ {0, 1} is tuple i's verdict,
/// each Bernoulli(gamma) independently under H0; token_position[i] is the token index it scores (for
/// reporting; strictly increasing). Throws errc::invalid_argument on sizes that differ, gamma outside
/// (0, 1) or min_window < 10. With T < min_window only the whole text is tested (J = 1).
window_scan_result binomial_window_scan(std::span<const std::uint8_t> green,
                                        std::span<const std::uint64_t> token_position, double gamma,
                                        const window_scan_options& options = {});

/// Scans a sequence of Gumbel scores (papers/gumbel-v1.md): score[i] = −ln(1 − U_i/2^32) of scored tuple
/// i, each at most Exp(1) under H0 independently; a window of w tuples and sum S has p = Q(w, S)
/// (the Gamma(w, 1) tail). The best window's sum is `window_score`.
window_scan_result gamma_window_scan(std::span<const double> scores, std::span<const std::uint64_t> token_position,
                                     const window_scan_options& options = {});

/// Scans the distinct token ids of a Unigram text in order of first occurrence: green[i] says whether
/// id i is in the list of G among V. The ids of a window are distinct, so its green count is
/// Hypergeometric(V, G, w) exactly under H0.
window_scan_result hypergeometric_window_scan(std::span<const std::uint8_t> green,
                                              std::span<const std::uint64_t> token_position, std::uint64_t population,
                                              std::uint64_t green_in_population, const window_scan_options& options = {});

/// Scans a detection made with marks (`want_marks`): its green and red marks, in text order, are the
/// scored tuples; its gamma is the null's. Throws errc::usage when the detection has no marks. For a
/// detection whose p-value is a bound (`p_is_bound`: transformers' KGW, papers/hf-kgw.md §5) each
/// window's p is the same bound: the binomial tail where Hoeffding's inequality holds (green ≥
/// w·gamma + 1), 1 below it.
window_scan_result window_scan(const detection& d, const window_scan_options& options = {});

/// The scan over n scored items with any statistic whose p-value is valid for a window chosen by
/// position: `window(begin, end, statistic)` returns the ln p of items [begin, end) and sets the
/// statistic reported for the best window (a count, or a score). As the scans above otherwise.
window_scan_result window_scan_by(std::uint64_t n, std::span<const std::uint64_t> token_position,
                                  const window_scan_options& options,
                                  const std::function<double(std::uint64_t begin, std::uint64_t end, double& statistic)>& window);

/// The grid of window sizes and their counts for T tuples (the whole text last), as the scan uses it.
struct window_size {
  std::uint64_t size;
  std::uint64_t stride;
  std::uint64_t count;
};
std::vector<window_size> window_grid(std::uint64_t scored, std::uint64_t min_window);

}  // namespace tritium
