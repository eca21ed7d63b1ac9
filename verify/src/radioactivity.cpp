#include "tritium/radioactivity.hpp"

#include <cmath>
#include <numbers>
#include <string>

#include "tritium/binomial_tail.hpp"
#include "tritium/error.hpp"

namespace tritium {

void window_set::add_windows_of(std::span<const token_id> tokens, std::uint32_t h) {
  for (std::size_t i = h; i <= tokens.size(); ++i) set_.insert(window_fingerprint(tokens.subspan(i - h, h)));
}

bool window_set::contains(std::span<const token_id> window) const {
  return set_.count(window_fingerprint(window)) != 0;
}

radioactivity_scorer::radioactivity_scorer(const key& k, radioactivity_options options)
    : scheme_(k), options_(options) {}

void radioactivity_scorer::exclude_windows(std::span<const token_id> prompt) {
  prompt_windows_.add_windows_of(prompt, scheme_.context_width());
}

void radioactivity_scorer::score(std::span<const token_id> window, token_id v) {
  ++counts_.read;
  if (prompt_windows_.contains(window)) {
    ++counts_.prompt_excluded;
    return;
  }
  if (filter_ != nullptr && !filter_->contains(window)) {
    ++counts_.filtered_out;
    return;
  }
  if (options_.tape != tape_mode::none) {
    const std::uint64_t f = options_.tape == tape_mode::window ? window_fingerprint(window) : tuple_fingerprint(window, v);
    if (!tape_.insert(f)) {
      ++counts_.duplicates;
      return;
    }
  }
  const bool g = scheme_.is_green(window, v);
  ++scored_;
  green_ += g ? 1 : 0;
  if (options_.curve_points > 0) flags_.push_back(g ? 1 : 0);
}

void radioactivity_scorer::score_text(std::span<const token_id> tokens) {
  const std::size_t h = scheme_.context_width();
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    if (tokens[i] < 0 || static_cast<std::uint32_t>(tokens[i]) >= scheme_.vocab_size()) {
      throw error(errc::out_of_range, "token " + std::to_string(i) + ": expected 0 <= id < " +
                                          std::to_string(scheme_.vocab_size()) + ", got " + std::to_string(tokens[i]));
    }
  }
  for (std::size_t i = h; i < tokens.size(); ++i) score(tokens.subspan(i - h, h), tokens[i]);
}

void radioactivity_scorer::score_predictions(std::span<const token_id> input, std::span<const token_id> predictions) {
  if (input.size() != predictions.size()) {
    throw error(errc::invalid_argument, "reading mode: expected one prediction per input token (" +
                                            std::to_string(input.size()) + "), got " + std::to_string(predictions.size()));
  }
  for (std::size_t i = 0; i < input.size(); ++i) {
    for (token_id t : {input[i], predictions[i]}) {
      if (t < 0 || static_cast<std::uint32_t>(t) >= scheme_.vocab_size()) {
        throw error(errc::out_of_range, "position " + std::to_string(i) + ": expected 0 <= id < " +
                                            std::to_string(scheme_.vocab_size()) + ", got " + std::to_string(t));
      }
    }
  }
  const std::size_t h = scheme_.context_width();
  // predictions[i] follows input[0..i]: its window is the last h input tokens up to i.
  for (std::size_t i = h - 1; i < input.size(); ++i) score(input.subspan(i + 1 - h, h), predictions[i]);
}

radioactivity_result radioactivity_scorer::result() const {
  radioactivity_result r;
  r.counts = counts_;
  r.test.tokens = counts_.read;
  r.test.scored = scored_;
  r.test.green = green_;
  r.test.gamma = scheme_.params().gamma();
  finish_detection(r.test, options_.alpha);
  if (options_.curve_points > 0 && !flags_.empty()) {
    const std::size_t n = flags_.size();
    const std::size_t points = std::min(options_.curve_points, n);
    std::uint64_t green = 0;
    std::size_t next = 0;
    for (std::size_t k = 0; k < n; ++k) {
      green += flags_[k];
      if (k + 1 == (next + 1) * n / points) {
        r.test.curve.push_back({k + 1, green, -binomial_upper_tail_ln(k + 1, green, r.test.gamma) / std::numbers::ln10});
        ++next;
      }
    }
  }
  return r;
}

std::vector<key> control_keys(const key& k, std::uint32_t count) {
  std::vector<key> out;
  out.reserve(count);
  for (std::uint32_t i = 0; i < count; ++i) out.push_back(k.derive("tritium/v1/control-key/" + std::to_string(i)));
  return out;
}

std::uint64_t plan_scored_tuples(std::uint64_t pilot_scored, std::uint64_t pilot_green, double gamma,
                                 double target_log10_p) {
  if (pilot_scored == 0) return 0;
  const double share = static_cast<double>(pilot_green) / static_cast<double>(pilot_scored);
  if (share <= gamma) return 0;
  auto expected_log10 = [&](std::uint64_t n) {
    const auto green = static_cast<std::uint64_t>(std::floor(share * static_cast<double>(n)));
    return binomial_upper_tail_ln(n, green, gamma) / std::numbers::ln10;
  };
  std::uint64_t hi = 1;
  while (expected_log10(hi) > target_log10_p) {
    if (hi > (1ull << 40)) return 0;
    hi *= 2;
  }
  std::uint64_t lo = hi / 2;
  while (lo + 1 < hi) {
    const std::uint64_t mid = lo + (hi - lo) / 2;
    (expected_log10(mid) <= target_log10_p ? hi : lo) = mid;
  }
  return hi;
}

}  // namespace tritium
