#include "tritium/scan.hpp"

#include <algorithm>
#include <cmath>
#include <memory>
#include <numbers>

#include "scan_documents.hpp"
#include "tritium/error.hpp"
#include "tritium/gamma_tail.hpp"
#include "tritium/gumbel_detect.hpp"
#include "tritium/hypergeometric_tail.hpp"
#include "tritium/inputs.hpp"
#include "tritium/text_source.hpp"
#include "tritium/unigram_detect.hpp"
#include "tritium/window_scan.hpp"

namespace tritium {

namespace {

detection from_gumbel(const gumbel_detection& g) {
  detection d;
  d.scheme = scheme_kind::gumbel;
  d.tokens = g.tokens;
  d.scored = g.scored;
  d.score = g.score;
  d.ln_p = g.ln_p;
  d.log10_p = g.log10_p;
  d.p_value = std::exp(g.ln_p);
  d.detected = g.detected;
  d.insufficient = g.insufficient;
  d.ln_p_floor = g.scored == 0 ? 0.0
                               : gamma_upper_tail_ln(g.scored, gumbel::score(0xffffffffu) * static_cast<double>(g.scored));
  return d;
}

detection from_unigram(const unigram_detection& u, const unigram& scheme) {
  const std::uint64_t vocab = scheme.vocab_size(), green_ids = scheme.green_count();
  detection d;
  d.scheme = scheme_kind::unigram;
  d.tokens = u.tokens;
  d.scored = u.scored;
  d.green = u.green;
  d.gamma = static_cast<double>(green_ids) / static_cast<double>(vocab);
  d.ln_p = u.ln_p;
  d.log10_p = u.log10_p;
  d.p_value = std::exp(u.ln_p);
  d.detected = u.detected;
  d.insufficient = u.insufficient;
  d.ln_p_floor = hypergeometric_upper_tail_ln(vocab, green_ids, u.scored, std::min(u.scored, green_ids));
  return d;
}

}  // namespace

std::filesystem::path scan_environment::resolve(const std::string& path) const {
  const std::filesystem::path p(path);
  if (path == "-" || p.is_absolute() || base.empty()) return p;
  return base / p;
}

detect_scan::detect_scan(detect_spec spec, const key& k, scan_environment env)
    : spec_(std::move(spec)), key_(k), env_(std::move(env)), detector_(k) {
  if (spec_.min_window > 0 && spec_.pooled) {
    throw error(errc::usage, "a windowed scan tests each document; it cannot be combined with a pooled test");
  }
  if (spec_.min_window > 0 && spec_.min_window < 10) {
    throw error(errc::usage, "the smallest scan window must hold at least 10 scored tuples, got " +
                                 std::to_string(spec_.min_window));
  }
  if (spec_.schemes == 0 || (spec_.schemes & ~all_schemes) != 0) {
    throw error(errc::usage, "the scan must test at least one of kgw, gumbel and unigram");
  }
  for (const scheme_kind s : schemes_in(spec_.schemes)) k.require_scheme(s, std::string("detect ") + scheme_name(s));
  if ((spec_.schemes & scheme_bit(scheme_kind::gumbel)) && spec_.pooled && spec_.dedup == dedup_mode::none) {
    throw error(errc::usage, "a pooled Gumbel test needs deduplication: dedup none is refused");
  }
  if ((spec_.schemes & scheme_bit(scheme_kind::unigram)) && spec_.dedup == dedup_mode::none) {
    throw error(errc::usage, "unigram detection counts distinct token ids: dedup none is refused");
  }
  if (spec_.schemes & scheme_bit(scheme_kind::gumbel)) gumbel_ = std::make_unique<const gumbel>(k);
  if (spec_.schemes & scheme_bit(scheme_kind::unigram)) unigram_ = std::make_unique<const unigram>(k);
  if (spec_.tokenizer.empty()) return;
  tokenizer_ = std::make_unique<tritium::tokenizer>(load_tokenizer(env_.resolve(spec_.tokenizer).string()));
  const auto& p = k.params();
  // The binding is checked first: it says what is wrong more precisely than a size mismatch.
  if (p.tokenizer_digest.empty()) {
    env_.warning("the key is not bound to a tokenizer, so tritium cannot check that " + spec_.tokenizer +
                 " is the one its model used");
  } else if (p.tokenizer_digest != tokenizer_->digest()) {
    const std::string message = "tokenizer: the key " + k.id().substr(0, 16) + " is bound to " + p.tokenizer_digest +
                                ", but " + spec_.tokenizer + " is " + tokenizer_->digest();
    if (!env_.allow_tokenizer_mismatch) {
      throw error(errc::mismatch, message + " (use --allow-tokenizer-mismatch to proceed anyway)");
    }
    env_.warning(message + "; proceeding as asked");
  }
  k.require_tokenizer_ids(tokenizer_->vocab_size(), spec_.tokenizer);
  detail::list_input(spec_.input, env_, spec_.format, listed_, folder_files_);
}

detect_scan::~detect_scan() = default;

std::vector<std::string> detect_scan::files() const {
  return detail::input_files(spec_.tokenizer, spec_.input, env_, tokenizer_ != nullptr, folder_files_);
}

void detect_scan::scan_windows(detection& d) const {
  window_scan_options options;
  options.min_window = spec_.min_window;
  d.ln_p_floor = static_cast<double>(d.scored) * std::log(d.gamma);
  decide_on_window(d, window_scan(d, options));
  d.marks.clear();
  d.marks.shrink_to_fit();
}

void detect_scan::decide_on_window(detection& d, const window_scan_result& w) const {
  const double ln_alpha = std::log(spec_.alpha);
  d.detected = spec_.dedup != dedup_mode::none && w.ln_p_scan <= ln_alpha;
  // The smallest corrected p any outcome could reach is the most extreme whole text's times J (the
  // whole text's weight): for KGW J·γ^T.
  if (w.sizes > 0) d.ln_p_floor += std::log(static_cast<double>(w.sizes));
  d.insufficient = d.ln_p_floor > ln_alpha;
  d.window = w;
}

std::vector<detection> detect_scan::detect_document(std::span<const token_id> tokens,
                                                    const detect_options& options) const {
  std::vector<detection> out;
  if (spec_.schemes & scheme_bit(scheme_kind::kgw)) {
    detection d = detector_.detect(tokens, options);
    d.ln_p_floor = static_cast<double>(d.scored) * std::log(d.gamma);
    if (spec_.min_window > 0) scan_windows(d);
    out.push_back(std::move(d));
  }
  // Gumbel and Unigram produce no marks; their window scans read their own tuples.
  detect_options plain = options;
  plain.want_marks = false;
  plain.curve_points = 0;
  window_scan_options w;
  w.min_window = spec_.min_window;
  if (gumbel_) {
    detection d = from_gumbel(gumbel_detect(*gumbel_, tokens, plain));
    if (spec_.min_window > 0) {
      const gumbel_tuples t = gumbel_scored_tuples(*gumbel_, tokens, plain);
      decide_on_window(d, gamma_window_scan(t.scores, t.positions, w));
    }
    out.push_back(std::move(d));
  }
  if (unigram_) {
    detection d = from_unigram(unigram_detect(*unigram_, tokens, plain), *unigram_);
    if (spec_.min_window > 0) {
      const unigram_ids ids = unigram_distinct_ids(*unigram_, tokens, plain);
      decide_on_window(d, hypergeometric_window_scan(ids.green, ids.positions, unigram_->vocab_size(),
                                                     unigram_->green_count(), w));
    }
    out.push_back(std::move(d));
  }
  return out;
}

detect_verdict detect_scan::decide(std::size_t documents, double min_ln_p, double min_ln_p_floor,
                                   std::uint64_t max_scored) const {
  detect_verdict v;
  v.documents = documents;
  v.schemes = schemes_in(spec_.schemes).size();
  v.max_scored = max_scored;
  v.p_values_valid = spec_.dedup != dedup_mode::none;
  if (documents == 0) {
    v.outcome = "insufficient evidence";
    return v;
  }
  if (!v.p_values_valid) {
    v.outcome = "no verdict";
    v.decisive_log10_p = min_ln_p / std::numbers::ln10;
    return v;
  }
  // Bonferroni across documents and schemes.
  decide_bonferroni(v, min_ln_p, min_ln_p_floor, static_cast<double>(documents) * static_cast<double>(v.schemes),
                    spec_.alpha);
  return v;
}

void decide_bonferroni(detect_verdict& v, double min_ln_p, double min_ln_p_floor, double tests, double alpha) {
  // Evidence when tests · min p ≤ alpha, in log space.
  const double ln_tests = std::log(tests);
  const double ln_alpha = std::log(alpha);
  v.decisive_log10_p = std::min(0.0, (min_ln_p + ln_tests) / std::numbers::ln10);
  const bool detected = min_ln_p + ln_tests <= ln_alpha;
  // Even the most extreme outcome of the test that could go furthest could not reach alpha / tests.
  const bool insufficient = min_ln_p_floor > ln_alpha - ln_tests;
  v.outcome = detected ? "evidence" : insufficient ? "insufficient evidence" : "no evidence";
}

detect_verdict detect_scan::run(const observer& on_document) {
  detect_options options;
  options.dedup = spec_.dedup;
  options.alpha = spec_.alpha;
  options.want_marks = spec_.min_window > 0;  // the scan reads the marks, then drops them
  const bool valid = spec_.dedup != dedup_mode::none;
  kgw_detector::corpus pooled(detector_, options);
  std::unique_ptr<gumbel_pool> gumbel_pooled;
  std::unique_ptr<unigram_pool> unigram_pooled;
  if (spec_.pooled && gumbel_) gumbel_pooled = std::make_unique<gumbel_pool>(*gumbel_, options);
  if (spec_.pooled && unigram_) unigram_pooled = std::make_unique<unigram_pool>(*unigram_, options);
  const bool kgw_tested = (spec_.schemes & scheme_bit(scheme_kind::kgw)) != 0;
  std::size_t documents = 0;
  double min_ln_p = 0.0, min_ln_p_floor = 0.0;
  std::uint64_t max_scored = 0;
  progress_meter progress(env_.progress, "documents");
  // One document, in input order, on the calling thread.
  auto take = [&](const std::string& id_json, std::span<const token_id> tokens, std::vector<detection> rows,
                  const std::string& where) {
    try {
      if (spec_.pooled) {
        // Each scheme's share of its pooled test, in the spec's order.
        rows.clear();
        if (kgw_tested) rows.push_back(pooled.add(tokens));
        if (gumbel_pooled) rows.push_back(from_gumbel(gumbel_pooled->add(tokens)));
        if (unigram_pooled) rows.push_back(from_unigram(unigram_pooled->add(tokens), *unigram_));
      }
      ++documents;
      for (detection& d : rows) {
        if (!valid) d.detected = false;
        min_ln_p = std::min(min_ln_p, d.window ? d.window->ln_p_scan : d.ln_p);
        min_ln_p_floor = std::min(min_ln_p_floor, d.ln_p_floor);
        max_scored = std::max(max_scored, d.scored);
        if (on_document) on_document(id_json, tokens, d);
      }
      progress.advance();
    } catch (const error& e) {
      throw error(e.code(), where + ": " + e.what());
    }
  };

  detail::document_input in = detail::input_of(spec_.input, env_, tokenizer_.get(), spec_.format, spec_.utf8);
  in.listed = &listed_;
  detail::scan_documents<std::vector<detection>>(
      in,
      [&](std::span<const token_id> tokens, std::vector<detection>& rows, unsigned) {
        rows.clear();
        if (!spec_.pooled) rows = detect_document(tokens, options);
      },
      [&](const std::string& id_json, std::span<const token_id> tokens, std::vector<detection>& rows,
          const std::string& where) { take(id_json, tokens, std::move(rows), where); });
  progress.finish();

  if (!spec_.pooled) return decide(documents, min_ln_p, min_ln_p_floor, max_scored);
  detect_verdict v;
  v.documents = documents;
  v.schemes = schemes_in(spec_.schemes).size();
  v.p_values_valid = valid;
  if (kgw_tested) {
    detection d = pooled.result();
    d.ln_p_floor = static_cast<double>(d.scored) * std::log(d.gamma);
    v.pooled_schemes.push_back(std::move(d));
  }
  if (gumbel_pooled) v.pooled_schemes.push_back(from_gumbel(gumbel_pooled->result()));
  if (unigram_pooled) v.pooled_schemes.push_back(from_unigram(unigram_pooled->result(), *unigram_));
  // Bonferroni over the schemes pooled: the decisive test is the smallest p, times their number.
  const double ln_tests = std::log(static_cast<double>(v.schemes));
  const double ln_alpha = std::log(spec_.alpha);
  std::size_t best = 0;
  double floor = 0.0;
  for (std::size_t i = 0; i < v.pooled_schemes.size(); ++i) {
    detection& d = v.pooled_schemes[i];
    if (!valid) d.detected = false;
    if (v.schemes > 1) {
      d.detected = valid && d.ln_p + ln_tests <= ln_alpha;
      d.insufficient = !d.detected && d.ln_p_floor + ln_tests > ln_alpha;
    }
    if (d.ln_p < v.pooled_schemes[best].ln_p) best = i;
    floor = std::min(floor, d.ln_p_floor);
  }
  v.pooled = v.pooled_schemes[best];
  v.max_scored = v.pooled.scored;
  v.decisive_log10_p = std::min(0.0, (v.pooled.ln_p + ln_tests) / std::numbers::ln10);
  const bool insufficient = documents == 0 || floor + ln_tests > ln_alpha;
  v.outcome = !valid ? "no verdict"
              : v.pooled.detected ? "evidence"
              : insufficient      ? "insufficient evidence"
                                  : "no evidence";
  return v;
}

}  // namespace tritium
