// tritium/tokenizer.hpp — exact re-tokenization of suspect text.
//
// A watermark lives in the token ids of the model that wrote the text, so detection from text must
// reproduce that model's tokenizer exactly. `tokenizer` loads a Hugging Face `tokenizer.json` (BPE
// models, byte-level or SentencePiece-style with byte fallback; normalizers NFC, NFD, NFKC, NFKD,
// Lowercase, Replace, Prepend, Strip, Sequence; pre-tokenizers ByteLevel, Split, Metaspace, Digits,
// Whitespace, WhitespaceSplit, Punctuation, Sequence; added and special tokens; decoders) or the
// vocabulary of a llama.cpp GGUF file (BPE vocabularies with a known pre-tokenizer). Anything else is
// refused with an error naming the component type, never tokenized differently.
//
// Invalid UTF-8 is an error naming the byte offset by default; `invalid_utf8::replace` substitutes
// U+FFFD for each maximal invalid subsequence instead (the Unicode "best practice" of §3.9).
// Text is encoded without adding special tokens (no BOS/EOS), as a model's output would be scored.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tritium/prf.hpp"
#include "tritium/utf8.hpp"

namespace tritium {

enum class invalid_utf8 : std::uint8_t { error = 0, replace = 1 };

class tokenizer {
 public:
  /// Loads `tokenizer.json` or a `.gguf` file (recognised by its magic bytes). Throws tritium::error:
  /// errc::io (unreadable), errc::parse (malformed, naming the JSON field or GGUF offset), or
  /// errc::invalid_argument (an unsupported component, naming its type). A tokenizer.json must be
  /// exactly one JSON document: a NUL byte, text after it, a repeated key or arrays and objects
  /// nested deeper than 64 levels are refused. Of a GGUF file only the header and the metadata are
  /// kept in memory; the tensor data streams through the digest.
  static tokenizer load(const std::filesystem::path& path);

  /// Builds from the text of a tokenizer.json; `source_name` is used in messages.
  static tokenizer from_json(std::string_view json_text, const std::string& source_name = "tokenizer.json");

  tokenizer(tokenizer&&) noexcept;
  tokenizer& operator=(tokenizer&&) noexcept;
  ~tokenizer();

  /// Number of ids: one more than the largest id of the vocabulary and the added tokens.
  std::uint32_t vocab_size() const noexcept;

  /// "sha256:<hex>" of the file (or text) the tokenizer was loaded from: what a key binds to.
  const std::string& digest() const noexcept;

  /// The id count as one total and its parts, e.g. "151669 ids: 151643 in the vocabulary + 26 added"
  /// (", + N unused" when some ids below the total are neither). The total is vocab_size().
  std::string id_summary() const;

  /// A short description, e.g. "tokenizer.json byte-level BPE, 151643 tokens, 151387 merges, 26 added tokens".
  const std::string& description() const noexcept;

  /// Per-thread encoding state (a cache of already encoded pre-tokens). Cheap to create; not
  /// thread-safe, use one per thread. The tokenizer must outlive it.
  class session {
   public:
    explicit session(const tokenizer& t, invalid_utf8 policy = invalid_utf8::error);
    session(session&&) noexcept;
    ~session();

    /// Appends the ids of `text` to `out`. Throws errc::parse naming the byte offset of invalid UTF-8
    /// (unless the policy is `replace`), and errc::invalid_argument naming the tokenizer's component
    /// and pattern when one of its regexes exceeds PCRE2's match limits on `text`.
    void encode(std::string_view text, std::vector<token_id>& out);
    /// The tokenizer this session encodes with.
    const tokenizer& owner() const noexcept;

   private:
    struct state;
    std::unique_ptr<state> state_;
  };

  /// Convenience: encodes with a temporary session.
  std::vector<token_id> encode(std::string_view text, invalid_utf8 policy = invalid_utf8::error) const;

  /// Text of a sequence of ids through the tokenizer's decoder. Throws errc::out_of_range naming the
  /// index of an unknown id.
  std::string decode(std::span<const token_id> ids) const;

  struct impl;

 private:
  explicit tokenizer(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

/// Replaces every maximal invalid subsequence by U+FFFD.
std::string replace_invalid_utf8(std::string_view text);

}  // namespace tritium
