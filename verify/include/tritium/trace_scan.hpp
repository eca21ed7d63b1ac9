// tritium/trace_scan.hpp — account tracing as every front end runs it.
//
// One pass over the suspect's texts (corpus, closed or reading mode, exactly as `radioactivity`
// reads them) runs the global radioactivity test and accumulates the tracing counts; the accounts
// of a registry are then ranked by their count score, each with its exact conditional p-value and
// Šidák's family-wise correction over the N accounts (papers/attribution.md §4). Decoy accounts,
// derived like accounts but never issued, are ranked beside them as a check of the null.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "tritium/account_null.hpp"
#include "tritium/account_registry.hpp"
#include "tritium/radioactivity_scan.hpp"
#include "tritium/trace.hpp"
#include "tritium/trace_counts.hpp"

namespace tritium {

/// Family-wise α of an accusation: papers/attribution.md and the collusion goal (1e-6).
inline constexpr double trace_default_alpha = 1e-6;
/// Decoy accounts ranked as a check of the null (KS at 0.01, as the radioactivity control keys).
inline constexpr std::uint32_t trace_default_decoys = 1000;
/// Ranked accounts listed besides the accused.
inline constexpr std::size_t trace_default_listed = 100;

struct trace_spec {
  /// The reading and the global test: mode, inputs, tokenizer, tape, filter, control keys, the
  /// global test's α, the model and prompts; exactly as `radioactivity` runs them.
  radioactivity_spec scan;
  std::string registry;              ///< the accounts ranked (account_registry.hpp)
  double alpha = trace_default_alpha;  ///< family-wise over the registry's N accounts
  /// Who chose alpha (recorded in reports), as radioactivity_spec::alpha_source.
  std::string alpha_source = "the library's default (1e-06)";
  std::uint32_t decoys = trace_default_decoys;
  std::size_t listed = trace_default_listed;  ///< best non-accused accounts listed
};

/// A ranked account. p-values are conditional on the counts (exact, conservative).
struct ranked_account {
  std::size_t index = 0;  ///< in the registry
  std::string id;
  std::uint64_t score = 0;
  double log10_p = 0.0;
  double log10_p_fw = 0.0;  ///< Šidák over N
  bool accused = false;
};

struct trace_decoy_check {
  std::uint32_t count = 0;
  ks_result ks{0.0, 1.0, 0};
  double min_log10_p = 0.0;
  bool passed = true;  ///< KS p ≥ 0.01 (or no decoys)
};

struct trace_outcome {
  radioactivity_outcome global;
  trace_counts counts;
  std::uint64_t tuples_read = 0;  ///< with a full position window, before exclusion, filter, tape
  double null_mean = 0.0, null_sd = 0.0;
  std::size_t null_support = 0;
  std::string registry_digest;
  std::size_t accounts = 0;  ///< N
  /// The smallest log10 p_fw any account could have with these counts (the top score's): above
  /// log10 α no accusation was possible.
  double best_possible_log10_p_fw = 0.0;
  std::vector<ranked_account> listed;  ///< every accused account, then the best others, by score
  std::vector<std::uint64_t> scores;   ///< every account's score, in registry order
  trace_decoy_check decoys;
  /// "accounts accused", "no account accused", "insufficient evidence" (nothing counted, or no
  /// account could reach α) or "no verdict" (the global test gave none, or the decoys failed).
  std::string outcome;
};

/// Scores of the accounts `ids` (registry order), on `threads` workers (0: every core).
std::vector<std::uint64_t> score_accounts(const account_codebook& book,
                                          const account_score_table& table,
                                          std::span<const std::string> ids, unsigned threads = 0);
/// Scores of decoys 0 … count−1.
std::vector<std::uint64_t> score_decoys(const account_codebook& book,
                                        const account_score_table& table, std::uint32_t count,
                                        unsigned threads = 0);

class trace_scan {
 public:
  /// Checks the settings and loads what the reading needs (as radioactivity_scan). `params` are
  /// the key's trace parameters.
  trace_scan(trace_spec spec, const key& k, const trace_params& params, scan_environment env);
  ~trace_scan();
  trace_scan(const trace_scan&) = delete;
  trace_scan& operator=(const trace_scan&) = delete;

  /// The files the result depends on: the reading's, then the registry.
  std::vector<std::string> files() const;

  trace_outcome run();

  const trace_spec& spec() const noexcept { return spec_; }
  const key& the_key() const noexcept { return key_; }
  const trace_params& params() const noexcept { return params_; }
  /// The reading and global test (its tokenizer and filter).
  const radioactivity_scan& reading() const noexcept { return *reading_; }

 private:
  trace_spec spec_;
  const key& key_;
  trace_params params_;
  scan_environment env_;
  std::unique_ptr<radioactivity_scan> reading_;
};

}  // namespace tritium
