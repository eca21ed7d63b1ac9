// tritium/error.hpp — the one exception type of the C++ API.
//
// Every failure inside tritium is reported as `tritium::error`, which carries a stable `errc` code.
// Codes are append-only and mirror the C ABI status values in `tritium.h`; the CLI maps them to its
// documented exit codes. Messages follow "what failed: expected <constraint>, got <value>" and name
// where (file, line, field, token index). They never contain key material.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>

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
  usage = 10,            ///< settings that cannot run together: a needed one missing, or one given and unused
};

/// Short, stable name of an error code ("invalid_argument", ...).
const char* errc_name(errc code) noexcept;

/// Untrusted text for a message: a JSON string literal in which quotes, backslashes, every control
/// character (C0, DEL, C1) and the bidirectional controls are escaped, and invalid UTF-8 is shown as
/// U+FFFD — so that no input can drive the terminal that prints the message.
std::string quoted_for_message(std::string_view text);

/// True when `text` holds a character quoted_for_message() would escape other than a quote or a
/// backslash (a control character, a bidirectional control, invalid UTF-8).
bool has_control_characters(std::string_view text);

/// The exception thrown by every tritium function that can fail.
class error : public std::runtime_error {
 public:
  error(errc code, const std::string& message) : std::runtime_error(message), code_(code) {}
  errc code() const noexcept { return code_; }

 private:
  errc code_;
};

}  // namespace tritium
