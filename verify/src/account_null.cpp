#include "tritium/account_null.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "tritium/error.hpp"

namespace tritium {

namespace {

// Tails below this are recomputed by tilting: the convolution in doubles loses (flushes to zero)
// the probabilities of single scores below 10^−308, so a tail under 10^−280 is no longer exact to
// rounding. The p-values a decision needs (α/N ≥ 10^−280 for any α and registry) never get here.
constexpr double extreme_log10_tail = -280.0;

// pmf ⊛ Unif{shift[0..r)}: each support point spreads 1/r of its mass to x + shift[s].
void convolve_uniform(std::vector<double>& pmf, std::vector<double>& next, const std::uint32_t* shift,
                      std::uint32_t r, std::uint32_t spread, const double* weight) {
  next.assign(pmf.size() + spread, 0.0);
  for (std::uint32_t s = 0; s < r; ++s) {
    double* out = next.data() + shift[s];
    const double w = weight[s];
    const double* in = pmf.data();
    const std::size_t n = pmf.size();
    for (std::size_t x = 0; x < n; ++x) out[x] += w * in[x];
  }
  pmf.swap(next);
}

}  // namespace

std::uint64_t account_score_table::score_symbols(std::span<const std::uint8_t> symbols) const {
  const std::uint32_t r = 1u << symbol_bits;
  if (symbols.size() != code_length) {
    throw error(errc::invalid_argument, "code word: expected " + std::to_string(code_length) +
                                            " symbols, got " + std::to_string(symbols.size()));
  }
  std::uint64_t s = 0;
  for (std::size_t j = 0; j < symbols.size(); ++j) s += h[j * r + symbols[j]];
  return s;
}

account_score_table count_table(const trace_counts& counts) {
  if (counts.symbols != 2 && counts.symbols != 4) {
    throw error(errc::invalid_argument,
                "trace counts: expected r = 2 or 4 symbols, got " + std::to_string(counts.symbols));
  }
  account_score_table t;
  t.code_length = counts.code_length;
  t.symbol_bits = counts.symbols == 4 ? 2 : 1;
  t.h = counts.c;
  const std::uint32_t per_byte = 8 / t.symbol_bits;
  const std::uint32_t mask = counts.symbols - 1;
  const std::size_t bytes = static_cast<std::size_t>(t.code_length) / per_byte;
  t.sliced.assign(bytes * 256, 0);
  for (std::size_t q = 0; q < bytes; ++q) {
    for (std::uint32_t byte = 0; byte < 256; ++byte) {
      std::uint64_t sum = 0;
      for (std::uint32_t k = 0; k < per_byte; ++k) {
        const std::size_t j = q * per_byte + k;
        sum += t.h[j * counts.symbols + ((byte >> (k * t.symbol_bits)) & mask)];
      }
      t.sliced[q * 256 + byte] = sum;
    }
  }
  return t;
}

account_null_law account_null(const account_score_table& table) {
  const std::uint32_t r = 1u << table.symbol_bits;
  account_null_law law;
  law.symbols_ = r;
  std::vector<double> pmf{1.0}, next;
  double mean = 0.0, variance = 0.0;
  std::uint32_t shift[4];
  const double uniform[4] = {1.0 / r, 1.0 / r, 1.0 / r, 1.0 / r};
  for (std::size_t j = 0; j < table.code_length; ++j) {
    const std::uint64_t* h = table.h.data() + j * r;
    const std::uint64_t lo = *std::min_element(h, h + r), hi = *std::max_element(h, h + r);
    law.offset_ += lo;
    double m = 0.0, m2 = 0.0;
    for (std::uint32_t s = 0; s < r; ++s) {
      if (h[s] - lo > std::numeric_limits<std::uint32_t>::max()) {
        throw error(errc::out_of_range, "trace counts: a position's counts differ by more than 2^32");
      }
      shift[s] = static_cast<std::uint32_t>(h[s] - lo);
      m += shift[s];
      m2 += static_cast<double>(shift[s]) * shift[s];
    }
    m /= r;
    mean += m + static_cast<double>(lo);
    variance += m2 / r - m * m;
    if (hi == lo) continue;  // every symbol scores the same here: nothing to convolve
    law.spread_.insert(law.spread_.end(), shift, shift + r);
    convolve_uniform(pmf, next, shift, r, static_cast<std::uint32_t>(hi - lo), uniform);
  }
  law.mean_ = mean;
  law.sd_ = std::sqrt(std::max(variance, 0.0));
  law.log10_tail_.resize(pmf.size());
  law.pmf_ = pmf;
  // Summed from the top: the smallest terms first.
  double tail = 0.0;
  for (std::size_t i = pmf.size(); i-- > 0;) {
    tail += pmf[i];
    const double l = tail >= 1.0 ? 0.0 : std::log10(tail);
    law.log10_tail_[i] = l >= extreme_log10_tail ? l : std::numeric_limits<double>::quiet_NaN();
  }
  law.log10_tail_[0] = 0.0;  // P(S ≥ min) = 1 exactly
  return law;
}

double account_null_law::tilted_log10_p(std::uint64_t y0) const {
  // Exponential tilting (exact, not an approximation): with q_j(d) = e^{θd} / Σ_d' e^{θd'} the
  // tilted law Q of the shifted score Y satisfies P(Y = y) = Q(y)·Π_j M_j(θ)·e^{−θy}, where
  // M_j(θ) = (1/r)·Σ_d e^{θd}. With θ chosen so that Q's mean is y0, Q's mass sits around y0 and
  // P(Y ≥ y0) = exp(Σ_j ln M_j(θ) − θ·y0)·Σ_{y ≥ y0} Q(y)·e^{−θ(y − y0)} is a sum of terms within a
  // double's range.
  const std::uint32_t r = symbols_;
  const std::size_t positions = spread_.size() / r;
  const double target = static_cast<double>(y0);
  if (y0 + 1 == log10_tail_.size()) {
    // The top score: every position at its largest count, P = Π_j (symbols reaching it)/r.
    double l = 0.0;
    for (std::size_t j = 0; j < positions; ++j) {
      const std::uint32_t* d = spread_.data() + j * r;
      const std::uint32_t top = *std::max_element(d, d + r);
      l += std::log10(static_cast<double>(std::count(d, d + r, top)) / r);
    }
    return l;
  }
  // Any θ gives an exact identity; this one (tilted mean = y0, by bisection) keeps every term in range.
  auto tilted_mean = [&](double theta) {
    double m = 0.0;
    for (std::size_t j = 0; j < positions; ++j) {
      const std::uint32_t* d = spread_.data() + j * r;
      const std::uint32_t top = *std::max_element(d, d + r);
      double z = 0.0, zd = 0.0;
      for (std::uint32_t s = 0; s < r; ++s) {
        const double e = std::exp(theta * (static_cast<double>(d[s]) - top));
        z += e;
        zd += e * d[s];
      }
      m += zd / z;
    }
    return m;
  };
  double lo = 0.0, hi = 1.0;
  while (tilted_mean(hi) < target && hi < 1e6) hi *= 2.0;
  for (int i = 0; i < 200 && hi - lo > 1e-15 * hi; ++i) {
    const double mid = 0.5 * (lo + hi);
    (tilted_mean(mid) < target ? lo : hi) = mid;
  }
  const double theta = 0.5 * (lo + hi);
  std::vector<double> q{1.0}, next;
  double log_m = 0.0;  // Σ_j ln M_j(θ)
  for (std::size_t j = 0; j < positions; ++j) {
    const std::uint32_t* d = spread_.data() + j * r;
    const std::uint32_t top = *std::max_element(d, d + r);
    double w[4], z = 0.0;
    for (std::uint32_t s = 0; s < r; ++s) z += (w[s] = std::exp(theta * (static_cast<double>(d[s]) - top)));
    for (std::uint32_t s = 0; s < r; ++s) w[s] /= z;
    log_m += theta * top + std::log(z / r);
    convolve_uniform(q, next, d, r, top - *std::min_element(d, d + r), w);
  }
  double sum = 0.0;
  for (std::size_t y = q.size(); y-- > y0;) sum += q[y] * std::exp(-theta * static_cast<double>(y - y0));
  return (log_m - theta * target + std::log(sum)) / std::log(10.0);
}

double account_null_law::log10_p(std::uint64_t score) const {
  if (score <= offset_) return 0.0;
  const std::uint64_t i = score - offset_;
  if (i >= log10_tail_.size()) return -std::numeric_limits<double>::infinity();
  if (!std::isnan(log10_tail_[i])) return log10_tail_[i];
  return tilted_log10_p(i);
}

double account_null_law::randomised_p(std::uint64_t score, double u) const noexcept {
  // P(S > s) + u·P(S = s); scores outside the support are 1 (below) and 0 (above). Tails beyond a
  // double's range are 0 here, as their sum is.
  if (score < offset_) return 1.0;
  const std::uint64_t i = score - offset_;
  if (i >= log10_tail_.size()) return 0.0;
  const double next = i + 1 < log10_tail_.size() ? log10_tail_[i + 1] : -std::numeric_limits<double>::infinity();
  const double above = std::isnan(next) ? 0.0 : std::pow(10.0, next);
  return std::min(1.0, above + u * pmf_[i]);
}

std::uint64_t account_null_law::threshold(double log10_threshold) const noexcept {
  // The tail decreases with the score (NaN marks the extreme end, below every threshold allowed).
  const auto it = std::partition_point(log10_tail_.begin(), log10_tail_.end(),
                                       [&](double v) { return !std::isnan(v) && v > log10_threshold; });
  return offset_ + static_cast<std::uint64_t>(it - log10_tail_.begin());
}

double sidak_log10(double log10_p, std::uint64_t n) noexcept {
  if (n <= 1 || log10_p == -std::numeric_limits<double>::infinity()) return log10_p;
  const double nd = static_cast<double>(n);
  // Far in the tail 1 − (1 − p)^n = n·p·(1 − (n−1)p/2 + …): below 10^−30 the correction term is
  // under 10^−20 for any n a registry can have, so log10 n + log10 p is exact to double rounding.
  if (log10_p < -30.0) return std::log10(nd) + log10_p;
  const double p = std::pow(10.0, log10_p);
  const double fw = -std::expm1(nd * std::log1p(-std::min(p, 1.0)));
  return fw >= 1.0 ? 0.0 : std::log10(fw);
}

}  // namespace tritium
