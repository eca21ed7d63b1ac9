// Internal: pieces of a predicate shared by the tests' statements, the specification and the HTML
// rendering (papers/evidence-v2.md).
#pragma once

#include <algorithm>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "tritium/detect.hpp"
#include "tritium/digest.hpp"
#include "tritium/interop_scan.hpp"
#include "tritium/evidence/report.hpp"
#include "tritium/key.hpp"
#include "tritium/tokenizer.hpp"

namespace tritium::evidence_detail {

bool valid_utf8(std::string_view s);

/// Scheme, PRF and parameters of the key, plus the statistic and test applied.
ojson method_of(const key& k, const std::string& deduplication, const std::string& aggregation);

/// The key's public identity: its id (a commitment, never the key), vocabulary and tokenizer binding.
ojson key_identity_of(const key& k);

/// How the input was read: token ids, or text through a tokenizer (its file, digest and size).
ojson input_of(const tokenizer* tok, const std::string& tokenizer_path, invalid_utf8 policy);

/// method.windows of a windowed detect test (papers/evidence-v3.md): null for whole documents.
ojson windows_method(std::uint64_t min_window);
/// decisive_test.window: the best window's place, counts (its score instead of a count when
/// `score`), own p and scan-corrected p, and the scan's size.
ojson window_json(const window_scan_result& w, bool score);
/// The limit a windowed report states.
inline constexpr const char* window_limit =
    "A window is chosen after looking at the text: its own p-value is shown for reading only, and the decision rests "
    "on the p-value corrected for every window of the scan.";

/// [[scored, -log10 p], ...]
ojson curve_of(const std::vector<curve_point>& curve);

/// A document id (JSON text, as the readers keep it) as a value of a report. A report is JSON read
/// back by JSON parsers, so a numeric id must be written as they print it again (12, not 1.2e1,
/// -0 or 123456789012345678901234, which read back as another number): otherwise errc::parse,
/// naming the id.
ojson report_id(const std::string& id_json);

/// The first `limit` tokens of a document with their marks (g green, r red, d repeated tuple, c no
/// context): text pieces when a tokenizer is given (complete UTF-8 characters), "#id" otherwise.
ojson excerpt_of(const std::string& id_json, std::span<const std::int32_t> tokens, std::span<const token_mark> marks,
                 const tokenizer* tok, std::size_t limit = 400);

/// The decision block: alpha, outcome, the decisive log10 p and the decision in plain words.
ojson decision_of(double alpha, const std::string& alpha_source, const std::string& correction, const std::string& outcome, double decisive_log10_p,
                  const std::string& words);

/// The typed test specifications (papers/evidence-v2.md, "specification") and back. The reader
/// checks every field's presence and type; errc::parse naming the JSON pointer.
ojson specification_of(const detect_spec& spec, const key& k, const tokenizer* tok);
ojson specification_of(const radioactivity_spec& spec, const key& k, const tokenizer* tok, std::size_t filter_windows);
ojson specification_of(const trace_spec& spec, const trace_params& params, const key& k, const tokenizer* tok,
                       std::size_t filter_windows);
detect_spec detect_spec_from(const ojson& specification);
/// A detect test needs report version 3 (specification version 2): schemes other than KGW alone, or
/// a windowed scan (papers/evidence-v3.md).
bool needs_version_3(const detect_spec& spec);
ojson specification_of(const fingerprint_spec& spec, const key& k);
fingerprint_spec fingerprint_spec_from(const ojson& specification);
/// The files a fingerprint test reads, as the report names them: set.json, then the answers.
std::vector<std::string> fingerprint_files(const fingerprint_spec& spec);
radioactivity_spec radioactivity_spec_from(const ojson& specification);
/// A trace test's specification and the trace parameters it was run with (the key's, then).
struct traced_spec {
  trace_spec spec;
  trace_params params;
};
traced_spec trace_spec_from(const ojson& specification);

/// A detect test under a transformers watermark configuration (papers/evidence-v4.md): the
/// specification (layout version 3) records the configuration's public fields only; its keys are
/// committed to by the predicate's key id (interop_report.cpp).
ojson specification_of(const interop_spec& spec, const interop_config& config, const tokenizer* tok);
/// The configuration's public fields: everything but KGW's hashing key and SynthID's layer keys and
/// table seed, with V for KGW (the scan's, not the file's).
ojson public_configuration(const interop_config& config);
/// The spec as recorded, and the configuration's public fields it was run with.
struct interop_recorded {
  interop_spec spec;
  ojson configuration;
};
interop_recorded interop_spec_from(const ojson& specification);

/// Points of a report's curve of −log10 p against the items scored.
inline constexpr std::size_t curve_points = 64;

/// A curve over n scored items at up to curve_points evenly spaced prefixes: `point(end)` gives the
/// point of the first `end` items, and is called with increasing ends (so it may accumulate).
template <class Point>
std::vector<curve_point> prefix_curve(std::size_t n, Point point) {
  std::vector<curve_point> curve;
  const std::size_t points = std::min(n, curve_points);
  for (std::size_t k = 1; k <= points; ++k) curve.push_back(point((k * n) / points));
  return curve;
}

/// Rows a report lists: all of them up to this many, beyond that the most significant.
inline constexpr std::size_t listed_rows_limit = 100000;

/// The rows of a detect report as they come (papers/evidence-v2.md): every row up to
/// listed_rows_limit, beyond that the ones with the smallest p-values, kept in a heap (bounded
/// memory); every row, listed or not, is covered by the digest of its exactly reproducible figures.
/// `Row` has its place in the input as `index`; `less_significant(a, b)` says a's p is larger (the
/// heap keeps the least significant row on top, to be dropped first).
template <class Row>
class ranked_rows {
 public:
  using order = bool (*)(const Row&, const Row&);
  explicit ranked_rows(order less_significant) : less_(less_significant) {}

  /// Adds a row; `digest_line` is its reproducible figures as one line of compact JSON.
  void add(Row r, const std::string& digest_line) {
    digest_.update(digest_line + "\n");
    ++seen_;
    rows_.push_back(std::move(r));
    std::push_heap(rows_.begin(), rows_.end(), less_);
    if (rows_.size() > listed_rows_limit) {
      std::pop_heap(rows_.begin(), rows_.end(), less_);
      rows_.pop_back();
    }
  }
  std::size_t seen() const noexcept { return seen_; }
  std::size_t listed() const noexcept { return rows_.size(); }
  /// The listed rows in input order, each as `to_json` writes it. Once, when the run is over.
  template <class ToJson>
  ojson in_input_order(ToJson to_json) {
    std::sort(rows_.begin(), rows_.end(), [](const Row& a, const Row& b) { return a.index < b.index; });
    ojson out = ojson::array();
    for (const Row& r : rows_) out.push_back(to_json(r));
    return out;
  }
  /// "sha256:..." over every row's digest line. Once, when the run is over.
  std::string digest() { return digest_.finish(); }

 private:
  order less_;
  std::vector<Row> rows_;
  std::size_t seen_ = 0;
  sha256_stream digest_;
};

/// Hashes the files before a test reads them and checks after it that none changed.
class subject_list {
 public:
  /// `name` as the report records it; `path` where it is read.
  void add(const std::string& name, const std::filesystem::path& path);
  /// errc::invalid_argument when a subject's size or modification time changed.
  void check_unchanged() const;
  ojson to_json() const;

 private:
  struct record {
    std::string name;
    std::filesystem::path path;
    std::string sha256;  ///< hex
    std::uintmax_t size = 0;
    std::filesystem::file_time_type mtime;
  };
  std::vector<record> subjects_;
};

/// A detect test under schemes other than KGW alone, or scanned in windows, with its version 3
/// statement (scheme_report.cpp, papers/evidence-v3.md).
detect_report run_scheme_detect_test(detect_scan& scan, const subject_list& subjects, const report_context& context,
                                     const detect_scan::observer& on_document);

/// A detect test under a transformers configuration with its version 4 statement
/// (interop_report.cpp, papers/evidence-v4.md). `subjects` are the scan's files.
detect_report run_interop_test(interop_scan& scan, const subject_list& subjects, const report_context& context,
                                      const interop_scan::observer& on_document);
/// Checks, in constant time, that `config` is the one the predicate's key commits to:
/// errc::verification_failed when it is not, errc::parse for commitment parameters this version
/// does not define.
void check_configuration_commitment(const ojson& predicate, const interop_config& config);

/// The statement around a predicate: subjects, type (of the predicate's layout `version`), and the
/// invocation record.
ojson statement_of(const subject_list& subjects, ojson predicate, const report_context& context, int version = 2);

/// Runs a scan whose observer sees (id, tokens, result), giving each result to `evidence.row_of`
/// before `on_document`; checks that no subject changed; wraps `evidence.predicate(verdict)` in a
/// statement of predicate `version`.
template <class Scan, class Evidence, class Observer>
detect_report run_with_evidence(Scan& scan, Evidence& evidence, const subject_list& subjects,
                                const report_context& context, int version, const Observer& on_document) {
  detect_report out;
  out.verdict = scan.run([&](const std::string& id_json, std::span<const token_id> tokens, const auto& d) {
    evidence.row_of(id_json, tokens, d);
    if (on_document) on_document(id_json, tokens, d);
  });
  subjects.check_unchanged();
  out.statement = statement_of(subjects, evidence.predicate(out.verdict), context, version);
  return out;
}

}  // namespace tritium::evidence_detail
