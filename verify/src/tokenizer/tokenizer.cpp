#include "tritium/tokenizer.hpp"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <sstream>
#include <unordered_map>

#include "model.hpp"
#include "tritium/digest.hpp"
#include "tritium/error.hpp"

namespace tritium {

using namespace detail;

struct tokenizer::impl {
  tokenizer_model model;
};

namespace detail {

void tokenizer_model::finish() {
  std::uint32_t size = 0;
  for (const auto& [text, id] : bpe.vocab) size = std::max(size, static_cast<std::uint32_t>(id) + 1);
  for (const auto& a : added) size = std::max(size, static_cast<std::uint32_t>(a.id) + 1);
  size = std::max(size, static_cast<std::uint32_t>(bpe.id_to_token.size()));
  vocab_size = size;
  if (bpe.id_to_token.size() < size) bpe.id_to_token.resize(size);
  for (const auto& a : added) bpe.id_to_token[static_cast<std::size_t>(a.id)] = a.content;
  added_by_first_byte.assign(256, {});
  for (std::size_t i = 0; i < added.size(); ++i) {
    if (added[i].content.empty()) continue;
    added_by_first_byte[static_cast<unsigned char>(added[i].content[0])].push_back(i);
  }
  for (auto& list : added_by_first_byte) {
    std::stable_sort(list.begin(), list.end(), [&](std::size_t a, std::size_t b) {
      return added[a].content.size() > added[b].content.size();
    });
  }
}

}  // namespace detail

namespace detail {

// Normalizers operate on whole strings (tritium needs no offsets).
std::string apply_normalizers(const std::vector<normalizer_step>& steps, std::string text) {
  for (const auto& s : steps) {
    switch (s.type) {
      case normalizer_step::kind::nfc: text = normalize(text, unicode_form::nfc); break;
      case normalizer_step::kind::nfd: text = normalize(text, unicode_form::nfd); break;
      case normalizer_step::kind::nfkc: text = normalize(text, unicode_form::nfkc); break;
      case normalizer_step::kind::nfkd: text = normalize(text, unicode_form::nfkd); break;
      case normalizer_step::kind::lowercase: text = lowercase(text); break;
      case normalizer_step::kind::prepend:
        if (!text.empty()) text = s.pattern + text;
        break;
      case normalizer_step::kind::strip: {
        std::size_t b = 0, e = text.size();
        if (s.strip_left) {
          while (b < e) {
            std::size_t i = b;
            if (!is_white_space(next_code_point(text, i))) break;
            b = i;
          }
        }
        if (s.strip_right) {
          while (e > b) {
            std::size_t start = e - 1;
            while (start > b && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) --start;
            std::size_t i = start;
            if (!is_white_space(next_code_point(text, i))) break;
            e = start;
          }
        }
        text = text.substr(b, e - b);
        break;
      }
      case normalizer_step::kind::replace: {
        std::string out;
        if (s.re) {
          std::vector<std::pair<std::size_t, std::size_t>> m;
          s.re->find_all(text, m);
          std::size_t last = 0;
          for (auto [b, e] : m) {
            out.append(text, last, b - last);
            out += s.content;
            last = e;
          }
          out.append(text, last, std::string::npos);
        } else if (!s.pattern.empty()) {
          std::size_t last = 0;
          for (std::size_t at = text.find(s.pattern); at != std::string::npos; at = text.find(s.pattern, last)) {
            out.append(text, last, at - last);
            out += s.content;
            last = at + s.pattern.size();
          }
          out.append(text, last, std::string::npos);
        } else {
          out = text;
        }
        text = std::move(out);
        break;
      }
    }
  }
  return text;
}

}  // namespace detail

namespace {

// ---------------------------------------------------------------------------------------------
// Pre-tokenizers: each step maps every piece to sub-pieces, as in Hugging Face's PreTokenizedString.

// Where split_by_matches puts its output: either ranges into the same base (a pure split) or copies
// appended to the output's storage (a rewriting step).
struct sink {
  pieces& out;
  bool copy;           ///< rewriting step: the piece text lives in a temporary, copy it
  std::size_t offset;  ///< pure split: offset of the piece inside the base
  void add(std::string_view piece, std::size_t b, std::size_t e, bool at_start) {
    if (e <= b) return;
    if (copy) {
      const std::size_t start = out.storage.size();
      out.storage.insert(out.storage.end(), piece.data() + b, piece.data() + e);
      out.ranges.push_back({start, out.storage.size(), at_start});
    } else {
      out.ranges.push_back({offset + b, offset + e, at_start});
    }
  }
};

// Splits `piece` at the given match ranges according to `behavior` (HF SplitDelimiterBehavior); with
// `invert` the matches are the kept parts and the gaps the delimiters.
void split_by_matches(std::string_view piece, bool at_start,
                      const std::vector<std::pair<std::size_t, std::size_t>>& matches,
                      split_behavior behavior, bool invert, sink& out) {
  // Walk the segments (gap, match, gap, ...) that cover the piece, each tagged as a delimiter or not.
  std::size_t pending_begin = 0;  // start of text waiting to be merged with what follows
  bool pending = false;
  std::size_t contiguous_begin = 0;
  bool in_contiguous = false;
  auto put = [&](std::size_t b, std::size_t e) { out.add(piece, b, e, at_start && b == 0); };
  auto visit = [&](std::size_t b, std::size_t e, bool delimiter) {
    if (e <= b) return;
    switch (behavior) {
      case split_behavior::removed:
        if (!delimiter) put(b, e);
        break;
      case split_behavior::isolated:
        put(b, e);
        break;
      case split_behavior::contiguous:
        if (delimiter) {
          if (!in_contiguous) contiguous_begin = b;
          in_contiguous = true;
        } else {
          if (in_contiguous) put(contiguous_begin, b);
          in_contiguous = false;
          put(b, e);
        }
        break;
      case split_behavior::merged_with_previous:
        if (delimiter) {
          put(pending ? pending_begin : b, e);
          pending = false;
        } else {
          if (pending) put(pending_begin, b);
          pending_begin = b;
          pending = true;
        }
        break;
      case split_behavior::merged_with_next:
        if (delimiter) {
          if (pending) put(pending_begin, b);
          pending_begin = b;
          pending = true;
        } else {
          put(pending ? pending_begin : b, e);
          pending = false;
        }
        break;
    }
  };
  std::size_t last = 0;
  for (auto [b, e] : matches) {
    visit(last, b, invert);
    visit(b, e, !invert);
    last = e;
  }
  visit(last, piece.size(), invert);
  if (pending) put(pending_begin, piece.size());
  if (in_contiguous) put(contiguous_begin, piece.size());
}

template <class Predicate>
void char_matches(std::string_view piece, Predicate is_delimiter,
                  std::vector<std::pair<std::size_t, std::size_t>>& matches) {
  for (std::size_t i = 0; i < piece.size();) {
    const std::size_t b = i;
    const char32_t c = next_code_point(piece, i);
    if (is_delimiter(c)) matches.emplace_back(b, i);
  }
}

bool is_numeric(char32_t c) noexcept { return is_number(c); }

bool is_hf_punctuation(char32_t c) noexcept {
  return (c < 0x80 && ((c >= '!' && c <= '/') || (c >= ':' && c <= '@') || (c >= '[' && c <= '`') ||
                       (c >= '{' && c <= '~'))) ||
         is_punctuation(c);
}

// Whether a step changes nothing: a ByteLevel step without its regex and prefix space (the bytes are
// already the model's alphabet, since byte-level vocabularies are stored as raw bytes).
bool is_identity(const pre_tokenizer_step& step) noexcept {
  return step.type == pre_tokenizer_step::kind::byte_level && !step.use_regex && !step.add_prefix_space;
}

bool rewrites(const pre_tokenizer_step& step) noexcept {
  return step.type == pre_tokenizer_step::kind::metaspace ||
         (step.type == pre_tokenizer_step::kind::byte_level && step.add_prefix_space);
}

void apply_pre_tokenizer(const pre_tokenizer_step& step, pieces& in, pieces& out) {
  out.ranges.clear();
  out.storage.clear();
  const bool copy = rewrites(step);
  thread_local std::vector<std::pair<std::size_t, std::size_t>> matches;
  thread_local std::string scratch;
  for (const piece_range& r : in.ranges) {
    std::string_view piece = in.view(r);
    const bool at_start = r.at_start;
    sink to{out, copy, r.begin};
    matches.clear();
    switch (step.type) {
      case pre_tokenizer_step::kind::byte_level: {
        if (step.add_prefix_space && !piece.empty() && piece.front() != ' ') {
          scratch = " ";
          scratch.append(piece);
          piece = scratch;
        }
        if (step.use_regex) step.re->find_all(piece, matches);
        if (step.use_regex) {
          split_by_matches(piece, at_start, matches, split_behavior::isolated, false, to);
        } else {
          to.add(piece, 0, piece.size(), at_start);
        }
        break;
      }
      case pre_tokenizer_step::kind::split:
        if (step.re) {
          step.re->find_all(piece, matches);
        } else if (!step.literal.empty()) {
          for (std::size_t at = piece.find(step.literal); at != std::string_view::npos;
               at = piece.find(step.literal, at + step.literal.size())) {
            matches.emplace_back(at, at + step.literal.size());
          }
        }
        split_by_matches(piece, at_start, matches, step.behavior, step.invert, to);
        break;
      case pre_tokenizer_step::kind::metaspace: {
        scratch.clear();
        for (char c : piece) {
          if (c == ' ') scratch += step.replacement; else scratch += c;
        }
        const bool starts = scratch.compare(0, step.replacement.size(), step.replacement) == 0;
        if (!starts && (step.prepend_scheme == pre_tokenizer_step::prepend::always ||
                        (step.prepend_scheme == pre_tokenizer_step::prepend::first && at_start))) {
          scratch.insert(0, step.replacement);
        }
        const std::string_view text = scratch;
        if (step.split_on_replacement) {
          for (std::size_t at = text.find(step.replacement); at != std::string_view::npos;
               at = text.find(step.replacement, at + step.replacement.size())) {
            matches.emplace_back(at, at + step.replacement.size());
          }
          split_by_matches(text, at_start, matches, split_behavior::merged_with_next, false, to);
        } else {
          to.add(text, 0, text.size(), at_start);
        }
        break;
      }
      case pre_tokenizer_step::kind::digits:
        char_matches(piece, is_numeric, matches);
        split_by_matches(piece, at_start, matches,
                         step.individual_digits ? split_behavior::isolated : split_behavior::contiguous,
                         false, to);
        break;
      case pre_tokenizer_step::kind::whitespace:
        step.re->find_all(piece, matches);
        split_by_matches(piece, at_start, matches, split_behavior::removed, true, to);
        break;
      case pre_tokenizer_step::kind::whitespace_split:
        char_matches(piece, is_white_space, matches);
        split_by_matches(piece, at_start, matches, split_behavior::removed, false, to);
        break;
      case pre_tokenizer_step::kind::punctuation:
        char_matches(piece, is_hf_punctuation, matches);
        split_by_matches(piece, at_start, matches, step.behavior, false, to);
        break;
    }
  }
  if (copy) {
    out.base = out.storage.data();
  } else {
    // A pure split refers to the same base; carry its storage along so that the base stays alive.
    out.base = in.base;
    out.storage.swap(in.storage);
  }
}

}  // namespace

// -----------------------------------------------------------------------------------------------

// Pre-token → ids. Most words of a corpus repeat, so this is where the speed comes from: an open-
// addressing table over 64-bit hashes, with keys and ids in two arenas, cleared when full. The table
// starts small and doubles up to its cap, so a session that encodes little (a worker among many given
// few documents) costs kilobytes, not the 3 MB of a full table.
class piece_cache {
 public:
  piece_cache() { reset(); }

  static std::uint64_t hash(std::string_view s) noexcept {
    std::uint64_t h = 0x9e3779b97f4a7c15ULL ^ s.size();
    std::size_t i = 0;
    for (; i + 8 <= s.size(); i += 8) {
      std::uint64_t w;
      std::memcpy(&w, s.data() + i, 8);
      h = (h ^ w) * 0xbf58476d1ce4e5b9ULL;
      h ^= h >> 29;
    }
    std::uint64_t tail = 0;
    std::memcpy(&tail, s.data() + i, s.size() - i);
    h = (h ^ tail) * 0x94d049bb133111ebULL;
    h ^= h >> 31;
    return h | 1;  // 0 marks an empty slot
  }

  /// The cached ids of `piece`, or nullptr.
  const token_id* find(std::string_view piece, std::uint64_t h, std::size_t& count) const noexcept {
    if (size_ == 0) return nullptr;
    for (std::size_t i = h & mask_;; i = (i + 1) & mask_) {
      const entry& e = table_[i];
      if (e.hash == 0) return nullptr;
      if (e.hash == h && e.key_length == piece.size() &&
          std::memcmp(keys_.data() + e.key_offset, piece.data(), piece.size()) == 0) {
        count = e.ids_length;
        return ids_.data() + e.ids_offset;
      }
    }
  }

  void insert(std::string_view piece, std::uint64_t h, const token_id* ids, std::size_t count) {
    if (piece.size() > max_key || count > max_key) return;
    if (keys_.size() + piece.size() > max_arena) {
      reset();
    } else if ((size_ + 1) * 2 > table_.size()) {
      if (table_.size() < slots) {
        grow();
      } else {
        reset();
      }
    }
    std::size_t i = h & mask_;
    while (table_[i].hash != 0) i = (i + 1) & mask_;
    table_[i] = {h, static_cast<std::uint32_t>(keys_.size()), static_cast<std::uint32_t>(piece.size()),
                 static_cast<std::uint32_t>(ids_.size()), static_cast<std::uint32_t>(count)};
    keys_.insert(keys_.end(), piece.begin(), piece.end());
    ids_.insert(ids_.end(), ids, ids + count);
    ++size_;
  }

 private:
  struct entry {
    std::uint64_t hash;
    std::uint32_t key_offset, key_length, ids_offset, ids_length;
  };
  static constexpr std::size_t slots = 1 << 17;  ///< the cap
  static constexpr std::size_t first_slots = 1 << 8;
  static constexpr std::size_t max_key = 256;
  static constexpr std::size_t max_arena = 64u << 20;

  void grow() {
    std::vector<entry> old(table_.size() * 2, entry{0, 0, 0, 0, 0});
    old.swap(table_);
    mask_ = table_.size() - 1;
    for (const entry& e : old) {
      if (e.hash == 0) continue;
      std::size_t i = e.hash & mask_;
      while (table_[i].hash != 0) i = (i + 1) & mask_;
      table_[i] = e;
    }
  }

  void reset() {
    table_.assign(first_slots, entry{0, 0, 0, 0, 0});
    mask_ = first_slots - 1;
    keys_.clear();
    ids_.clear();
    size_ = 0;
  }

  std::vector<entry> table_;
  std::size_t mask_ = 0;
  std::vector<char> keys_;
  std::vector<token_id> ids_;
  std::size_t size_ = 0;
};

struct tokenizer::session::state {
  const tokenizer* owner;
  const tokenizer_model* model;
  invalid_utf8 policy;
  pieces current, next_pieces;
  std::string normalized;
  piece_cache cache;
  std::vector<token_id> scratch;
  const pre_tokenizer_step* single_split = nullptr;  ///< set when the pipeline is one isolating split
  bool single_split_keeps_gaps = true;

  void find_single_split() {
    const pre_tokenizer_step* only = nullptr;
    for (const auto& step : model->pre_tokenizers) {
      if (is_identity(step)) continue;
      if (only != nullptr) return;
      only = &step;
    }
    if (only == nullptr) return;
    // Isolated matches and gaps, or (o200k's form) the matches alone: Removed with invert.
    const bool isolated = only->behavior == split_behavior::isolated && !only->invert;
    const bool matches_only = only->behavior == split_behavior::removed && only->invert;
    const bool split = only->type == pre_tokenizer_step::kind::split && only->re && (isolated || matches_only);
    single_split_keeps_gaps = !matches_only;
    const bool byte_level = only->type == pre_tokenizer_step::kind::byte_level && only->use_regex &&
                            !only->add_prefix_space;
    if (split || byte_level) single_split = only;
  }

  void encode_segment(std::string_view text, bool at_start, std::vector<token_id>& out) {
    if (text.empty()) return;
    if (!model->normalizers.empty()) {
      normalized = apply_normalizers(model->normalizers, std::string(text));
      // A normalizer that removed the first characters (Strip) moves the text off offset 0, which is
      // what Metaspace's "first" scheme looks at in the tokenizers library.
      if (at_start && !normalized.empty() && !text.empty() && normalized.size() < text.size() &&
          text.substr(text.size() - normalized.size()) == normalized) {
        at_start = false;
      }
      text = normalized;
      if (text.empty()) return;
    }
    if (single_split != nullptr) {
      // The common pipeline (one isolating regex split, then byte-level): encode each piece as the
      // regex yields it, with no intermediate lists.
      std::size_t last = 0;
      single_split->re->for_each_match(text, [&](std::size_t b, std::size_t e) {
        if (b > last && single_split_keeps_gaps) encode_cached(text.substr(last, b - last), out);
        encode_cached(text.substr(b, e - b), out);
        last = e;
      });
      if (last < text.size() && single_split_keeps_gaps) encode_cached(text.substr(last), out);
      return;
    }
    current.storage.clear();
    current.base = text.data();
    current.ranges.assign(1, piece_range{0, text.size(), at_start});
    for (const auto& step : model->pre_tokenizers) {
      if (is_identity(step)) continue;
      apply_pre_tokenizer(step, current, next_pieces);
      std::swap(current, next_pieces);
    }
    for (const piece_range& r : current.ranges) encode_cached(current.view(r), out);
  }

  // A small direct-mapped cache in front of `cache` for short pieces with few ids (most words): one
  // 32-byte slot, compared with two 8-byte loads, stays in L2 where the big table would miss.
  struct hot_slot {
    std::uint8_t length = 0xff;  ///< 0xff: empty
    std::uint8_t count = 0;
    std::uint8_t unused[2] = {0, 0};
    token_id ids[3];
    char key[16];
  };
  static constexpr std::size_t hot_slots = 16384;
  std::vector<hot_slot> hot = std::vector<hot_slot>(hot_slots);

  void encode_cached(std::string_view piece, std::vector<token_id>& out) {
    const std::uint64_t h = piece_cache::hash(piece);
    hot_slot& slot = hot[(h >> 20) & (hot_slots - 1)];
    const bool short_piece = piece.size() <= sizeof slot.key;
    if (short_piece && slot.length == piece.size()) {
      char padded[16] = {};
      std::memcpy(padded, piece.data(), piece.size());
      if (std::memcmp(padded, slot.key, sizeof padded) == 0) {
        out.insert(out.end(), slot.ids, slot.ids + slot.count);
        return;
      }
    }
    std::size_t count = 0;
    const token_id* ids = cache.find(piece, h, count);
    if (ids == nullptr) {
      scratch.clear();
      model->bpe.encode_piece(piece, scratch);
      cache.insert(piece, h, scratch.data(), scratch.size());
      ids = scratch.data();
      count = scratch.size();
    }
    out.insert(out.end(), ids, ids + count);
    if (short_piece && count <= 3) {
      slot.length = static_cast<std::uint8_t>(piece.size());
      slot.count = static_cast<std::uint8_t>(count);
      std::memset(slot.key, 0, sizeof slot.key);
      std::memcpy(slot.key, piece.data(), piece.size());
      std::copy(ids, ids + count, slot.ids);
    }
  }

  // Finds the next added token at or after `from`: (position, length with strips, token index).
  bool next_added(std::string_view text, std::size_t from, std::size_t& at, std::size_t& begin,
                  std::size_t& end, token_id& id) const {
    const auto& table = model->added_by_first_byte;
    if (model->added.empty()) return false;
    // Leftmost-longest, non-overlapping, as the tokenizers library's Aho-Corasick scan: at each
    // position only the longest matching token counts, and one rejected by single_word is skipped
    // over whole.
    for (std::size_t i = from; i < text.size();) {
      const auto& candidates = table[static_cast<unsigned char>(text[i])];
      const added_token* found = nullptr;
      for (std::size_t c : candidates) {
        if (text.compare(i, model->added[c].content.size(), model->added[c].content) == 0) {
          found = &model->added[c];
          break;
        }
      }
      if (found == nullptr) {
        ++i;
        continue;
      }
      const added_token& t = *found;
      {
        std::size_t b = i, e = i + t.content.size();
        if (t.single_word) {
          auto word_before = [&] {
            if (b == 0) return false;
            std::size_t s = b - 1;
            while (s > 0 && (static_cast<unsigned char>(text[s]) & 0xC0) == 0x80) --s;
            std::size_t k = s;
            const char32_t ch = next_code_point(text, k);
            return is_letter(ch) || is_number(ch) || ch == '_';
          };
          auto word_after = [&] {
            if (e >= text.size()) return false;
            std::size_t k = e;
            const char32_t ch = next_code_point(text, k);
            return is_letter(ch) || is_number(ch) || ch == '_';
          };
          if (word_before() || word_after()) {
            i = e;
            continue;
          }
        }
        if (t.lstrip) {
          while (b > from) {
            std::size_t s = b - 1;
            while (s > from && (static_cast<unsigned char>(text[s]) & 0xC0) == 0x80) --s;
            std::size_t k = s;
            if (!is_white_space(next_code_point(text, k))) break;
            b = s;
          }
        }
        if (t.rstrip) {
          while (e < text.size()) {
            std::size_t k = e;
            if (!is_white_space(next_code_point(text, k))) break;
            e = k;
          }
        }
        at = i;
        begin = b;
        end = e;
        id = t.id;
        return true;
      }
    }
    return false;
  }

  void encode(std::string_view text, std::vector<token_id>& out) {
    std::string repaired;
    const std::size_t bad = find_invalid_utf8(text);
    if (bad != std::string_view::npos) {
      if (policy == invalid_utf8::error) {
        throw error(errc::parse, "invalid UTF-8 at byte " + std::to_string(bad));
      }
      repaired = replace_invalid_utf8(text);
      text = repaired;
    }
    for (std::size_t i = 0; i < text.size();) {
      if (static_cast<unsigned char>(text[i]) < 0x80) {
        ++i;
        continue;
      }
      const std::size_t at = i;
      const char32_t c = next_code_point(text, i);
      if (unknown_to_this_build(c)) {
        char name[16];
        std::snprintf(name, sizeof name, "U+%04X", static_cast<unsigned>(c));
        throw error(errc::parse, std::string(name) + " at byte " + std::to_string(at) +
                                     " is not in this build's Unicode tables (utf8proc, PCRE2), so its "
                                     "tokenization could differ from the model's");
      }
    }
    std::size_t from = 0;
    std::size_t at = 0, begin = 0, end = 0;
    token_id id = 0;
    while (next_added(text, from, at, begin, end, id)) {
      encode_segment(text.substr(from, begin - from), from == 0, out);
      out.push_back(id);
      from = end;
    }
    encode_segment(text.substr(from), from == 0, out);
  }
};

tokenizer::session::session(const tokenizer& t, invalid_utf8 policy)
    : state_(std::make_unique<state>()) {
  state_->owner = &t;
  state_->model = &t.impl_->model;
  state_->policy = policy;
  state_->find_single_split();
}
tokenizer::session::session(session&&) noexcept = default;
tokenizer::session::~session() = default;

void tokenizer::session::encode(std::string_view text, std::vector<token_id>& out) {
  state_->encode(text, out);
}

const tokenizer& tokenizer::session::owner() const noexcept { return *state_->owner; }

tokenizer::tokenizer(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
tokenizer::tokenizer(tokenizer&&) noexcept = default;
tokenizer& tokenizer::operator=(tokenizer&&) noexcept = default;
tokenizer::~tokenizer() = default;

std::uint32_t tokenizer::vocab_size() const noexcept { return impl_->model.vocab_size; }
const std::string& tokenizer::digest() const noexcept { return impl_->model.digest; }
const std::string& tokenizer::description() const noexcept { return impl_->model.description; }

std::string tokenizer::id_summary() const {
  const tokenizer_model& m = impl_->model;
  // 1: an id of the vocabulary proper, 2: an added token (which wins when a vocabulary entry has its id).
  std::vector<std::uint8_t> kind(m.vocab_size, 0);
  for (const auto& [text, id] : m.bpe.vocab) kind[static_cast<std::size_t>(id)] = 1;
  for (const auto& a : m.added) kind[static_cast<std::size_t>(a.id)] = 2;
  const auto in_vocabulary = static_cast<std::uint32_t>(std::count(kind.begin(), kind.end(), std::uint8_t{1}));
  const auto added = static_cast<std::uint32_t>(std::count(kind.begin(), kind.end(), std::uint8_t{2}));
  const std::uint32_t unused = m.vocab_size - in_vocabulary - added;
  std::string out = std::to_string(m.vocab_size) + " ids: " + std::to_string(in_vocabulary) + " in the vocabulary + " +
                    std::to_string(added) + " added";
  if (unused != 0) out += " + " + std::to_string(unused) + " unused";
  return out;
}

std::vector<token_id> tokenizer::encode(std::string_view text, invalid_utf8 policy) const {
  session s(*this, policy);
  std::vector<token_id> out;
  s.encode(text, out);
  return out;
}

namespace {

std::string digest_of(std::string_view bytes) { return sha256_digest(bytes); }

std::string decode_tokens(const tokenizer_model& m, std::vector<std::string> tokens) {
  if (m.decoders.empty()) {
    // Without a decoder the tokenizers library joins the tokens with spaces.
    std::string joined;
    for (std::size_t i = 0; i < tokens.size(); ++i) joined += (i ? " " : "") + tokens[i];
    return joined;
  }
  for (const auto& step : m.decoders) {
    switch (step.type) {
      case decoder_step::kind::byte_level:
        for (auto& t : tokens) {
          std::string bytes;
          bool ok = true;
          for (std::size_t i = 0; i < t.size() && ok;) {
            const int b = code_point_to_byte(next_code_point(t, i));
            if (b < 0) ok = false; else bytes += static_cast<char>(b);
          }
          if (ok) t = std::move(bytes);
        }
        break;
      case decoder_step::kind::byte_fallback: {
        // Runs of <0xXX> tokens become bytes; an invalid run becomes one U+FFFD per byte.
        std::vector<std::string> out;
        std::string run;
        std::size_t run_tokens = 0;
        auto flush = [&] {
          if (run_tokens == 0) return;
          if (find_invalid_utf8(run) == std::string_view::npos) {
            out.push_back(run);
          } else {
            for (std::size_t k = 0; k < run_tokens; ++k) out.emplace_back("\xEF\xBF\xBD");
          }
          run.clear();
          run_tokens = 0;
        };
        for (auto& t : tokens) {
          unsigned value = 0;
          if (t.size() == 6 && t.compare(0, 3, "<0x") == 0 && t[5] == '>' &&
              std::sscanf(t.c_str() + 3, "%2x", &value) == 1) {
            run += static_cast<char>(value);
            ++run_tokens;
          } else {
            flush();
            out.push_back(std::move(t));
          }
        }
        flush();
        tokens = std::move(out);
        break;
      }
      case decoder_step::kind::fuse: {
        std::string all;
        for (const auto& t : tokens) all += t;
        tokens.assign(1, std::move(all));
        break;
      }
      case decoder_step::kind::replace:
        for (auto& t : tokens) {
          std::string out;
          std::size_t last = 0;
          for (std::size_t at = t.find(step.pattern); !step.pattern.empty() && at != std::string::npos;
               at = t.find(step.pattern, last)) {
            out.append(t, last, at - last);
            out += step.content;
            last = at + step.pattern.size();
          }
          out.append(t, last, std::string::npos);
          t = std::move(out);
        }
        break;
      case decoder_step::kind::strip:
        for (auto& t : tokens) {
          std::size_t b = 0, e = t.size();
          for (std::size_t k = 0; k < step.strip_start && b < e && t.compare(b, step.content.size(), step.content) == 0; ++k) {
            b += step.content.size();
          }
          for (std::size_t k = 0; k < step.strip_stop && e >= b + step.content.size() &&
                                  t.compare(e - step.content.size(), step.content.size(), step.content) == 0;
               ++k) {
            e -= step.content.size();
          }
          t = t.substr(b, e - b);
        }
        break;
      case decoder_step::kind::metaspace:
        for (std::size_t i = 0; i < tokens.size(); ++i) {
          std::string out;
          const std::string& t = tokens[i];
          std::size_t last = 0;
          for (std::size_t at = t.find(step.pattern); at != std::string::npos; at = t.find(step.pattern, last)) {
            out.append(t, last, at - last);
            out += ' ';
            last = at + step.pattern.size();
          }
          out.append(t, last, std::string::npos);
          if (i == 0 && step.prepend_first && !out.empty() && out[0] == ' ') out.erase(0, 1);
          tokens[i] = std::move(out);
        }
        break;
    }
  }
  std::string text;
  for (const auto& t : tokens) text += t;
  return text;
}

}  // namespace

std::string tokenizer::decode(std::span<const token_id> ids) const {
  const auto& m = impl_->model;
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] < 0 || static_cast<std::uint32_t>(ids[i]) >= m.vocab_size) {
      throw error(errc::out_of_range, "token " + std::to_string(i) + ": expected 0 <= id < " +
                                          std::to_string(m.vocab_size) + ", got " + std::to_string(ids[i]));
    }
    tokens.push_back(m.bpe.id_to_token[static_cast<std::size_t>(ids[i])]);
  }
  std::string text = decode_tokens(m, std::move(tokens));
  if (find_invalid_utf8(text) != std::string_view::npos) text = replace_invalid_utf8(text);
  return text;
}

tokenizer tokenizer::from_json(std::string_view json_text, const std::string& source_name) {
  auto p = std::make_unique<impl>();
  p->model = parse_tokenizer_json(json_text, source_name);
  p->model.digest = digest_of(json_text);
  p->model.finish();
  return tokenizer(std::move(p));
}

tokenizer tokenizer::load(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw error(errc::io, "tokenizer " + path.string() + ": cannot open for reading");
  char magic[4] = {};
  in.read(magic, sizeof magic);
  const auto got = static_cast<std::size_t>(in.gcount());
  const bool gguf = got == 4 && std::memcmp(magic, "GGUF", 4) == 0;
  in.clear();
  const bool rewound = static_cast<bool>(in.seekg(0));
  in.clear();
  auto p = std::make_unique<impl>();
  if (gguf && rewound) {
    // A GGUF file is mostly tensors: read its metadata and hash the rest as it streams past.
    sha256_stream digest;
    p->model = parse_gguf(in, path.string(), &digest);
    p->model.digest = digest.finish();
  } else {
    // A tokenizer.json is parsed whole; so is a GGUF file given as a pipe, which cannot be rewound.
    std::ostringstream buffer;
    if (!rewound) buffer.write(magic, static_cast<std::streamsize>(got));
    buffer << in.rdbuf();
    if (in.bad()) throw error(errc::io, "tokenizer " + path.string() + ": read error");
    const std::string bytes = std::move(buffer).str();
    p->model = gguf ? parse_gguf(bytes, path.string()) : parse_tokenizer_json(bytes, path.string());
    p->model.digest = digest_of(bytes);
  }
  p->model.finish();
  return tokenizer(std::move(p));
}

}  // namespace tritium
