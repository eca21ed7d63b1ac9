// Reads JSON Lines documents {"id": ..., "tokens": [ints], ...} one line at a time, fast and with
// errors that name the file, line and byte offset. Other fields are validated as JSON and ignored.
#pragma once

#include <cstdint>
#include <istream>
#include <memory>
#include <string>
#include <vector>

#include "tritium/prf.hpp"

namespace tritium {

struct token_document {
  std::string id_json;  ///< the id exactly as written (a JSON string or number); "null" if absent
  std::vector<token_id> tokens;
  std::uint64_t line = 0;
};

class token_jsonl_reader {
 public:
  /// `name` is used in messages ("-" reads as "<stdin>").
  token_jsonl_reader(std::istream& in, std::string name);

  /// Reads the next non-blank line into `doc`; false at end of input. Throws tritium::error
  /// (errc::parse) naming file, line and byte offset.
  bool next(token_document& doc);

  /// Parses one line (exposed for tests).
  static void parse_line(const std::string& line, token_document& doc, const std::string& where);

 private:
  std::istream& in_;
  std::string name_;
  std::string line_;
  std::uint64_t line_number_ = 0;
};

}  // namespace tritium
