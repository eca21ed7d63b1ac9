#include "tritium/unigram_detect.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <string>
#include <vector>

#include "tritium/error.hpp"
#include "tritium/hypergeometric_tail.hpp"

namespace tritium {

namespace {

void check_options(const detect_options& options) {
  if (options.want_marks || options.curve_points > 0) {
    throw error(errc::usage, "Unigram detection: marks and curves are not produced for this scheme");
  }
  if (!(options.alpha > 0.0 && options.alpha < 1.0)) {
    throw error(errc::invalid_argument, "Unigram detection: alpha must lie in (0, 1)");
  }
  if (options.dedup == dedup_mode::none) {
    throw error(errc::usage, "Unigram detection scores distinct token ids; --dedup none has no valid p-value here");
  }
}

/// Adds the ids of `tokens` not yet in `seen` to d's counts.
void score_ids(const unigram& scheme, std::span<const token_id> tokens, std::vector<std::uint8_t>& seen,
               unigram_detection& d, unigram_ids* ids = nullptr) {
  const std::uint32_t vocab = scheme.vocab_size();
  const auto& green = scheme.green_mask();
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    const token_id t = tokens[i];
    if (t < 0 || static_cast<std::uint32_t>(t) >= vocab) {
      throw error(errc::out_of_range, "token " + std::to_string(i) + ": expected 0 <= id < " +
                                          std::to_string(vocab) + ", got " + std::to_string(t));
    }
  }
  d.tokens += tokens.size();
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    const auto v = static_cast<std::size_t>(tokens[i]);
    if (seen[v]) continue;
    seen[v] = 1;
    ++d.scored;
    d.green += green[v];
    if (ids != nullptr) {
      ids->green.push_back(green[v]);
      ids->positions.push_back(i);
    }
  }
}

void finish(const unigram& scheme, unigram_detection& d, double alpha) {
  const std::uint64_t G = scheme.green_count();
  const double ln_alpha = std::log(alpha);
  d.ln_p = hypergeometric_upper_tail_ln(scheme.vocab_size(), G, d.scored, d.green);
  d.log10_p = d.ln_p / std::numbers::ln10;
  d.detected = d.ln_p <= ln_alpha;
  d.insufficient = !d.detected && hypergeometric_upper_tail_ln(scheme.vocab_size(), G, d.scored,
                                                               std::min<std::uint64_t>(d.scored, G)) > ln_alpha;
}

}  // namespace

unigram_detection unigram_detect(const unigram& scheme, std::span<const token_id> tokens,
                                 const detect_options& options) {
  check_options(options);
  unigram_detection d;
  std::vector<std::uint8_t> seen(scheme.vocab_size(), 0);
  score_ids(scheme, tokens, seen, d);
  finish(scheme, d, options.alpha);
  return d;
}

unigram_ids unigram_distinct_ids(const unigram& scheme, std::span<const token_id> tokens,
                                 const detect_options& options) {
  check_options(options);
  unigram_detection d;
  std::vector<std::uint8_t> seen(scheme.vocab_size(), 0);
  unigram_ids out;
  score_ids(scheme, tokens, seen, d, &out);
  return out;
}

unigram_pool::unigram_pool(const unigram& scheme, const detect_options& options)
    : scheme_(scheme), options_(options), seen_(scheme.vocab_size(), 0) {
  check_options(options);
}

unigram_detection unigram_pool::add(std::span<const token_id> tokens) {
  unigram_detection d;
  score_ids(scheme_, tokens, seen_, d);
  total_.tokens += d.tokens;
  total_.scored += d.scored;
  total_.green += d.green;
  finish(scheme_, d, options_.alpha);
  return d;
}

unigram_detection unigram_pool::result() const {
  unigram_detection d = total_;
  finish(scheme_, d, options_.alpha);
  return d;
}

}  // namespace tritium
