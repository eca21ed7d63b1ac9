#include "tritium/detect.hpp"

#include "tritium/hf_kgw_detect.hpp"

#include <cmath>
#include <numbers>

#include "tritium/binomial_tail.hpp"
#include "tritium/error.hpp"

namespace tritium {
namespace {

constexpr std::size_t prf_batch = 64;

}  // namespace

const char* dedup_mode_name(dedup_mode m) noexcept {
  switch (m) {
    case dedup_mode::none: return "none";
    case dedup_mode::context: return "context";
    case dedup_mode::context_token: return "context+token";
  }
  return "unknown";
}

std::optional<dedup_mode> dedup_mode_from_name(const std::string& name) noexcept {
  if (name == "none") return dedup_mode::none;
  if (name == "context") return dedup_mode::context;
  if (name == "context+token" || name == "context_token") return dedup_mode::context_token;
  return std::nullopt;
}

std::vector<curve_point> cumulative_curve(std::span<const std::uint8_t> green_flags, double gamma,
                                          std::size_t points) {
  std::vector<curve_point> curve;
  const std::size_t n = green_flags.size();
  if (n == 0 || points == 0) return curve;
  points = std::min(points, n);
  std::uint64_t green = 0;
  std::size_t next = 0;
  for (std::size_t k = 0; k < n; ++k) {
    green += green_flags[k];
    if (k + 1 == (next + 1) * n / points) {
      curve.push_back({k + 1, green, -binomial_upper_tail_ln(k + 1, green, gamma) / std::numbers::ln10});
      ++next;
    }
  }
  return curve;
}

void finish_detection(detection& d, double alpha) {
  if (!(alpha > 0.0 && alpha < 1.0)) {
    throw error(errc::invalid_argument, "alpha: expected a value in (0, 1), got " + std::to_string(alpha));
  }
  const double ln_alpha = std::log(alpha);
  if (d.scored == 0) {
    d.ln_p = 0.0;
    d.z = 0.0;
  } else {
    d.ln_p = d.p_is_bound ? hf_kgw_p_bound_ln(d.scored, d.green, d.gamma)
                          : binomial_upper_tail_ln(d.scored, d.green, d.gamma);
    d.z = binomial_z(d.scored, d.green, d.gamma);
  }
  d.log10_p = d.ln_p / std::numbers::ln10;
  d.p_value = std::exp(d.ln_p);
  d.detected = d.scored > 0 && d.ln_p <= ln_alpha;
  // The smallest p-value T tuples can give is γ^T (all green).
  d.insufficient = static_cast<double>(d.scored) * std::log(d.gamma) > ln_alpha;
}

kgw_detector::kgw_detector(const key& k) : scheme_(k) {}

void kgw_detector::score(std::span<const token_id> tokens, const detect_options& options,
                         tuple_set& seen, detection& d) const {
  const std::size_t h = scheme_.context_width();
  const std::uint32_t vocab = scheme_.vocab_size();
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    if (tokens[i] < 0 || static_cast<std::uint32_t>(tokens[i]) >= vocab) {
      throw error(errc::out_of_range, "token " + std::to_string(i) + ": expected 0 <= id < " +
                                          std::to_string(vocab) + ", got " +
                                          std::to_string(tokens[i]));
    }
  }
  const std::size_t first_mark = d.marks.size();
  if (options.want_marks) d.marks.resize(first_mark + tokens.size(), token_mark::no_context);
  d.tokens += tokens.size();
  if (tokens.size() <= h) return;

  const kgw_prf& prf = scheme_.prf();
  const bool self = scheme_.params().seeding_scheme == seeding::selfhash;
  const std::uint32_t threshold = scheme_.params().gamma_threshold;
  std::vector<std::uint8_t> curve_flags;
  const bool want_curve = options.curve_points > 0;

  // New left-hash tuples are collected and their AES blocks computed 64 at a time.
  std::uint8_t in[16 * prf_batch];
  std::uint8_t out[16 * prf_batch];
  std::size_t pending_pos[prf_batch];
  std::size_t pending = 0;
  auto record = [&](std::size_t pos, bool green) {
    ++d.scored;
    d.green += green ? 1 : 0;
    if (options.want_marks) d.marks[first_mark + pos] = green ? token_mark::green : token_mark::red;
    if (want_curve) curve_flags.push_back(green ? 1 : 0);
  };
  auto flush = [&] {
    prf.encrypt(in, out, pending);
    for (std::size_t j = 0; j < pending; ++j) {
      const std::size_t pos = pending_pos[j];
      record(pos, prf.lane_in_block(out + 16 * j, tokens[pos]) < threshold);
    }
    pending = 0;
  };

  for (std::size_t pos = h; pos < tokens.size(); ++pos) {
    const std::span<const token_id> window = tokens.subspan(pos - h, h);
    const token_id v = tokens[pos];
    if (self) {
      const token_id anchor = prf.selfhash_anchor(window, v);
      const token_id pair[1] = {anchor};
      if (options.dedup != dedup_mode::none && !seen.insert(tuple_fingerprint(pair, v))) {
        if (options.want_marks) d.marks[first_mark + pos] = token_mark::duplicate;
        continue;
      }
      record(pos, prf.selfhash_lane(anchor, v) < threshold);
      continue;
    }
    bool fresh = true;
    if (options.dedup == dedup_mode::context_token) fresh = seen.insert(tuple_fingerprint(window, v));
    if (options.dedup == dedup_mode::context) fresh = seen.insert(window_fingerprint(window));
    if (!fresh) {
      if (options.want_marks) d.marks[first_mark + pos] = token_mark::duplicate;
      continue;
    }
    kgw_prf::stream_input(prf.context(window), prf.block_of(v), in + 16 * pending);
    pending_pos[pending++] = pos;
    if (pending == prf_batch) flush();
  }
  if (pending > 0) flush();

  if (want_curve) d.curve = cumulative_curve(curve_flags, d.gamma, options.curve_points);
}

detection kgw_detector::detect(std::span<const token_id> tokens,
                               const detect_options& options) const {
  detection d;
  d.gamma = scheme_.params().gamma();
  tuple_set seen(options.dedup == dedup_mode::none ? 0 : tokens.size());
  score(tokens, options, seen, d);
  finish_detection(d, options.alpha);
  return d;
}

kgw_detector::corpus::corpus(const kgw_detector& detector, detect_options options)
    : detector_(detector), options_(options) {
  total_.gamma = detector.scheme_.params().gamma();
  finish_detection(total_, options_.alpha);
}

detection kgw_detector::corpus::add(std::span<const token_id> tokens) {
  detection part;
  part.gamma = total_.gamma;
  detect_options o = options_;
  o.curve_points = 0;
  detector_.score(tokens, o, seen_, part);
  finish_detection(part, options_.alpha);
  total_.tokens += part.tokens;
  total_.scored += part.scored;
  total_.green += part.green;
  ++documents_;
  return part;
}

detection kgw_detector::corpus::result() const {
  detection d = total_;
  d.marks.clear();
  finish_detection(d, options_.alpha);
  return d;
}

}  // namespace tritium
