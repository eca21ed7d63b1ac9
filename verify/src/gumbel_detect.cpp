#include "tritium/gumbel_detect.hpp"

#include <cmath>
#include <numbers>
#include <string>
#include <vector>

#include "tritium/error.hpp"
#include "tritium/gamma_tail.hpp"
#include "tritium/tuple_set.hpp"

namespace tritium {

namespace {

void check_options(const detect_options& options) {
  if (options.want_marks || options.curve_points > 0) {
    throw error(errc::usage, "Gumbel detection: marks and curves are not produced for this scheme");
  }
  if (!(options.alpha > 0.0 && options.alpha < 1.0)) {
    throw error(errc::invalid_argument, "Gumbel detection: alpha must lie in (0, 1)");
  }
}

/// Adds the tuples of `tokens` not yet in `seen` to d's counts (tokens, scored, score).
void score_tuples(const gumbel& scheme, std::span<const token_id> tokens, dedup_mode dedup, tuple_set& seen,
                  gumbel_detection& d, gumbel_tuples* tuples = nullptr) {
  const std::size_t h = scheme.context_width();
  const std::uint32_t vocab = scheme.vocab_size();
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    if (tokens[i] < 0 || static_cast<std::uint32_t>(tokens[i]) >= vocab) {
      throw error(errc::out_of_range, "token " + std::to_string(i) + ": expected 0 <= id < " +
                                          std::to_string(vocab) + ", got " + std::to_string(tokens[i]));
    }
  }
  d.tokens += tokens.size();
  // The distinct tuples' positions, then their uniforms in batches.
  std::vector<std::size_t> positions;
  for (std::size_t pos = h; pos < tokens.size(); ++pos) {
    const std::span<const token_id> window = tokens.subspan(pos - h, h);
    bool fresh = true;
    if (dedup == dedup_mode::context_token) fresh = seen.insert(tuple_fingerprint(window, tokens[pos]));
    if (dedup == dedup_mode::context) fresh = seen.insert(window_fingerprint(window));
    if (fresh) positions.push_back(pos);
  }
  std::vector<std::uint32_t> u(positions.size());
  scheme.uniforms_at(tokens, positions, u.data());
  d.scored += positions.size();
  for (const std::uint32_t x : u) d.score += gumbel::score(x);
  if (tuples != nullptr) {
    for (std::size_t i = 0; i < positions.size(); ++i) {
      tuples->scores.push_back(gumbel::score(u[i]));
      tuples->positions.push_back(positions[i]);
    }
  }
}

/// The statistics of d from its counts.
void finish(gumbel_detection& d, double alpha) {
  const double ln_alpha = std::log(alpha);
  d.ln_p = 0.0;
  d.log10_p = 0.0;
  d.detected = false;
  if (d.scored == 0) {
    d.insufficient = true;
    return;
  }
  d.ln_p = gamma_upper_tail_ln(d.scored, d.score);
  d.log10_p = d.ln_p / std::numbers::ln10;
  d.detected = d.ln_p <= ln_alpha;
  const double max_score = gumbel::score(0xffffffffu);
  d.insufficient = !d.detected && gamma_upper_tail_ln(d.scored, max_score * static_cast<double>(d.scored)) > ln_alpha;
}

}  // namespace

gumbel_detection gumbel_detect(const gumbel& scheme, std::span<const token_id> tokens,
                               const detect_options& options) {
  check_options(options);
  gumbel_detection d;
  tuple_set seen;
  score_tuples(scheme, tokens, options.dedup, seen, d);
  finish(d, options.alpha);
  return d;
}

gumbel_tuples gumbel_scored_tuples(const gumbel& scheme, std::span<const token_id> tokens,
                                   const detect_options& options) {
  check_options(options);
  gumbel_detection d;
  tuple_set seen;
  gumbel_tuples out;
  score_tuples(scheme, tokens, options.dedup, seen, d, &out);
  return out;
}

gumbel_pool::gumbel_pool(const gumbel& scheme, const detect_options& options) : scheme_(scheme), options_(options) {
  check_options(options);
  if (options.dedup == dedup_mode::none) {
    throw error(errc::usage, "a pooled Gumbel test needs deduplication: without it its p-value is not valid");
  }
}

gumbel_detection gumbel_pool::add(std::span<const token_id> tokens) {
  gumbel_detection d;
  score_tuples(scheme_, tokens, options_.dedup, seen_, d);
  total_.tokens += d.tokens;
  total_.scored += d.scored;
  total_.score += d.score;
  finish(d, options_.alpha);
  return d;
}

gumbel_detection gumbel_pool::result() const {
  gumbel_detection d = total_;
  finish(d, options_.alpha);
  return d;
}

}  // namespace tritium
