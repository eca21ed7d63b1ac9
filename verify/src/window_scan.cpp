// Windowed detection with a weighted Bonferroni correction (tritium/window_scan.hpp).
#include "tritium/window_scan.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "tritium/binomial_tail.hpp"
#include "tritium/gamma_tail.hpp"
#include "tritium/hf_kgw_detect.hpp"
#include "tritium/hypergeometric_tail.hpp"
#include "tritium/error.hpp"

namespace tritium {

std::vector<window_size> window_grid(std::uint64_t scored, std::uint64_t min_window) {
  std::vector<window_size> grid;
  for (std::uint64_t w = min_window; w < scored; w *= 2) {
    const std::uint64_t stride = (w + 1) / 2;
    // Windows start at 0, stride, 2·stride, … while they fit; a last window flush with the end
    // covers the tail the stride would skip.
    std::uint64_t count = (scored - w) / stride + 1;
    if ((scored - w) % stride != 0) ++count;
    grid.push_back({w, stride, count});
  }
  grid.push_back({scored, scored, 1});
  return grid;
}

namespace {

void check_scan(std::size_t values, std::size_t positions, const window_scan_options& options) {
  if (values != positions) throw error(errc::invalid_argument, "window scan: verdicts and positions differ in number");
  if (options.min_window < 10) {
    throw error(errc::invalid_argument, "window scan: min_window: expected at least 10, got " +
                                            std::to_string(options.min_window));
  }
}

/// The scan over n tuples: `window(begin, end, statistic)` returns the window's ln p and sets its
/// statistic (green count, or score sum).
template <class Window>
window_scan_result scan(std::uint64_t n, std::span<const std::uint64_t> token_position,
                        const window_scan_options& options, Window window) {
  window_scan_result r;
  r.scored = n;
  if (n == 0) return r;
  const auto grid = window_grid(n, options.min_window);
  r.sizes = static_cast<std::uint32_t>(grid.size());
  const double ln_sizes = std::log(static_cast<double>(grid.size()));
  r.ln_p_scan = std::numeric_limits<double>::infinity();
  for (const window_size& g : grid) {
    const double ln_weight = ln_sizes + std::log(static_cast<double>(g.count));
    for (std::uint64_t k = 0; k < g.count; ++k) {
      const std::uint64_t begin = std::min(k * g.stride, n - g.size);
      const std::uint64_t end = begin + g.size;
      double statistic = 0.0;
      const double ln_p = window(begin, end, statistic);
      ++r.windows;
      if (g.size == n) r.whole_ln_p = ln_p;
      if (ln_p + ln_weight < r.ln_p_scan) {
        r.ln_p_scan = ln_p + ln_weight;
        r.begin = begin;
        r.end = end;
        r.window_green = static_cast<std::uint64_t>(statistic);
        r.window_score = statistic;
        r.window_ln_p = ln_p;
      }
    }
  }
  r.ln_p_scan = std::min(0.0, r.ln_p_scan);
  r.token_begin = token_position[r.begin];
  r.token_end = token_position[r.end - 1] + 1;
  return r;
}

std::vector<std::uint64_t> prefix_counts(std::span<const std::uint8_t> green) {
  std::vector<std::uint64_t> prefix(green.size() + 1, 0);
  for (std::size_t i = 0; i < green.size(); ++i) prefix[i + 1] = prefix[i] + green[i];
  return prefix;
}

}  // namespace

window_scan_result binomial_window_scan(std::span<const std::uint8_t> green,
                                        std::span<const std::uint64_t> token_position, double gamma,
                                        const window_scan_options& options) {
  check_scan(green.size(), token_position.size(), options);
  if (!(gamma > 0.0 && gamma < 1.0)) throw error(errc::invalid_argument, "window scan: gamma outside (0, 1)");
  const std::vector<std::uint64_t> prefix = prefix_counts(green);
  return scan(green.size(), token_position, options, [&](std::uint64_t begin, std::uint64_t end, double& statistic) {
    const std::uint64_t ones = prefix[end] - prefix[begin];
    statistic = static_cast<double>(ones);
    return binomial_upper_tail_ln(end - begin, ones, gamma);
  });
}

window_scan_result gamma_window_scan(std::span<const double> scores, std::span<const std::uint64_t> token_position,
                                     const window_scan_options& options) {
  check_scan(scores.size(), token_position.size(), options);
  // Window sums from prefix sums in long double (the window's own sum to well within the tail's
  // sensitivity; the p-value of a sum is continuous in it).
  std::vector<long double> prefix(scores.size() + 1, 0.0L);
  for (std::size_t i = 0; i < scores.size(); ++i) prefix[i + 1] = prefix[i] + scores[i];
  return scan(scores.size(), token_position, options, [&](std::uint64_t begin, std::uint64_t end, double& statistic) {
    statistic = static_cast<double>(prefix[end] - prefix[begin]);
    return gamma_upper_tail_ln(end - begin, statistic);
  });
}

window_scan_result hypergeometric_window_scan(std::span<const std::uint8_t> green,
                                              std::span<const std::uint64_t> token_position, std::uint64_t population,
                                              std::uint64_t green_in_population, const window_scan_options& options) {
  check_scan(green.size(), token_position.size(), options);
  if (green_in_population == 0 || green_in_population >= population || green.size() > population) {
    throw error(errc::invalid_argument, "window scan: the green list must be a proper part of the population");
  }
  const std::vector<std::uint64_t> prefix = prefix_counts(green);
  return scan(green.size(), token_position, options, [&](std::uint64_t begin, std::uint64_t end, double& statistic) {
    const std::uint64_t ones = prefix[end] - prefix[begin];
    statistic = static_cast<double>(ones);
    return hypergeometric_upper_tail_ln(population, green_in_population, end - begin, ones);
  });
}

window_scan_result window_scan_by(std::uint64_t n, std::span<const std::uint64_t> token_position,
                                  const window_scan_options& options,
                                  const std::function<double(std::uint64_t, std::uint64_t, double&)>& window) {
  check_scan(n, token_position.size(), options);
  return scan(n, token_position, options, window);
}

window_scan_result window_scan(const detection& d, const window_scan_options& options) {
  if (d.marks.size() != d.tokens) {
    throw error(errc::usage, "window scan: the detection was made without marks (set want_marks)");
  }
  std::vector<std::uint8_t> green;
  std::vector<std::uint64_t> position;
  for (std::uint64_t t = 0; t < d.marks.size(); ++t) {
    if (d.marks[t] == token_mark::green || d.marks[t] == token_mark::red) {
      green.push_back(d.marks[t] == token_mark::green);
      position.push_back(t);
    }
  }
  if (!d.p_is_bound) return binomial_window_scan(green, position, d.gamma, options);
  check_scan(green.size(), position.size(), options);
  const std::vector<std::uint64_t> prefix = prefix_counts(green);
  return scan(green.size(), position, options, [&](std::uint64_t begin, std::uint64_t end, double& statistic) {
    const std::uint64_t ones = prefix[end] - prefix[begin];
    statistic = static_cast<double>(ones);
    return hf_kgw_p_bound_ln(end - begin, ones, d.gamma);
  });
}

}  // namespace tritium
