// tritium/error.hpp — the one exception type of the C++ API.
//
// Every failure inside tritium is reported as `tritium::error`, which carries a stable `errc` code.
// Codes are append-only and mirror the C ABI status values in `tritium.h`; the CLI maps them to its
// documented exit codes. Messages follow "what failed: expected <constraint>, got <value>" and name
// where (file, line, field, token index). They never contain key material.
#pragma once

#include <stdexcept>
#include <string>

namespace tritium {

/// Stable error codes. Values never change; new codes are appended.
enum class errc : int {
  invalid_argument = 1,  ///< a caller passed a value outside its documented range
  io = 2,                ///< a file could not be read, created or renamed
  parse = 3,             ///< malformed input (JSON, JSONL, key file layout)
  key_corrupt = 4,       ///< a key file failed its integrity check or is truncated
  mismatch = 5,          ///< parameters of a key do not match the request (e.g. vocabulary size)
  out_of_range = 6,      ///< a token id outside [0, vocabulary size)
  internal = 7,          ///< a bug or an unexpected library failure
  no_memory = 8,         ///< an allocation failed
  verification_failed = 9,  ///< a signature, a digest or a recomputed figure does not match
};

/// Short, stable name of an error code ("invalid_argument", ...).
const char* errc_name(errc code) noexcept;

/// The exception thrown by every tritium function that can fail.
class error : public std::runtime_error {
 public:
  error(errc code, const std::string& message) : std::runtime_error(message), code_(code) {}
  errc code() const noexcept { return code_; }

 private:
  errc code_;
};

}  // namespace tritium
