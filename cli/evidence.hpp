// Evidence reports (papers/evidence-v1.md): every verification command can write its result as an
// in-toto Statement v1 whose subjects are the input files with their SHA-256 digests, wrapped in a
// DSSE envelope signed with an Ed25519 report-signing key, and/or as a self-contained HTML page.
//
// A command builds its predicate (hypothesis, method, key id, counts, decision, rows, curve, excerpt)
// and hands it to `evidence_run::finish`. The same path serves `tritium report verify --recompute`:
// there the command runs again from the arguments recorded in the statement, and `finish` hands the
// statement to the verifier instead of writing it.
#pragma once

#include <CLI/CLI.hpp>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace tritium {
class report_signing_key;
class report_public_key;
class atomic_output;
}  // namespace tritium

namespace tritium::cli {


using ojson = nlohmann::ordered_json;

/// The in-toto Statement type and tritium's predicate type; the version is the URI's last segment.
inline constexpr std::string_view statement_type = "https://in-toto.io/Statement/v1";
inline constexpr std::string_view predicate_type_prefix = "https://tritium.dev/evidence/watermark-test/v";
inline constexpr int predicate_version = 1;
std::string predicate_type();

struct report_options {
  std::string report_path;       ///< DSSE envelope to write
  std::string signing_key_path;  ///< Ed25519 report-signing key (tritium report keygen)
  std::string html_path;         ///< self-contained HTML rendering to write
  bool requested() const { return !report_path.empty() || !html_path.empty(); }
};

/// Adds --report, --signing-key and --html to a verification command.
void add_report_options(CLI::App& app, report_options& options);

/// The arguments after the program name, as given; recorded in reports (report options removed).
void set_invocation(std::vector<std::string> args);

/// RFC 3339 UTC time of the report: SOURCE_DATE_EPOCH when set (reproducible builds convention),
/// otherwise now. Throws errc::invalid_argument on a malformed SOURCE_DATE_EPOCH.
std::string report_time();

/// True when `args` hold an option that writes a file (--report, --html, --signing-key, -o/--output
/// in any spelling): recorded arguments with one are never re-run.
bool has_output_option(const std::vector<std::string>& args);

/// `untrusted` as a JSON string literal: control characters escaped, invalid UTF-8 replaced. For
/// messages that echo input, so that no input can write to the terminal.
std::string json_quoted(const std::string& untrusted);

/// Where `report verify --recompute` collects the statement of a re-run.
struct recompute_capture {
  std::optional<ojson> statement;
};
/// While set (non-null), evidence runs are active, write nothing and fill the capture.
void set_recompute_capture(recompute_capture* capture);

class evidence_run {
 public:
  /// Loads the signing key up front (so a bad key fails before any work). Throws errc::invalid_argument
  /// when --report is given without --signing-key.
  explicit evidence_run(const report_options& options);
  ~evidence_run();
  evidence_run(const evidence_run&) = delete;
  evidence_run& operator=(const evidence_run&) = delete;

  /// True when a statement will be written or captured: commands skip report-only work otherwise.
  bool active() const noexcept { return active_; }

  /// Records an input file (or every file a folder contributes) as a subject, hashing it now, before
  /// the command reads it. Standard input cannot be a subject: throws errc::invalid_argument.
  void subject(const std::string& path, const std::vector<std::filesystem::path>& folder_files = {});

  /// Checks that no subject changed while the command read it, wraps the predicate into a statement,
  /// signs it and writes the envelope and/or the HTML page atomically (or hands it to a recompute).
  void finish(ojson predicate);

 private:
  struct subject_record {
    std::string name;
    std::filesystem::path path;
    std::string sha256;  ///< hex
    std::uintmax_t size = 0;
    std::filesystem::file_time_type mtime;
  };
  report_options options_;
  bool active_ = false;
  std::string time_;
  std::unique_ptr<report_signing_key> signing_key_;
  std::unique_ptr<atomic_output> report_out_, html_out_;
  std::vector<subject_record> subjects_;
};

/// The statement JSON as signed (compact, insertion-ordered: byte-stable for the same content).
std::string statement_bytes(const ojson& statement);

/// Renders a statement as one self-contained HTML page. `signer` is the key id that signed it ("" when
/// unsigned).
std::string render_report_html(const ojson& statement, const std::string& signer);

/// Runs `tritium` with these arguments (after the program name) and returns its exit code; errors
/// are printed and mapped to exit codes exactly as the command line does.
int run_tritium(const std::vector<std::string>& args);

}  // namespace tritium::cli

// Pieces of a predicate shared by the verification commands.
namespace tritium {
class key;
class tokenizer;
struct curve_point;
enum class token_mark : std::int8_t;
}  // namespace tritium

namespace tritium::cli {

/// Scheme, PRF and parameters of the key, plus the statistic and test applied.
ojson method_of(const tritium::key& k, const std::string& deduplication, const std::string& aggregation);

/// The key's public identity: its id (a commitment, never the key), vocabulary and tokenizer binding.
ojson key_identity_of(const tritium::key& k);

/// How the input was read: token ids, or text through a tokenizer (its file, digest and size).
ojson input_of(const tritium::tokenizer* tok, const std::string& tokenizer_path, const std::string& invalid_utf8);

/// [[scored, -log10 p], ...]
ojson curve_of(const std::vector<curve_point>& curve);

/// The first `limit` tokens of a document with their marks (g green, r red, d repeated tuple, c no
/// context): text pieces when a tokenizer is given (complete UTF-8 characters), "#id" otherwise.
/// A document id (JSON text, as the readers keep it) as a value of a report. A report is JSON read
/// back by JSON parsers, so a numeric id must be written as they print it again (12, not 1.2e1,
/// -0 or 123456789012345678901234, which read back as another number): otherwise errc::parse,
/// naming the id.
ojson report_id(const std::string& id_json);

ojson excerpt_of(const std::string& id_json, std::span<const std::int32_t> tokens,
                 std::span<const token_mark> marks, const tritium::tokenizer* tok, std::size_t limit = 400);

/// The decision block: alpha, outcome ("evidence", "no evidence", "insufficient evidence", "no
/// verdict"), the decisive log10 p and the decision in plain words.
ojson decision_of(double alpha, const std::string& correction, const std::string& outcome, double decisive_log10_p,
                  const std::string& words);

}  // namespace tritium::cli
