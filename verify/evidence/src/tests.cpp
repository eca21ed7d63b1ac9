// The statements of the verification tests: each test run through its scan, every figure its
// conclusion rests on collected on the way, and the predicate built (papers/evidence-v2.md).
#include <algorithm>
#include <cmath>
#include <iomanip>
#include <numbers>
#include <sstream>

#include "predicate.hpp"
#include "tritium/binomial_tail.hpp"
#include "tritium/digest.hpp"
#include "tritium/error.hpp"
#include "tritium/number_text.hpp"

namespace tritium {
namespace evidence_detail {
namespace {

// What a report needs beyond the printed rows: every row, the decisive document (or the pooled
// run) with its marks and curve, and the pooled curve at document boundaries.
class detect_evidence {
 public:
  detect_evidence(bool pooled, const kgw_detector& detector, const key& k, const detect_options& options,
                  const tokenizer* tok)
      : pooled_(pooled), valid_(options.dedup != dedup_mode::none), detector_(detector), key_(k), options_(options),
        tok_(tok) {}

  void document(const std::string& id_json, std::span<const token_id> tokens, const detection& d) {
    if (pooled_ && first_id_.empty()) {
      first_id_ = id_json;
      first_tokens_.assign(tokens.begin(), tokens.end());
    }
    // A row as the reporter shows it: without deduplication nothing is "detected".
    row r{documents_, id_json, d.tokens, d.scored, d.green, d.log10_p, valid_ && d.detected, d.insufficient};
    // The digest covers what a recomputation reproduces exactly; log10_p is a function of these
    // (and of gamma), compared within a tolerance in the listed rows.
    const std::string line =
        ojson::array({report_id(r.id_json), r.tokens, r.scored, r.green, r.detected, r.insufficient}).dump();
    rows_.add(std::move(r), line);
    ++documents_;
    totals_tokens_ += d.tokens;
    totals_scored_ += d.scored;
    totals_green_ += d.green;
    if (documents_ == 1 || d.ln_p < best_ln_p_) {
      best_ln_p_ = d.ln_p;
      best_id_ = id_json;
      best_tokens_.assign(tokens.begin(), tokens.end());
    }
    if (pooled_ && documents_ % boundary_stride_ == 0) {
      // Points of the pooled curve at document boundaries, thinned as they grow (bounded memory).
      boundaries_.push_back({totals_scored_, totals_green_});
      if (boundaries_.size() == 8192) {
        for (std::size_t k = 0; k < 4096; ++k) boundaries_[k] = boundaries_[2 * k + 1];
        boundaries_.resize(4096);
        boundary_stride_ *= 2;
      }
    }
  }

  ojson predicate(const detect_spec& spec, const detect_verdict& r) {
    const bool pooled = spec.pooled;
    const detection& pooled_result = r.pooled;
    const std::string dedup_name = dedup_mode_name(spec.dedup);
    ojson p;
    p["test"] = "detect";
    p["specification"] = specification_of(spec, key_, tok_);
    p["hypothesis"] = {
        {"null", "H0: the tokens were produced independently of key " + key_.id() +
                     " (the key is never disclosed; its id is a commitment to it)"},
        {"alternative", "the tokens were generated with this key's watermark, which favours green tuples"},
        {"not_claimed", "which model, person or organisation produced the text"}};
    p["method"] = method_of(key_, dedup_name,
                            pooled ? "pooled: one test over all documents with one global deduplication"
                                   : "per document; the run's decision is Bonferroni-corrected across documents");
    p["key"] = key_identity_of(key_);
    p["input"] = input_of(tok_, spec.tokenizer, spec.utf8);
    const double gamma = key_.params().gamma();
    p["totals"] = {{"documents", documents_},
                   {"tokens", totals_tokens_},
                   {"scored", pooled ? pooled_result.scored : totals_scored_},
                   {"green", pooled ? pooled_result.green : totals_green_}};
    const std::string id16 = key_.id().substr(0, 16);
    std::ostringstream words;
    const std::string& outcome = r.outcome;
    const std::string correction =
        pooled ? "none (one pooled test)"
               : "Bonferroni across " + std::to_string(documents_) + " document(s): smallest p times " +
                     std::to_string(documents_);
    if (outcome == "evidence") {
      words << "Evidence of the watermark of key " << id16 << ": if these tokens had been produced independently of "
            << "the key, a result at least this extreme would have probability 10^" << fixed_text(r.decisive_log10_p, 2)
            << (pooled ? "" : " (corrected for the number of documents)") << ", at or below the decision threshold alpha = "
            << exact_text(options_.alpha) << ". This concerns the key only; it does not say which model or person produced "
            << "the text.";
    } else if (outcome == "no evidence") {
      words << "No evidence at alpha = " << exact_text(options_.alpha) << ": the green tuples are consistent with tokens "
            << "produced independently of key " << id16 << " (log10 p = " << fixed_text(r.decisive_log10_p, 2)
            << "). This does not show that the text is unwatermarked: short, edited or low-entropy text can carry too "
            << "little signal.";
    } else if (outcome == "insufficient evidence") {
      words << "Insufficient evidence: with at most " << (pooled ? pooled_result.scored : r.max_scored)
            << " scored tuples, not even an all-green result could reach alpha = " << exact_text(options_.alpha)
            << (pooled ? "" : " after the correction for the number of documents") << "; no conclusion either way.";
    } else {
      words << "No verdict: deduplication was off (--dedup none), so the independence the p-values assume does not "
            << "hold; the figures are shown for demonstration only.";
    }
    p["decision"] = decision_of(options_.alpha, spec.alpha_source, correction, outcome, r.decisive_log10_p, words.str());
    if (outcome == "no verdict") p["decision"]["log10_p"] = nullptr;  // no valid p-value to decide on
    const ojson listed = rows_.in_input_order(row_json);
    p["documents"] = {{"total", documents_},
                      {"listed", rows_.listed()},
                      {"selection", rows_.listed() == documents_ ? "all, in input order"
                                                                 : "the " + std::to_string(rows_.listed()) +
                                                                     " with the smallest p-values, in input order"},
                      {"p_values_valid", valid_},
                      {"all_rows_sha256", rows_.digest()},
                      {"columns", {"id", "tokens", "scored", "green", "log10_p", "detected", "insufficient"}},
                      {"rows", listed}};
    // The decisive test: the pooled corpus, or the document with the smallest p-value.
    detect_options o = options_;
    o.want_marks = true;
    o.curve_points = 64;
    ojson decisive;
    if (pooled) {
      decisive["label"] = "pooled over all documents (points at document boundaries)";
      decisive["scored"] = pooled_result.scored;
      decisive["green"] = pooled_result.green;
      decisive["log10_p"] = pooled_result.log10_p;
      std::vector<curve_point> curve;
      const std::size_t n = boundaries_.size();
      const std::size_t points = std::min<std::size_t>(n, 64);
      for (std::size_t k = 1; k <= points; ++k) {
        const auto& [scored, green] = boundaries_[(k * n) / points - 1];
        if (scored == 0) continue;
        curve.push_back({scored, green, -binomial_upper_tail_ln(scored, green, gamma) / std::numbers::ln10});
      }
      if (pooled_result.scored > 0 && (curve.empty() || curve.back().scored != pooled_result.scored)) {
        curve.push_back({pooled_result.scored, pooled_result.green, -pooled_result.log10_p});
      }
      decisive["curve"] = curve_of(curve);
      decisive["threshold_log10_p"] = std::log10(options_.alpha);
    } else if (documents_ > 0) {
      const detection d = detector_.detect(best_tokens_, o);
      decisive["label"] = "the document with the smallest p-value of " + std::to_string(documents_) +
                          ", chosen after the fact: its own figures overstate the evidence, so the threshold is "
                          "Bonferroni's alpha / " + std::to_string(documents_);
      decisive["document"] = report_id(best_id_);
      decisive["scored"] = d.scored;
      decisive["green"] = d.green;
      decisive["log10_p"] = d.log10_p;
      decisive["curve"] = curve_of(d.curve);
      decisive["threshold_log10_p"] = std::log10(options_.alpha) - std::log10(static_cast<double>(documents_));
    } else {
      decisive = {{"label", "no document"}, {"scored", 0}, {"green", 0}, {"log10_p", 0.0}, {"curve", ojson::array()},
                  {"threshold_log10_p", std::log10(options_.alpha)}};
    }
    decisive["gamma"] = gamma;
    p["decisive_test"] = decisive;
    if (documents_ > 0) {
      const std::span<const token_id> shown = pooled ? std::span<const token_id>(first_tokens_) : std::span<const token_id>(best_tokens_);
      const detection marked = detector_.detect(shown, o);
      p["excerpt"] = excerpt_of(pooled ? first_id_ : best_id_, shown, marked.marks, tok_);
    }
    p["limits"] = ojson::array(
        {"The p-value holds under H0 for deduplicated tuples; it says nothing about who wrote the text.",
         "A result without evidence is not proof of absence: paraphrasing, editing and low-entropy text weaken the signal.",
         "Tuples are scored on the token ids as given or as re-tokenized here; a different tokenizer changes them."});
    return p;
  }


 private:
  struct row {
    std::size_t index;
    std::string id_json;
    std::uint64_t tokens, scored, green;
    double log10_p;
    bool detected, insufficient;
  };
  static bool less_significant(const row& a, const row& b) {  // heap order: the largest p on top
    return a.log10_p != b.log10_p ? a.log10_p < b.log10_p : a.index < b.index;
  }
  static ojson row_json(const row& r) {
    return ojson::array({report_id(r.id_json), r.tokens, r.scored, r.green, r.log10_p, r.detected, r.insufficient});
  }

  bool pooled_;
  bool valid_;
  const kgw_detector& detector_;
  const key& key_;
  detect_options options_;
  const tokenizer* tok_;
  ranked_rows<row> rows_{less_significant};
  std::size_t documents_ = 0;
  std::uint64_t totals_tokens_ = 0, totals_scored_ = 0, totals_green_ = 0;
  double best_ln_p_ = 0.0;
  std::string best_id_;
  std::vector<token_id> best_tokens_;
  std::string first_id_;
  std::vector<token_id> first_tokens_;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> boundaries_;
  std::size_t boundary_stride_ = 1;
};

// Every file a scan reads, hashed before it is read.
subject_list subjects_of(const std::vector<std::string>& files, const report_context& context) {
  subject_list subjects;
  scan_environment where;
  where.base = context.base;
  for (const auto& name : files) subjects.add(name, where.resolve(name));
  return subjects;
}

ojson radioactivity_predicate(const radioactivity_spec& spec, const radioactivity_outcome& o, const key& k,
                              const tokenizer* tok) {
  const std::string mode = radioactivity_mode_name(spec.mode);
  const std::string tape = tape_mode_name(spec.tape);
  const bool exclude = spec.mode != radioactivity_mode::closed || spec.prompt_exclusion;
  const detection& t = o.result.test;
  ojson p;
  p["test"] = "radioactivity " + mode;
  p["specification"] = specification_of(spec, k, tok, o.filter_windows);
  p["hypothesis"] = {
      {"null", "H0: " + std::string(mode == "corpus" ? "the suspect corpus is" : mode == "closed" ? "the suspect's answers are" : "the suspect's predictions are") +
                   " independent of key " + k.id() +
                   ", as they are when the suspect was never trained on text watermarked with it (the key is never "
                   "disclosed; its id is a commitment to it)"},
      {"alternative", "the suspect was trained on text watermarked with this key, and favours its green tuples"},
      {"not_claimed", "how much of the suspect's training data carried the watermark, or who trained the suspect"}};
  p["method"] = method_of(k, "global tape: " + tape + (mode == "closed" ? (exclude ? "; prompt windows excluded" : "; prompt windows NOT excluded") : ""),
                          "one test over all scored tuples of the run");
  p["key"] = key_identity_of(k);
  p["input"] = input_of(tok, spec.tokenizer, invalid_utf8::error);
  ojson settings;
  settings["mode"] = mode;
  settings["tape"] = tape;
  settings["prompt_exclusion"] = mode == "closed" ? exclude : false;
  settings["filter"] = !spec.filter.empty() ? ojson{{"file", spec.filter}, {"windows", o.filter_windows}} : ojson(nullptr);
  settings["suspect"] = !spec.model.empty() ? "reference-model file " + spec.model
                        : !spec.predictions.empty() ? "predictions file " + spec.predictions : std::string("files given");
  if (mode == "closed" && !spec.model.empty()) {
    settings["max_new_tokens"] = spec.max_new_tokens;
    settings["seed"] = spec.seed;
  }
  p["settings"] = settings;
  p["totals"] = {{"read", o.result.counts.read}, {"prompt_excluded", o.result.counts.prompt_excluded},
                 {"filtered_out", o.result.counts.filtered_out}, {"duplicates", o.result.counts.duplicates},
                 {"scored", t.scored}, {"green", t.green}};
  const std::string& outcome = o.outcome;
  std::ostringstream words;
  words << std::setprecision(6);
  const std::string id16 = k.id().substr(0, 16);
  if (outcome == "evidence") {
    words << "Evidence that the suspect was trained on text watermarked with key " << id16 << ": if its outputs were "
          << "independent of the key, a green share at least this high would have probability 10^"
          << std::fixed << std::setprecision(2) << t.log10_p << std::defaultfloat << std::setprecision(6)
          << ", at or below the decision threshold alpha = " << spec.alpha << ". The " << o.control_p.size()
          << " control keys behave as the null predicts (KS p = " << std::setprecision(3) << o.ks.p_value << ").";
  } else if (outcome == "no evidence") {
    words << "No evidence at alpha = " << spec.alpha << ": the suspect's green share is consistent with outputs independent of key "
          << id16 << " (log10 p = " << std::fixed << std::setprecision(2) << t.log10_p << std::defaultfloat
          << "). A weak contamination may need more scored tuples (tritium radioactivity plan).";
  } else if (outcome == "insufficient evidence") {
    words << "Insufficient evidence: with " << t.scored << " scored tuples, not even an all-green result could reach alpha = "
          << spec.alpha << "; no conclusion either way, and the control keys were not tested.";
  } else if (!o.valid) {
    words << "No verdict: " << (spec.tape == tape_mode::none ? "the tape was off, so repeated tuples were scored again"
                                                                : "prompt windows were not excluded")
          << "; the independence the p-value assumes does not hold. The figures are for demonstration only.";
  } else {
    words << "No verdict: the control keys are not uniform (KS p = " << std::setprecision(3) << o.ks.p_value
          << "), so the null does not hold on this suspect and its p-value cannot be trusted.";
  }
  p["decision"] = decision_of(spec.alpha, spec.alpha_source, "none (one pooled test); control keys checked for uniformity", outcome, t.log10_p,
                              words.str());
  if (outcome == "no verdict") p["decision"]["log10_p"] = nullptr;  // no valid p-value to decide on
  p["decisive_test"] = {{"label", "all scored tuples, in reading order"}, {"scored", t.scored},
                        {"green", t.green}, {"log10_p", t.log10_p}, {"gamma", t.gamma},
                        {"threshold_log10_p", std::log10(spec.alpha)}, {"curve", curve_of(t.curve)}};
  p["controls"] = {{"count", o.control_p.size()}, {"log10_p", o.control_log10_p}, {"ks_statistic", o.ks.statistic}, {"ks_p_value", o.ks.p_value}, {"uniform", o.controls_uniform}};
  p["limits"] = ojson::array(
      {"The p-value holds under H0 for tuples scored once (the tape) and, in closed mode, with prompt windows excluded.",
       "Radioactivity shows training on text watermarked with this key; it does not say how that text was obtained.",
       "No evidence is not proof of absence: a small watermarked share needs many scored tuples."});
  return p;
}

std::string log10_text(double v) {
  std::ostringstream o;
  o << std::fixed << std::setprecision(2) << v;
  return o.str();
}

ojson trace_predicate(const trace_scan& scan, const trace_outcome& o) {
  const trace_spec& spec = scan.spec();
  const radioactivity_spec& reading = spec.scan;
  const key& k = scan.the_key();
  const trace_params& params = scan.params();
  const tokenizer* tok = scan.reading().text_tokenizer();
  const std::string mode = radioactivity_mode_name(reading.mode);
  const std::string tape = tape_mode_name(reading.tape);
  const bool exclude = reading.mode != radioactivity_mode::closed || reading.prompt_exclusion;
  const detection& g = o.global.result.test;
  const std::uint32_t r = 1u << params.symbol_bits;
  ojson p;
  p["test"] = "trace " + mode;
  p["specification"] = specification_of(spec, params, k, tok, o.global.filter_windows);
  p["hypothesis"] = {
      {"null", "H0(A), for each registered account A: the suspect's " +
                   std::string(mode == "corpus" ? "corpus holds" : mode == "closed" ? "answers hold" : "predictions hold") +
                   " no text generated for A under key " + k.id() +
                   ", so A's code word (derived from the key, never disclosed) is independent of them"},
      {"alternative", "the suspect's text holds outputs generated for A, whose account symbols it favours"},
      {"not_claimed", "that an accused account's holder harvested the text or trained the suspect: only that the text "
                      "holds outputs generated for that account; nor anything of accounts outside the registry"}};
  ojson method = method_of(k, "global tape: " + tape + (mode == "closed" ? (exclude ? "; prompt windows excluded" : "; prompt windows NOT excluded") : "") +
                                  "; account tape: first occurrence of each (position window, token)",
                           "Sidak over the registry's accounts");
  method["trace"] = {{"prf", trace_v1::name},
                     {"code_length", params.code_length},
                     {"symbols", r},
                     {"position_width", params.position_width},
                     {"account_delta", params.account_delta},
                     {"statistic", "account count score: counted tuples whose account lane equals the account's symbol at their position"},
                     {"null", "exact conditional law given the counts: the convolution of one uniform choice among r counts per position"},
                     {"correction", "Sidak over N accounts: 1 - (1 - p)^N"},
                     {"reference", "papers/attribution.md §4"}};
  p["method"] = method;
  p["key"] = key_identity_of(k);
  p["input"] = input_of(tok, reading.tokenizer, invalid_utf8::error);
  ojson settings;
  settings["mode"] = mode;
  settings["tape"] = tape;
  settings["prompt_exclusion"] = mode == "closed" ? exclude : false;
  settings["filter"] = !reading.filter.empty() ? ojson{{"file", reading.filter}, {"windows", o.global.filter_windows}} : ojson(nullptr);
  settings["suspect"] = !reading.model.empty() ? "reference-model file " + reading.model
                        : !reading.predictions.empty() ? "predictions file " + reading.predictions : std::string("files given");
  p["settings"] = settings;
  p["registry"] = {{"path", spec.registry}, {"sha256", o.registry_digest}, {"accounts", o.accounts}};
  p["totals"] = {{"read", o.global.result.counts.read}, {"scored", g.scored}, {"green", g.green},
                 {"account_tuples_read", o.tuples_read}, {"account_tuples_counted", o.counts.tuples}};
  p["global"] = {{"outcome", o.global.outcome}, {"alpha", reading.alpha}, {"log10_p", g.log10_p}, {"gamma", g.gamma}};
  p["counts_sha256"] = o.counts.digest();
  p["null"] = {{"mean", o.null_mean}, {"sd", o.null_sd}, {"support", o.null_support},
               {"best_possible_log10_p_fw", o.best_possible_log10_p_fw}};
  ojson rows = ojson::array();
  std::size_t accused = 0;
  for (const ranked_account& a : o.listed) {
    rows.push_back(ojson::array({a.id, a.score, a.log10_p, a.log10_p_fw, a.accused}));
    accused += a.accused ? 1 : 0;
  }
  sha256_stream all;
  for (std::size_t i = 0; i < o.scores.size(); ++i) all.update(std::to_string(i) + " " + std::to_string(o.scores[i]) + "\n");
  p["accounts"] = {{"total", o.accounts},
                   {"accused", accused},
                   {"selection", "every accused account, then the " + std::to_string(spec.listed) + " best others, by score"},
                   {"columns", ojson::array({"account", "score", "log10_p", "log10_p_fw", "accused"})},
                   {"rows", rows},
                   {"all_scores_sha256", all.finish()}};
  p["decoys"] = {{"count", o.decoys.count}, {"ks_statistic", o.decoys.ks.statistic}, {"ks_p_value", o.decoys.ks.p_value},
                 {"min_log10_p", o.decoys.min_log10_p}, {"passed", o.decoys.passed}};
  p["controls"] = {{"count", o.global.control_p.size()}, {"log10_p", o.global.control_log10_p}, {"ks_statistic", o.global.ks.statistic},
                   {"ks_p_value", o.global.ks.p_value}, {"uniform", o.global.controls_uniform}};
  const std::string outcome = o.outcome == "accounts accused"     ? "evidence"
                              : o.outcome == "no account accused" ? "no evidence"
                                                                  : o.outcome;
  std::ostringstream words;
  words << std::setprecision(6);
  const double best = o.listed.empty() ? 0.0 : o.listed.front().log10_p_fw;
  if (outcome == "evidence") {
    words << accused << (accused == 1 ? " account is" : " accounts are") << " accused at family-wise alpha = " << spec.alpha
          << " over the registry's " << o.accounts << " accounts: the suspect's text holds outputs generated for "
          << (accused == 1 ? "it" : "them") << " (the most significant: " << o.listed.front().id << ", family-wise p = 10^"
          << log10_text(best) << "). The " << o.decoys.count << " never-issued decoy accounts behave as the null predicts.";
  } else if (outcome == "no evidence") {
    words << "No account accused at family-wise alpha = " << spec.alpha << " over " << o.accounts
          << " accounts (the best: family-wise p = 10^" << log10_text(best)
          << "). Accounts outside the registry were not tested.";
  } else if (outcome == "insufficient evidence") {
    words << "Insufficient evidence: with " << o.counts.tuples << " counted tuples, not even the highest possible score could "
          << "reach alpha = " << spec.alpha << " over " << o.accounts << " accounts; no conclusion either way.";
  } else {
    words << "No verdict: " << (o.global.outcome == "no verdict" ? "the global test gave none (tape off, prompt windows not "
                                                                  "excluded, or its control keys not uniform)"
                                                                : "the decoy accounts are not uniform (KS p = " + log10_text(o.decoys.ks.p_value) + ")")
          << "; no account is accused.";
  }
  p["decision"] = decision_of(spec.alpha, spec.alpha_source, "Sidak over the registry's accounts; decoys checked for uniformity",
                              outcome, best, words.str());
  if (outcome == "no verdict") p["decision"]["log10_p"] = nullptr;
  p["limits"] = ojson::array(
      {"An account's p-value is exact given the counts and holds whatever else the text contains; it says the text holds "
       "outputs generated for the account, not who collected them.",
       "The family-wise error is controlled over the registry as recorded (its digest); accounts added later need a new test.",
       "No accusation is not proof of absence: an account's share of the text may be too small for its mark to show."});
  return p;
}

}  // namespace
}  // namespace evidence_detail

using namespace evidence_detail;

detect_report run_detect_test(detect_scan& scan, const report_context& context, const detect_scan::observer& on_document) {
  const subject_list subjects = subjects_of(scan.files(), context);
  const detect_spec& spec = scan.spec();
  if (needs_version_3(spec)) return run_scheme_detect_test(scan, subjects, context, on_document);
  detect_options options;
  options.dedup = spec.dedup;
  options.alpha = spec.alpha;
  detect_evidence evidence(spec.pooled, scan.detector(), scan.the_key(), options, scan.text_tokenizer());
  detect_report out;
  out.verdict = scan.run([&](const std::string& id_json, std::span<const token_id> tokens, const detection& d) {
    evidence.document(id_json, tokens, d);
    if (on_document) on_document(id_json, tokens, d);
  });
  subjects.check_unchanged();
  out.statement = statement_of(subjects, evidence.predicate(spec, out.verdict), context);
  return out;
}

detect_report run_interop_detect_test(interop_scan& scan, const report_context& context,
                                      const interop_scan::observer& on_document) {
  if (scan.spec().pooled) {
    throw error(errc::usage, "a pooled test under a transformers configuration has no report yet: version 4 records "
                             "one test per document; run the pooled test without --report/--html");
  }
  return run_interop_test(scan, subjects_of(scan.files(), context), context, on_document);
}

radioactivity_report run_radioactivity_test(radioactivity_scan& scan, const report_context& context) {
  const subject_list subjects = subjects_of(scan.files(), context);
  radioactivity_report out;
  out.outcome = scan.run();
  subjects.check_unchanged();
  out.statement = statement_of(subjects, radioactivity_predicate(scan.spec(), out.outcome, scan.the_key(), scan.text_tokenizer()),
                               context);
  return out;
}

trace_report run_trace_test(trace_scan& scan, const report_context& context) {
  const subject_list subjects = subjects_of(scan.files(), context);
  trace_report out;
  out.outcome = scan.run();
  subjects.check_unchanged();
  out.statement = statement_of(subjects, trace_predicate(scan, out.outcome), context);
  return out;
}

}  // namespace tritium
