// KGW as transformers and TGI seed it (tritium/hf_kgw.hpp). The int64 wrap-around of torch tensors
// is computed in uint64_t; Python's non-negative `%` by 2^64 − 1 is written out (notes/schemes.md §0.2).
#include "tritium/hf_kgw.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "tritium/error.hpp"
#include "tritium/torch_cpu_rng.hpp"
#include "torch_cpu_kernels.hpp"

namespace tritium {
namespace {

/// Fisher–Yates steps are drawn this many at a time (torch_cpu::randperm_targets).
constexpr std::uint32_t walk_block = 256;

constexpr std::uint64_t u64_max = std::numeric_limits<std::uint64_t>::max();  // 2^64 − 1

/// Python's x % (2^64 − 1) for a value x in [0, 2^64): only 2^64 − 1 itself wraps to 0.
std::uint64_t mod_2_64_minus_1(std::uint64_t x) noexcept { return x == u64_max ? 0 : x; }

/// (a · b) mod (2^64 − 1) for the exact (Python integer) product: with 2^64 ≡ 1, hi·2^64 + lo ≡ hi + lo.
std::uint64_t mul_mod_2_64_minus_1(std::uint64_t a, std::uint64_t b) noexcept {
  const std::uint64_t a_lo = a & 0xFFFFFFFFu, a_hi = a >> 32, b_lo = b & 0xFFFFFFFFu, b_hi = b >> 32;
  const std::uint64_t lo_lo = a_lo * b_lo, hi_lo = a_hi * b_lo, lo_hi = a_lo * b_hi, hi_hi = a_hi * b_hi;
  const std::uint64_t cross = (lo_lo >> 32) + (hi_lo & 0xFFFFFFFFu) + lo_hi;
  const std::uint64_t lo = (cross << 32) | (lo_lo & 0xFFFFFFFFu);
  const std::uint64_t hi = hi_hi + (hi_lo >> 32) + (cross >> 32);
  std::uint64_t sum = hi + lo;
  if (sum < lo) sum += 1;  // the carry out of 2^64 is worth 1
  return mod_2_64_minus_1(sum);
}

}  // namespace

hf_kgw_params hf_kgw_params::tgi(std::uint32_t logits_width, double gamma, float delta) {
  hf_kgw_params p;
  p.vocab_size = logits_width;
  p.greenlist_ratio = gamma;
  p.bias = delta;
  p.hashing_key = 15485863;
  p.seeding = hf_seeding::lefthash;
  p.context_width = 1;
  return p;
}

hf_kgw::hf_kgw(const hf_kgw_params& params) : params_(params) {
  if (params_.vocab_size < 2 || params_.vocab_size >= 0xFFFFFFFFu / 20) {
    throw error(errc::invalid_argument, "hf_kgw: vocab_size: expected 2 to 214748364, got " +
                                            std::to_string(params_.vocab_size));
  }
  if (!(params_.greenlist_ratio > 0.0 && params_.greenlist_ratio < 1.0)) {
    throw error(errc::invalid_argument, "hf_kgw: greenlist_ratio: expected a value strictly between 0 and 1");
  }
  if (!std::isfinite(params_.bias)) throw error(errc::invalid_argument, "hf_kgw: bias: expected a finite value");
  if (params_.hashing_key >= (std::uint64_t{1} << 63)) {
    throw error(errc::invalid_argument, "hf_kgw: hashing_key: expected 0 to 2^63 - 1 (torch multiplies it as an int64)");
  }
  if (params_.context_width < 1 || params_.context_width > 64) {
    throw error(errc::invalid_argument, "hf_kgw: context_width: expected 1 to 64, got " +
                                            std::to_string(params_.context_width));
  }
  // int(V * ratio): the product in double, truncated toward zero.
  greenlist_size_ = static_cast<std::uint32_t>(static_cast<double>(params_.vocab_size) * params_.greenlist_ratio);
  if (greenlist_size_ == 0) {
    throw error(errc::invalid_argument, "hf_kgw: int(vocab_size * greenlist_ratio) is 0: no token can be green");
  }
  // Cannot happen for a ratio below 1 (the product's rounding error is below half a unit of V), but the
  // walks assume G < V: every step they take draws.
  if (greenlist_size_ >= params_.vocab_size) {
    throw error(errc::invalid_argument, "hf_kgw: int(vocab_size * greenlist_ratio) is vocab_size: every token would be green");
  }
  magics_ = torch_cpu::randperm_magics(params_.vocab_size, greenlist_size_);
  if (params_.seeding == hf_seeding::selfhash) {
    table_.resize(hf_selfhash_table_size);
    torch_cpu::generator gen(params_.hashing_key);
    torch_cpu::randperm(gen, table_);
  }
}

std::uint64_t hf_kgw::seed(std::span<const token_id> window) const noexcept {
  const std::uint64_t key = params_.hashing_key;
  if (params_.seeding == hf_seeding::lefthash) {
    // A Python integer product, then % (2^64 − 1).
    return mul_mod_2_64_minus_1(key, static_cast<std::uint64_t>(window.back()));
  }
  const std::size_t width = std::min<std::size_t>(window.size(), params_.context_width);
  const auto tail = window.subspan(window.size() - width);
  const std::uint64_t b = static_cast<std::uint64_t>(table_[static_cast<std::uint64_t>(tail.back()) % hf_selfhash_table_size]) + 1;
  std::int64_t smallest = std::numeric_limits<std::int64_t>::max();
  for (const token_id x : tail) {
    const std::uint64_t a = static_cast<std::uint64_t>(table_[static_cast<std::uint64_t>(x) % hf_selfhash_table_size]) + 1;
    smallest = std::min(smallest, static_cast<std::int64_t>(key * a * b));  // int64 wrap-around
  }
  // Python: s % (2^64 − 1) is s for s ≥ 0 (s < 2^63) and s + 2^64 − 1 = u64(s) − 1 for s < 0.
  return smallest >= 0 ? static_cast<std::uint64_t>(smallest) : mod_2_64_minus_1(static_cast<std::uint64_t>(smallest) - 1);
}

void hf_kgw::green_list(std::uint32_t seed32, std::span<std::int32_t> scratch,
                        std::span<std::int32_t> out) const noexcept {
  torch_cpu::generator gen(seed32);
  torch_cpu::randperm_prefix(gen, params_.vocab_size, scratch, out.first(greenlist_size_), magics_);
}

namespace {

// Follows one token's position through Fisher–Yates steps first … first + m − 1, whose targets are
// given: step i swaps positions i and target; it never touches positions below i again. So the token
// ends in the green prefix exactly when some step moves it to position i (target == position), and
// step i == position sends it on to the target. Until its own step comes, only the first can happen:
// a search of the targets. Returns true when it is moved home.
bool follow(std::uint32_t& position, std::uint32_t first, const std::uint32_t* target, std::uint32_t m) noexcept {
  static const detail::contains_kernel contains = detail::best_torch_cpu_kernels().contains;
  std::uint32_t j = 0;
  while (j < m) {
    const std::uint32_t own = position - first;  // ≥ j: a followed position is never below the step
    if (own >= m) return contains(target + j, m - j, position);
    if (contains(target + j, own - j, position) || target[own] == position) return true;
    position = target[own];
    j = own + 1;
  }
  return false;
}

}  // namespace

bool hf_kgw::is_green(std::uint32_t seed32, token_id v) const noexcept {
  // Every one of the first G steps draws (G < V), and v is green when one of them moves it home.
  torch_cpu::generator gen(seed32);
  std::uint32_t position = static_cast<std::uint32_t>(v);
  std::array<std::uint32_t, walk_block> target;
  for (std::uint32_t first = 0; first < greenlist_size_; first += walk_block) {
    const std::uint32_t m = std::min(walk_block, greenlist_size_ - first);
    torch_cpu::randperm_targets(gen, params_.vocab_size, first, magics_, std::span(target).first(m));
    if (follow(position, first, target.data(), m)) return true;
  }
  return false;
}

void hf_kgw::are_green(std::uint32_t seed32, std::span<const token_id> tokens, std::span<std::uint8_t> green) const {
  if (green.size() != tokens.size()) throw error(errc::invalid_argument, "hf_kgw::are_green: sizes differ");
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    if (tokens[i] < 0 || static_cast<std::uint32_t>(tokens[i]) >= params_.vocab_size) {
      throw error(errc::out_of_range, "hf_kgw::are_green: tokens[" + std::to_string(i) + "] = " +
                                          std::to_string(tokens[i]) + " is outside [0, " +
                                          std::to_string(params_.vocab_size) + ")");
    }
  }
  std::fill(green.begin(), green.end(), std::uint8_t{0});
  // The tokens move independently of each other: each is followed through a block of steps in turn,
  // and dropped once home. `position` and `owner` list those still followed.
  std::vector<std::uint32_t> position(tokens.begin(), tokens.end());
  std::vector<std::size_t> owner(tokens.size());
  for (std::size_t j = 0; j < owner.size(); ++j) owner[j] = j;
  // With several tokens, a bitmap of their positions screens each block first: a block moves none of
  // them unless one of its targets is a followed position or a followed position is one of its steps
  // (position ≥ first always). Most blocks do neither and are skipped after one pass over their targets;
  // the others are followed exactly, token by token.
  const bool screen = tokens.size() >= 8;
  std::vector<std::uint64_t> occupied(screen ? (std::size_t{params_.vocab_size} + 63) / 64 : 0);
  const auto mark = [&](bool on) {
    for (const std::uint32_t p : position) {
      const std::uint64_t bit = std::uint64_t{1} << (p & 63);
      occupied[p >> 6] = on ? occupied[p >> 6] | bit : occupied[p >> 6] & ~bit;
    }
  };
  if (screen) mark(true);
  torch_cpu::generator gen(seed32);
  std::array<std::uint32_t, walk_block> target;
  for (std::uint32_t first = 0; first < greenlist_size_ && !position.empty(); first += walk_block) {
    const std::uint32_t m = std::min(walk_block, greenlist_size_ - first);
    torch_cpu::randperm_targets(gen, params_.vocab_size, first, magics_, std::span(target).first(m));
    if (screen) {
      std::uint64_t hit = 0;  // bit 0: a target is a followed position
      for (std::uint32_t i = 0; i < m; ++i) hit |= occupied[target[i] >> 6] >> (target[i] & 63);
      std::uint64_t own = 0;  // a followed position among the block's steps (the words holding them; first is a multiple of 64)
      for (std::uint32_t w = first / 64; w <= (first + m - 1) / 64; ++w) own |= occupied[w];
      if ((hit & 1) == 0 && own == 0) continue;
      mark(false);
    }
    for (std::size_t j = 0; j < position.size();) {
      if (follow(position[j], first, target.data(), m)) {
        green[owner[j]] = 1;
        position[j] = position.back();
        owner[j] = owner.back();
        position.pop_back();
        owner.pop_back();
        continue;
      }
      ++j;
    }
    if (screen) mark(true);
  }
}

namespace {

// Orders the first k of `order` (indices into logits, filled here) highest first, equal logits by
// lower id (id_of(index)), as transformers' selfhash orders its candidates; returns k, at most the size.
template <class IdOf>
std::size_t highest_first(std::span<const float> logits, std::size_t k, std::span<std::int32_t> order, IdOf id_of) {
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = static_cast<std::int32_t>(i);
  const auto higher = [&](std::int32_t a, std::int32_t b) {
    const float la = logits[static_cast<std::size_t>(a)];
    const float lb = logits[static_cast<std::size_t>(b)];
    return la > lb || (la == lb && id_of(a) < id_of(b));
  };
  k = std::min(k, order.size());
  std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(k), order.end(), higher);
  return k;
}

}  // namespace

bool hf_kgw::bias_candidates(std::span<const token_id> history, std::span<const token_id> ids,
                             std::span<float> logits) const {
  if (ids.size() != logits.size()) throw error(errc::invalid_argument, "hf_kgw::bias_candidates: sizes differ");
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] < 0 || static_cast<std::uint32_t>(ids[i]) >= params_.vocab_size) {
      throw error(errc::invalid_argument, "hf_kgw::bias_candidates: ids[" + std::to_string(i) + "] = " +
                                              std::to_string(ids[i]) + " is outside [0, " +
                                              std::to_string(params_.vocab_size) + ")");
    }
  }
  if (history.size() < params_.context_width) return false;
  const float bias = params_.bias;
  std::vector<std::uint8_t> green(ids.size());
  if (params_.seeding == hf_seeding::lefthash) {
    are_green(seed32(seed(history)), ids, green);
  } else {
    std::vector<std::int32_t> order(ids.size());
    const std::size_t k = highest_first(logits, hf_selfhash_candidates, order,
                                        [&](std::int32_t i) { return ids[static_cast<std::size_t>(i)]; });
    std::array<token_id, 65> window{};
    const std::size_t width = params_.context_width;
    std::copy(history.end() - static_cast<std::ptrdiff_t>(width - 1), history.end(), window.begin());
    for (std::size_t c = 0; c < k; ++c) {
      const token_id v = ids[static_cast<std::size_t>(order[c])];
      window[width - 1] = v;
      green[static_cast<std::size_t>(order[c])] = is_green(seed32(seed(std::span<const token_id>(window.data(), width))), v) ? 1 : 0;
    }
  }
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (green[i] != 0) logits[i] += bias;
  }
  return true;
}

bool hf_kgw::bias_dense(std::span<const token_id> history, std::span<float> logits,
                        std::span<std::int32_t> scratch) const {
  if (logits.size() != params_.vocab_size || scratch.size() < params_.vocab_size) {
    throw error(errc::invalid_argument, "hf_kgw::bias_dense: expected a row and scratch of vocab_size entries");
  }
  if (history.size() < params_.context_width) return false;
  const float bias = params_.bias;
  if (params_.seeding == hf_seeding::lefthash) {
    // The green list is the first G entries of the permutation, left in place in scratch.
    const auto green = scratch.first(greenlist_size_);
    green_list(seed32(seed(history)), scratch, green);
    for (const std::int32_t v : green) logits[static_cast<std::size_t>(v)] += bias;
    return true;
  }
  // selfhash: the 40 highest logits, highest first (equal logits: lower id first), ordered in scratch.
  const auto order = scratch.first(logits.size());
  const std::size_t k = highest_first(logits, hf_selfhash_candidates, order, [](std::int32_t i) { return i; });
  std::array<token_id, 65> window{};
  const std::size_t width = params_.context_width;
  std::copy(history.end() - static_cast<std::ptrdiff_t>(width - 1), history.end(), window.begin());
  std::array<std::int32_t, hf_selfhash_candidates> kept{};
  std::size_t n_kept = 0;
  for (std::size_t c = 0; c < k; ++c) {
    window[width - 1] = order[c];
    if (is_green(seed32(seed(std::span<const token_id>(window.data(), width))), order[c])) kept[n_kept++] = order[c];
  }
  for (std::size_t i = 0; i < n_kept; ++i) logits[static_cast<std::size_t>(kept[i])] += bias;
  return true;
}

}  // namespace tritium
