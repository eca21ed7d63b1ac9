// BPE merging as in Hugging Face's `Word::merge_all`: repeatedly merge the adjacent pair with the
// lowest merge rank, the leftmost first among equals (Sennrich et al. 2016; tokenizers' bpe/word.rs
// describes the same order). A heap of candidate merges keeps long pieces (e.g. a 10 kB run of
// letters) at O(n log n).
#include <queue>

#include "model.hpp"

namespace tritium::detail {
namespace {

struct symbol {
  token_id id;
  int prev;
  int next;
  bool alive;
};

struct candidate {
  std::uint32_t rank;
  int pos;
  token_id left;
  token_id right;
  bool operator>(const candidate& o) const noexcept {
    return rank != o.rank ? rank > o.rank : pos > o.pos;
  }
};

}  // namespace

void bpe_model::encode_piece(std::string_view piece, std::vector<token_id>& out) const {
  if (piece.empty()) return;
  if (ignore_merges) {
    const auto it = vocab.find(std::string(piece));
    if (it != vocab.end()) {
      out.push_back(it->second);
      return;
    }
  }
  thread_local std::vector<symbol> symbols;
  symbols.clear();
  auto push = [&](token_id id) {
    const int index = static_cast<int>(symbols.size());
    symbols.push_back({id, index - 1, -1, true});
    if (index > 0) symbols[static_cast<std::size_t>(index - 1)].next = index;
  };
  if (byte_level) {
    for (char c : piece) push(byte_ids[static_cast<unsigned char>(c)]);
  } else {
    bool previous_unknown = false;
    for (std::size_t i = 0; i < piece.size();) {
      const std::size_t len = utf8_length(static_cast<unsigned char>(piece[i]));
      const auto it = vocab.find(std::string(piece.substr(i, len)));
      if (it != vocab.end()) {
        push(it->second);
        previous_unknown = false;
      } else if (byte_fallback && [&] {
                   for (std::size_t k = 0; k < len; ++k) {
                     if (byte_ids[static_cast<unsigned char>(piece[i + k])] < 0) return false;
                   }
                   return true;
                 }()) {
        for (std::size_t k = 0; k < len; ++k) push(byte_ids[static_cast<unsigned char>(piece[i + k])]);
        previous_unknown = false;
      } else if (unk >= 0) {
        if (!(fuse_unk && previous_unknown)) push(unk);
        previous_unknown = true;
      }
      i += len;
    }
  }
  if (symbols.empty()) return;

  // Short pieces (nearly all words): rescan the live pairs for the lowest rank each round. This is
  // the same order as the heap below — lowest rank first, leftmost among equals — without its cost.
  if (symbols.size() <= 24) {
    while (true) {
      std::uint32_t best_rank = 0xffffffffu;
      int best = -1;
      token_id merged = -1;
      for (int i = 0; symbols[static_cast<std::size_t>(i)].next >= 0; i = symbols[static_cast<std::size_t>(i)].next) {
        const int n = symbols[static_cast<std::size_t>(i)].next;
        const merge_value* m = merges.find(pair_key(symbols[static_cast<std::size_t>(i)].id, symbols[static_cast<std::size_t>(n)].id));
        if (m != nullptr && m->rank < best_rank) {
          best_rank = m->rank;
          best = i;
          merged = m->merged;
        }
      }
      if (best < 0) break;
      symbol& s = symbols[static_cast<std::size_t>(best)];
      symbol& n = symbols[static_cast<std::size_t>(s.next)];
      s.id = merged;
      n.alive = false;
      s.next = n.next;
      if (n.next >= 0) symbols[static_cast<std::size_t>(n.next)].prev = best;
    }
    for (int i = 0; i >= 0; i = symbols[static_cast<std::size_t>(i)].next) out.push_back(symbols[static_cast<std::size_t>(i)].id);
    return;
  }

  std::priority_queue<candidate, std::vector<candidate>, std::greater<>> queue;
  auto consider = [&](int pos) {
    const int next = symbols[static_cast<std::size_t>(pos)].next;
    if (next < 0) return;
    const token_id a = symbols[static_cast<std::size_t>(pos)].id;
    const token_id b = symbols[static_cast<std::size_t>(next)].id;
    if (const merge_value* m = merges.find(pair_key(a, b))) queue.push({m->rank, pos, a, b});
  };
  for (int i = 0; i + 1 < static_cast<int>(symbols.size()); ++i) consider(i);
  while (!queue.empty()) {
    const candidate top = queue.top();
    queue.pop();
    symbol& s = symbols[static_cast<std::size_t>(top.pos)];
    if (!s.alive || s.next < 0 || s.id != top.left) continue;
    symbol& n = symbols[static_cast<std::size_t>(s.next)];
    if (n.id != top.right) continue;
    s.id = merges.find(pair_key(top.left, top.right))->merged;
    n.alive = false;
    s.next = n.next;
    if (n.next >= 0) symbols[static_cast<std::size_t>(n.next)].prev = top.pos;
    if (s.prev >= 0) consider(s.prev);
    consider(top.pos);
  }
  for (int i = 0; i >= 0; i = symbols[static_cast<std::size_t>(i)].next) out.push_back(symbols[static_cast<std::size_t>(i)].id);
}

}  // namespace tritium::detail
