#include "tritium/scan.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iostream>
#include <numbers>

#include "tritium/batch_pipeline.hpp"
#include "tritium/error.hpp"
#include "tritium/inputs.hpp"
#include "tritium/text_source.hpp"
#include "tritium/token_jsonl.hpp"
#include "tritium/window_scan.hpp"

namespace tritium {

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
  if (spec_.input != "-") {
    // The folder's files are listed now, so that a report can hash them before any is read.
    text_source listing(env_.resolve(spec_.input).string(), spec_.format);
    const std::filesystem::path root = env_.resolve(spec_.input);
    listed_ = listing.files();
    for (const auto& f : listed_) {
      folder_files_.push_back((std::filesystem::path(spec_.input) / f.lexically_relative(root)).string());
    }
  }
}

detect_scan::~detect_scan() = default;

std::vector<std::string> detect_scan::files() const {
  std::vector<std::string> out;
  if (!spec_.tokenizer.empty()) out.push_back(spec_.tokenizer);
  if (spec_.input == "-") {
    out.push_back("-");  // standard input: never a report's subject, and refused as one
    return out;
  }
  std::error_code ec;
  if (tokenizer_ && std::filesystem::is_directory(env_.resolve(spec_.input), ec)) {
    out.insert(out.end(), folder_files_.begin(), folder_files_.end());
  } else {
    out.push_back(spec_.input);
  }
  return out;
}

void detect_scan::scan_windows(detection& d) const {
  window_scan_options options;
  options.min_window = spec_.min_window;
  const window_scan_result w = window_scan(d, options);
  const double ln_alpha = std::log(spec_.alpha);
  d.detected = spec_.dedup != dedup_mode::none && w.ln_p_scan <= ln_alpha;
  // The smallest corrected p any outcome could reach is the all-green whole text's, J·γ^T.
  d.insufficient = static_cast<double>(w.scored) * std::log(d.gamma) + std::log(static_cast<double>(w.sizes)) > ln_alpha;
  d.window = w;
  d.marks.clear();
  d.marks.shrink_to_fit();
}

detect_verdict detect_scan::decide(std::size_t documents, double min_ln_p, std::uint64_t max_scored) const {
  detect_verdict v;
  v.documents = documents;
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
  // Bonferroni across documents: evidence when N · min p ≤ alpha, computed in log space.
  const double ln_n = std::log(static_cast<double>(documents));
  const double ln_alpha = std::log(spec_.alpha);
  v.decisive_log10_p = std::min(0.0, (min_ln_p + ln_n) / std::numbers::ln10);
  const bool detected = min_ln_p + ln_n <= ln_alpha;
  // Even an all-green document with the most scored tuples could not reach alpha / N.
  // With windows, the whole text's factor J (the most sizes belong to the longest document).
  const double ln_sizes = spec_.min_window == 0
                              ? 0.0
                              : std::log(static_cast<double>(window_grid(max_scored, spec_.min_window).size()));
  const bool insufficient =
      static_cast<double>(max_scored) * std::log(key_.params().gamma()) + ln_sizes > ln_alpha - ln_n;
  v.outcome = detected ? "evidence" : insufficient ? "insufficient evidence" : "no evidence";
  return v;
}

detect_verdict detect_scan::run(const observer& on_document) {
  detect_options options;
  options.dedup = spec_.dedup;
  options.alpha = spec_.alpha;
  options.want_marks = spec_.min_window > 0;  // the scan reads the marks, then drops them
  const bool valid = spec_.dedup != dedup_mode::none;
  kgw_detector::corpus pooled(detector_, options);
  std::size_t documents = 0;
  double min_ln_p = 0.0;
  std::uint64_t max_scored = 0;
  progress_meter progress(env_.progress, "documents");
  // One document, in input order, on the calling thread.
  auto take = [&](const std::string& id_json, std::span<const token_id> tokens, detection d, const std::string& where) {
    try {
      if (spec_.pooled) d = pooled.add(tokens);
      if (!valid) d.detected = false;
      ++documents;
      min_ln_p = std::min(min_ln_p, d.window ? d.window->ln_p_scan : d.ln_p);
      max_scored = std::max(max_scored, d.scored);
      if (on_document) on_document(id_json, tokens, d);
      progress.advance();
    } catch (const error& e) {
      throw error(e.code(), where + ": " + e.what());
    }
  };

  const std::filesystem::path input = env_.resolve(spec_.input);
  if (!tokenizer_) {
    std::ifstream file;
    std::istream* in = &std::cin;
    if (spec_.input != "-") {
      file.open(input, std::ios::binary);
      if (!file) throw error(errc::invalid_argument, "cannot open input " + spec_.input);
      in = &file;
    }
    token_jsonl_reader reader(*in, spec_.input);
    token_document doc;
    while (reader.next(doc)) {
      const std::string where = spec_.input + ":" + std::to_string(doc.line);
      detection d;
      if (!spec_.pooled) {
        try {
          d = detector_.detect(doc.tokens, options);
          if (spec_.min_window > 0) scan_windows(d);
        } catch (const error& e) {
          throw error(e.code(), where + ": " + e.what());
        }
      }
      take(doc.id_json, doc.tokens, std::move(d), where);
    }
  } else {
    text_source source(spec_.input == "-" ? std::string("-") : input.string(), spec_.format);
    // The files read must be the files listed (and hashed, for a report) when the scan was made.
    if (source.files() != listed_) {
      throw error(errc::invalid_argument, "input folder " + spec_.input + " changed since the scan listed its files");
    }
    source.defer_parsing(true);
    source.set_invalid_utf8(spec_.utf8);
    const unsigned workers = default_threads(env_.threads);
    std::vector<tokenizer::session> sessions;
    for (unsigned w = 0; w < workers; ++w) sessions.emplace_back(*tokenizer_, spec_.utf8);
    struct result {
      std::vector<token_id> tokens;
      detection d;
    };
    run_batches<text_document, result>(
        workers, batch_limits{}, [&](text_document& d) { return source.next(d); },
        [](const text_document& d) { return d.text.size(); },
        [&](text_document& d, result& r, unsigned w) {
          resolve(d);  // JSON Lines records are parsed here, on the workers
          try {
            r.tokens.clear();
            sessions[w].encode(d.text, r.tokens);
            r.d = spec_.pooled ? detection{} : detector_.detect(r.tokens, options);
            if (spec_.min_window > 0) scan_windows(r.d);
          } catch (const error& e) {
            throw error(e.code(), d.where + ": " + e.what());
          }
        },
        [&](text_document& d, result& r) { take(d.id_json, r.tokens, std::move(r.d), d.where); });
  }
  progress.finish();

  if (!spec_.pooled) return decide(documents, min_ln_p, max_scored);
  detect_verdict v;
  v.documents = documents;
  v.p_values_valid = valid;
  v.pooled = pooled.result();
  if (!valid) v.pooled.detected = false;
  v.max_scored = v.pooled.scored;
  v.decisive_log10_p = v.pooled.log10_p;
  v.outcome = !valid ? "no verdict"
              : documents == 0 || v.pooled.insufficient ? "insufficient evidence"
              : v.pooled.detected ? "evidence"
                                  : "no evidence";
  return v;
}

}  // namespace tritium
