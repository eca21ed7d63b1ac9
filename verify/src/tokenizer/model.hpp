// Internal: the parts of a tokenizer — normalizers, pre-tokenizers, the BPE model, added tokens and
// decoders — as loaded from tokenizer.json or GGUF, and applied by tokenizer.cpp.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "regex.hpp"
#include "tritium/digest.hpp"
#include "tritium/prf.hpp"
#include "unicode.hpp"

namespace tritium::detail {

/// Pieces of text: byte ranges into `base`, which is either the text being encoded (when every step
/// so far only split) or `storage` (after a step that rewrote pieces). `storage` is a vector, never a
/// small-string-optimised string, so moving it keeps `base` valid.
struct piece_range {
  std::size_t begin, end;
  bool at_start;  ///< starts at offset 0 of the text (Metaspace's "first" scheme needs it)
};
struct pieces {
  std::vector<char> storage;
  const char* base = nullptr;
  std::vector<piece_range> ranges;
  std::string_view view(const piece_range& r) const noexcept { return {base + r.begin, r.end - r.begin}; }
};

enum class split_behavior { removed, isolated, merged_with_previous, merged_with_next, contiguous };

struct normalizer_step {
  enum class kind { nfc, nfd, nfkc, nfkd, lowercase, replace, prepend, strip } type;
  std::string pattern;             ///< replace: literal pattern (when `re` is null); prepend: text
  std::string content;             ///< replace: replacement
  std::shared_ptr<regex> re;       ///< replace with a Regex pattern
  bool strip_left = false, strip_right = false;
};

struct pre_tokenizer_step {
  enum class kind { byte_level, split, metaspace, digits, whitespace, whitespace_split, punctuation } type;
  // byte_level
  bool add_prefix_space = false;
  bool use_regex = true;
  // split and punctuation
  std::shared_ptr<regex> re;       ///< split with a Regex (or the GPT-2 pattern of byte_level)
  std::string literal;             ///< split with a String pattern
  split_behavior behavior = split_behavior::isolated;
  bool invert = false;
  // metaspace
  std::string replacement = "\xE2\x96\x81";  ///< U+2581
  enum class prepend { always, first, never } prepend_scheme = prepend::always;
  bool split_on_replacement = true;
  // digits
  bool individual_digits = false;
};

struct decoder_step {
  enum class kind { byte_level, metaspace, byte_fallback, fuse, strip, replace } type;
  std::string pattern, content;        ///< replace (String patterns only); metaspace: replacement
  std::size_t strip_start = 0, strip_stop = 0;
  bool prepend_first = true;           ///< metaspace: strip the space its prepend scheme added
};

struct added_token {
  token_id id;
  std::string content;
  bool special = false;
  bool lstrip = false, rstrip = false, single_word = false;
};

/// Byte-pair encoding (Sennrich et al. 2016) over byte strings. In byte-level models the vocabulary is
/// stored as raw bytes (GPT-2's printable alphabet undone at load time), so pieces are never mapped.
struct bpe_model {
  bool byte_level = false;      ///< initial symbols are single bytes (else UTF-8 characters)
  bool byte_fallback = false;   ///< unknown characters become <0xXX> tokens
  bool ignore_merges = false;   ///< a piece that is itself in the vocabulary is emitted whole
  bool fuse_unk = false;
  token_id unk = -1;
  std::unordered_map<std::string, token_id> vocab;  ///< key: bytes
  std::vector<std::string> id_to_token;             ///< the vocabulary's own spelling, for decoding
  struct merge_value {
    std::uint32_t rank;
    token_id merged;
  };
  /// (left id << 32 | right id) → merge, in an open-addressing table: the lookup of the BPE loop.
  class merge_table {
   public:
    void reserve(std::size_t n);
    /// Inserts or replaces (the last value inserted for a key wins).
    void emplace(std::uint64_t key, merge_value value);
    const merge_value* find(std::uint64_t key) const noexcept {
      if (slots_.empty()) return nullptr;
      for (std::size_t i = slot_of(key);; i = (i + 1) & mask_) {
        const slot& s = slots_[i];
        if (s.value.rank == empty) return nullptr;
        if (s.key == key) return &s.value;
      }
    }
    std::size_t size() const noexcept { return size_; }

   private:
    static constexpr std::uint32_t empty = 0xffffffffu;
    struct slot {
      std::uint64_t key;
      merge_value value;
    };
    std::size_t slot_of(std::uint64_t key) const noexcept {
      std::uint64_t z = key * 0x9e3779b97f4a7c15ULL;
      return static_cast<std::size_t>(z >> 32) & mask_;
    }
    std::vector<slot> slots_;
    std::size_t mask_ = 0;
    std::size_t size_ = 0;
  };
  merge_table merges;
  token_id byte_ids[256];  ///< byte-level: the id of each single byte; char mode: <0xXX> or -1

  static std::uint64_t pair_key(token_id a, token_id b) noexcept {
    return static_cast<std::uint64_t>(static_cast<std::uint32_t>(a)) << 32 | static_cast<std::uint32_t>(b);
  }

  /// Appends the ids of one pre-tokenized piece.
  void encode_piece(std::string_view piece, std::vector<token_id>& out) const;
};

struct tokenizer_model {
  std::vector<normalizer_step> normalizers;
  std::vector<pre_tokenizer_step> pre_tokenizers;
  std::vector<decoder_step> decoders;
  std::vector<added_token> added;
  bpe_model bpe;
  std::uint32_t vocab_size = 0;
  std::string digest;
  std::string description;
  /// Every added token that can start at a given first byte, longest first.
  std::vector<std::vector<std::size_t>> added_by_first_byte;

  void finish();  ///< computes vocab_size and the added-token index
};

/// Fills `bpe.vocab`, `id_to_token` and `byte_ids` from the vocabulary's spellings (byte-level models
/// store raw bytes). Throws errc::invalid_argument when a byte-level vocabulary lacks a byte.
void build_vocabulary(bpe_model& bpe, const std::unordered_map<std::string, token_id>& by_spelling,
                      token_id max_id, const std::string& source);
/// Adds the merge left + right with the given rank; throws errc::parse naming `where`.
void add_merge(bpe_model& bpe, const std::unordered_map<std::string, token_id>& by_spelling,
               const std::string& left, const std::string& right, std::uint32_t rank, const std::string& where);

std::string apply_normalizers(const std::vector<normalizer_step>& steps, std::string text);

/// Parsers: throw tritium::error naming the file, field or offset.
tokenizer_model parse_tokenizer_json(std::string_view text, const std::string& source);
tokenizer_model parse_gguf(const std::string& bytes, const std::string& source);
/// Reads the header and metadata of a GGUF file from `in`, never keeping its tensor data. When
/// `digest` is given, every byte of the stream, to its end, is also fed to it.
tokenizer_model parse_gguf(std::istream& in, const std::string& source, sha256_stream* digest);


}  // namespace tritium::detail
