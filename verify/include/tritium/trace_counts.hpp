// tritium/trace_counts.hpp — what a tracing scan accumulates: C[j][s], the counted tuples whose
// position was j and whose account lane was s.
//
// papers/attribution.md §4.1: for every tuple the scan reads, the position window (the last h_p
// tokens) picks a code-word position j and the token gets an account lane s; each (window, token)
// pair new on the account tape adds one to C[j][s]. The work per tuple does not depend on how many
// accounts are ranked afterwards, and C (L·r counters) is all the ranking needs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "tritium/prf.hpp"
#include "tritium/radioactivity.hpp"
#include "tritium/trace.hpp"
#include "tritium/tuple_set.hpp"

namespace tritium {

struct trace_counts {
  std::uint32_t code_length = 0;  ///< L
  std::uint32_t symbols = 0;      ///< r = 2^b_a
  std::vector<std::uint64_t> c;   ///< C[j][s] at c[j·r + s]
  std::uint64_t tuples = 0;       ///< Σ C: the tuples counted

  trace_counts() = default;
  trace_counts(std::uint32_t code_length, std::uint32_t symbols);

  void add(std::uint32_t position, std::uint32_t lane) noexcept {
    ++c[static_cast<std::size_t>(position) * symbols + lane];
    ++tuples;
  }
  std::uint64_t at(std::uint32_t position, std::uint32_t lane) const noexcept {
    return c[static_cast<std::size_t>(position) * symbols + lane];
  }
  /// Adds counts accumulated elsewhere (another thread or machine). Throws errc::mismatch when the
  /// shapes differ.
  void merge(const trace_counts& other);
  /// SHA-256 of L, r and the counters (LE32, LE32, then LE64 each), lower-case hex: what a report
  /// records so that a recomputation must reproduce the counts exactly.
  std::string digest() const;
};

/// Accumulates trace_counts over the texts of a suspect, as radioactivity_scorer scores them: the
/// same modes (texts written by the suspect, or its predictions while reading), the same prompt
/// exclusion and filter, with its own account tape over (position window, token) pairs.
class trace_counter {
 public:
  /// `params` are the key's trace parameters; `kgw_width` is the key's context width h, used only
  /// to look windows up in a filter.
  trace_counter(const key& k, const trace_params& params, std::uint32_t kgw_width);
  ~trace_counter();
  trace_counter(const trace_counter&) = delete;
  trace_counter& operator=(const trace_counter&) = delete;

  /// Windows (of h_p tokens) of a prompt sent to the suspect: tuples whose position window is among
  /// them are not counted.
  void exclude_windows(std::span<const token_id> prompt);
  /// Counts only tuples whose KGW window (the last h tokens) is in `filter`; the set must outlive
  /// the counter. nullptr: every tuple.
  void set_filter(const window_set* filter) noexcept { filter_ = filter; }

  /// The tuples (previous h_p tokens, token) of a text the suspect wrote.
  void count_text(std::span<const token_id> tokens);
  /// Reading mode: (input[i−h_p+1..i], predictions[i]). Sizes must match (errc::invalid_argument).
  void count_predictions(std::span<const token_id> input, std::span<const token_id> predictions);

  /// The counts so far (every tuple given has been counted).
  const trace_counts& counts() const noexcept { return counts_; }
  /// Tuples read (with a full position window), before exclusion, filter and tape.
  std::uint64_t tuples_read() const noexcept { return read_; }

 private:
  void count_tuple(std::span<const token_id> history, token_id v);
  void flush();

  // Tuples wait here so that their tape probes overlap and their AES blocks go in one call.
  static constexpr std::size_t batch_ = 64;
  std::span<const token_id> staged_window_[batch_];
  token_id staged_v_[batch_];
  std::uint64_t staged_fingerprint_[batch_];
  std::size_t staged_ = 0;
  prf_context pending_g_[batch_];
  token_id pending_v_[batch_];
  std::size_t pending_ = 0;

  std::unique_ptr<trace_prf> prf_;
  std::uint32_t width_;
  std::uint32_t kgw_width_;
  window_set prompt_windows_;
  const window_set* filter_ = nullptr;
  tuple_set tape_;
  trace_counts counts_;
  std::uint64_t read_ = 0;
};

}  // namespace tritium
