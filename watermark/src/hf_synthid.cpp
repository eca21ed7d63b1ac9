// SynthID-Text as transformers runs it (tritium/hf_synthid.hpp).
#include "tritium/hf_synthid.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>

#include "tritium/error.hpp"
#include "tritium/torch_cpu_rng.hpp"
#include "hf_synthid_kernels.hpp"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace tritium {

hf_synthid::hf_synthid(hf_synthid_params params) : params_(std::move(params)) {
  if (params_.ngram_len < 2 || params_.ngram_len > 64) {
    throw error(errc::invalid_argument, "hf_synthid: ngram_len: expected 2 to 64, got " + std::to_string(params_.ngram_len));
  }
  if (params_.keys.empty() || params_.keys.size() > 1024) {
    throw error(errc::invalid_argument, "hf_synthid: keys: expected 1 to 1024 keys (one per layer)");
  }
  if (params_.sampling_table_size < 2 || params_.sampling_table_size > (1u << 24)) {
    throw error(errc::invalid_argument, "hf_synthid: sampling_table_size: expected 2 to 2^24, got " +
                                            std::to_string(params_.sampling_table_size));
  }
  if (params_.context_history_size < 1) {
    throw error(errc::invalid_argument, "hf_synthid: context_history_size: expected at least 1");
  }
  table_.resize(params_.sampling_table_size);
  torch_cpu::generator gen(params_.sampling_table_seed);
  for (auto& g : table_) g = static_cast<std::uint8_t>(torch_cpu::randint(gen, 0, 2));
  // Each layer's g-value of each bucket, for power-of-two tables whose layers fit in 8 MB (30 layers
  // of 2^16: 2 MB): they do not depend on the context, so a row need not hash them again.
  const std::uint32_t size = params_.sampling_table_size;
  if ((size & (size - 1)) == 0) index_mask_ = size - 1;
  if ((size & (size - 1)) == 0 && size <= (1u << 16) && std::size_t{size} * depth() <= (std::size_t{8} << 20)) {
    layer_g_.resize(std::size_t{size} * depth());
    for (std::uint32_t l = 0; l < depth(); ++l) {
      const auto key = static_cast<std::uint64_t>(params_.keys[l]);
      for (std::uint32_t x = 0; x < size; ++x) {
        layer_g_[std::size_t{l} * size + x] = table_[static_cast<std::uint32_t>(hf_synthid_fold(x, key)) & (size - 1)];
      }
    }
  }
}

std::uint64_t hf_synthid::context_hash(std::span<const token_id> context) const noexcept {
  std::uint64_t h = 1;
  for (const token_id t : context) h = hf_synthid_fold(h, static_cast<std::uint64_t>(static_cast<std::int64_t>(t)));
  return h;
}

std::uint8_t hf_synthid::g_value(std::uint64_t token_hash, std::uint32_t layer) const noexcept {
  const std::uint64_t folded = hf_synthid_fold(token_hash, static_cast<std::uint64_t>(params_.keys[layer]));
  // A power-of-two divisor: Python's non-negative remainder of a two's-complement value is its low bits.
  if (index_mask_ != 0) return table_[static_cast<std::size_t>(folded & index_mask_)];
  const auto h = static_cast<std::int64_t>(folded);
  // torch's % on int64 is Python's: the result has the divisor's sign.
  const auto size = static_cast<std::int64_t>(params_.sampling_table_size);
  const std::int64_t index = ((h % size) + size) % size;
  return table_[static_cast<std::size_t>(index)];
}

void hf_synthid::g_values(std::span<const token_id> ngram, std::span<std::uint8_t> out) const noexcept {
  const std::uint64_t token_hash = context_hash(ngram);  // the fold over the whole n-gram
  for (std::uint32_t l = 0; l < depth(); ++l) out[l] = g_value(token_hash, l);
}

namespace {

// The rows' working arrays, kept per thread: allocating them per call (2.5 MB at V = 151,936) cost page
// faults and zeroing that took as long as the tournament itself.
struct reweight_scratch {
  std::vector<double> probs, bucket, ln_factor;
  std::vector<std::uint32_t> u;
  std::vector<std::uint8_t> g;
  std::vector<std::uint64_t> token_hash;
};

// One layer of the bucket tournament (hf_synthid_kernels.hpp), as kernels chosen once by CPU
// features. The mass Σ_y b[y]·g[y] is a masked sum (g ∈ {0, 1}) in eight fixed partial sums, so that
// every kernel gives the same bits.
using detail::layer_kernels;

void partial_mass_tail(const double* b, const std::uint8_t* g, std::uint32_t from, std::uint32_t n, double partial[8]) {
  for (std::uint32_t y = from; y < n; ++y) partial[y % 8] += g[y] != 0 ? b[y] : 0.0;
}

void partial_mass_portable(const double* b, const std::uint8_t* g, std::uint32_t n, double partial[8]) {
  for (int k = 0; k < 8; ++k) partial[k] = 0.0;
  partial_mass_tail(b, g, 0, n, partial);
}

void update_tail(double* b, double* lf, const std::uint8_t* g, std::uint32_t from, std::uint32_t n, double up,
                 double down, double ln_up, double ln_down) {
  for (std::uint32_t y = from; y < n; ++y) {
    b[y] *= g[y] != 0 ? up : down;
    lf[y] += g[y] != 0 ? ln_up : ln_down;
  }
}

void update_portable(double* b, double* lf, const std::uint8_t* g, std::uint32_t n, double up, double down,
                     double ln_up, double ln_down) {
  update_tail(b, lf, g, 0, n, up, down, ln_up, ln_down);
}

#if defined(__x86_64__)
__attribute__((target("avx2"))) __m256d green_lanes_avx2(const std::uint8_t* g) {
  std::int32_t four;
  std::memcpy(&four, g, 4);
  const __m256i wide = _mm256_cvtepu8_epi64(_mm_cvtsi32_si128(four));
  return _mm256_castsi256_pd(_mm256_xor_si256(_mm256_cmpeq_epi64(wide, _mm256_setzero_si256()), _mm256_set1_epi64x(-1)));
}

__attribute__((target("avx2"))) void partial_mass_avx2(const double* b, const std::uint8_t* g, std::uint32_t n,
                                                       double partial[8]) {
  __m256d low = _mm256_setzero_pd(), high = _mm256_setzero_pd();  // lanes 0–3 and 4–7
  std::uint32_t y = 0;
  for (; y + 8 <= n; y += 8) {
    low = _mm256_add_pd(low, _mm256_and_pd(_mm256_loadu_pd(b + y), green_lanes_avx2(g + y)));
    high = _mm256_add_pd(high, _mm256_and_pd(_mm256_loadu_pd(b + y + 4), green_lanes_avx2(g + y + 4)));
  }
  _mm256_storeu_pd(partial, low);
  _mm256_storeu_pd(partial + 4, high);
  partial_mass_tail(b, g, y, n, partial);
}

__attribute__((target("avx2"))) void update_avx2(double* b, double* lf, const std::uint8_t* g, std::uint32_t n,
                                                 double up, double down, double ln_up, double ln_down) {
  const __m256d up_v = _mm256_set1_pd(up), down_v = _mm256_set1_pd(down);
  const __m256d ln_up_v = _mm256_set1_pd(ln_up), ln_down_v = _mm256_set1_pd(ln_down);
  std::uint32_t y = 0;
  for (; y + 4 <= n; y += 4) {
    const __m256d green = green_lanes_avx2(g + y);
    _mm256_storeu_pd(b + y, _mm256_mul_pd(_mm256_loadu_pd(b + y), _mm256_blendv_pd(down_v, up_v, green)));
    _mm256_storeu_pd(lf + y, _mm256_add_pd(_mm256_loadu_pd(lf + y), _mm256_blendv_pd(ln_down_v, ln_up_v, green)));
  }
  update_tail(b, lf, g, y, n, up, down, ln_up, ln_down);
}

// GCC 12's avx512fintrin.h: see watermark/src/bias_kernels.cpp.
#pragma GCC diagnostic push
#if !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
__attribute__((target("avx512f"))) __mmask8 green_lanes_avx512(const std::uint8_t* g) {
  const __m512i wide = _mm512_cvtepu8_epi64(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(g)));
  return _mm512_test_epi64_mask(wide, wide);
}

__attribute__((target("avx512f"))) void partial_mass_avx512(const double* b, const std::uint8_t* g, std::uint32_t n,
                                                           double partial[8]) {
  __m512d sum = _mm512_setzero_pd();  // lane k: the y ≡ k mod 8
  std::uint32_t y = 0;
  for (; y + 8 <= n; y += 8) sum = _mm512_mask_add_pd(sum, green_lanes_avx512(g + y), sum, _mm512_loadu_pd(b + y));
  _mm512_storeu_pd(partial, sum);
  partial_mass_tail(b, g, y, n, partial);
}

__attribute__((target("avx512f"))) void update_avx512(double* b, double* lf, const std::uint8_t* g, std::uint32_t n,
                                                     double up, double down, double ln_up, double ln_down) {
  const __m512d up_v = _mm512_set1_pd(up), down_v = _mm512_set1_pd(down);
  const __m512d ln_up_v = _mm512_set1_pd(ln_up), ln_down_v = _mm512_set1_pd(ln_down);
  std::uint32_t y = 0;
  for (; y + 8 <= n; y += 8) {
    const __mmask8 green = green_lanes_avx512(g + y);
    _mm512_storeu_pd(b + y, _mm512_mul_pd(_mm512_loadu_pd(b + y), _mm512_mask_blend_pd(green, down_v, up_v)));
    _mm512_storeu_pd(lf + y, _mm512_add_pd(_mm512_loadu_pd(lf + y), _mm512_mask_blend_pd(green, ln_down_v, ln_up_v)));
  }
  update_tail(b, lf, g, y, n, up, down, ln_up, ln_down);
}
#pragma GCC diagnostic pop
#endif

}  // namespace

std::vector<std::pair<const char*, layer_kernels>> detail::available_layer_kernels() {
  std::vector<std::pair<const char*, layer_kernels>> out{{"portable", {partial_mass_portable, update_portable}}};
#if defined(__x86_64__)
  if (__builtin_cpu_supports("avx2")) out.push_back({"avx2", {partial_mass_avx2, update_avx2}});
  if (__builtin_cpu_supports("avx512f")) out.push_back({"avx512f", {partial_mass_avx512, update_avx512}});
#endif
  return out;
}

namespace {

// The largest score, in eight independent running maxima (std::max_element's one chain of compares
// through memory cost a fifth of the row).
float largest(std::span<const float> x) {
  float m[8];
  for (auto& v : m) v = -std::numeric_limits<float>::infinity();
  std::size_t i = 0;
  for (; i + 8 <= x.size(); i += 8) {
    for (std::size_t k = 0; k < 8; ++k) m[k] = std::max(m[k], x[i + k]);
  }
  for (; i < x.size(); ++i) m[0] = std::max(m[0], x[i]);
  return std::max(std::max(std::max(m[0], m[1]), std::max(m[2], m[3])), std::max(std::max(m[4], m[5]), std::max(m[6], m[7])));
}

double combined(const double partial[8]) {
  return ((partial[0] + partial[1]) + (partial[2] + partial[3])) + ((partial[4] + partial[5]) + (partial[6] + partial[7]));
}

reweight_scratch& scratch_of_this_thread() {
  thread_local reweight_scratch scratch;
  return scratch;
}

// The row's largest score, after refusing what would make its softmax NaN.
float checked_largest(std::span<const float> scores, const char* who) {
  const float top = largest(scores);
  if (!(top < std::numeric_limits<float>::infinity())) {  // +∞, or NaN
    for (std::size_t v = 0; v < scores.size(); ++v) {
      if (!(scores[v] < std::numeric_limits<float>::infinity())) {
        throw error(errc::invalid_argument, std::string(who) + ": scores[" + std::to_string(v) + "] is " +
                                                (std::isnan(scores[v]) ? "NaN" : "+inf") + ": the softmax is undefined");
      }
    }
  }
  for (std::size_t v = 0; v < scores.size(); ++v) {  // a NaN the running maxima skipped
    if (std::isnan(scores[v])) {
      throw error(errc::invalid_argument, std::string(who) + ": scores[" + std::to_string(v) + "] is NaN: the softmax is undefined");
    }
  }
  if (top == -std::numeric_limits<float>::infinity() || scores.empty()) {
    throw error(errc::invalid_argument, std::string(who) + ": no score is finite: the softmax is undefined");
  }
  return top;
}

// The N = 2 tournament (Dathathri et al. 2024, Algorithm 2 with two leaves) entry by entry, in entry
// order, over probabilities that sum to 1: out receives log p', or the float32 lowest value for p' = 0.
void tournament(const hf_synthid& scheme, std::span<const std::uint64_t> token_hash, std::span<double> probs,
                std::vector<std::uint8_t>& g, std::span<float> out) {
  const std::size_t n = probs.size();
  g.resize(n);
  for (std::uint32_t l = 0; l < scheme.depth(); ++l) {
    double mass = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
      g[i] = scheme.g_value(token_hash[i], l);
      mass += g[i] != 0 ? probs[i] : 0.0;
    }
    for (std::size_t i = 0; i < n; ++i) probs[i] *= 1.0 + static_cast<double>(g[i]) - mass;
  }
  for (std::size_t i = 0; i < n; ++i) {
    out[i] = probs[i] > 0.0 ? static_cast<float>(std::log(probs[i])) : std::numeric_limits<float>::lowest();
  }
}

}  // namespace

void hf_synthid::reweight_candidates(std::span<const token_id> context, std::span<const token_id> ids,
                                     std::span<float> logits) const {
  if (ids.size() != logits.size()) throw error(errc::invalid_argument, "hf_synthid::reweight_candidates: sizes differ");
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] < 0) {
      throw error(errc::invalid_argument, "hf_synthid::reweight_candidates: ids[" + std::to_string(i) + "] = " +
                                              std::to_string(ids[i]) + " is negative");
    }
  }
  const float top = checked_largest(logits, "hf_synthid::reweight_candidates");
  const std::uint64_t h_context = context_hash(context);
  const std::size_t n = ids.size();
  std::vector<double> probs(n);
  std::vector<std::uint64_t> token_hash(n);
  double total = 0.0;
  for (std::size_t i = 0; i < n; ++i) {
    total += probs[i] = std::exp(static_cast<double>(logits[i] - top));
    token_hash[i] = hf_synthid_fold(h_context, static_cast<std::uint64_t>(static_cast<std::int64_t>(ids[i])));
  }
  for (auto& p : probs) p /= total;
  std::vector<std::uint8_t> g;
  tournament(*this, token_hash, probs, g, logits);
}

void hf_synthid::reweight_dense(std::span<const token_id> context, std::span<float> scores) const {
  const std::size_t vocab = scores.size();
  const float top = checked_largest(scores, "hf_synthid::reweight_dense");
  const std::uint64_t h_context = context_hash(context);
  reweight_scratch& scratch = scratch_of_this_thread();
  std::vector<double>& probs = scratch.probs;
  probs.resize(vocab);
  double total = 0.0;
  for (std::size_t v = 0; v < vocab; ++v) total += probs[v] = std::exp(static_cast<double>(scores[v] - top));
  const std::uint32_t size = params_.sampling_table_size;
  if ((size & (size - 1)) == 0 && size <= (1u << 16)) {
    // A power-of-two table reads the low bits of (h_v + key_l)·M + 1, which depend only on u_v = h_v mod
    // size (papers/hf-synthid.md §4): every token of one u has the same g-value in every layer, so the
    // tournament runs over the `size` buckets of summed probability. A layer multiplies a bucket by
    // 1 + g − mass, one of two values, so a bucket's log factor is a sum of the layers' logs (no log per
    // token), and ln p'_v = (score_v − top) − ln total + ln factor(u_v).
    static const layer_kernels kernels = detail::available_layer_kernels().back().second;
    const std::uint32_t mask = size - 1;
    std::vector<double>& bucket = scratch.bucket;
    std::vector<double>& ln_factor = scratch.ln_factor;
    std::vector<std::uint32_t>& u = scratch.u;
    bucket.assign(size, 0.0);
    ln_factor.assign(size, 0.0);
    u.resize(vocab);
    for (std::size_t v = 0; v < vocab; ++v) {
      u[v] = static_cast<std::uint32_t>(hf_synthid_fold(h_context, v)) & mask;
      bucket[u[v]] += probs[v];
    }
    for (auto& b : bucket) b /= total;
    std::vector<std::uint8_t>& own = scratch.g;
    for (std::uint32_t l = 0; l < depth(); ++l) {
      const std::uint8_t* layer = layer_g_.data() + std::size_t{l} * size;
      if (layer_g_.empty()) {
        const auto key = static_cast<std::uint64_t>(params_.keys[l]);
        own.resize(size);
        for (std::uint32_t x = 0; x < size; ++x) own[x] = table_[static_cast<std::uint32_t>(hf_synthid_fold(x, key)) & mask];
        layer = own.data();
      }
      double partial[8];
      kernels.partial_mass(bucket.data(), layer, size, partial);
      const double mass = combined(partial);
      const double up = 1.0 + 1.0 - mass, down = 1.0 - mass;  // the multipliers of g = 1 and g = 0
      const double ln_up = std::log(up);
      // down = 0: every bucket with g = 0 is empty; they leave the race (ln 0).
      const double ln_down = down > 0.0 ? std::log(down) : -std::numeric_limits<double>::infinity();
      kernels.update(bucket.data(), ln_factor.data(), layer, size, up, down, ln_up, ln_down);
    }
    const double ln_total = std::log(total);
    for (std::size_t v = 0; v < vocab; ++v) {
      const double lf = ln_factor[u[v]];
      scores[v] = probs[v] > 0.0 && lf > -std::numeric_limits<double>::infinity()
                      ? static_cast<float>(static_cast<double>(scores[v] - top) - ln_total + lf)
                      : std::numeric_limits<float>::lowest();
    }
    return;
  }
  for (auto& p : probs) p /= total;
  std::vector<std::uint64_t>& token_hash = scratch.token_hash;
  token_hash.resize(vocab);
  for (std::size_t v = 0; v < vocab; ++v) token_hash[v] = hf_synthid_fold(h_context, v);
  tournament(*this, token_hash, probs, scratch.g, scores);
}

hf_synthid_state::hf_synthid_state(const hf_synthid& scheme)
    : scheme_(scheme), context_(scheme.context_size(), 0), history_(scheme.params().context_history_size, 0) {}

bool hf_synthid_state::apply(token_id last_token, std::span<float> scores) {
  if (!advance(last_token)) return false;
  scheme_.reweight_dense(context_, scores);
  return true;
}

bool hf_synthid_state::advance(token_id last_token) {
  if (calls_ > 0) {  // the first call starts from the zero context; later calls shift the last token in
    std::rotate(context_.begin(), context_.begin() + 1, context_.end());
    context_.back() = last_token;
  }
  ++calls_;
  if (scheme_.params().skip_first_ngram_calls && calls_ < scheme_.params().ngram_len) return false;
  const std::uint64_t h = scheme_.context_hash(context_);
  const bool repeated = std::find(history_.begin(), history_.end(), h) != history_.end();
  std::rotate(history_.rbegin(), history_.rbegin() + 1, history_.rend());  // newest first
  history_.front() = h;
  return !repeated;
}

}  // namespace tritium
