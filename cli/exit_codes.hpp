// Documented exit codes of the `tritium` command (also in `tritium --help` and README.md).
// Input errors never share a code with "no evidence".
#pragma once

#include "tritium/error.hpp"

namespace tritium::cli {

enum exit_code : int {
  exit_evidence = 0,        ///< success; for detect: the watermark was detected at alpha
  exit_no_evidence = 1,     ///< detect: nothing reached alpha
  exit_insufficient = 2,    ///< detect: too few scored tokens for any conclusion at alpha
  exit_input_error = 3,     ///< malformed input, bad token id, missing/corrupt key, mismatch
  exit_usage = 4,           ///< bad command line
  exit_io_error = 5,        ///< an output file could not be written
  exit_verification_failed = 6,  ///< report verify: a signature, subject digest or recomputed figure differs
  exit_internal = 70,       ///< a bug
};

inline constexpr const char* exit_code_help =
    "Exit codes: 0 success / watermark detected at alpha; 1 no evidence at alpha; 2 insufficient\n"
    "evidence (too few scored tokens to reach alpha); 3 input error (malformed JSONL, token id out of\n"
    "range, unreadable input, missing or corrupt key, parameter mismatch); 4 usage error; 5 output\n"
    "error (a file could not be written); 6 verification failed (report verify: unknown signer, bad\n"
    "signature, a changed subject or a recomputed figure that differs); 70 internal error.";

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
