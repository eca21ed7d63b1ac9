// Internal: pieces of a predicate shared by the tests' statements, the specification and the HTML
// rendering (papers/evidence-v2.md).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "tritium/detect.hpp"
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

}  // namespace tritium::evidence_detail
