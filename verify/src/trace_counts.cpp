#include "tritium/trace_counts.hpp"

#include <string>

#include "tritium/digest.hpp"
#include "tritium/error.hpp"

namespace tritium {

trace_counts::trace_counts(std::uint32_t code_length_, std::uint32_t symbols_)
    : code_length(code_length_),
      symbols(symbols_),
      c(static_cast<std::size_t>(code_length_) * symbols_, 0) {}

void trace_counts::merge(const trace_counts& other) {
  if (other.code_length != code_length || other.symbols != symbols) {
    throw error(errc::mismatch, "trace counts: expected L = " + std::to_string(code_length) +
                                    " and r = " + std::to_string(symbols) + ", got L = " +
                                    std::to_string(other.code_length) +
                                    " and r = " + std::to_string(other.symbols));
  }
  for (std::size_t i = 0; i < c.size(); ++i) c[i] += other.c[i];
  tuples += other.tuples;
}

std::string trace_counts::digest() const {
  sha256_stream s;
  auto put = [&](std::uint64_t v, int bytes) {
    char b[8];
    for (int i = 0; i < bytes; ++i) b[i] = static_cast<char>(v >> (8 * i));
    s.update(std::string_view(b, static_cast<std::size_t>(bytes)));
  };
  put(code_length, 4);
  put(symbols, 4);
  for (std::uint64_t v : c) put(v, 8);
  return s.finish();
}

trace_counter::trace_counter(const key& k, const trace_params& params, std::uint32_t kgw_width)
    : prf_(std::make_unique<trace_prf>(k, params)),
      width_(params.position_width),
      kgw_width_(kgw_width),
      counts_(params.code_length, 1u << params.symbol_bits) {}

trace_counter::~trace_counter() = default;

void trace_counter::exclude_windows(std::span<const token_id> prompt) {
  prompt_windows_.add_windows_of(prompt, width_);
}

void trace_counter::count_tuple(std::span<const token_id> history, token_id v) {
  // `history` ends just before the token: its last h_p tokens are the position window.
  if (v < 0 || v >= (1 << 24)) {
    throw error(errc::out_of_range, "trace: expected token ids in [0, 2^24), got " + std::to_string(v));
  }
  if (history.size() < width_) return;
  const auto window = history.subspan(history.size() - width_, width_);
  ++read_;
  if (prompt_windows_.size() != 0 && prompt_windows_.contains(window)) return;
  if (filter_ != nullptr) {
    if (history.size() < kgw_width_) return;
    if (!filter_->contains(history.subspan(history.size() - kgw_width_, kgw_width_))) return;
  }
  // Staged: the tape slot is prefetched now and probed when the batch is full, so that the cache
  // misses of a large tape overlap (as radioactivity_scorer does).
  const std::uint64_t fingerprint = tuple_fingerprint(window, v);
  tape_.prefetch(fingerprint);
  staged_window_[staged_] = window;
  staged_v_[staged_] = v;
  staged_fingerprint_[staged_] = fingerprint;
  if (++staged_ == batch_) flush();
}

void trace_counter::flush() {
  for (std::size_t i = 0; i < staged_; ++i) {
    if (!tape_.insert(staged_fingerprint_[i])) continue;
    pending_g_[pending_] = prf_->context(staged_window_[i]);
    pending_v_[pending_] = staged_v_[i];
    ++pending_;
  }
  staged_ = 0;
  std::uint32_t positions[batch_], lanes[batch_];
  prf_->positions_and_lanes(pending_g_, pending_v_, pending_, positions, lanes);
  for (std::size_t i = 0; i < pending_; ++i) counts_.add(positions[i], lanes[i]);
  pending_ = 0;
}

void trace_counter::count_text(std::span<const token_id> tokens) {
  for (std::size_t i = width_; i < tokens.size(); ++i) count_tuple(tokens.first(i), tokens[i]);
  flush();
}

void trace_counter::count_predictions(std::span<const token_id> input,
                                      std::span<const token_id> predictions) {
  if (input.size() != predictions.size()) {
    throw error(errc::invalid_argument, "trace predictions: expected one per input token, got " +
                                            std::to_string(predictions.size()) + " for " +
                                            std::to_string(input.size()));
  }
  // predictions[i] follows input[0..i]: its window ends with input[i].
  for (std::size_t i = 0; i < input.size(); ++i) count_tuple(input.first(i + 1), predictions[i]);
  flush();
}

}  // namespace tritium
