// HF/TGI KGW detection (tritium/hf_kgw_detect.hpp).
#include "tritium/hf_kgw_detect.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "tritium/binomial_tail.hpp"
#include "tritium/error.hpp"

namespace tritium {
namespace {

using tuple = detail::hf_kgw_tuple;

}  // namespace

double hf_kgw_p_bound_ln(std::uint64_t scored, std::uint64_t green, double gamma_prime) {
  if (scored == 0) return 0.0;
  // Hoeffding (1956), Theorem 4: the binomial tail bounds the Poisson-binomial tail from s ≥ np̄ + 1.
  if (static_cast<double>(green) < static_cast<double>(scored) * gamma_prime + 1.0) return 0.0;
  return binomial_upper_tail_ln(scored, green, gamma_prime);
}

hf_kgw_green_cache::hf_kgw_green_cache(const hf_kgw& scheme, std::size_t max_bytes)
    : scheme_(scheme), words_((scheme.vocab_size() + 63) / 64) {
  capacity_ = std::max<std::size_t>(1, max_bytes / (words_ * sizeof(std::uint64_t)));
  capacity_ = std::min<std::size_t>(capacity_, std::size_t{1} << 32);
}

const std::uint64_t* hf_kgw_green_cache::find_or_draw(std::uint32_t seed32) {
  if (const auto it = slot_of_.find(seed32); it != slot_of_.end()) {
    ++hits_;
    referenced_[it->second] = 1;
    return bits_.data() + static_cast<std::size_t>(it->second) * words_;
  }
  if (met_once_.insert(seed32).second) {
    // The admission filter: seeds met once are remembered (cheaply) until it grows too large.
    if (met_once_.size() > 8 * capacity_ + 65536) met_once_.clear();
    return nullptr;
  }
  met_once_.erase(seed32);
  std::size_t slot;
  if (used_ < capacity_) {
    slot = used_++;
    bits_.resize(used_ * words_);
    slot_seed_.push_back(seed32);
    referenced_.push_back(1);
  } else {
    while (referenced_[hand_]) {  // CLOCK: a second chance for the recently used
      referenced_[hand_] = 0;
      hand_ = (hand_ + 1) % capacity_;
    }
    slot = hand_;
    hand_ = (hand_ + 1) % capacity_;
    slot_of_.erase(slot_seed_[slot]);
    slot_seed_[slot] = seed32;
    referenced_[slot] = 1;
  }
  slot_of_[seed32] = static_cast<std::uint32_t>(slot);
  scratch_.resize(scheme_.vocab_size());
  green_.resize(scheme_.greenlist_size());
  scheme_.green_list(seed32, scratch_, green_);
  std::uint64_t* bits = bits_.data() + slot * words_;
  std::fill(bits, bits + words_, std::uint64_t{0});
  for (const std::int32_t v : green_) bits[static_cast<std::uint32_t>(v) >> 6] |= std::uint64_t{1} << (v & 63);
  ++draws_;
  return bits;
}

namespace {

void check_alpha(double alpha) {
  if (!(alpha > 0.0 && alpha < 1.0)) {
    throw error(errc::invalid_argument, "alpha: expected a value in (0, 1), got " + std::to_string(alpha));
  }
}

// The document after a stripped BOS, its ids checked against V.
std::span<const token_id> scored_text(const hf_kgw& scheme, std::span<const token_id> tokens,
                                      const std::optional<token_id>& bos) {
  const std::uint32_t vocab = scheme.vocab_size();
  if (bos && !tokens.empty() && tokens.front() == *bos) tokens = tokens.subspan(1);
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    if (tokens[i] < 0 || static_cast<std::uint32_t>(tokens[i]) >= vocab) {
      throw error(errc::out_of_range, "token " + std::to_string(i) + ": id " + std::to_string(tokens[i]) +
                                          " is outside the vocabulary [0, " + std::to_string(vocab) + ")");
    }
  }
  return tokens;
}

// Appends the (seed, token) tuple of every position with a full n-gram, in text order.
void append_tuples(const hf_kgw& scheme, std::span<const token_id> tokens, std::vector<tuple>& tuples) {
  const bool selfhash = scheme.params().seeding == hf_seeding::selfhash;
  const std::size_t width = scheme.params().context_width;
  const std::size_t n = width + 1 - (selfhash ? 1 : 0);  // the n-gram transformers scores
  // An empty list is sized once; a growing one (a pool's) keeps the vector's geometric growth, since an
  // exact reserve per document would copy the whole list every time.
  if (tuples.empty() && tokens.size() >= n) tuples.reserve(tokens.size() - n + 1);
  for (std::size_t t = n - 1; t < tokens.size(); ++t) {
    // lefthash: the seed reads the token before the target; selfhash: the n-gram ending at it.
    const auto window = selfhash ? tokens.subspan(t + 1 - width, width) : tokens.subspan(t - 1, 1);
    tuples.push_back({hf_kgw::seed32(scheme.seed(window)), tokens[t], static_cast<std::uint32_t>(t)});
  }
}

bool seed_token_less(const tuple& a, const tuple& b) {
  return a.seed32 != b.seed32 ? a.seed32 < b.seed32 : a.token < b.token;
}

// Scores tuples sorted by (seed, token): one verdict per distinct pair, the first of equal ones scored
// and the rest duplicates. on_tuple(index, green, duplicate) is called for every tuple in order.
template <class OnTuple>
void score_sorted(const hf_kgw& scheme, std::span<const tuple> tuples, hf_kgw_green_cache* cache, OnTuple on_tuple) {
  const std::uint32_t vocab = scheme.vocab_size();
  std::vector<std::int32_t> scratch, green_list;
  std::vector<std::uint8_t> green_mask, walk_green;
  std::vector<token_id> walk_tokens;
  for (std::size_t i = 0; i < tuples.size();) {
    std::size_t end = i;
    while (end < tuples.size() && tuples[end].seed32 == tuples[i].seed32) ++end;
    // Distinct tokens of this seed: many of them make one full green list cheaper than one walk each.
    std::size_t distinct = 0;
    for (std::size_t j = i; j < end; ++j) distinct += j == i || tuples[j].token != tuples[j - 1].token;
    const std::uint64_t* cached = cache ? cache->find_or_draw(tuples[i].seed32) : nullptr;
    const bool materialise = cached == nullptr && distinct >= 8;
    if (cached != nullptr) {
      // the kept list answers below
    } else if (materialise) {
      scratch.resize(vocab);
      green_list.resize(scheme.greenlist_size());
      green_mask.assign(vocab, 0);
      scheme.green_list(tuples[i].seed32, scratch, green_list);
      for (const std::int32_t v : green_list) green_mask[static_cast<std::size_t>(v)] = 1;
    } else {
      walk_tokens.clear();
      for (std::size_t j = i; j < end; ++j) {
        if (j == i || tuples[j].token != tuples[j - 1].token) walk_tokens.push_back(tuples[j].token);
      }
      walk_green.resize(walk_tokens.size());
      scheme.are_green(tuples[i].seed32, walk_tokens, walk_green);
    }
    std::size_t walk_index = 0;
    for (std::size_t j = i; j < end; ++j) {
      if (j > i && tuples[j].token == tuples[j - 1].token) {
        on_tuple(j, false, true);
        continue;
      }
      const auto v = static_cast<std::uint32_t>(tuples[j].token);
      const bool green = cached != nullptr ? ((cached[v >> 6] >> (v & 63)) & 1) != 0
                         : materialise     ? green_mask[v] != 0
                                           : walk_green[walk_index++] != 0;
      on_tuple(j, green, false);
    }
    i = end;
  }
}

}  // namespace

detection hf_kgw_detect(const hf_kgw& scheme, std::span<const token_id> tokens,
                        const hf_kgw_detect_options& options) {
  check_alpha(options.alpha);
  tokens = scored_text(scheme, tokens, options.bos);
  detection d;
  d.tokens = tokens.size();
  d.gamma = static_cast<double>(scheme.greenlist_size()) / static_cast<double>(scheme.vocab_size());
  d.p_is_bound = true;
  if (options.want_marks) d.marks.assign(tokens.size(), token_mark::no_context);
  std::vector<tuple> tuples;
  append_tuples(scheme, tokens, tuples);
  // One verdict per (seed, token): sort stably, so the first occurrence is scored.
  std::stable_sort(tuples.begin(), tuples.end(), seed_token_less);
  score_sorted(scheme, tuples, options.cache, [&](std::size_t j, bool green, bool duplicate) {
    if (duplicate) {
      if (options.want_marks) d.marks[tuples[j].first_position] = token_mark::duplicate;
      return;
    }
    ++d.scored;
    d.green += green;
    if (options.want_marks) d.marks[tuples[j].first_position] = green ? token_mark::green : token_mark::red;
  });
  finish_detection(d, options.alpha);  // p_is_bound: the Hoeffding bound
  return d;
}

hf_kgw_pool::hf_kgw_pool(const hf_kgw& scheme, const hf_kgw_detect_options& options)
    : scheme_(scheme), options_(options) {
  check_alpha(options_.alpha);
  if (options_.want_marks) throw error(errc::invalid_argument, "hf_kgw_pool: a pooled test has no per-token marks");
  if (options_.cache != nullptr) {
    throw error(errc::invalid_argument, "hf_kgw_pool: a pooled test meets each seed once, after deduplication; a green-list "
                                        "cache would never be read");
  }
}

hf_kgw_pool::~hf_kgw_pool() = default;

void hf_kgw_pool::add(std::span<const token_id> tokens) {
  tokens = scored_text(scheme_, tokens, options_.bos);
  ++documents_;
  tokens_ += tokens.size();
  append_tuples(scheme_, tokens, tuples_);
  // Keep the list near its distinct tuples: compact once it has doubled since the last compaction.
  if (tuples_.size() >= 2 * compacted_ + (1u << 20)) compact();
}

void hf_kgw_pool::compact() {
  std::sort(tuples_.begin(), tuples_.end(), seed_token_less);
  tuples_.erase(std::unique(tuples_.begin(), tuples_.end(),
                            [](const tuple& a, const tuple& b) { return a.seed32 == b.seed32 && a.token == b.token; }),
                tuples_.end());
  compacted_ = tuples_.size();
}

detection hf_kgw_pool::result() {
  compact();
  detection d;
  d.tokens = tokens_;
  d.gamma = static_cast<double>(scheme_.greenlist_size()) / static_cast<double>(scheme_.vocab_size());
  d.p_is_bound = true;
  score_sorted(scheme_, tuples_, nullptr, [&](std::size_t, bool green, bool) {
    ++d.scored;  // compacted: every tuple is distinct
    d.green += green;
  });
  finish_detection(d, options_.alpha);
  return d;
}

}  // namespace tritium
