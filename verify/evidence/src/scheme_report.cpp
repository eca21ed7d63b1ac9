// The version 3 detect predicate (papers/evidence-v3.md): a detect test under any of the key's
// schemes, each document tested whole or scanned in windows. Version 2's layout (tests.cpp) records
// a KGW test of whole documents and is still what such a test writes.
#include <algorithm>
#include <cmath>
#include <numbers>
#include <sstream>

#include "predicate.hpp"
#include "tritium/binomial_tail.hpp"
#include "tritium/digest.hpp"
#include "tritium/gamma_tail.hpp"
#include "tritium/gumbel.hpp"
#include "tritium/gumbel_detect.hpp"
#include "tritium/hypergeometric_tail.hpp"
#include "tritium/number_text.hpp"
#include "tritium/unigram.hpp"
#include "tritium/unigram_detect.hpp"

namespace tritium::evidence_detail {
namespace {

constexpr std::size_t excerpt_tokens = 400;

double decision_ln_p(const detection& d) { return d.window ? d.window->ln_p_scan : d.ln_p; }

ojson scheme_method(scheme_kind s, const key& k, const unigram* u) {
  ojson m;
  m["name"] = scheme_name(s);
  switch (s) {
    case scheme_kind::kgw:
      m["reference"] = "Kirchenbauer et al., A Watermark for Large Language Models, ICML 2023";
      m["gamma"] = k.params().gamma();
      m["statistic"] = "number of green tuples among the scored (deduplicated) tuples";
      m["test"] = "exact one-sided binomial upper tail P(Bin(scored, gamma) >= green), computed in log space";
      m["specification"] = "papers/kgw.md";
      break;
    case scheme_kind::gumbel:
      m["reference"] = "Aaronson, Watermarking of Large Language Models, 2022; Fernandez et al., Three Bricks to "
                       "Consolidate Watermarks for Large Language Models, WIFS 2023";
      m["gamma"] = nullptr;
      m["statistic"] = "score S: the sum over the scored (deduplicated) tuples of -ln(1 - U), U the tuple's keyed "
                       "uniform of the token chosen";
      m["test"] = "exact upper tail of Gamma(scored, 1), P(Gamma(scored, 1) >= S), computed in log space";
      m["specification"] = "papers/gumbel-v1.md";
      break;
    case scheme_kind::unigram:
      m["reference"] = "Zhao et al., Provable Robust Watermarking for AI-Generated Text, ICLR 2024";
      m["gamma"] = static_cast<double>(u->green_count()) / static_cast<double>(u->vocab_size());
      m["green_list"] = {{"size", u->green_count()}, {"of", u->vocab_size()}};
      m["statistic"] = "number of green ids among the text's distinct token ids (one fixed green list)";
      m["test"] = "exact hypergeometric upper tail P(H(V, G, distinct) >= green), computed in log space";
      m["specification"] = "papers/unigram-v1.md";
      break;
  }
  return m;
}

// What a version 3 report needs beyond the printed rows: one row per document and scheme, the
// decisive row's document, each scheme's totals and, pooled, each scheme's curve at document
// boundaries.
class scheme_evidence {
 public:
  explicit scheme_evidence(const detect_scan& scan)
      : scan_(scan), spec_(scan.spec()), key_(scan.the_key()), schemes_(schemes_in(spec_.schemes)),
        valid_(spec_.dedup != dedup_mode::none) {
    if (spec_.schemes & scheme_bit(scheme_kind::gumbel)) gumbel_ = std::make_unique<const gumbel>(key_);
    if (spec_.schemes & scheme_bit(scheme_kind::unigram)) unigram_ = std::make_unique<const unigram>(key_);
    totals_.resize(schemes_.size());
  }

  // Called once per document and scheme, schemes in the spec's order.
  void row_of(const std::string& id_json, std::span<const token_id> tokens, const detection& d) {
    const std::size_t s = rows_seen_ % schemes_.size();
    const std::size_t document = rows_seen_ / schemes_.size();
    ++rows_seen_;
    if (s == 0) {
      documents_ = document + 1;
      tokens_ += d.tokens;
      if (spec_.pooled && document == 0) {
        first_id_ = id_json;
        first_tokens_.assign(tokens.begin(), tokens.end());
      }
    }
    row r{document, rows_seen_ - 1, id_json, d, valid_ && d.detected};
    r.d.marks.clear();
    r.d.curve.clear();
    totals& t = totals_[s];
    t.scored += d.scored;
    t.green += d.green;
    t.score += d.score;
    if (rows_seen_ == 1 || decision_ln_p(d) < decision_ln_p(best_.d)) {
      best_ = r;
      best_tokens_.assign(tokens.begin(), tokens.end());
    }
    const std::string line = digest_line(r);
    rows_.add(std::move(r), line);
    if (spec_.pooled && s + 1 == schemes_.size() && documents_ % boundary_stride_ == 0) {
      // Each scheme's pooled counts at document boundaries, thinned as they grow (bounded memory).
      boundaries_.push_back(totals_);
      if (boundaries_.size() == 8192) {
        for (std::size_t k = 0; k < 4096; ++k) boundaries_[k] = boundaries_[2 * k + 1];
        boundaries_.resize(4096);
        boundary_stride_ *= 2;
      }
    }
  }

  ojson predicate(const detect_verdict& v) {
    const bool pooled = spec_.pooled;
    const double n_schemes = static_cast<double>(schemes_.size());
    const std::string names = scheme_list_text(spec_.schemes);
    ojson p;
    p["test"] = "detect";
    p["specification"] = specification_of(spec_, key_, scan_.text_tokenizer());
    p["hypothesis"] = {
        {"null", "H0: the tokens were produced independently of key " + key_.id() +
                     " (the key is never disclosed; its id is a commitment to it)"},
        {"alternative", "the tokens were generated with this key's watermark under " +
                            std::string(schemes_.size() == 1 ? "the scheme tested (" : "one of the schemes tested (") +
                            names + "), which favours what the key marks"},
        {"not_claimed", "which model, person or organisation produced the text"}};
    ojson method;
    ojson tested = ojson::array();
    for (const scheme_kind s : schemes_) tested.push_back(scheme_method(s, key_, unigram_.get()));
    const auto& params = key_.params();
    method["schemes"] = tested;
    method["prf"] = "tritium-prf-v1";
    method["delta"] = params.delta;
    method["context_width"] = params.context_width;
    method["seeding"] = seeding_name(params.seeding_scheme);
    method["vocab_size"] = params.vocab_size;
    method["deduplication"] = dedup_mode_name(spec_.dedup);
    method["aggregation"] =
        pooled ? "pooled: one test per scheme over all documents with one global deduplication"
               : "per document and scheme; the run's decision is Bonferroni-corrected across documents and schemes";
    method["windows"] = windows_method(spec_.min_window);
    p["method"] = method;
    p["key"] = key_identity_of(key_);
    p["input"] = input_of(scan_.text_tokenizer(), spec_.tokenizer, spec_.utf8);
    ojson totals_json = {{"documents", documents_}, {"tokens", tokens_}};
    for (std::size_t i = 0; i < schemes_.size(); ++i) {
      const std::string name = scheme_name(schemes_[i]);
      const bool is_pooled = pooled && i < v.pooled_schemes.size();
      totals_json[name + "_scored"] = is_pooled ? v.pooled_schemes[i].scored : totals_[i].scored;
      if (schemes_[i] == scheme_kind::gumbel) {
        totals_json[name + "_score"] = is_pooled ? v.pooled_schemes[i].score : totals_[i].score;
      } else {
        totals_json[name + "_green"] = is_pooled ? v.pooled_schemes[i].green : totals_[i].green;
      }
    }
    p["totals"] = totals_json;

    const double tests = pooled ? n_schemes : static_cast<double>(documents_) * n_schemes;
    std::string correction;
    if (pooled) {
      correction = schemes_.size() == 1 ? "none (one pooled test)"
                                        : "Bonferroni across " + std::to_string(schemes_.size()) +
                                              " pooled tests, one per scheme: smallest p times " +
                                              std::to_string(schemes_.size());
    } else {
      correction = "Bonferroni across " + std::to_string(documents_) + " document(s) x " +
                   std::to_string(schemes_.size()) + " scheme(s): smallest p times " + shortest_text(tests);
      if (spec_.min_window > 0) correction += ", each document's p already corrected for its window scan";
    }
    p["decision"] = decision_of(spec_.alpha, spec_.alpha_source, correction, v.outcome, v.decisive_log10_p,
                                words(v, pooled));
    if (v.outcome == "no verdict") p["decision"]["log10_p"] = nullptr;

    const ojson listed = rows_.in_input_order(row_json);
    p["documents"] = {{"total", documents_},
                      {"rows_total", rows_seen_},
                      {"listed", rows_.listed()},
                      {"selection", rows_.listed() == rows_seen_
                                        ? "all, in input order (one row per document and scheme)"
                                        : "the " + std::to_string(rows_.listed()) +
                                              " rows with the smallest p-values on which a decision rests, in input order"},
                      {"p_values_valid", valid_},
                      {"all_rows_sha256", rows_.digest()},
                      {"columns", {"id", "scheme", "tokens", "scored", "green", "score", "log10_p", "detected",
                                   "insufficient", "window"}},
                      {"rows", listed}};

    ojson decisive;
    const double threshold = std::log10(spec_.alpha) - std::log10(std::max(1.0, tests));
    if (pooled && documents_ > 0) {
      const detection& d = v.pooled;
      const std::size_t s = static_cast<std::size_t>(
          std::find(schemes_.begin(), schemes_.end(), d.scheme) - schemes_.begin());
      decisive["label"] = std::string("pooled over all documents under ") + scheme_name(d.scheme) +
                          (schemes_.size() > 1 ? ", the smallest p of the schemes' pooled tests" : "") +
                          " (points at document boundaries)";
      fill_counts(decisive, d);
      decisive["threshold_log10_p"] = threshold;
      std::vector<curve_point> curve;
      const std::size_t n = boundaries_.size();
      const std::size_t points = std::min(n, curve_points);
      for (std::size_t k = 1; k <= points; ++k) {
        const totals& t = boundaries_[(k * n) / points - 1][s];
        if (t.scored > 0) curve.push_back({t.scored, t.green, -ln_p_of(d.scheme, t) / std::numbers::ln10});
      }
      if (d.scored > 0 && (curve.empty() || curve.back().scored != d.scored)) curve.push_back({d.scored, d.green, -d.log10_p});
      decisive["curve"] = curve_of(curve);
      decisive["window"] = nullptr;
    } else if (documents_ > 0) {
      const detection& d = best_.d;
      decisive["label"] = std::string("the document with the smallest p-value") +
                          (spec_.min_window > 0 ? " after its window scan" : "") + " among " +
                          std::to_string(documents_) + " document(s) x " + std::to_string(schemes_.size()) +
                          " scheme(s), chosen after the fact: its own figures overstate the evidence, so the "
                          "threshold is Bonferroni's alpha / " + shortest_text(tests) +
                          (d.window ? "; it applies to the best window's corrected p, and the curve is the whole "
                                      "document's, whose bar in the scan is that threshold divided by the number of "
                                      "window sizes"
                                    : "");
      decisive["document"] = report_id(best_.id_json);
      fill_counts(decisive, d);
      decisive["threshold_log10_p"] = threshold;
      decisive["curve"] = curve_of(document_curve(d.scheme));
      decisive["window"] = d.window ? window_json(*d.window, d.scheme == scheme_kind::gumbel) : ojson(nullptr);
    } else {
      decisive = {{"label", "no document"}, {"scheme", scheme_name(schemes_.front())}, {"scored", 0}, {"green", nullptr},
                  {"score", nullptr}, {"gamma", nullptr}, {"log10_p", 0.0}, {"threshold_log10_p", threshold},
                  {"curve", ojson::array()}, {"window", nullptr}};
    }
    p["decisive_test"] = decisive;
    if (documents_ > 0) {
      const scheme_kind s = pooled ? v.pooled.scheme : best_.d.scheme;
      const std::span<const token_id> shown = pooled ? std::span<const token_id>(first_tokens_) : std::span<const token_id>(best_tokens_);
      std::size_t first = 0;
      if (!pooled && best_.d.window) first = std::min<std::size_t>(best_.d.window->token_begin, shown.size());
      const std::vector<token_mark> marks = marks_of(s, shown);
      const std::size_t n = std::min(excerpt_tokens, shown.size() - first);
      ojson e = excerpt_of(pooled ? first_id_ : best_.id_json, shown.subspan(first, n),
                           std::span<const token_mark>(marks).subspan(first, n), scan_.text_tokenizer(), n);
      e["of"] = shown.size();
      e["first"] = first;
      e["scheme"] = scheme_name(s);
      p["excerpt"] = e;
    }
    ojson limits = ojson::array(
        {"The p-value holds under H0 for deduplicated tuples; it says nothing about who wrote the text.",
         "A result without evidence is not proof of absence: paraphrasing, editing and low-entropy text weaken the signal.",
         "Tuples are scored on the token ids as given or as re-tokenized here; a different tokenizer changes them."});
    if (spec_.min_window > 0) {
      limits.push_back(window_limit);
    }
    if (unigram_) {
      limits.push_back("Unigram marks every text with one fixed green list, which can be estimated from marked text: "
                       "a forger who has estimated it can make text test positive (papers/unigram-v1.md).");
    }
    p["limits"] = limits;
    return p;
  }

 private:
  struct totals {
    std::uint64_t scored = 0, green = 0;
    double score = 0.0;
  };
  struct row {
    std::size_t document;
    std::size_t index;
    std::string id_json;
    detection d;
    bool detected;
  };
  static bool less_significant(const row& a, const row& b) {  // heap order: the largest p on top
    const double pa = decision_ln_p(a.d), pb = decision_ln_p(b.d);
    return pa != pb ? pa < pb : a.index < b.index;
  }

  // A row's figures a recomputation reproduces exactly: p-values and scores, functions of them or
  // sums of logarithms, are compared within a tolerance in the listed rows instead.
  static std::string digest_line(const row& r) {
    const detection& d = r.d;
    ojson window = nullptr;
    if (d.window) window = ojson::array({d.window->token_begin, d.window->token_end, d.window->end - d.window->begin});
    return ojson::array({report_id(r.id_json), scheme_name(d.scheme), d.tokens, d.scored,
                         d.scheme == scheme_kind::gumbel ? ojson(nullptr) : ojson(d.green), r.detected,
                         d.insufficient, window})
        .dump();
  }
  static ojson row_json(const row& r) {
    const detection& d = r.d;
    ojson window = nullptr;
    if (d.window) {
      window = ojson::array({d.window->token_begin, d.window->token_end, d.window->window_ln_p / std::numbers::ln10,
                             d.window->ln_p_scan / std::numbers::ln10});
    }
    const bool gumbel_row = d.scheme == scheme_kind::gumbel;
    return ojson::array({report_id(r.id_json), scheme_name(d.scheme), d.tokens, d.scored,
                         gumbel_row ? ojson(nullptr) : ojson(d.green), gumbel_row ? ojson(d.score) : ojson(nullptr),
                         d.log10_p, r.detected, d.insufficient, window});
  }
  static void fill_counts(ojson& j, const detection& d) {
    const bool gumbel_row = d.scheme == scheme_kind::gumbel;
    j["scheme"] = scheme_name(d.scheme);
    j["scored"] = d.scored;
    j["green"] = gumbel_row ? ojson(nullptr) : ojson(d.green);
    j["score"] = gumbel_row ? ojson(d.score) : ojson(nullptr);
    j["gamma"] = gumbel_row ? ojson(nullptr) : ojson(d.gamma);
    j["log10_p"] = d.log10_p;
  }
  double ln_p_of(scheme_kind s, const totals& t) const {
    switch (s) {
      case scheme_kind::kgw: return binomial_upper_tail_ln(t.scored, t.green, key_.params().gamma());
      case scheme_kind::gumbel: return gamma_upper_tail_ln(t.scored, t.score);
      case scheme_kind::unigram:
        return hypergeometric_upper_tail_ln(unigram_->vocab_size(), unigram_->green_count(), t.scored, t.green);
    }
    return 0.0;
  }
  detect_options plain_options() const {
    detect_options o;
    o.dedup = spec_.dedup;
    o.alpha = spec_.alpha;
    return o;
  }
  // The whole document's -log10 p curve under its scheme, at up to 64 evenly spaced prefixes of its
  // scored tuples.
  std::vector<curve_point> document_curve(scheme_kind s) const {
    const std::span<const token_id> tokens(best_tokens_);
    if (s == scheme_kind::kgw) {
      detect_options o = plain_options();
      o.curve_points = curve_points;
      return scan_.detector().detect(tokens, o).curve;
    }
    std::vector<double> scores;
    std::vector<std::uint8_t> green;
    if (s == scheme_kind::gumbel) {
      scores = gumbel_scored_tuples(*gumbel_, tokens, plain_options()).scores;
    } else {
      green = unigram_distinct_ids(*unigram_, tokens, plain_options()).green;
    }
    const std::size_t n = s == scheme_kind::gumbel ? scores.size() : green.size();
    totals t;
    return prefix_curve(n, [&](std::size_t end) {
      for (; t.scored < end; ++t.scored) {
        if (s == scheme_kind::gumbel) {
          t.score += scores[t.scored];
        } else {
          t.green += green[t.scored];
        }
      }
      return curve_point{t.scored, t.green, -ln_p_of(s, t) / std::numbers::ln10};
    });
  }
  // Each token's mark under scheme s: KGW its tuple's colour; Unigram a first occurrence's colour
  // (later ones are repeats); Gumbel "s" for a scored tuple, whose score the excerpt does not show.
  std::vector<token_mark> marks_of(scheme_kind s, std::span<const token_id> tokens) const {
    if (s == scheme_kind::kgw) {
      detect_options o = plain_options();
      o.want_marks = true;
      return scan_.detector().detect(tokens, o).marks;
    }
    std::vector<token_mark> marks(tokens.size(), token_mark::duplicate);
    if (s == scheme_kind::gumbel) {
      const std::size_t h = std::min<std::size_t>(gumbel_->context_width(), tokens.size());
      for (std::size_t i = 0; i < h; ++i) marks[i] = token_mark::no_context;
      for (const std::uint64_t i : gumbel_scored_tuples(*gumbel_, tokens, plain_options()).positions) {
        marks[i] = token_mark::scored;
      }
    } else {
      const unigram_ids ids = unigram_distinct_ids(*unigram_, tokens, plain_options());
      for (std::size_t i = 0; i < ids.positions.size(); ++i) {
        marks[ids.positions[i]] = ids.green[i] ? token_mark::green : token_mark::red;
      }
    }
    return marks;
  }
  std::string words(const detect_verdict& v, bool pooled) const {
    std::ostringstream w;
    const std::string id16 = key_.id().substr(0, 16);
    const std::string& outcome = v.outcome;
    const std::string scheme = scheme_name(pooled ? v.pooled.scheme : best_.d.scheme);
    if (outcome == "evidence") {
      w << "Evidence of the watermark of key " << id16 << " under " << scheme << ": if these tokens had been produced "
        << "independently of the key, a result at least this extreme would have probability 10^"
        << fixed_text(v.decisive_log10_p, 2);
      if (!pooled) {
        w << " (corrected for the number of documents and schemes" << (spec_.min_window > 0 ? " and for the window scan" : "")
          << ")";
      } else if (schemes_.size() > 1) {
        w << " (corrected for the number of schemes)";
      }
      w << ", at or below the decision threshold alpha = " << exact_text(spec_.alpha)
        << ". This concerns the key only; it does not say which model or person produced the text.";
    } else if (outcome == "no evidence") {
      w << "No evidence at alpha = " << exact_text(spec_.alpha) << " under " << scheme_list_text(spec_.schemes)
        << ": the text is consistent with tokens produced independently of key " << id16
        << " (log10 p = " << fixed_text(v.decisive_log10_p, 2)
        << "). This does not show that the text is unwatermarked: short, edited or low-entropy text can carry too "
           "little signal.";
    } else if (outcome == "insufficient evidence") {
      std::uint64_t most = v.max_scored;
      for (const detection& d : v.pooled_schemes) most = std::max(most, d.scored);
      w << "Insufficient evidence: with at most " << most << " scored tuples, not even the most extreme result "
        << "could reach alpha = " << exact_text(spec_.alpha)
        << (pooled ? (schemes_.size() > 1 ? " after the correction for the number of schemes" : "")
                   : spec_.min_window > 0 ? " after the corrections for the window scan and the number of documents and schemes"
                                          : " after the correction for the number of documents and schemes")
        << "; no conclusion either way.";
    } else {
      w << "No verdict: deduplication was off (--dedup none), so the independence the p-values assume does not hold; "
           "the figures are shown for demonstration only.";
    }
    return w.str();
  }

  const detect_scan& scan_;
  const detect_spec& spec_;
  const key& key_;
  std::vector<scheme_kind> schemes_;
  bool valid_;
  std::unique_ptr<const gumbel> gumbel_;
  std::unique_ptr<const unigram> unigram_;
  ranked_rows<row> rows_{less_significant};
  std::size_t rows_seen_ = 0;
  std::size_t documents_ = 0;
  std::uint64_t tokens_ = 0;
  std::vector<totals> totals_;
  row best_{};
  std::vector<token_id> best_tokens_;
  std::string first_id_;
  std::vector<token_id> first_tokens_;
  std::vector<std::vector<totals>> boundaries_;
  std::size_t boundary_stride_ = 1;
};

}  // namespace

detect_report run_scheme_detect_test(detect_scan& scan, const subject_list& subjects, const report_context& context,
                                     const detect_scan::observer& on_document) {
  scheme_evidence evidence(scan);
  return run_with_evidence(scan, evidence, subjects, context, 3, on_document);
}

}  // namespace tritium::evidence_detail
