// tritium/language_model.hpp — the one interface behind which next-token distributions come: the
// built-in n-gram reference model today, a llama.cpp model later. The watermark sampler and the
// verifier (radioactivity tests) both use it.
#pragma once

#include <cstdint>
#include <span>

#include "tritium/prf.hpp"

namespace tritium {

class language_model {
 public:
  virtual ~language_model() = default;

  /// Number of token ids; distributions have this many entries.
  virtual std::uint32_t vocab_size() const noexcept = 0;

  /// How many preceding tokens the model looks at (more are ignored).
  virtual std::uint32_t context_length() const noexcept = 0;

  /// Writes P(next = v | context) for every v into `probs` (size vocab_size()): every entry > 0 and
  /// the entries sum to 1. `context` holds the preceding tokens, oldest first (may be empty).
  /// Thread-safe.
  virtual void distribution(std::span<const token_id> context, std::span<double> probs) const = 0;

  /// P(next = token | context) alone.
  virtual double probability(std::span<const token_id> context, token_id token) const = 0;
};

}  // namespace tritium
