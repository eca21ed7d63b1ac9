// `tritium detect`: exact KGW detection over documents of token ids (JSON Lines) or of raw text
// (with --tokenizer). Per-document rows test each document alone; the verdict of the whole run (its
// summary and exit code) corrects for the number of documents (Bonferroni), or is the pooled test.
#include <cmath>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <nlohmann/json.hpp>
#include <numbers>
#include <sstream>

#include "atomic_output.hpp"
#include "evidence.hpp"
#include "batch_pipeline.hpp"
#include "commands.hpp"
#include "exit_codes.hpp"
#include "text_source.hpp"
#include "token_jsonl.hpp"
#include "tokenize_support.hpp"
#include "tritium/binomial_tail.hpp"
#include "tritium/detect.hpp"
#include "tritium/digest.hpp"
#include "tritium/error.hpp"
#include "tritium/key.hpp"

namespace tritium::cli {
namespace {

std::string fixed(double x, int digits) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(digits) << x;
  return s.str();
}

std::string number(double x) {
  std::ostringstream s;
  s << std::setprecision(17) << x;
  return s.str();
}

std::string plain_id(const std::string& id_json) {
  if (id_json.size() >= 2 && id_json.front() == '"') {
    try {
      return nlohmann::json::parse(id_json).get<std::string>();
    } catch (const nlohmann::json::exception&) {
      return id_json;
    }
  }
  return id_json;
}

// Collects rows, prints them, and decides the run's verdict and exit code.
class reporter {
 public:
  reporter(std::ostream& os, bool json, const tritium::key& k, const detect_options& o,
           const std::string& dedup_name)
      : os_(os), json_(json), key_id_(k.id()), options_(o), dedup_name_(dedup_name),
        valid_(o.dedup != dedup_mode::none) {}

  void row(const std::string& id_json, detection d) {
    if (!valid_) d.detected = false;
    ++documents_;
    min_ln_p_ = std::min(min_ln_p_, d.ln_p);
    max_scored_ = std::max(max_scored_, d.scored);
    if (json_) {
      os_ << "{\"id\":" << id_json << fields(d) << "}\n";
      return;
    }
    if (documents_ == 1) os_ << header;
    print_row(plain_id(id_json), d);
  }

  int pooled(std::size_t documents, detection d) {
    if (!valid_) d.detected = false;
    if (json_) {
      os_ << "{\"documents\":" << documents << fields(d) << "}\n";
    } else {
      os_ << header;
      print_row("(pooled: " + std::to_string(documents) + " docs)", d);
      os_ << "\n" << null_line() << "\n";
      if (valid_) {
        os_ << "Pooled verdict: " << (d.detected ? "WATERMARK DETECTED" : d.insufficient ? "insufficient evidence" : "no evidence")
            << " at alpha = " << options_.alpha << ".\n";
      }
    }
    decisive_log10_ = d.log10_p;
    outcome_ = !valid_ ? "no verdict" : documents == 0 || d.insufficient ? "insufficient evidence"
               : d.detected ? "evidence" : "no evidence";
    if (!valid_) return refuse();
    if (documents == 0) return exit_insufficient;
    return d.detected ? exit_evidence : d.insufficient ? exit_insufficient : exit_no_evidence;
  }

  int finish() {
    if (documents_ == 0) {
      std::cerr << "tritium: warning: the input holds no documents\n";
      outcome_ = "insufficient evidence";
      return exit_insufficient;
    }
    if (!valid_) {
      outcome_ = "no verdict";
      decisive_log10_ = min_ln_p_ / std::numbers::ln10;
      return refuse();
    }
    // Bonferroni across documents: evidence when N · min p ≤ alpha, computed in log space.
    const double ln_n = std::log(static_cast<double>(documents_));
    const double ln_alpha = std::log(options_.alpha);
    const double adjusted_log10 = std::min(0.0, (min_ln_p_ + ln_n) / std::numbers::ln10);
    const bool detected = min_ln_p_ + ln_n <= ln_alpha;
    // Even an all-green document with the most scored tuples could not reach alpha / N.
    const bool insufficient = static_cast<double>(max_scored_) * std::log(gamma_) > ln_alpha - ln_n;
    decisive_log10_ = adjusted_log10;
    outcome_ = detected ? "evidence" : insufficient ? "insufficient evidence" : "no evidence";
    std::ostringstream verdict;
    verdict << (detected ? "WATERMARK DETECTED" : insufficient ? "insufficient evidence" : "no evidence")
            << " at alpha = " << options_.alpha << " across " << documents_
            << " document(s) (Bonferroni: smallest p times " << documents_ << ", log10 = "
            << fixed(adjusted_log10, 2) << ")";
    if (json_) {
      std::cerr << "tritium: " << verdict.str() << "\n";
    } else {
      os_ << "\n" << null_line() << "\n" << "Verdict: " << verdict.str() << ".\n"
          << "Rows test each document alone at alpha; the verdict corrects for testing " << documents_
          << " of them.\n";
    }
    return detected ? exit_evidence : insufficient ? exit_insufficient : exit_no_evidence;
  }

  void set_gamma(double g) { gamma_ = g; }
  /// After finish() or pooled(): "evidence", "no evidence", "insufficient evidence" or "no verdict",
  /// and the log10 p the decision rests on (Bonferroni-adjusted across documents, or the pooled one).
  const std::string& outcome() const noexcept { return outcome_; }
  double decisive_log10_p() const noexcept { return decisive_log10_; }
  std::uint64_t max_scored() const noexcept { return max_scored_; }

 private:
  static constexpr const char* header =
      "id                         tokens   scored   green  green%     log10 p   this document\n";

  int refuse() {
    const char* message =
        "tritium: warning: --dedup none scores repeated tuples, so the p-values above assume an "
        "independence that does not hold; no verdict is given\n";
    std::cerr << message;
    return exit_no_evidence;
  }

  std::string null_line() const {
    return "H0: the tokens were produced independently of key " + key_id_.substr(0, 16) +
           ". Exact one-sided binomial test, gamma = " + number(gamma_) + ", dedup " + dedup_name_ + ".";
  }

  std::string fields(const detection& d) const {
    std::string s;
    s += ",\"tokens\":" + std::to_string(d.tokens);
    s += ",\"scored\":" + std::to_string(d.scored);
    s += ",\"green\":" + std::to_string(d.green);
    s += ",\"gamma\":" + number(d.gamma);
    s += ",\"p_value\":" + number(d.p_value);
    s += ",\"log10_p\":" + number(d.log10_p);
    s += ",\"z\":" + number(d.z);
    s += std::string(",\"detected\":") + (d.detected ? "true" : "false");
    s += std::string(",\"insufficient\":") + (d.insufficient ? "true" : "false");
    if (!valid_) s += ",\"p_value_valid\":false";
    s += ",\"dedup\":\"" + dedup_name_ + "\"";
    s += ",\"alpha\":" + number(options_.alpha);
    s += ",\"key_id\":\"" + key_id_ + "\"";
    return s;
  }

  void print_row(const std::string& id, const detection& d) {
    const double share = d.scored ? 100.0 * static_cast<double>(d.green) / static_cast<double>(d.scored) : 0.0;
    const char* verdict = !valid_ ? "(no valid p-value)" : d.detected ? "p <= alpha" : d.insufficient ? "insufficient tokens" : "no evidence";
    os_ << std::left << std::setw(24) << (id.size() > 23 ? id.substr(0, 22) + "~" : id) << std::right
        << std::setw(9) << d.tokens << std::setw(9) << d.scored << std::setw(8) << d.green << std::setw(8)
        << fixed(share, 1) + "%" << std::setw(12) << fixed(d.log10_p, 2) << "   " << verdict << "\n";
  }

  std::ostream& os_;
  bool json_;
  std::string key_id_;
  detect_options options_;
  std::string dedup_name_;
  bool valid_;
  double gamma_ = 0.25;
  std::size_t documents_ = 0;
  double min_ln_p_ = 0.0;
  std::uint64_t max_scored_ = 0;
  std::string outcome_ = "no verdict";
  double decisive_log10_ = 0.0;
};

// What a report needs beyond the printed rows: every row, the decisive document (or the pooled
// run) with its marks and curve, and the pooled curve at document boundaries.
class detect_evidence {
 public:
  /// Rows listed in a report; beyond this many documents the ones with the smallest p-values are
  /// listed and every row is still covered by a digest (papers/evidence-v1.md).
  static constexpr std::size_t listed_rows = 100000;

  detect_evidence(bool active, bool pooled, const kgw_detector& detector, const tritium::key& k,
                  const detect_options& options, const tokenizer* tok)
      : active_(active), pooled_(pooled), valid_(options.dedup != dedup_mode::none), detector_(detector), key_(k),
        options_(options), tok_(tok) {}

  void document(const std::string& id_json, std::span<const token_id> tokens, const detection& d) {
    if (!active_) return;
    // A row as the reporter shows it: without deduplication nothing is "detected".
    row r{documents_, id_json, d.tokens, d.scored, d.green, d.log10_p, valid_ && d.detected, d.insufficient};
    // The digest covers what a recomputation reproduces exactly; log10_p is a function of these
    // (and of gamma), compared within a tolerance in the listed rows.
    rows_digest_.update(ojson::array({report_id(r.id_json), r.tokens, r.scored, r.green, r.detected, r.insufficient}).dump() +
                        "\n");
    rows_.push_back(std::move(r));
    std::push_heap(rows_.begin(), rows_.end(), less_significant);
    if (rows_.size() > listed_rows) {
      std::pop_heap(rows_.begin(), rows_.end(), less_significant);
      rows_.pop_back();
    }
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

  ojson predicate(bool pooled, const reporter& r, const std::string& dedup_name, const std::string& tokenizer_path,
                  const std::string& invalid_utf8, const detection& pooled_result) {
    ojson p;
    p["test"] = "detect";
    p["hypothesis"] = {
        {"null", "H0: the tokens were produced independently of key " + key_.id() +
                     " (the key is never disclosed; its id is a commitment to it)"},
        {"alternative", "the tokens were generated with this key's watermark, which favours green tuples"},
        {"not_claimed", "which model, person or organisation produced the text"}};
    p["method"] = method_of(key_, dedup_name,
                            pooled ? "pooled: one test over all documents with one global deduplication"
                                   : "per document; the run's decision is Bonferroni-corrected across documents");
    p["key"] = key_identity_of(key_);
    p["input"] = input_of(tok_, tokenizer_path, invalid_utf8);
    const double gamma = key_.params().gamma();
    p["totals"] = {{"documents", documents_},
                   {"tokens", totals_tokens_},
                   {"scored", pooled ? pooled_result.scored : totals_scored_},
                   {"green", pooled ? pooled_result.green : totals_green_}};
    const std::string id16 = key_.id().substr(0, 16);
    std::ostringstream words;
    const std::string& outcome = r.outcome();
    const std::string correction =
        pooled ? "none (one pooled test)"
               : "Bonferroni across " + std::to_string(documents_) + " document(s): smallest p times " +
                     std::to_string(documents_);
    if (outcome == "evidence") {
      words << "Evidence of the watermark of key " << id16 << ": if these tokens had been produced independently of "
            << "the key, a result at least this extreme would have probability 10^" << fixed(r.decisive_log10_p(), 2)
            << (pooled ? "" : " (corrected for the number of documents)") << ", at or below the decision threshold alpha = "
            << number(options_.alpha) << ". This concerns the key only; it does not say which model or person produced "
            << "the text.";
    } else if (outcome == "no evidence") {
      words << "No evidence at alpha = " << number(options_.alpha) << ": the green tuples are consistent with tokens "
            << "produced independently of key " << id16 << " (log10 p = " << fixed(r.decisive_log10_p(), 2)
            << "). This does not show that the text is unwatermarked: short, edited or low-entropy text can carry too "
            << "little signal.";
    } else if (outcome == "insufficient evidence") {
      words << "Insufficient evidence: with at most " << (pooled ? pooled_result.scored : r.max_scored())
            << " scored tuples, not even an all-green result could reach alpha = " << number(options_.alpha)
            << (pooled ? "" : " after the correction for the number of documents") << "; no conclusion either way.";
    } else {
      words << "No verdict: deduplication was off (--dedup none), so the independence the p-values assume does not "
            << "hold; the figures are shown for demonstration only.";
    }
    p["decision"] = decision_of(options_.alpha, correction, outcome, r.decisive_log10_p(), words.str());
    if (outcome == "no verdict") p["decision"]["log10_p"] = nullptr;  // no valid p-value to decide on
    std::sort(rows_.begin(), rows_.end(), [](const row& a, const row& b) { return a.index < b.index; });
    ojson listed = ojson::array();
    for (const auto& listed_row : rows_) listed.push_back(row_json(listed_row));
    p["documents"] = {{"total", documents_},
                      {"listed", rows_.size()},
                      {"selection", rows_.size() == documents_ ? "all, in input order"
                                                               : "the " + std::to_string(rows_.size()) +
                                                                     " with the smallest p-values, in input order"},
                      {"p_values_valid", valid_},
                      {"all_rows_sha256", rows_digest_.finish()},
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

  void remember_first(const std::string& id_json, std::span<const token_id> tokens) {
    if (!active_ || !first_id_.empty()) return;
    first_id_ = id_json;
    first_tokens_.assign(tokens.begin(), tokens.end());
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

  bool active_;
  bool pooled_;
  bool valid_;
  const kgw_detector& detector_;
  const tritium::key& key_;
  detect_options options_;
  const tokenizer* tok_;
  std::vector<row> rows_;
  std::size_t documents_ = 0;
  sha256_stream rows_digest_;
  std::uint64_t totals_tokens_ = 0, totals_scored_ = 0, totals_green_ = 0;
  double best_ln_p_ = 0.0;
  std::string best_id_;
  std::vector<token_id> best_tokens_;
  std::string first_id_;
  std::vector<token_id> first_tokens_;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> boundaries_;
  std::size_t boundary_stride_ = 1;
};

}  // namespace

void detect_command::setup(CLI::App& parent) {
  app = parent.add_subcommand("detect", "Test documents for a watermark (exact binomial test)");
  app->add_option("--key,-k", key_path, "Key file")->required();
  app->add_option("--input,-i", input,
                  "JSON Lines of {\"id\": ..., \"tokens\": [...]}, or - for stdin; with --tokenizer: text "
                  "(.txt, a folder of .txt, or JSON Lines {\"id\": ..., \"text\": ...})")
      ->required();
  app->add_option("--output,-o", output, "Write results here (atomically) instead of stdout");
  app->add_flag("--pool", pool, "One pooled test over all documents, with one global deduplication");
  app->add_flag("--json", json, "JSON Lines output: one object per document (or one with --pool)");
  app->add_option("--dedup", dedup, "Deduplication: context+token (default), context, or none (no verdict)")
      ->check(CLI::IsMember({"context+token", "context", "none"}))
      ->capture_default_str();
  app->add_option("--alpha", alpha, "Pre-registered significance level of the decision")
      ->check(CLI::Range(1e-300, 0.5))
      ->capture_default_str();
  app->add_option("--vocab-size", vocab_size, "Refuse unless the key's V (the logits width it watermarks) is this");
  app->add_option("--tokenizer-digest", tokenizer_digest,
                  "Refuse unless the key is bound to this tokenizer (or to none)");
  app->add_option("--tokenizer,-t", tokenizer_path,
                  "Detect from raw text, tokenized with this tokenizer.json or .gguf file");
  app->add_flag("--allow-tokenizer-mismatch", allow_tokenizer_mismatch,
                "Proceed (with a warning) when the key is bound to a different tokenizer");
  add_text_input_options(*app, format, invalid_utf8, threads);
  add_report_options(*app, report);
  app->footer(
      "Null hypothesis: the tokens were produced independently of the key. The p-value is the exact\n"
      "binomial upper tail after deduplication; z is informational only. Rows test each document\n"
      "alone; the verdict and exit code correct for the number of documents (Bonferroni) or, with\n"
      "--pool, come from one test over all documents.");
}

int detect_command::run() const {
  if (!tokenizer_path.empty()) return run_text();
  const tritium::key k = load_key_warn(key_path);
  if (vocab_size != 0) k.require_vocab_size(vocab_size);
  if (!tokenizer_digest.empty()) k.require_tokenizer(tokenizer_digest);
  evidence_run ev(report);
  ev.subject(input);
  const kgw_detector detector(k);
  detect_options options;
  options.dedup = *dedup_mode_from_name(dedup);
  options.alpha = alpha;

  std::ifstream file;
  std::istream* in = &std::cin;
  if (input != "-") {
    file.open(input, std::ios::binary);
    if (!file) throw error(errc::invalid_argument, "cannot open input " + input);
    in = &file;
  }
  token_jsonl_reader reader(*in, input);
  atomic_output out(output);
  reporter report_rows(out.stream(), json, k, options, dedup);
  report_rows.set_gamma(k.params().gamma());
  detect_evidence evidence(ev.active(), pool, detector, k, options, nullptr);
  token_document doc;
  kgw_detector::corpus pooled(detector, options);
  std::size_t documents = 0;
  while (reader.next(doc)) {
    ++documents;
    try {
      if (pool) {
        evidence.remember_first(doc.id_json, doc.tokens);
        evidence.document(doc.id_json, doc.tokens, pooled.add(doc.tokens));
      } else {
        const detection d = detector.detect(doc.tokens, options);
        evidence.document(doc.id_json, doc.tokens, d);
        report_rows.row(doc.id_json, d);
      }
    } catch (const error& e) {
      throw error(e.code(), input + ":" + std::to_string(doc.line) + ": " + e.what());
    }
  }
  const detection pooled_result = pooled.result();
  const int code = pool ? report_rows.pooled(documents, pooled_result) : report_rows.finish();
  out.commit();
  ev.finish(evidence.predicate(pool, report_rows, dedup, "", invalid_utf8, pooled_result));
  return code;
}

int detect_command::run_text() const {
  const tritium::key k = load_key_warn(key_path);
  if (vocab_size != 0) k.require_vocab_size(vocab_size);
  if (!tokenizer_digest.empty()) k.require_tokenizer(tokenizer_digest);
  evidence_run ev(report);
  ev.subject(tokenizer_path);  // hashed before it is read
  const tokenizer tok = load_tokenizer(tokenizer_path);
  const auto& p = k.params();
  // The binding is checked first: it says what is wrong more precisely than a size mismatch.
  if (p.tokenizer_digest.empty()) {
    std::cerr << "tritium: warning: the key is not bound to a tokenizer, so tritium cannot check that "
              << tokenizer_path << " is the one its model used\n";
  } else if (p.tokenizer_digest != tok.digest()) {
    const std::string message = "tokenizer: the key " + k.id().substr(0, 16) + " is bound to " +
                                p.tokenizer_digest + ", but " + tokenizer_path + " is " + tok.digest();
    if (!allow_tokenizer_mismatch) {
      throw error(errc::mismatch, message + " (use --allow-tokenizer-mismatch to proceed anyway)");
    }
    std::cerr << "tritium: warning: " << message << "; proceeding as asked\n";
  }
  k.require_tokenizer_ids(tok.vocab_size(), tokenizer_path);
  const kgw_detector detector(k);
  detect_options options;
  options.dedup = *dedup_mode_from_name(dedup);
  options.alpha = alpha;

  text_source source(input, format);
  source.defer_parsing(true);
  source.set_invalid_utf8(parse_invalid_utf8(invalid_utf8));
  ev.subject(input, source.files());
  atomic_output out(output);
  reporter report_rows(out.stream(), json, k, options, dedup);
  report_rows.set_gamma(p.gamma());
  detect_evidence evidence(ev.active(), pool, detector, k, options, &tok);
  const unsigned workers = default_threads(threads);
  std::vector<tokenizer::session> sessions;
  for (unsigned w = 0; w < workers; ++w) sessions.emplace_back(tok, parse_invalid_utf8(invalid_utf8));
  struct result {
    std::vector<token_id> tokens;
    detection d;
  };
  kgw_detector::corpus pooled(detector, options);
  std::size_t documents = 0;
  run_batches<text_document, result>(
      workers, batch_limits{}, [&](text_document& d) { return source.next(d); },
      [](const text_document& d) { return d.text.size(); },
      [&](text_document& d, result& r, unsigned w) {
        resolve(d);  // JSON Lines records are parsed here, on the workers
        try {
          r.tokens.clear();
          sessions[w].encode(d.text, r.tokens);
          r.d = pool ? detection{} : detector.detect(r.tokens, options);
        } catch (const error& e) {
          throw error(e.code(), d.where + ": " + e.what());
        }
      },
      [&](text_document& d, result& r) {
        ++documents;
        try {
          if (pool) {
            evidence.remember_first(d.id_json, r.tokens);
            evidence.document(d.id_json, r.tokens, pooled.add(r.tokens));
          } else {
            evidence.document(d.id_json, r.tokens, r.d);
            report_rows.row(d.id_json, std::move(r.d));
          }
        } catch (const error& e) {
          throw error(e.code(), d.where + ": " + e.what());
        }
      });
  const detection pooled_result = pooled.result();
  const int code = pool ? report_rows.pooled(documents, pooled_result) : report_rows.finish();
  out.commit();
  ev.finish(evidence.predicate(pool, report_rows, dedup, tokenizer_path, invalid_utf8, pooled_result));
  return code;
}

}  // namespace tritium::cli
