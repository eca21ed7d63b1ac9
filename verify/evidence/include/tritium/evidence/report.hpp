// tritium/evidence/report.hpp — signed evidence reports (papers/evidence-v2.md), from code.
//
// A verification test (tritium/scan.hpp, tritium/radioactivity_scan.hpp) run through this library
// yields, besides its verdict, an in-toto Statement v1: the input files as subjects with their
// SHA-256 digests, and a predicate holding the typed test specification, every figure the
// conclusion rests on, and the conclusion in words. A `report_writer` signs it into a DSSE envelope
// (Ed25519) and/or renders it as one HTML page. A reader opens an envelope against trusted public
// keys (`open_report`), re-hashes its subjects (`check_subjects`) and re-runs the test from the
// recorded specification (`recompute`): never from a recorded command line.
//
//   tritium::detect_scan scan(spec, key, env);
//   tritium::report_writer out({.report_path = "r.json", .signing_key_path = "signer.key"});
//   auto run = tritium::run_detect_test(scan, context);       // verdict + statement
//   out.write(run.statement);
//   ...
//   auto opened = tritium::open_report("r.json", {public_key});
//   tritium::check_subjects(opened.statement, base);
//   auto differences = tritium::recompute(opened.statement, key, base);  // empty: every figure matches
#pragma once

#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "tritium/fingerprint.hpp"
#include "tritium/interop_scan.hpp"
#include "tritium/radioactivity_scan.hpp"
#include "tritium/scan.hpp"
#include "tritium/trace_scan.hpp"

namespace tritium {

class atomic_output;
class report_signing_key;
class report_public_key;
using ojson = nlohmann::ordered_json;

/// The in-toto Statement type and tritium's predicate type; the version is the URI's last segment.
inline constexpr std::string_view statement_type = "https://in-toto.io/Statement/v1";
inline constexpr std::string_view predicate_type_prefix = "https://tritium.dev/evidence/watermark-test/v";
/// The newest version written. A report is written in the oldest version that holds its test:
/// version 4 (papers/evidence-v4.md) only for a detect test under a transformers configuration,
/// version 3 (papers/evidence-v3.md) only for a detect test under schemes other than KGW alone or
/// scanned in windows, version 2 for every other test. Version 1 reports (papers/evidence-v1.md) are
/// still opened and their signature and subjects verified; they record no test specification, so
/// they cannot be recomputed.
inline constexpr int predicate_version = 4;
std::string predicate_type(int version = predicate_version);

/// What made the report: recorded as information only, never re-run.
struct invocation_record {
  std::string tool = "tritium";
  std::string version = "0.1.0";
  std::vector<std::string> arguments;  ///< as given, without output options; absolute paths rewritten relative to the base
};

/// Where a report's paths are relative to, and what it says about its making.
struct report_context {
  /// Subject names and the specification's paths are relative to this directory (empty: the
  /// current one), so that a report holds no path of the analyst's machine.
  std::filesystem::path base;
  bool absolute_paths = false;  ///< record absolute paths instead (asked for explicitly)
  invocation_record invocation;
  std::string time;  ///< RFC 3339 UTC; report_time() when empty
};

/// RFC 3339 UTC time of a report: SOURCE_DATE_EPOCH when set (reproducible builds convention),
/// otherwise now. Throws errc::invalid_argument on a malformed SOURCE_DATE_EPOCH.
std::string report_time();

/// `path` (relative to the current directory, or absolute) as a report names it: relative to
/// `base` (lexically, "../" where needed), or absolute when `absolute` is set.
std::string report_path(const std::string& path, const std::filesystem::path& base, bool absolute = false);

/// The arguments as a report records them: absolute paths (an argument, or the value after "=",
/// starting with "/") rewritten relative to `base` unless `absolute`.
std::vector<std::string> recorded_arguments(std::vector<std::string> arguments, const std::filesystem::path& base,
                                            bool absolute = false);

/// A detect test with its statement.
struct detect_report {
  detect_verdict verdict;
  ojson statement;
};
/// Hashes every file the scan will read (its spec's paths are relative to `context.base`), runs it
/// (calling `on_document` for each document as the scan does), checks that no subject changed while
/// it was read, and builds the statement.
detect_report run_detect_test(detect_scan& scan, const report_context& context,
                              const detect_scan::observer& on_document = {});

/// A detect test under a transformers watermark configuration (`detect --hf-config`) with its
/// version 4 statement: the configuration is named by a commitment (Argon2id over the whole
/// configuration, salted by the subjects' digests), never by its keys. As run_detect_test otherwise.
detect_report run_interop_detect_test(interop_scan& scan, const report_context& context,
                                      const interop_scan::observer& on_document = {});

struct radioactivity_report {
  radioactivity_outcome outcome;
  ojson statement;
};
radioactivity_report run_radioactivity_test(radioactivity_scan& scan, const report_context& context);

/// A tracing test (tritium/trace_scan.hpp) with its statement: the global test's figures, the
/// registry's digest, the counts' digest, the exact null, every accused account and the best others
/// (all scores covered by a digest), and the decoys.
struct trace_report {
  trace_outcome outcome;
  ojson statement;
};
trace_report run_trace_test(trace_scan& scan, const report_context& context);
/// A model-fingerprint test (tritium/fingerprint.hpp) with its statement, predicate test "fingerprint".
struct fingerprint_report {
  fingerprint_result result;
  ojson statement;
};
/// Hashes set.json and the answers (the spec's paths relative to `context.base`), loads the set
/// against the commitment, checks that `k` makes exactly this set (errc::verification_failed
/// otherwise), runs the test and builds the statement. The statement records the commitment and the
/// per-question counts, never a question or a candidate.
fingerprint_report run_fingerprint_test(const fingerprint_spec& spec, const key& k, const report_context& context);

/// Where a statement goes: a signed DSSE envelope and/or an HTML page. Everything that could stop
/// the report (the signing key, the output paths) is checked on construction, before a test runs.
struct report_outputs {
  std::string report_path;       ///< DSSE envelope to write (needs a signing key)
  std::string signing_key_path;  ///< Ed25519 report-signing key
  std::string html_path;         ///< self-contained HTML rendering to write
};
class report_writer {
 public:
  /// Throws errc::invalid_argument for a report without a signing key, or an unreadable key;
  /// errc::io when an output cannot be created.
  explicit report_writer(const report_outputs& outputs);
  ~report_writer();
  report_writer(const report_writer&) = delete;
  report_writer& operator=(const report_writer&) = delete;

  /// True when the signing key file is readable by group or others (the front end warns).
  bool signing_key_exposed() const noexcept { return key_exposed_; }
  /// Signs and writes atomically.
  void write(const ojson& statement);

 private:
  std::unique_ptr<report_signing_key> signing_key_;
  std::unique_ptr<atomic_output> report_out_, html_out_;
  bool key_exposed_ = false;
};

/// The statement as signed (compact, insertion-ordered: byte-stable for the same content).
std::string statement_bytes(const ojson& statement);

/// An opened and verified envelope.
struct opened_report {
  std::string signer;  ///< key id of the trusted key that signed it
  ojson statement;     ///< its layout checked field by field
  int version = 0;     ///< the predicate version
};
/// Reads the envelope at `path`, checks its signature against `trusted` (errc::verification_failed),
/// then the statement's whole layout (errc::parse naming the JSON pointer).
opened_report open_report(const std::string& path, const std::vector<report_public_key>& trusted);

/// Re-hashes every subject below `base`: a missing or changed file is errc::verification_failed.
void check_subjects(const ojson& statement, const std::filesystem::path& base);

/// Re-runs the test from the statement's specification (its paths below `base`) with `k`, which must
/// be the report's key (errc::verification_failed otherwise), and compares every figure and subject
/// with the signed ones (floating-point figures to 1e-9 relative). Returns the differences, one
/// line each with its JSON pointer and both values (at most 12); empty when everything matches.
/// A version 1 report is errc::invalid_argument: it records only a command line. `threads` and
/// `progress` are the re-run scan's (scan_environment); neither changes a figure.
std::vector<std::string> recompute(const ojson& statement, const key& k, const std::filesystem::path& base,
                                   unsigned threads = 0, const progress_callback& progress = {});

/// Re-runs a version 4 report's test (detect under a transformers configuration) with `config`,
/// which must be the configuration the report commits to (errc::verification_failed otherwise,
/// checked in constant time before anything runs); V comes from the report. As the other
/// recompute otherwise. A report of a test under a tritium key is errc::invalid_argument (it needs
/// the key), and the other recompute refuses a version 4 report the same way.
std::vector<std::string> recompute(const ojson& statement, const interop_config& config, const std::filesystem::path& base,
                                   unsigned threads = 0, const progress_callback& progress = {});

/// Renders a statement as one self-contained HTML page. `signer` is the key id that signed it ("" when
/// unsigned).
std::string render_report_html(const ojson& statement, const std::string& signer);

/// `untrusted` as a JSON string literal: control characters escaped, invalid UTF-8 replaced. For
/// messages that echo input, so that no input can write to the terminal.
std::string json_quoted(const std::string& untrusted);

}  // namespace tritium
