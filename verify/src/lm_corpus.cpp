#include "tritium/lm_corpus.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <span>

#include "tritium/error.hpp"
#include "tritium/json_records.hpp"
#include "tritium/text_source.hpp"

namespace tritium {

void each_corpus_document(const std::string& path, tokenizer::session& session,
                          const std::function<void(std::vector<token_id>&)>& each) {
  const bool jsonl = path.size() > 6 && (path.ends_with(".jsonl") || path.ends_with(".json"));
  std::vector<token_id> ids;
  if (!jsonl) {
    text_source source(path, "auto");
    text_document doc;
    while (source.next(doc)) {
      ids.clear();
      session.encode(doc.text, ids);
      each(ids);
    }
    return;
  }
  each_record(path, [&](const nlohmann::json& j, const std::string& where) {
    if (!ids_of(j, "tokens", "text", &session, ids, where)) {
      throw error(errc::parse, where + ": expected a field \"tokens\" or \"text\"");
    }
    each(ids);
  });
}

namespace {

std::uint64_t token_count(const std::vector<std::vector<token_id>>& documents) {
  std::uint64_t n = 0;
  for (const auto& d : documents) n += d.size();
  return n;
}

// Whole documents while they fit, then the first part of the next one, so the mixture is exact.
std::uint64_t add_up_to(ngram_trainer& trainer, const std::vector<std::vector<token_id>>& documents,
                        std::uint64_t budget) {
  std::uint64_t used = 0;
  for (const auto& d : documents) {
    if (used >= budget) break;
    const std::uint64_t take = std::min<std::uint64_t>(d.size(), budget - used);
    trainer.add(std::span<const token_id>(d).first(static_cast<std::size_t>(take)));
    used += take;
  }
  return used;
}

}  // namespace

training_mixture add_training_mixture(ngram_trainer& trainer, const std::vector<std::vector<token_id>>& human,
                                      const std::vector<std::vector<token_id>>& watermarked,
                                      std::optional<double> watermarked_fraction) {
  const std::uint64_t h = token_count(human), w = token_count(watermarked);
  std::uint64_t take_human = h, take_marked = w;
  if (watermarked_fraction) {
    const double fraction = *watermarked_fraction;
    if (!(fraction >= 0.0 && fraction <= 1.0)) {
      throw error(errc::invalid_argument,
                  "watermarked fraction: expected a share in [0, 1], got " + std::to_string(fraction));
    }
    if (fraction >= 1.0) {
      take_human = 0;
    } else if (fraction <= 0.0) {
      take_marked = 0;
    } else {
      const double total = std::min(static_cast<double>(w) / fraction, static_cast<double>(h) / (1.0 - fraction));
      take_marked = static_cast<std::uint64_t>(fraction * total);
      take_human = static_cast<std::uint64_t>((1.0 - fraction) * total);
    }
  }
  training_mixture used;
  used.human = add_up_to(trainer, human, take_human);
  used.watermarked = add_up_to(trainer, watermarked, take_marked);
  return used;
}

}  // namespace tritium
