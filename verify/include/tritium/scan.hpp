// tritium/scan.hpp — a detect test over a whole input, as every front end runs it.
//
// A `detect_spec` names everything the result depends on: the input and how it is read (token ids,
// or text through a tokenizer, its format and invalid-UTF-8 policy), the deduplication, the
// aggregation (per document with a Bonferroni-corrected verdict, or one pooled test) and α. It is
// what an evidence report records as its test specification (papers/evidence-v2.md), so that the
// same test can be re-run from a report. How the scan runs — worker threads, where relative paths
// are resolved, what to do with warnings, whom to tell how far it has come — is a
// `scan_environment`, which never changes a figure.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "tritium/detect.hpp"
#include "tritium/gumbel.hpp"
#include "tritium/key.hpp"
#include "tritium/progress.hpp"
#include "tritium/tokenizer.hpp"
#include "tritium/unigram.hpp"

namespace tritium {

struct detect_spec {
  /// A JSON Lines file of {"id", "tokens"}; with a tokenizer: a text file, a folder of .txt files or
  /// JSON Lines of {"id", "text"}. "-" is standard input (never a report's subject).
  std::string input;
  std::string tokenizer;       ///< tokenizer.json or .gguf; empty: the input holds token ids
  std::string format = "auto"; ///< text input: auto, jsonl or text (text_source.hpp)
  invalid_utf8 utf8 = invalid_utf8::error;  ///< text input: refuse, or read as U+FFFD
  dedup_mode dedup = dedup_mode::context_token;
  bool pooled = false;  ///< one test over all documents with one global deduplication
  /// > 0: scan each document in windows of at least this many scored tuples (tritium/window_scan.hpp)
  /// and decide on the scan-corrected p-value; 0: whole documents only. Not with `pooled`.
  std::uint64_t min_window = 0;
  /// The schemes tested, each document under each (a subset of the key's params.schemes). More than
  /// one multiplies the Bonferroni correction by their number (pooled: one test per scheme). Unigram
  /// not with dedup none, nor a pooled Gumbel test.
  scheme_set schemes = scheme_bit(scheme_kind::kgw);
  double alpha = default_alpha;
  /// Who chose alpha, and how (recorded in reports): a front end says whether it was given.
  std::string alpha_source = "the library's default (0.001)";
};

/// How a scan runs; never what it computes.
struct scan_environment {
  std::filesystem::path base;  ///< relative paths of a spec are resolved against it (empty: the current directory)
  unsigned threads = 0;        ///< workers (0: every core, at most max_threads): tokenizing, model queries
  bool allow_tokenizer_mismatch = false;  ///< a tokenizer other than the key's is a warning, not an error
  std::function<void(const std::string&)> warn;  ///< warnings; none when empty
  progress_callback progress;  ///< how far the scan has come (tritium/progress.hpp); none when empty
  /// Memory for green lists kept across documents, shared by the workers (interop_scan, transformers
  /// KGW: hf_kgw_green_cache); 0 keeps none.
  std::size_t cache_bytes = std::size_t{256} << 20;

  /// `path` as the scan opens it: as given when absolute or "-", otherwise below `base`.
  std::filesystem::path resolve(const std::string& path) const;
  void warning(const std::string& message) const {
    if (warn) warn(message);
  }
};

/// The run's decision.
struct detect_verdict {
  /// "evidence", "no evidence", "insufficient evidence" (even an all-green result could not reach
  /// α after the correction, or no document was read) or "no verdict" (deduplication was off).
  std::string outcome;
  double decisive_log10_p = 0.0;  ///< Bonferroni-adjusted smallest p (min(0, log10(N·p))), or the pooled p
  std::size_t documents = 0;
  std::size_t schemes = 1;        ///< schemes each document was tested under (the correction's second factor)
  std::uint64_t max_scored = 0;   ///< the most tuples scored in one document
  /// With `pooled`: the decisive pooled test (the smallest p among the schemes; with more than one, its
  /// `detected` and `insufficient` are corrected for their number), and each scheme's in the spec's order.
  detection pooled;
  std::vector<detection> pooled_schemes;
  bool p_values_valid = true;     ///< false with dedup none: rows then never say detected

  bool detected() const noexcept { return outcome == "evidence"; }
};

/// Sets v's outcome and decisive_log10_p from the smallest ln p and the smallest ln p floor among
/// `tests` tests (Bonferroni): evidence when tests · min p ≤ alpha; insufficient evidence when not even
/// the most extreme outcome of any of them could get there.
void decide_bonferroni(detect_verdict& v, double min_ln_p, double min_ln_p_floor, double tests, double alpha);

/// A detect test ready to run: the tokenizer loaded and checked against the key.
class detect_scan {
 public:
  /// Called once per document and scheme tested (schemes in the order kgw, gumbel, unigram; documents
  /// in input order), with its tokens and its own detection (`detection::scheme` says which; with
  /// `pooled`: its contribution to the pooled test). `detected` is false whenever p-values are not valid.
  using observer = std::function<void(const std::string& id_json, std::span<const token_id> tokens, const detection& d)>;

  /// Loads the tokenizer (errc::invalid_argument when it cannot be read) and checks it against the
  /// key: its binding (errc::mismatch unless allowed) and its id count against the key's V. Throws
  /// errc::mismatch for a scheme the key does not name, errc::usage for a combination not supported.
  detect_scan(detect_spec spec, const key& k, scan_environment env);
  ~detect_scan();
  detect_scan(const detect_scan&) = delete;
  detect_scan& operator=(const detect_scan&) = delete;

  /// Every file the run will read, in order (the tokenizer, then the input or each text file of a
  /// folder), as named by the spec: the subjects of a report. Standard input is "-".
  std::vector<std::string> files() const;

  /// Reads the whole input once. Throws tritium::error naming the file and line of a bad record.
  /// With `min_window`, each document's detection carries its best window and is decided on it.
  detect_verdict run(const observer& on_document = {});

  const detect_spec& spec() const noexcept { return spec_; }
  const key& the_key() const noexcept { return key_; }
  const kgw_detector& detector() const noexcept { return detector_; }
  /// The tokenizer of text input; null for token ids.
  const tritium::tokenizer* text_tokenizer() const noexcept { return tokenizer_.get(); }

 private:
  detect_verdict decide(std::size_t documents, double min_ln_p, double min_ln_p_floor, std::uint64_t max_scored) const;
  /// Every scheme's detection of one document, in the spec's order.
  std::vector<detection> detect_document(std::span<const token_id> tokens, const detect_options& options) const;
  /// Replaces a document's verdict by its windowed scan's (spec_.min_window > 0); drops its marks.
  void scan_windows(detection& d) const;
  /// Sets a document's verdict and floor from its window scan.
  void decide_on_window(detection& d, const window_scan_result& w) const;

  detect_spec spec_;
  const key& key_;
  scan_environment env_;
  kgw_detector detector_;
  std::unique_ptr<const gumbel> gumbel_;    ///< when the spec tests Gumbel
  std::unique_ptr<const unigram> unigram_;  ///< when the spec tests Unigram
  std::unique_ptr<tritium::tokenizer> tokenizer_;
  std::vector<std::filesystem::path> listed_;  ///< a folder's text files as listed on construction
  std::vector<std::string> folder_files_;     ///< the same, named as the spec names the folder
};

}  // namespace tritium
