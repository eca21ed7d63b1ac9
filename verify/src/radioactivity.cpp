#include "tritium/radioactivity.hpp"

#include <cmath>
#include <numbers>
#include <string>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "tritium/binomial_tail.hpp"
#include "tritium/digest.hpp"
#include "tritium/error.hpp"

namespace tritium {

void window_set::add_windows_of(std::span<const token_id> tokens, std::uint32_t h) {
  for (std::size_t i = h; i <= tokens.size(); ++i) set_.insert(window_fingerprint(tokens.subspan(i - h, h)));
}

bool window_set::contains(std::span<const token_id> window) const {
  return set_.count(window_fingerprint(window)) != 0;
}

namespace {

constexpr char filter_magic[8] = {'T', 'R', 'T', 'F', 'I', 'L', 'T', 'R'};
constexpr std::uint32_t filter_version = 1;
constexpr std::size_t filter_header = 8 + 4 + 4 + 64 + 80 + 8;

template <class T>
void put(std::string& out, T v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof v);
}

}  // namespace

void window_filter::save(std::ostream& file) const {
  std::vector<std::uint64_t> sorted(windows.fingerprints().begin(), windows.fingerprints().end());
  std::sort(sorted.begin(), sorted.end());
  std::string out(filter_magic, sizeof filter_magic);
  put(out, filter_version);
  put(out, context_width);
  std::string id = key_id;
  id.resize(64, '\0');
  out += id;
  std::string digest = tokenizer_digest;
  digest.resize(80, '\0');
  out += digest;
  put(out, static_cast<std::uint64_t>(sorted.size()));
  for (auto f : sorted) put(out, f);
  const std::string sum = sha256_digest(out);
  out += sum;
  file.write(out.data(), static_cast<std::streamsize>(out.size()));
  if (!file) throw error(errc::io, std::string("cannot write the filter: ") + std::strerror(errno));
}

window_filter window_filter::load(const std::filesystem::path& path, const key& k,
                                  const std::string& tokenizer_digest) {
  const std::string name = "filter " + path.string();
  std::ifstream in(path, std::ios::binary);
  if (!in) throw error(errc::io, name + ": cannot open for reading");
  std::ostringstream buffer;
  buffer << in.rdbuf();
  const std::string bytes = buffer.str();
  const std::size_t sum_size = 7 + 64;  // "sha256:" + hex
  if (bytes.size() < filter_header + sum_size || std::memcmp(bytes.data(), filter_magic, 8) != 0) {
    throw error(errc::parse, name + ": not a tritium filter file (or truncated)");
  }
  if (sha256_digest(std::string_view(bytes).substr(0, bytes.size() - sum_size)) != bytes.substr(bytes.size() - sum_size)) {
    throw error(errc::parse, name + ": checksum mismatch (damaged or truncated)");
  }
  window_filter f;
  std::uint32_t version = 0;
  std::memcpy(&version, bytes.data() + 8, 4);
  std::memcpy(&f.context_width, bytes.data() + 12, 4);
  if (version != filter_version) throw error(errc::parse, name + ": unsupported version " + std::to_string(version));
  f.key_id = std::string(bytes.data() + 16, strnlen(bytes.data() + 16, 64));
  f.tokenizer_digest = std::string(bytes.data() + 80, strnlen(bytes.data() + 80, 80));
  std::uint64_t count = 0;
  std::memcpy(&count, bytes.data() + 160, 8);
  if (count > (bytes.size() - filter_header - sum_size) / 8 || filter_header + 8 * count + sum_size != bytes.size()) {
    throw error(errc::parse, name + ": size does not match its count");
  }
  if (f.key_id != k.id()) {
    throw error(errc::mismatch, name + ": made for key " + f.key_id.substr(0, 16) + ", not " + k.id().substr(0, 16));
  }
  if (f.context_width != k.params().context_width) {
    throw error(errc::mismatch, name + ": made for context width " + std::to_string(f.context_width) + ", the key has " +
                                    std::to_string(k.params().context_width));
  }
  if (!f.tokenizer_digest.empty() && !tokenizer_digest.empty() && f.tokenizer_digest != tokenizer_digest) {
    throw error(errc::mismatch, name + ": made with tokenizer " + f.tokenizer_digest + ", not " + tokenizer_digest);
  }
  for (std::uint64_t i = 0; i < count; ++i) {
    std::uint64_t v = 0;
    std::memcpy(&v, bytes.data() + filter_header + 8 * i, 8);
    f.windows.add(v);
  }
  return f;
}

radioactivity_scorer::radioactivity_scorer(const key& k, radioactivity_options options)
    : scheme_(k), options_(options) {}

void radioactivity_scorer::add_control_keys(const std::vector<key>& controls) {
  const auto& p = scheme_.params();
  for (const auto& c : controls) {
    const auto& q = c.params();
    if (q.gamma_threshold != p.gamma_threshold || q.gamma_bits != p.gamma_bits || q.context_width != p.context_width ||
        q.seeding_scheme != p.seeding_scheme || q.vocab_size != p.vocab_size) {
      throw error(errc::mismatch, "control key " + c.id().substr(0, 16) + ": expected the parameters of the real key");
    }
    control_schemes_.push_back(std::make_unique<kgw>(c));
    control_green_.push_back(0);
  }
}

std::vector<detection> radioactivity_scorer::control_results() const {
  std::vector<detection> out;
  for (const std::uint64_t green : control_green_) {
    detection d;
    d.tokens = counts_.read;
    d.scored = scored_;
    d.green = green;
    d.gamma = scheme_.params().gamma();
    finish_detection(d, options_.alpha);
    out.push_back(d);
  }
  return out;
}

void radioactivity_scorer::exclude_windows(std::span<const token_id> prompt) {
  prompt_windows_.add_windows_of(prompt, scheme_.context_width());
}

void radioactivity_scorer::score_batch(const std::span<const token_id>* windows, const token_id* tokens,
                                       std::size_t n) {
  constexpr std::size_t batch = 64;
  std::uint64_t keys[batch];
  bool keep[batch];
  const bool tape = options_.tape != tape_mode::none;
  for (std::size_t i = 0; i < n; ++i) {
    ++counts_.read;
    keep[i] = false;
    if (prompt_windows_.size() != 0 && prompt_windows_.contains(windows[i])) {
      ++counts_.prompt_excluded;
      continue;
    }
    if (filter_ != nullptr && !filter_->contains(windows[i])) {
      ++counts_.filtered_out;
      continue;
    }
    keep[i] = true;
    if (tape) {
      keys[i] = options_.tape == tape_mode::window ? window_fingerprint(windows[i]) : tuple_fingerprint(windows[i], tokens[i]);
      tape_.prefetch(keys[i]);
    }
  }
  const bool left = scheme_.params().seeding_scheme == seeding::lefthash;
  std::size_t fresh[batch];
  std::size_t m = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (!keep[i]) continue;
    if (tape && !tape_.insert(keys[i])) {
      ++counts_.duplicates;
      continue;
    }
    fresh[m++] = i;
  }
  if (m == 0) return;
  // The green bits of the fresh tuples under one key: one AES call for all of them (left-hash).
  std::uint8_t in[16 * batch];
  std::uint8_t out[16 * batch];
  bool green[batch];
  auto green_bits = [&](const kgw& scheme) {
    if (!left) {
      for (std::size_t j = 0; j < m; ++j) green[j] = scheme.is_green(windows[fresh[j]], tokens[fresh[j]]);
      return;
    }
    const kgw_prf& prf = scheme.prf();
    const std::uint32_t threshold = scheme.params().gamma_threshold;
    for (std::size_t j = 0; j < m; ++j) {
      kgw_prf::stream_input(prf.context(windows[fresh[j]]), prf.block_of(tokens[fresh[j]]), in + 16 * j);
    }
    prf.encrypt(in, out, m);
    for (std::size_t j = 0; j < m; ++j) green[j] = prf.lane_in_block(out + 16 * j, tokens[fresh[j]]) < threshold;
  };
  green_bits(scheme_);
  for (std::size_t j = 0; j < m; ++j) {
    ++scored_;
    green_ += green[j] ? 1 : 0;
    if (options_.curve_points > 0) flags_.push_back(green[j] ? 1 : 0);
  }
  for (std::size_t c = 0; c < control_schemes_.size(); ++c) {
    green_bits(*control_schemes_[c]);
    for (std::size_t j = 0; j < m; ++j) control_green_[c] += green[j] ? 1 : 0;
  }
}

void radioactivity_scorer::score_text(std::span<const token_id> tokens) {
  const std::size_t h = scheme_.context_width();
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    if (tokens[i] < 0 || static_cast<std::uint32_t>(tokens[i]) >= scheme_.vocab_size()) {
      throw error(errc::out_of_range, "token " + std::to_string(i) + ": expected 0 <= id < " +
                                          std::to_string(scheme_.vocab_size()) + ", got " + std::to_string(tokens[i]));
    }
  }
  std::span<const token_id> windows[64];
  token_id next[64];
  std::size_t n = 0;
  for (std::size_t i = h; i < tokens.size(); ++i) {
    windows[n] = tokens.subspan(i - h, h);
    next[n++] = tokens[i];
    if (n == 64) {
      score_batch(windows, next, n);
      n = 0;
    }
  }
  if (n > 0) score_batch(windows, next, n);
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
  std::span<const token_id> windows[64];
  token_id next[64];
  std::size_t n = 0;
  for (std::size_t i = h - 1; i < input.size(); ++i) {
    windows[n] = input.subspan(i + 1 - h, h);
    next[n++] = predictions[i];
    if (n == 64) {
      score_batch(windows, next, n);
      n = 0;
    }
  }
  if (n > 0) score_batch(windows, next, n);
}

radioactivity_result radioactivity_scorer::result() const {
  radioactivity_result r;
  r.counts = counts_;
  r.test.tokens = counts_.read;
  r.test.scored = scored_;
  r.test.green = green_;
  r.test.gamma = scheme_.params().gamma();
  finish_detection(r.test, options_.alpha);
  r.test.curve = cumulative_curve(flags_, r.test.gamma, options_.curve_points);
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

scored_plan plan_with_interval(std::uint64_t pilot_scored, std::uint64_t pilot_green, double gamma,
                               double target_log10_p) {
  if (pilot_green > pilot_scored) {
    throw error(errc::invalid_argument, "pilot: expected a green count at most the scored count " +
                                            std::to_string(pilot_scored) + ", got " + std::to_string(pilot_green));
  }
  scored_plan plan;
  plan.scored_needed = plan_scored_tuples(pilot_scored, pilot_green, gamma, target_log10_p);
  if (pilot_scored == 0) return plan;
  // Wilson's score interval: the shares p whose score test |p̂ − p| ≤ z·sqrt(p(1 − p)/n) accepts.
  const double n = static_cast<double>(pilot_scored);
  const double share = static_cast<double>(pilot_green) / n;
  const double z = planning_z_95, z2 = z * z;
  const double centre = (share + z2 / (2 * n)) / (1 + z2 / n);
  const double half = z * std::sqrt(share * (1 - share) / n + z2 / (4 * n * n)) / (1 + z2 / n);
  auto plan_at = [&](double s) {
    const auto green = static_cast<std::uint64_t>(std::floor(std::clamp(s, 0.0, 1.0) * n));
    return plan_scored_tuples(pilot_scored, green, gamma, target_log10_p);
  };
  plan.has_interval = true;
  plan.share_low = centre - half;
  plan.share_high = centre + half;
  plan.scored_needed_optimistic = plan_at(plan.share_high);
  plan.scored_needed_pessimistic = plan_at(plan.share_low);
  return plan;
}

}  // namespace tritium
