// Documented exit codes of the `tritium` command (also in `tritium --help` and README.md).
// Input errors never share a code with "no evidence".
#pragma once

#include <initializer_list>
#include <string>

#include "tritium/error.hpp"

namespace tritium::cli {

enum exit_code : int {
  exit_evidence = 0,        ///< success; for detect: the watermark was detected at alpha
  exit_no_evidence = 1,     ///< detect: nothing reached alpha
  exit_insufficient = 2,    ///< detect, radioactivity: too few scored tokens for any conclusion at alpha
  /// detect, radioactivity: no verdict (deduplication or prompt exclusion off, or control keys not
  /// uniform). The code of "insufficient evidence": both say "no conclusion", never "no evidence".
  exit_no_verdict = 2,
  exit_input_error = 3,     ///< malformed input, bad token id, missing/corrupt key, mismatch
  exit_usage = 4,           ///< bad command line
  exit_io_error = 5,        ///< an output file could not be written
  exit_verification_failed = 6,  ///< report verify: a signature, subject digest or recomputed figure differs
  exit_internal = 70,       ///< a bug
};

inline constexpr const char* exit_code_help =
    "Exit codes: 0 success / evidence at alpha (detect, radioactivity); 1 no evidence at alpha; 2 no\n"
    "conclusion: insufficient evidence (too few scored tokens to reach alpha) or no verdict\n"
    "(deduplication off, control keys not uniform); 3 input error (malformed JSONL, token id out of\n"
    "range, unreadable input, missing or corrupt key, parameter mismatch); 4 usage error (also: an\n"
    "existing key, model, filter or HTML file without --force); 5 output error (a file could not be\n"
    "written); 6 verification failed (report verify, report html); 70 internal error. Each command's\n"
    "--help lists the codes it returns and what they mean for it.";

/// What one exit code means for one command, for its --help footer.
struct exit_meaning {
  int code;
  std::string meaning;
};

/// A command's --help footer: the codes it can return, each with its meaning for that command.
inline std::string exit_codes_footer(std::initializer_list<exit_meaning> codes) {
  std::string footer = "Exit codes:";
  for (const exit_meaning& c : codes) {
    const std::string code = std::to_string(c.code);
    footer += "\n  " + code + std::string(4 - code.size(), ' ') + c.meaning;
  }
  return footer;
}

// The meanings most commands share.
inline constexpr const char* input_meaning =
    "input error: a file named on the command line is missing, unreadable or malformed (file, line and\n"
    "      byte named), a token id is out of range, or a key, tokenizer or model does not match";
inline constexpr const char* usage_meaning =
    "usage error: an option missing, malformed, out of range, or given where it is not used";
inline constexpr const char* usage_meaning_force =
    "usage error: an option missing, malformed, out of range, or given where it is not used; or\n"
    "      an existing output file without --force";
inline constexpr const char* output_meaning =
    "output error: an output could not be written (full disk, a directory); no partial file is left";
inline constexpr const char* internal_meaning = "internal error (a bug)";

inline int exit_code_for(errc code) noexcept {
  switch (code) {
    case errc::io: return exit_io_error;
    case errc::verification_failed: return exit_verification_failed;
    case errc::usage: return exit_usage;
    case errc::internal:
    case errc::no_memory: return exit_internal;
    default: return exit_input_error;
  }
}

}  // namespace tritium::cli
