// tritium/ngram_lm.hpp — the reference language model: an n-gram model over token ids with
// interpolated modified Kneser–Ney smoothing (Kneser & Ney 1995; Chen & Goodman 1998, "An Empirical
// Study of Smoothing Techniques for Language Modeling", §3.4–3.5), trained in seconds on a real
// tokenizer's ids and stored in a versioned, checksummed binary file that loads by memory mapping.
//
// Every document is padded on the left with order−1 copies of a virtual begin id (= V), so every
// position has a full context. The highest order uses raw counts, lower orders continuation counts
// (the number of distinct left extensions), and the unigram level is interpolated with the uniform
// distribution, so every token has non-zero probability.
#pragma once

#include <cstdint>
#include <array>
#include <filesystem>
#include <memory>
#include <ostream>
#include <span>
#include <string>
#include <vector>

#include "tritium/language_model.hpp"

namespace tritium {

inline constexpr std::uint32_t ngram_max_order = 6;

/// Accumulates training documents, then writes a model file.
class ngram_trainer {
 public:
  ngram_trainer(std::uint32_t order, std::uint32_t vocab_size);
  ~ngram_trainer();
  ngram_trainer(ngram_trainer&&) noexcept;

  /// Adds one document. Throws errc::out_of_range naming the index of an id ≥ V.
  void add(std::span<const token_id> document);

  std::uint64_t tokens() const noexcept;

  /// Counts, estimates the discounts and writes the model file to `out`; returns its size in bytes.
  /// `tokenizer_digest` is recorded in the file. Throws errc::io when `out` fails. Making the file
  /// appear atomically is the caller's part (the CLI writes through its atomic output).
  std::uint64_t write(std::ostream& out, const std::string& tokenizer_digest) const;

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// A trained model, memory-mapped read-only. Thread-safe.
class ngram_lm final : public language_model {
 public:
  /// Maps and checks a model file: magic, version, sizes and checksums. Throws errc::io (unreadable)
  /// or errc::parse (not a model file, truncated, corrupted — naming what failed).
  static ngram_lm load(const std::filesystem::path& path);

  ngram_lm(ngram_lm&&) noexcept;
  ngram_lm& operator=(ngram_lm&&) noexcept;
  ~ngram_lm() override;

  std::uint32_t vocab_size() const noexcept override;
  std::uint32_t context_length() const noexcept override;
  std::uint32_t order() const noexcept;
  std::uint64_t training_tokens() const noexcept;
  /// "sha256:<64 hex>" of the tokenizer the model was trained with, or empty when none was recorded.
  const std::string& tokenizer_digest() const noexcept;
  /// Distinct n-grams of order k (1-based, at most order()) seen in training, the file's successor count.
  std::uint64_t ngram_count(std::uint32_t k) const;
  /// The discounts D1, D2, D3+ of order k (1-based).
  std::array<double, 3> discounts(std::uint32_t k) const;

  void distribution(std::span<const token_id> context, std::span<double> probs) const override;
  double probability(std::span<const token_id> context, token_id token) const override;

  /// P(token | context) using levels 1..max_order only (max_order = 1: the unigram level).
  double probability_up_to(std::span<const token_id> context, token_id token, std::uint32_t max_order) const;

 private:
  struct impl;
  explicit ngram_lm(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

/// Held-out perplexity figures: exp of the mean negative log-likelihood per token, under the whole
/// model and under its unigram level alone (the floor any context must beat).
struct perplexity_result {
  std::uint64_t tokens = 0;
  double perplexity = 0.0;
  double unigram_perplexity = 0.0;
};

/// Accumulates the held-out perplexity of documents under a model (`tritium lm eval`). Each
/// document is scored on its own: its first token is predicted from the begin padding, no context
/// crosses documents. The model must outlive the evaluator.
class perplexity_evaluator {
 public:
  explicit perplexity_evaluator(const ngram_lm& model) noexcept : model_(model) {}

  /// Scores every token of `document`. Throws errc::out_of_range for an id ≥ the model's V.
  void add(std::span<const token_id> document);

  std::uint64_t tokens() const noexcept { return tokens_; }

  /// The figures over every document added. Throws errc::invalid_argument when no token was added
  /// (a perplexity over nothing does not exist).
  perplexity_result result() const;

 private:
  const ngram_lm& model_;
  double nll_ = 0.0;          // −Σ ln P(token | context), natural log
  double nll_unigram_ = 0.0;  // the same at the unigram level
  std::uint64_t tokens_ = 0;
};

}  // namespace tritium
