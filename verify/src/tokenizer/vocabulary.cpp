// Shared by the tokenizer.json and GGUF loaders: the BPE vocabulary and merge table.
#include <cstdio>

#include "model.hpp"
#include "tritium/error.hpp"

namespace tritium::detail {

void bpe_model::merge_table::reserve(std::size_t n) {
  std::size_t capacity = 16;
  while (capacity < 2 * n + 2) capacity *= 2;
  std::vector<slot> old;
  old.swap(slots_);
  slots_.assign(capacity, slot{0, merge_value{empty, -1}});
  mask_ = capacity - 1;
  size_ = 0;
  for (const slot& s : old) {
    if (s.value.rank != empty) emplace(s.key, s.value);
  }
}

void bpe_model::merge_table::emplace(std::uint64_t key, merge_value value) {
  if (2 * (size_ + 1) > slots_.size()) reserve(2 * (size_ + 1));
  std::size_t i = slot_of(key);
  while (slots_[i].value.rank != empty) {
    if (slots_[i].key == key) {
      slots_[i].value = value;
      return;
    }
    i = (i + 1) & mask_;
  }
  slots_[i] = slot{key, value};
  ++size_;
}

void build_vocabulary(bpe_model& bpe, const std::unordered_map<std::string, token_id>& by_spelling,
                      token_id max_id, const std::string& source) {
  bpe.id_to_token.assign(static_cast<std::size_t>(max_id + 1), std::string());
  bpe.vocab.reserve(by_spelling.size());
  for (const auto& [spelling, id] : by_spelling) {
    bpe.id_to_token[static_cast<std::size_t>(id)] = spelling;
    if (!bpe.byte_level) {
      bpe.vocab.emplace(spelling, id);
      continue;
    }
    // Undo GPT-2's byte alphabet; spellings outside it can never come out of byte merges.
    std::string bytes;
    bool in_alphabet = true;
    for (std::size_t i = 0; i < spelling.size() && in_alphabet;) {
      const int b = code_point_to_byte(next_code_point(spelling, i));
      if (b < 0) in_alphabet = false; else bytes += static_cast<char>(b);
    }
    if (in_alphabet) bpe.vocab.emplace(std::move(bytes), id);
  }
  for (int b = 0; b < 256; ++b) {
    bpe.byte_ids[b] = -1;
    if (bpe.byte_level) {
      const auto it = bpe.vocab.find(std::string(1, static_cast<char>(b)));
      if (it == bpe.vocab.end()) {
        throw error(errc::invalid_argument, source + ": " + "byte-level vocabulary lacks the token of byte " + std::to_string(b));
      }
      bpe.byte_ids[b] = it->second;
    } else if (bpe.byte_fallback) {
      char name[8];
      std::snprintf(name, sizeof name, "<0x%02X>", b);
      const auto it = by_spelling.find(name);
      if (it != by_spelling.end()) bpe.byte_ids[b] = it->second;
    }
  }
}

void add_merge(bpe_model& bpe, const std::unordered_map<std::string, token_id>& by_spelling,
               const std::string& left, const std::string& right, std::uint32_t rank,
               const std::string& where) {
  const auto a = by_spelling.find(left);
  const auto b = by_spelling.find(right);
  const auto merged = by_spelling.find(left + right);
  if (a == by_spelling.end() || b == by_spelling.end() || merged == by_spelling.end()) {
    throw error(errc::parse, where + ": merge of tokens not in the vocabulary: " + quoted_for_message(left) + " + " +
                                 quoted_for_message(right));
  }
  // A repeated pair takes its last rank: the tokenizers library collects merges into a map.
  bpe.merges.emplace(bpe_model::pair_key(a->second, b->second), bpe_model::merge_value{rank, merged->second});
}

}  // namespace tritium::detail
