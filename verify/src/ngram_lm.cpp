#include "tritium/ngram_lm.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>

#include "ngram_lm_file.hpp"
#include "tritium/error.hpp"

namespace tritium {
namespace {

// ---------------------------------------------------------------------------------------------
// File format "tritium-ngram" version 1 (little-endian). A 1024-byte header, then for each order k
// = 1..N three sections, each 8-byte aligned: the contexts (n × (k−1) u32 ids, sorted), their
// statistics (n × {first successor, successor count, total, n1, n2, n3+}, u32 each), and the
// successors (m × {id, count}, u32 each, sorted by id within a context). The header ends with a
// checksum of the payload and one of the header itself (checksum64 below).

constexpr char magic[8] = {'T', 'R', 'T', 'N', 'G', 'R', 'A', 'M'};
constexpr std::uint32_t format_version = 1;
constexpr std::size_t header_size = 1024;
constexpr std::size_t digest_field = 80;

struct order_header {
  std::uint64_t contexts;
  std::uint64_t successors;
  std::uint64_t contexts_offset;
  std::uint64_t stats_offset;
  std::uint64_t successors_offset;
  double discount[3];
};

struct file_header {
  char magic[8];
  std::uint32_t version;
  std::uint32_t order;
  std::uint32_t vocab_size;
  std::uint32_t reserved;
  std::uint64_t training_tokens;
  char tokenizer_digest[digest_field];
  order_header orders[ngram_max_order];
  std::uint64_t file_size;
  std::uint64_t payload_checksum;
  std::uint64_t header_checksum;
};
static_assert(sizeof(file_header) <= header_size);

struct context_stats {
  std::uint32_t first;
  std::uint32_t count;
  std::uint32_t total;
  std::uint32_t n1, n2, n3;
};

struct successor {
  std::uint32_t id;
  std::uint32_t count;
};

// A 64-bit checksum fast enough to run on every load: four multiply-rotate lanes over 8-byte words,
// folded with the length. Detects truncation and corruption; it is not a cryptographic digest.
std::uint64_t checksum64(const unsigned char* p, std::size_t n) noexcept {
  constexpr std::uint64_t k1 = 0x9e3779b185ebca87ULL, k2 = 0xc2b2ae3d27d4eb4fULL;
  std::uint64_t lane[4] = {k1, k2, k1 ^ k2, k1 + k2};
  std::size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    for (int j = 0; j < 4; ++j) {
      std::uint64_t w;
      std::memcpy(&w, p + i + 8 * static_cast<std::size_t>(j), 8);
      lane[j] = ((lane[j] ^ w) * k1);
      lane[j] = (lane[j] << 31) | (lane[j] >> 33);
    }
  }
  std::uint64_t h = n * k2;
  for (auto l : lane) h = ((h ^ l) * k2) ^ (h >> 29);
  for (; i < n; ++i) h = ((h ^ p[i]) * k1) ^ (h >> 31);
  return h ^ (h >> 32);
}

// Modified Kneser–Ney discounts from the count-of-counts n1..n4 (Chen & Goodman 1998, eq. 26):
// Y = n1/(n1 + 2 n2), D1 = 1 − 2Y n2/n1, D2 = 2 − 3Y n3/n2, D3+ = 3 − 4Y n4/n3. When a count of
// counts is zero (tiny corpora) the estimate is undefined and falls back to 0.5, 1, 1.5.
std::array<double, 3> estimate_discounts(const std::array<std::uint64_t, 5>& n) {
  if (n[1] == 0 || n[2] == 0 || n[3] == 0 || n[4] == 0) return {0.5, 1.0, 1.5};
  const double y = static_cast<double>(n[1]) / static_cast<double>(n[1] + 2 * n[2]);
  std::array<double, 3> d = {1.0 - 2.0 * y * static_cast<double>(n[2]) / static_cast<double>(n[1]),
                             2.0 - 3.0 * y * static_cast<double>(n[3]) / static_cast<double>(n[2]),
                             3.0 - 4.0 * y * static_cast<double>(n[4]) / static_cast<double>(n[3])};
  // A discount must stay within (0, c) for a count c; clamp the rare out-of-range estimates.
  for (int c = 0; c < 3; ++c) d[static_cast<std::size_t>(c)] = std::clamp(d[static_cast<std::size_t>(c)], 0.05, c + 0.95);
  return d;
}

}  // namespace

// ---------------------------------------------------------------------------------------------

struct ngram_trainer::impl {
  std::uint32_t order;
  std::uint32_t vocab;
  std::vector<std::uint32_t> grams;  // order ids per occurrence
  std::uint64_t tokens = 0;
};

ngram_trainer::ngram_trainer(std::uint32_t order, std::uint32_t vocab_size)
    : impl_(std::make_unique<impl>()) {
  if (order < 1 || order > ngram_max_order) {
    throw error(errc::invalid_argument, "n-gram order: expected 1 to " + std::to_string(ngram_max_order) +
                                            ", got " + std::to_string(order));
  }
  if (vocab_size < 2 || vocab_size >= 0x7fffffffu) {
    throw error(errc::invalid_argument, "vocabulary size: expected at least 2, got " + std::to_string(vocab_size));
  }
  impl_->order = order;
  impl_->vocab = vocab_size;
}

ngram_trainer::~ngram_trainer() = default;
ngram_trainer::ngram_trainer(ngram_trainer&&) noexcept = default;

std::uint64_t ngram_trainer::tokens() const noexcept { return impl_->tokens; }

void ngram_trainer::add(std::span<const token_id> document) {
  const std::uint32_t n = impl_->order;
  const std::uint32_t bos = impl_->vocab;
  for (std::size_t i = 0; i < document.size(); ++i) {
    if (document[i] < 0 || static_cast<std::uint32_t>(document[i]) >= impl_->vocab) {
      throw error(errc::out_of_range, "token " + std::to_string(i) + ": expected 0 <= id < " +
                                          std::to_string(impl_->vocab) + ", got " + std::to_string(document[i]));
    }
  }
  auto& g = impl_->grams;  // grows geometrically: an exact reserve per document would be quadratic
  for (std::size_t i = 0; i < document.size(); ++i) {
    for (std::uint32_t k = 0; k < n; ++k) {
      const std::ptrdiff_t at = static_cast<std::ptrdiff_t>(i) - static_cast<std::ptrdiff_t>(n - 1) + k;
      g.push_back(at < 0 ? bos : static_cast<std::uint32_t>(document[static_cast<std::size_t>(at)]));
    }
  }
  impl_->tokens += document.size();
}

namespace {

// Unique k-grams (k ids each, lexicographically sorted) with a count each.
struct gram_table {
  std::uint32_t k = 0;
  std::vector<std::uint32_t> ids;
  std::vector<std::uint32_t> counts;
  std::size_t size() const noexcept { return counts.size(); }
  const std::uint32_t* at(std::size_t i) const noexcept { return ids.data() + i * k; }
};

// Sorts the k-id records of `flat` and counts repeats (count = multiplicity).
gram_table unique_counts(std::vector<std::uint32_t>& flat, std::uint32_t k) {
  const std::size_t n = flat.size() / k;
  std::vector<std::uint32_t> order(n);
  for (std::size_t i = 0; i < n; ++i) order[i] = static_cast<std::uint32_t>(i);
  std::sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) {
    return std::lexicographical_compare(flat.begin() + a * k, flat.begin() + a * k + k, flat.begin() + b * k,
                                        flat.begin() + b * k + k);
  });
  gram_table t;
  t.k = k;
  for (std::size_t i = 0; i < n; ++i) {
    const auto* g = flat.data() + static_cast<std::size_t>(order[i]) * k;
    if (!t.counts.empty() && std::equal(g, g + k, t.ids.end() - k)) {
      ++t.counts.back();
    } else {
      t.ids.insert(t.ids.end(), g, g + k);
      t.counts.push_back(1);
    }
  }
  return t;
}

}  // namespace

std::uint64_t ngram_trainer::write(std::ostream& out, const std::string& tokenizer_digest) const {
  const std::uint32_t n = impl_->order;
  if (impl_->tokens == 0) throw error(errc::invalid_argument, "n-gram training: no tokens");
  std::vector<gram_table> tables(n + 1);
  {
    std::vector<std::uint32_t> flat = impl_->grams;
    tables[n] = unique_counts(flat, n);
  }
  // Continuation counts: the k-gram count is the number of distinct (k+1)-grams it ends.
  for (std::uint32_t k = n - 1; k >= 1; --k) {
    const gram_table& above = tables[k + 1];
    std::vector<std::uint32_t> suffixes;
    suffixes.reserve(above.size() * k);
    for (std::size_t i = 0; i < above.size(); ++i) suffixes.insert(suffixes.end(), above.at(i) + 1, above.at(i) + 1 + k);
    tables[k] = unique_counts(suffixes, k);
  }

  file_header h{};
  std::memcpy(h.magic, magic, sizeof magic);
  h.version = format_version;
  h.order = n;
  h.vocab_size = impl_->vocab;
  h.training_tokens = impl_->tokens;
  std::strncpy(h.tokenizer_digest, tokenizer_digest.c_str(), digest_field - 1);
  std::string payload;
  auto align = [&] {
    while (payload.size() % 8 != 0) payload += '\0';
  };
  for (std::uint32_t k = 1; k <= n; ++k) {
    const gram_table& t = tables[k];
    std::array<std::uint64_t, 5> count_of_counts{};
    for (auto c : t.counts) {
      if (c <= 4) ++count_of_counts[c];
    }
    const auto d = estimate_discounts(count_of_counts);
    // Group by context (the first k−1 ids): t is sorted, so each context is one run.
    std::vector<std::uint32_t> contexts;
    std::vector<context_stats> stats;
    std::vector<successor> succ;
    for (std::size_t i = 0; i < t.size(); ++i) {
      const auto* g = t.at(i);
      const bool same = !stats.empty() && std::equal(g, g + (k - 1), contexts.end() - (k - 1));
      if (!same || stats.empty()) {
        contexts.insert(contexts.end(), g, g + (k - 1));
        stats.push_back({static_cast<std::uint32_t>(succ.size()), 0, 0, 0, 0, 0});
      }
      context_stats& s = stats.back();
      const std::uint32_t c = t.counts[i];
      ++s.count;
      s.total += c;
      (c == 1 ? s.n1 : c == 2 ? s.n2 : s.n3) += 1;
      succ.push_back({g[k - 1], c});
    }
    order_header& o = h.orders[k - 1];
    o.contexts = stats.size();
    o.successors = succ.size();
    o.discount[0] = d[0];
    o.discount[1] = d[1];
    o.discount[2] = d[2];
    align();
    o.contexts_offset = header_size + payload.size();
    payload.append(reinterpret_cast<const char*>(contexts.data()), contexts.size() * 4);
    align();
    o.stats_offset = header_size + payload.size();
    payload.append(reinterpret_cast<const char*>(stats.data()), stats.size() * sizeof(context_stats));
    align();
    o.successors_offset = header_size + payload.size();
    payload.append(reinterpret_cast<const char*>(succ.data()), succ.size() * sizeof(successor));
  }
  align();
  h.file_size = header_size + payload.size();
  h.payload_checksum = checksum64(reinterpret_cast<const unsigned char*>(payload.data()), payload.size());
  h.header_checksum = checksum64(reinterpret_cast<const unsigned char*>(&h), offsetof(file_header, header_checksum));
  std::string header(header_size, '\0');
  std::memcpy(header.data(), &h, sizeof h);

  out.write(header.data(), static_cast<std::streamsize>(header.size()));
  out.write(payload.data(), static_cast<std::streamsize>(payload.size()));
  if (!out) throw error(errc::io, std::string("cannot write the model: ") + std::strerror(errno));
  return header.size() + payload.size();
}

// ---------------------------------------------------------------------------------------------

struct ngram_lm::impl {
  void* map = nullptr;
  std::size_t size = 0;
  const file_header* h = nullptr;
  std::string digest;
  struct level {
    std::uint32_t k;
    std::uint64_t n;
    const std::uint32_t* contexts;
    const context_stats* stats;
    const successor* succ;
    double d[3];
  };
  std::vector<level> levels;  // index k−1

  ~impl() {
    if (map != nullptr) ::munmap(map, size);
  }

  // Index of the context (k−1 ids) at level k, or −1.
  std::int64_t find(const level& l, const std::uint32_t* ctx) const noexcept {
    if (l.k == 1) return 0;
    const std::uint32_t w = l.k - 1;
    std::uint64_t lo = 0, hi = l.n;
    while (lo < hi) {
      const std::uint64_t mid = (lo + hi) / 2;
      const std::uint32_t* c = l.contexts + mid * w;
      const int cmp = [&] {
        for (std::uint32_t j = 0; j < w; ++j) {
          if (c[j] != ctx[j]) return c[j] < ctx[j] ? -1 : 1;
        }
        return 0;
      }();
      if (cmp == 0) return static_cast<std::int64_t>(mid);
      if (cmp < 0) lo = mid + 1; else hi = mid;
    }
    return -1;
  }

  double discount(const level& l, std::uint32_t c) const noexcept { return c == 1 ? l.d[0] : c == 2 ? l.d[1] : l.d[2]; }

  // The found context index of every level, highest first stop: returns how many levels matched.
  std::uint32_t match(std::span<const token_id> context, std::int64_t* found) const {
    const std::uint32_t n = h->order;
    std::uint32_t padded[ngram_max_order];
    const std::uint32_t bos = h->vocab_size;
    for (std::uint32_t j = 0; j + 1 < n; ++j) {
      const std::ptrdiff_t at = static_cast<std::ptrdiff_t>(context.size()) - static_cast<std::ptrdiff_t>(n - 1) + j;
      if (at < 0) {
        padded[j] = bos;
      } else {
        const token_id t = context[static_cast<std::size_t>(at)];
        if (t < 0 || static_cast<std::uint32_t>(t) >= h->vocab_size) {
          throw error(errc::out_of_range, "context token " + std::to_string(at) + ": expected 0 <= id < " +
                                              std::to_string(h->vocab_size) + ", got " + std::to_string(t));
        }
        padded[j] = static_cast<std::uint32_t>(t);
      }
    }
    std::uint32_t m = 0;
    for (std::uint32_t k = 1; k <= n; ++k) {
      const std::int64_t i = find(levels[k - 1], padded + (n - 1) - (k - 1));
      if (i < 0) break;
      found[k - 1] = i;
      m = k;
    }
    return m;
  }

  // coef[k] is the weight of level k's discounted counts; coef[0] that of the uniform base.
  void coefficients(const std::int64_t* found, std::uint32_t m, double* coef) const {
    coef[m] = 1.0;
    for (std::uint32_t k = m; k >= 1; --k) {
      const level& l = levels[k - 1];
      const context_stats& s = l.stats[found[k - 1]];
      const double gamma = (l.d[0] * s.n1 + l.d[1] * s.n2 + l.d[2] * s.n3) / static_cast<double>(s.total);
      coef[k - 1] = coef[k] * gamma;
    }
  }
};

ngram_lm::ngram_lm(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
ngram_lm::ngram_lm(ngram_lm&&) noexcept = default;
ngram_lm& ngram_lm::operator=(ngram_lm&&) noexcept = default;
ngram_lm::~ngram_lm() = default;

ngram_lm ngram_lm::load(const std::filesystem::path& path) {
  const std::string name = "model file " + path.string();
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) throw error(errc::io, name + ": " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    ::close(fd);
    throw error(errc::io, name + ": " + std::strerror(err));
  }
  const auto size = static_cast<std::size_t>(st.st_size);
  char head[sizeof magic] = {};
  if (size < sizeof magic) {
    ::close(fd);
    throw error(errc::parse, name + ": truncated: " + std::to_string(size) + " bytes, shorter than its header");
  }
  if (::pread(fd, head, sizeof head, 0) != static_cast<ssize_t>(sizeof head) ||
      std::memcmp(head, magic, sizeof magic) != 0) {
    ::close(fd);
    throw error(errc::parse, name + ": not a tritium n-gram model");
  }
  if (size < header_size) {
    ::close(fd);
    throw error(errc::parse, name + ": truncated: " + std::to_string(size) + " bytes, shorter than its header");
  }
  void* map = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (map == MAP_FAILED) throw error(errc::io, name + ": cannot map: " + std::strerror(errno));
  auto p = std::make_unique<impl>();
  p->map = map;
  p->size = size;
  const auto* bytes = static_cast<const unsigned char*>(map);
  p->h = reinterpret_cast<const file_header*>(bytes);
  const file_header& h = *p->h;
  if (h.version != format_version) {
    throw error(errc::parse, name + ": unsupported format version " + std::to_string(h.version) + " (expected 1)");
  }
  if (checksum64(bytes, offsetof(file_header, header_checksum)) != h.header_checksum) {
    throw error(errc::parse, name + ": header checksum mismatch (corrupted)");
  }
  for (std::size_t i = sizeof(file_header); i < header_size; ++i) {
    if (bytes[i] != 0) throw error(errc::parse, name + ": header padding is not zero (corrupted)");
  }
  if (h.file_size != size) {
    throw error(errc::parse, name + ": truncated or padded: header says " + std::to_string(h.file_size) +
                                 " bytes, the file has " + std::to_string(size));
  }
  if (h.order < 1 || h.order > ngram_max_order || h.vocab_size < 2 || h.vocab_size >= 0x7fffffffu) {
    throw error(errc::parse, name + ": bad header fields");
  }
  if (checksum64(bytes + header_size, size - header_size) != h.payload_checksum) {
    throw error(errc::parse, name + ": payload checksum mismatch (corrupted)");
  }
  // The checksums catch damage, not a crafted file: check every size, offset and record against the
  // file before any lookup can trust them (overflow-safe: counts are bounded by the file size first).
  auto inside = [&](std::uint64_t offset, std::uint64_t count, std::uint64_t unit) {
    return offset <= size && count <= size / unit && count * unit <= size - offset && offset % 4 == 0;
  };
  for (std::uint32_t k = 1; k <= h.order; ++k) {
    const order_header& o = h.orders[k - 1];
    const std::string where = name + ": order " + std::to_string(k);
    const std::uint64_t width = k == 1 ? 1 : 4ull * (k - 1);
    if (o.contexts == 0 || (k == 1 && o.contexts != 1) || !inside(o.contexts_offset, o.contexts, width) ||
        !inside(o.stats_offset, o.contexts, sizeof(context_stats)) ||
        !inside(o.successors_offset, o.successors, sizeof(successor))) {
      throw error(errc::parse, where + ": sections lie outside the file");
    }
    for (double d : o.discount) {
      if (!(d > 0.0 && d < 4.0)) throw error(errc::parse, where + ": discount out of range");
    }
    impl::level l{k, o.contexts, reinterpret_cast<const std::uint32_t*>(bytes + o.contexts_offset),
                  reinterpret_cast<const context_stats*>(bytes + o.stats_offset),
                  reinterpret_cast<const successor*>(bytes + o.successors_offset),
                  {o.discount[0], o.discount[1], o.discount[2]}};
    for (std::uint64_t c = 0; c < o.contexts; ++c) {
      const context_stats& st2 = l.stats[c];
      if (st2.count == 0 || st2.total == 0 || st2.first > o.successors || st2.count > o.successors - st2.first ||
          static_cast<std::uint64_t>(st2.n1) + st2.n2 + st2.n3 != st2.count) {
        throw error(errc::parse, where + ": context " + std::to_string(c) + " has inconsistent statistics");
      }
      std::uint64_t total = 0;
      for (std::uint32_t j = 0; j < st2.count; ++j) {
        const successor& x = l.succ[st2.first + j];
        if (x.id >= h.vocab_size || x.count == 0 || (j > 0 && l.succ[st2.first + j - 1].id >= x.id)) {
          throw error(errc::parse, where + ": context " + std::to_string(c) + " has a bad successor");
        }
        total += x.count;
      }
      if (total != st2.total) throw error(errc::parse, where + ": context " + std::to_string(c) + " total mismatch");
    }
    p->levels.push_back(l);
  }
  p->digest.assign(h.tokenizer_digest, strnlen(h.tokenizer_digest, digest_field));
  return ngram_lm(std::move(p));
}

std::uint32_t ngram_lm::vocab_size() const noexcept { return impl_->h->vocab_size; }
std::uint32_t ngram_lm::context_length() const noexcept { return impl_->h->order - 1; }
std::uint32_t ngram_lm::order() const noexcept { return impl_->h->order; }
std::uint64_t ngram_lm::training_tokens() const noexcept { return impl_->h->training_tokens; }
const std::string& ngram_lm::tokenizer_digest() const noexcept { return impl_->digest; }

std::uint64_t ngram_lm::ngram_count(std::uint32_t k) const {
  if (k < 1 || k > order()) {
    throw error(errc::invalid_argument, "n-gram order: expected 1 to " + std::to_string(order()) + ", got " +
                                            std::to_string(k));
  }
  return impl_->h->orders[k - 1].successors;
}

std::array<double, 3> ngram_lm::discounts(std::uint32_t k) const {
  if (k < 1 || k > order()) throw error(errc::invalid_argument, "order out of range");
  const auto& l = impl_->levels[k - 1];
  return {l.d[0], l.d[1], l.d[2]};
}

void ngram_lm::distribution(std::span<const token_id> context, std::span<double> probs) const {
  const auto& m = *impl_;
  if (probs.size() != m.h->vocab_size) {
    throw error(errc::mismatch, "distribution: expected " + std::to_string(m.h->vocab_size) + " entries, got " +
                                    std::to_string(probs.size()));
  }
  std::int64_t found[ngram_max_order];
  const std::uint32_t matched = m.match(context, found);
  double coef[ngram_max_order + 1];
  m.coefficients(found, matched, coef);
  std::fill(probs.begin(), probs.end(), coef[0] / static_cast<double>(m.h->vocab_size));
  for (std::uint32_t k = 1; k <= matched; ++k) {
    const auto& l = m.levels[k - 1];
    const context_stats& s = l.stats[found[k - 1]];
    const double scale = coef[k] / static_cast<double>(s.total);
    for (std::uint32_t j = 0; j < s.count; ++j) {
      const successor& x = l.succ[s.first + j];
      probs[x.id] += scale * (static_cast<double>(x.count) - m.discount(l, x.count));
    }
  }
}

double ngram_lm::probability(std::span<const token_id> context, token_id token) const {
  return probability_up_to(context, token, order());
}

double ngram_lm::probability_up_to(std::span<const token_id> context, token_id token,
                                   std::uint32_t max_order) const {
  const auto& m = *impl_;
  if (token < 0 || static_cast<std::uint32_t>(token) >= m.h->vocab_size) {
    throw error(errc::out_of_range, "token: expected 0 <= id < " + std::to_string(m.h->vocab_size) + ", got " +
                                        std::to_string(token));
  }
  std::int64_t found[ngram_max_order];
  const std::uint32_t matched = std::min(m.match(context, found), std::max(1u, max_order));
  double coef[ngram_max_order + 1];
  m.coefficients(found, matched, coef);
  double p = coef[0] / static_cast<double>(m.h->vocab_size);
  for (std::uint32_t k = 1; k <= matched; ++k) {
    const auto& l = m.levels[k - 1];
    const context_stats& s = l.stats[found[k - 1]];
    const successor* begin = l.succ + s.first;
    const successor* end = begin + s.count;
    const successor* it = std::lower_bound(begin, end, static_cast<std::uint32_t>(token),
                                           [](const successor& a, std::uint32_t v) { return a.id < v; });
    if (it != end && it->id == static_cast<std::uint32_t>(token)) {
      p += coef[k] / static_cast<double>(s.total) * (static_cast<double>(it->count) - m.discount(l, it->count));
    }
  }
  return p;
}

void perplexity_evaluator::add(std::span<const token_id> document) {
  for (std::size_t i = 0; i < document.size(); ++i) {
    const std::span<const token_id> context = document.first(i);
    nll_ -= std::log(model_.probability(context, document[i]));
    nll_unigram_ -= std::log(model_.probability_up_to(context, document[i], 1));
  }
  tokens_ += document.size();
}

perplexity_result perplexity_evaluator::result() const {
  if (tokens_ == 0) throw error(errc::invalid_argument, "perplexity: expected at least one token, got none");
  perplexity_result r;
  r.tokens = tokens_;
  r.perplexity = std::exp(nll_ / static_cast<double>(tokens_));
  r.unigram_perplexity = std::exp(nll_unigram_ / static_cast<double>(tokens_));
  return r;
}

}  // namespace tritium

namespace tritium::detail {

void ngram_file_reseal(std::span<unsigned char> image) noexcept {
  if (image.size() < header_size) return;
  file_header h;
  std::memcpy(&h, image.data(), sizeof h);
  h.file_size = image.size();
  h.payload_checksum = checksum64(image.data() + header_size, image.size() - header_size);
  h.header_checksum = checksum64(reinterpret_cast<const unsigned char*>(&h), offsetof(file_header, header_checksum));
  std::memcpy(image.data(), &h, sizeof h);
}

}  // namespace tritium::detail
