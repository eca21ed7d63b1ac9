// SynthID-Text detection with the exact key-shift null (tritium/hf_synthid_detect.hpp).
#include "tritium/hf_synthid_detect.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numbers>
#include <string>

#include "tritium/error.hpp"
#include "tritium/hf_synthid_bayesian.hpp"
#include "tritium/window_scan.hpp"

namespace tritium {
namespace {

// out[i] += w·bits[i]: the shift law's inner loop (2^16 additions per distinct residue), compiled for
// AVX-512 and AVX2 and chosen at run time, like the bias kernels.
__attribute__((always_inline)) inline void add_scaled_loop(std::uint32_t* out, const std::uint8_t* bits,
                                                           std::uint32_t n, std::uint32_t w) {
  for (std::uint32_t i = 0; i < n; ++i) out[i] += w * bits[i];
}
void add_scaled_portable(std::uint32_t* out, const std::uint8_t* bits, std::uint32_t n, std::uint32_t w) {
  add_scaled_loop(out, bits, n, w);
}
#if defined(__x86_64__)
__attribute__((target("avx2"))) void add_scaled_avx2(std::uint32_t* out, const std::uint8_t* bits, std::uint32_t n,
                                                     std::uint32_t w) {
  add_scaled_loop(out, bits, n, w);
}
__attribute__((target("avx512f,avx512bw"))) void add_scaled_avx512(std::uint32_t* out, const std::uint8_t* bits,
                                                                   std::uint32_t n, std::uint32_t w) {
  add_scaled_loop(out, bits, n, w);
}
#endif
void add_scaled(std::uint32_t* out, const std::uint8_t* bits, std::uint32_t n, std::uint32_t w) {
  static void (*const best)(std::uint32_t*, const std::uint8_t*, std::uint32_t, std::uint32_t) = [] {
#if defined(__x86_64__)
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")) return add_scaled_avx512;
    if (__builtin_cpu_supports("avx2")) return add_scaled_avx2;
#endif
    return add_scaled_portable;
  }();
  best(out, bits, n, w);
}


/// A law on {offset, …, offset + size − 1}, stored as values scaled by e^{ln_scale}.
struct scaled_pmf {
  std::uint64_t offset = 0;
  std::vector<double> values;
  double ln_scale = 0.0;
};

scaled_pmf convolve(const scaled_pmf& a, const scaled_pmf& b) {
  scaled_pmf c;
  c.offset = a.offset + b.offset;
  c.values.assign(a.values.size() + b.values.size() - 1, 0.0);
  for (std::size_t i = 0; i < a.values.size(); ++i) {
    if (a.values[i] == 0.0) continue;
    for (std::size_t j = 0; j < b.values.size(); ++j) c.values[i + j] += a.values[i] * b.values[j];
  }
  // Rescale so the largest value is 1: every atom of H^{*m} is ≥ 2^{−16m} of the mass, so nothing that
  // matters underflows for m ≤ 60.
  const double top = *std::max_element(c.values.begin(), c.values.end());
  for (auto& v : c.values) v /= top;
  c.ln_scale = a.ln_scale + b.ln_scale + std::log(top);
  return c;
}

/// ln Σ_{k ≥ from} of the law.
double upper_tail_ln(const scaled_pmf& pmf, std::uint64_t from) {
  if (from <= pmf.offset) return 0.0;
  const std::uint64_t start = from - pmf.offset;
  if (start >= pmf.values.size()) return -std::numeric_limits<double>::infinity();
  double tail = 0.0, total = 0.0;
  for (std::size_t i = 0; i < pmf.values.size(); ++i) {
    total += pmf.values[i];
    if (i >= start) tail += pmf.values[i];
  }
  return std::min(0.0, std::log(tail) - std::log(total));
}

}  // namespace

namespace {

/// The token hashes (fold over the n-gram) of the positions counted: after the first ngram_len − 1,
/// before the first EOS, and (with the repetition mask) whose context is not in the FIFO of the last
/// context_history_size contexts.
std::vector<std::uint64_t> counted_hashes(const hf_synthid& scheme, std::span<const token_id> tokens,
                                          const hf_synthid_detect_options& options,
                                          std::vector<std::uint64_t>* counted_at = nullptr) {
  const std::size_t context = scheme.params().ngram_len - 1;
  std::size_t end = tokens.size();
  if (options.eos) end = static_cast<std::size_t>(std::find(tokens.begin(), tokens.end(), *options.eos) - tokens.begin());
  // The zero-initialised FIFO, no longer than the positions it can receive plus one: a longer one
  // answers every lookup the same (it still holds a zero, and every context seen), and a configured
  // size of millions would otherwise cost that much per position.
  const std::size_t positions = tokens.size() > context ? tokens.size() - context : 0;
  std::vector<std::uint64_t> history(std::min<std::size_t>(scheme.params().context_history_size, positions + 1), 0);
  std::vector<std::uint64_t> token_hashes;
  for (std::size_t t = context; t < tokens.size(); ++t) {
    const std::uint64_t h_context = scheme.context_hash(tokens.subspan(t - context, context));
    const bool repeated = std::find(history.begin(), history.end(), h_context) != history.end();
    std::rotate(history.rbegin(), history.rbegin() + 1, history.rend());
    history.front() = h_context;
    if (t >= end || (options.repetition_mask && repeated)) continue;
    token_hashes.push_back(hf_synthid_fold(h_context, static_cast<std::uint64_t>(tokens[t])));
    if (counted_at != nullptr) counted_at->push_back(t);
  }
  return token_hashes;
}

// One layer's count law under the key-shift null of a set of counted positions (their token
// hashes), trimmed to its support, with its smallest and largest value.
struct layer_law {
  scaled_pmf pmf;
  double mean = 0.0;  ///< E[count] / positions
  std::uint64_t max = 0;
};

// T'[x] = table[(x·M + 1) mod S]: the table as the shift law reads it.
std::vector<std::uint8_t> shifted_table(const hf_synthid& scheme) {
  const std::uint32_t size = scheme.params().sampling_table_size, mask = size - 1;
  std::vector<std::uint8_t> shifted(size);
  for (std::uint32_t x = 0; x < size; ++x) shifted[x] = scheme.table()[static_cast<std::uint32_t>(hf_synthid_fold(x, 0)) & mask];
  return shifted;
}

// Adds the positions' terms to the per-shift counts C(c) = Σ_t T'[(u_t + c) mod S] (exact integers,
// so any grouping of the positions gives the same counts).
// One residue u of multiplicity w: count[c] += w·T'[(u + c) mod S].
void add_residue(std::span<const std::uint8_t> shifted, std::uint32_t u, std::uint32_t w, std::vector<std::uint32_t>& count) {
  // Two contiguous runs instead of a masked index, so that the loops vectorise: c < S − u reads
  // T'[u + c], the rest wraps to T'[u + c − S].
  const auto size = static_cast<std::uint32_t>(shifted.size());
  const std::uint32_t split = size - u;
  add_scaled(count.data(), shifted.data() + u, split, w);
  add_scaled(count.data() + split, shifted.data(), u, w);
}

void add_counts(std::span<const std::uint8_t> shifted, std::span<const std::uint64_t> token_hashes,
                std::vector<std::uint32_t>& count) {
  const std::uint32_t mask = static_cast<std::uint32_t>(shifted.size()) - 1;
  std::map<std::uint32_t, std::uint32_t> residues;  // u → multiplicity
  for (const std::uint64_t h : token_hashes) ++residues[static_cast<std::uint32_t>(h) & mask];
  for (const auto& [residue, multiplicity] : residues) add_residue(shifted, residue, multiplicity, count);
}

// The same from the multiplicity of every residue (residues[u], S entries; their sum below 2^32).
void add_residue_counts(std::span<const std::uint8_t> shifted, std::span<const std::uint64_t> residues,
                        std::vector<std::uint32_t>& count) {
  for (std::uint32_t u = 0; u < residues.size(); ++u) {
    if (residues[u] != 0) add_residue(shifted, u, static_cast<std::uint32_t>(residues[u]), count);
  }
}

// The shift law H of one layer's count over `positions` positions, from the per-shift counts.
layer_law law_of_counts(std::span<const std::uint32_t> count, std::size_t positions) {
  layer_law law;
  scaled_pmf& layer = law.pmf;
  // Over the support only, [smallest count, largest count]: the convolutions stay small, and a pool of
  // millions of positions never allocates one value per position.
  const auto [lo, hi] = std::minmax_element(count.begin(), count.end());
  layer.offset = *lo;
  law.max = *hi;
  layer.values.assign(static_cast<std::size_t>(*hi - *lo) + 1, 0.0);
  for (const std::uint32_t c : count) layer.values[c - *lo] += 1.0;
  double mean_count = 0.0;
  for (std::size_t v = 0; v < layer.values.size(); ++v) {
    layer.values[v] /= static_cast<double>(count.size());
    mean_count += layer.values[v] * static_cast<double>(layer.offset + v);
  }
  law.mean = mean_count / static_cast<double>(positions);
  return law;
}

layer_law shift_law(std::span<const std::uint8_t> shifted, std::span<const std::uint64_t> token_hashes) {
  std::vector<std::uint32_t> count(shifted.size(), 0);
  add_counts(shifted, token_hashes, count);
  return law_of_counts(count, token_hashes.size());
}

// The law of the total count over `depth` layers, each shifted by its own key.
scaled_pmf total_law(const scaled_pmf& layer, std::uint32_t depth) {
  scaled_pmf total = layer;
  for (std::uint32_t l = 1; l < depth; ++l) total = convolve(total, layer);
  return total;
}

void check_table(const hf_synthid& scheme) {
  const std::uint32_t size = scheme.params().sampling_table_size;
  if ((size & (size - 1)) != 0 || size > 65536) {
    throw error(errc::invalid_argument, "hf_synthid_detect: sampling_table_size " + std::to_string(size) +
                                            ": the exact null needs a power of two up to 65536");
  }
  if (scheme.depth() > 60) {
    throw error(errc::invalid_argument, "hf_synthid_detect: more than 60 layers: the exact null would underflow");
  }
}

void check_alpha(double alpha) {
  if (!(alpha > 0.0 && alpha < 1.0)) {
    throw error(errc::invalid_argument, "alpha: expected a value in (0, 1), got " + std::to_string(alpha));
  }
}

void check_ids(std::span<const token_id> tokens) {
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    if (tokens[i] < 0) throw error(errc::out_of_range, "token " + std::to_string(i) + ": negative id " + std::to_string(tokens[i]));
  }
}

}  // namespace

std::vector<std::uint8_t> hf_synthid_counted_g_values(const hf_synthid& scheme, std::span<const token_id> tokens,
                                                      const hf_synthid_detect_options& options) {
  check_ids(tokens);
  std::vector<std::uint8_t> g;
  for (const std::uint64_t h : counted_hashes(scheme, tokens, options)) {
    for (std::uint32_t l = 0; l < scheme.depth(); ++l) g.push_back(scheme.g_value(h, l));
  }
  return g;
}

std::vector<std::uint64_t> hf_synthid_counted_positions(const hf_synthid& scheme, std::span<const token_id> tokens,
                                                       const hf_synthid_detect_options& options) {
  std::vector<std::uint64_t> positions;
  counted_hashes(scheme, tokens, options, &positions);
  return positions;
}

namespace {

// The test of d's counted positions, from d.scored, d.depth, d.ones_per_layer and the shift law of
// one layer's count: the totals, transformers' scores, the exact p, its floor, the weighted mean's
// bound and the decision.
void exact_test(hf_synthid_detection& d, const layer_law& law, double alpha) {
  const std::uint32_t depth = d.depth;
  // Weights linspace(10, 1, m) rescaled to sum m (transformers' weighted mean).
  std::vector<double> weights(depth, 1.0);
  if (depth > 1) {
    double sum = 0.0;
    for (std::uint32_t l = 0; l < depth; ++l) sum += weights[l] = 10.0 - 9.0 * l / (depth - 1.0);
    for (auto& w : weights) w *= depth / sum;
  }
  d.ones = 0;
  double weighted = 0.0;  // Σ_l w_l · ones_l: one product per layer, the same whatever the order of positions
  for (std::uint32_t l = 0; l < depth; ++l) {
    d.ones += d.ones_per_layer[l];
    weighted += weights[l] * static_cast<double>(d.ones_per_layer[l]);
  }
  const double cells = static_cast<double>(d.scored) * depth;
  d.mean = static_cast<double>(d.ones) / cells;
  d.weighted_mean = weighted / cells;

  const scaled_pmf& layer = law.pmf;
  d.null_mean = law.mean;
  const scaled_pmf total = total_law(layer, depth);
  d.ln_p = upper_tail_ln(total, d.ones);
  d.log10_p = d.ln_p / std::numbers::ln10;
  d.ln_p_min = upper_tail_ln(total, law.max * depth);
  d.detected = d.ln_p <= std::log(alpha);
  d.insufficient = d.ln_p_min > std::log(alpha);

  // Weighted mean: P(Σ_l w_l C_l ≥ s) ≤ exp(Σ_l ln M(λ w_l) − λ s) for every λ ≥ 0 (Chernoff), with the
  // exact moment generating function M of H. Any λ gives a valid bound; a golden-section search finds a
  // good one on the convex exponent.
  const double s = weighted;
  const auto exponent = [&](double lambda) {
    double e = -lambda * s;
    for (const double w : weights) {
      double top = -std::numeric_limits<double>::infinity();
      for (std::size_t v = 0; v < layer.values.size(); ++v) {
        if (layer.values[v] > 0.0) top = std::max(top, lambda * w * static_cast<double>(layer.offset + v));
      }
      double sum = 0.0;
      for (std::size_t v = 0; v < layer.values.size(); ++v) {
        if (layer.values[v] > 0.0) sum += layer.values[v] * std::exp(lambda * w * static_cast<double>(layer.offset + v) - top);
      }
      e += top + std::log(sum);
    }
    return e;
  };
  double a = 0.0, b = 1.0;
  while (b < 1e6 && exponent(2.0 * b) < exponent(b)) b *= 2.0;
  b *= 2.0;
  const double phi = (std::sqrt(5.0) - 1.0) / 2.0;
  for (int iteration = 0; iteration < 100; ++iteration) {
    const double x1 = b - phi * (b - a), x2 = a + phi * (b - a);
    if (exponent(x1) < exponent(x2)) b = x2; else a = x1;
  }
  d.weighted_ln_p_bound = std::min(0.0, exponent((a + b) / 2.0));
}

}  // namespace

hf_synthid_detection hf_synthid_detect(const hf_synthid& scheme, std::span<const token_id> tokens,
                                       const hf_synthid_detect_options& options) {
  check_alpha(options.alpha);
  check_table(scheme);
  check_ids(tokens);
  const std::uint32_t depth = scheme.depth();
  hf_synthid_detection d;
  d.tokens = tokens.size();
  d.depth = depth;
  d.ones_per_layer.assign(depth, 0);
  const std::vector<std::uint64_t> token_hashes = counted_hashes(scheme, tokens, options);
  d.scored = token_hashes.size();
  if (d.scored == 0) {
    d.insufficient = true;
    return d;
  }
  for (const std::uint64_t h : token_hashes) {
    for (std::uint32_t l = 0; l < depth; ++l) d.ones_per_layer[l] += scheme.g_value(h, l);
  }
  exact_test(d, shift_law(shifted_table(scheme), token_hashes), options.alpha);
  if (options.bayesian != nullptr) {
    // Beside the exact test, never instead of it: detected and insufficient stay the p-value's.
    if (options.bayesian->depth() != depth) {
      throw error(errc::mismatch, "Bayesian detector: trained for " + std::to_string(options.bayesian->depth()) +
                                      " layers, the configuration has " + std::to_string(depth));
    }
    std::vector<std::uint8_t> g;
    g.reserve(token_hashes.size() * depth);
    for (const std::uint64_t h : token_hashes) {
      for (std::uint32_t l = 0; l < depth; ++l) g.push_back(scheme.g_value(h, l));
    }
    d.bayesian_posterior = options.bayesian->posterior(g);
  }
  return d;
}

hf_synthid_pool::hf_synthid_pool(const hf_synthid& scheme, const hf_synthid_detect_options& options)
    : scheme_(scheme), options_(options) {
  check_alpha(options_.alpha);
  check_table(scheme_);
  if (options_.bayesian != nullptr) {
    throw error(errc::invalid_argument, "hf_synthid_pool: a Bayesian detector scores one text; a pooled test has no posterior");
  }
  residues_.assign(scheme_.params().sampling_table_size, 0);
  ones_per_layer_.assign(scheme_.depth(), 0);
}

void hf_synthid_pool::add(std::span<const token_id> tokens) {
  check_ids(tokens);
  const std::vector<std::uint64_t> token_hashes = counted_hashes(scheme_, tokens, options_);
  const std::uint32_t mask = scheme_.params().sampling_table_size - 1;
  if (scored_ + token_hashes.size() > 0xFFFFFFFFu) {
    throw error(errc::invalid_argument, "hf_synthid_pool: more than 2^32 - 1 counted positions (the per-shift counts are 32-bit)");
  }
  ++documents_;
  tokens_ += tokens.size();
  scored_ += token_hashes.size();
  for (const std::uint64_t h : token_hashes) {
    ++residues_[static_cast<std::uint32_t>(h) & mask];
    for (std::uint32_t l = 0; l < scheme_.depth(); ++l) ones_per_layer_[l] += scheme_.g_value(h, l);
  }
}

hf_synthid_detection hf_synthid_pool::result() const {
  hf_synthid_detection d;
  d.tokens = tokens_;
  d.depth = scheme_.depth();
  d.scored = scored_;
  d.ones_per_layer = ones_per_layer_;
  if (d.scored == 0) {
    d.insufficient = true;
    return d;
  }
  const std::vector<std::uint8_t> shifted = shifted_table(scheme_);
  std::vector<std::uint32_t> count(shifted.size(), 0);
  add_residue_counts(shifted, residues_, count);
  exact_test(d, law_of_counts(count, d.scored), options_.alpha);
  return d;
}

std::vector<hf_synthid_prefix> hf_synthid_prefix_tests(const hf_synthid& scheme, std::span<const token_id> tokens,
                                                       const hf_synthid_detect_options& options,
                                                       std::span<const std::uint64_t> counts) {
  check_table(scheme);
  check_ids(tokens);
  const std::vector<std::uint64_t> hashes = counted_hashes(scheme, tokens, options);
  const std::vector<std::uint8_t> shifted = shifted_table(scheme);
  std::vector<std::uint32_t> count(shifted.size(), 0);  // the running per-shift counts of the prefix
  std::vector<hf_synthid_prefix> out;
  std::uint64_t done = 0, ones = 0;
  for (const std::uint64_t k : counts) {
    if (k < done || k > hashes.size() || k == 0) {
      throw error(errc::invalid_argument, "hf_synthid_prefix_tests: prefix counts must increase within [1, " +
                                              std::to_string(hashes.size()) + "]");
    }
    const std::span<const std::uint64_t> added = std::span<const std::uint64_t>(hashes).subspan(done, k - done);
    add_counts(shifted, added, count);
    for (const std::uint64_t h : added) {
      for (std::uint32_t l = 0; l < scheme.depth(); ++l) ones += scheme.g_value(h, l);
    }
    done = k;
    const scaled_pmf total = total_law(law_of_counts(count, k).pmf, scheme.depth());
    out.push_back({k, ones, upper_tail_ln(total, ones)});
  }
  return out;
}

window_scan_result hf_synthid_window_scan(const hf_synthid& scheme, std::span<const token_id> tokens,
                                          const hf_synthid_detect_options& options,
                                          const window_scan_options& windows) {
  check_table(scheme);
  check_ids(tokens);
  std::vector<std::uint64_t> positions;
  const std::vector<std::uint64_t> hashes = counted_hashes(scheme, tokens, options, &positions);
  // The count of g-values equal to 1 of each counted position, summed over layers, as prefix sums.
  std::vector<std::uint64_t> prefix(hashes.size() + 1, 0);
  for (std::size_t i = 0; i < hashes.size(); ++i) {
    std::uint64_t ones = 0;
    for (std::uint32_t l = 0; l < scheme.depth(); ++l) ones += scheme.g_value(hashes[i], l);
    prefix[i + 1] = prefix[i] + ones;
  }
  const std::vector<std::uint8_t> shifted = shifted_table(scheme);
  const std::span<const std::uint64_t> all(hashes);
  // Each window's exact key-shift null over its own positions: valid for a window chosen by position.
  return window_scan_by(hashes.size(), positions, windows, [&](std::uint64_t begin, std::uint64_t end, double& statistic) {
    const std::uint64_t ones = prefix[end] - prefix[begin];
    statistic = static_cast<double>(ones);
    return upper_tail_ln(total_law(shift_law(shifted, all.subspan(begin, end - begin)).pmf, scheme.depth()), ones);
  });
}

}  // namespace tritium
