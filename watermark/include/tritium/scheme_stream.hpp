// tritium/scheme_stream.hpp — one sequence's embedding under any native scheme a key names, behind one
// interface: what the C ABI's streams and a server's sampler call.
//
//   KGW      a kgw_stream (bias or sample; account tracing);
//   Unigram  δ on the key's one green list (bias or sample);
//   Gumbel   chooses the token itself (argmin E/p over the row or the candidates): `sample` and
//            `sample_candidates` only; a bias call is refused (errc::usage), since no bias makes a
//            sampler downstream reproduce the choice.
//
// Gumbel's choice is a function of the window and the row. With `mask_repeated_contexts` a window the
// sequence has already chosen after is sampled plainly instead, so that a repeated context cannot lock
// the answer into a loop (papers/robustness.md §3 measures what happens without it); detection's
// deduplication scores such a window once either way.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <vector>

#include "tritium/gumbel.hpp"
#include "tritium/key.hpp"
#include "tritium/kgw_stream.hpp"
#include "tritium/unigram.hpp"

namespace tritium {

/// The schemes of one key, built once and shared by its streams (immutable, thread-safe).
struct key_schemes {
  /// Builds each scheme the key names (Unigram's list costs V AES blocks).
  explicit key_schemes(const key& k);

  scheme_set names = 0;
  std::shared_ptr<const kgw> kgw_scheme;
  std::shared_ptr<const gumbel> gumbel_scheme;
  std::shared_ptr<const unigram> unigram_scheme;
  std::uint32_t vocab_size = 0;
  std::uint32_t context_width = 0;
  std::string key_id;
};

class scheme_stream {
 public:
  /// Throws errc::mismatch when the key does not name `kind` (the message names the key's schemes).
  scheme_stream(std::shared_ptr<const key_schemes> schemes, scheme_kind kind, stream_options options = {});

  scheme_kind kind() const noexcept { return kind_; }

  void begin(std::span<const token_id> prompt_tail);
  void accept(token_id t);
  void reset() noexcept;
  /// Whether the next step is marked: KGW as kgw_stream; Gumbel with a full window not masked;
  /// Unigram always.
  bool active() const;

  /// KGW and Unigram; errc::usage for Gumbel.
  void bias_dense(std::span<float> logits) const;
  void bias_sparse(std::span<const token_id> ids, std::span<float> logits) const;
  /// The next token from a whole row of logits (V entries); not accepted.
  token_id sample(std::span<const float> logits);
  /// The next token among a candidate list (after top-k, top-p and temperature): KGW and Unigram
  /// sample softmax(logits + bias) over the candidates, Gumbel chooses among them. Ids in [0, V).
  token_id sample_candidates(std::span<const token_id> ids, std::span<const float> logits);

  /// Account tracing rides on KGW: errc::mismatch for the other schemes.
  void set_account(const account_code* code);
  sampling_rng& rng() noexcept;

 private:
  std::span<const token_id> window() const noexcept;
  token_id draw(std::span<const float> logits);

  std::shared_ptr<const key_schemes> schemes_;
  scheme_kind kind_;
  stream_options options_;
  std::optional<kgw_stream> kgw_;
  std::vector<token_id> history_;  ///< Gumbel: the last h tokens, oldest first
  std::set<std::vector<token_id>> used_windows_;
  sampling_rng rng_;
  sampling_scratch scratch_;
  std::vector<float> work_;
};

}  // namespace tritium
