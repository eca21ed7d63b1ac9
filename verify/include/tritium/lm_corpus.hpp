// tritium/lm_corpus.hpp — the documents the reference model (tritium/ngram_lm.hpp) is trained and
// evaluated on, and the mixture of human and watermarked text a student model is trained on to
// test radioactivity (tritium/radioactivity.hpp).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "tritium/ngram_lm.hpp"
#include "tritium/tokenizer.hpp"

namespace tritium {

/// Calls `each(ids)` for each document of a corpus `path`, in file order: a .jsonl or .json file is
/// JSON Lines whose records carry "tokens" (e.g. `tritium generate` output) or "text" (tokenized by
/// `session`); anything else is text as text_source reads it ("auto": a .txt file or a folder of
/// them). Throws errc::parse naming "file:line" for a record with neither field, and what
/// text_source and each_record throw for unreadable or malformed input.
void each_corpus_document(const std::string& path, tokenizer::session& session,
                          const std::function<void(std::vector<token_id>&)>& each);

/// The tokens of each side a training mixture took.
struct training_mixture {
  std::uint64_t human = 0;
  std::uint64_t watermarked = 0;
};

/// Adds `human` and `watermarked` documents to `trainer`. With a `watermarked_fraction` f in [0, 1],
/// the mixture takes all of the scarcer side and as much of the other as f asks: of W watermarked and
/// H human tokens, the total is T = min(W / f, H / (1 − f)), of which floor(f·T) watermarked and
/// floor((1 − f)·T) human tokens (f = 1: no human token; f = 0: no watermarked token). Each side is
/// taken in order, whole documents while they fit, then the first part of the next one. Without a
/// fraction every document is added. Throws errc::invalid_argument for f outside [0, 1], and what
/// ngram_trainer::add throws.
training_mixture add_training_mixture(ngram_trainer& trainer, const std::vector<std::vector<token_id>>& human,
                                      const std::vector<std::vector<token_id>>& watermarked,
                                      std::optional<double> watermarked_fraction);

}  // namespace tritium
