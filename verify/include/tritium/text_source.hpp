// Documents of raw text for `tokenize` and `detect --tokenizer`: a .txt file (one document), a folder
// (every .txt file below it, in sorted path order, ids = relative paths), or JSON Lines
// {"id": ..., "text": ...} (a .jsonl file, or standard input "-"). Read one document at a time, so
// memory is bounded by the largest document, not by the corpus.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <istream>
#include <memory>
#include <string>
#include <vector>

#include "tritium/tokenizer.hpp"

namespace tritium {

/// The member a JSON Lines record gives its text in (README.md, "What the readers accept"): "text",
/// the answer under test, or "prompt", in a prompts file. Each reader reads its one field and never
/// another in its place.
enum class text_field : std::uint8_t { text, prompt };
const char* text_field_name(text_field f) noexcept;

struct text_document {
  std::string id_json;  ///< the id as JSON (a string or number)
  std::string text;
  std::string where;    ///< "file:line" or the file path, for messages
  bool unparsed = false;  ///< `text` still holds the JSON Lines record: call resolve() first
  invalid_utf8 policy = invalid_utf8::error;  ///< how resolve() treats invalid UTF-8 in the record
  text_field field = text_field::text;        ///< the member a JSON Lines record is read from
};

/// Parses a record left unparsed by a text_source with deferred parsing (a no-op otherwise). Throws
/// errc::parse like the source would have.
void resolve(text_document& doc);

class text_source {
 public:
  /// `format`: "auto" (by extension: .jsonl/.json → JSON Lines, a folder → .txt files, stdin → JSON
  /// Lines), "jsonl" or "text".
  text_source(const std::string& path, const std::string& format);
  /// Next document; false at the end. Throws tritium::error (errc::parse) naming file and line.
  bool next(text_document& doc);
  /// JSON Lines records are handed out unparsed (`text_document::unparsed`), so that several workers
  /// can parse them: the reader then only splits lines.
  void defer_parsing(bool defer) noexcept { defer_ = defer; }
  /// Invalid UTF-8 in a JSON Lines record: an error naming line and byte (the default), or read as
  /// U+FFFD per maximal subpart anywhere in the record, its id included. Text files are decoded by
  /// the tokenizer session, which has its own policy.
  void set_invalid_utf8(invalid_utf8 policy) noexcept { policy_ = policy; }
  /// The member JSON Lines records are read from (default "text").
  void read_field(text_field field) noexcept { field_ = field; }
  /// In folder mode, every .txt file it will read (sorted); empty otherwise.
  const std::vector<std::filesystem::path>& files() const noexcept { return files_; }

 private:
  enum class kind { jsonl, single_text, folder } kind_;
  std::string name_;
  std::ifstream file_;
  std::istream* in_ = nullptr;
  std::string line_;
  std::uint64_t line_number_ = 0;
  std::vector<std::filesystem::path> files_;
  std::filesystem::path root_;
  std::size_t next_file_ = 0;
  bool single_done_ = false;
  bool defer_ = false;
  invalid_utf8 policy_ = invalid_utf8::error;
  text_field field_ = text_field::text;
};

/// Parses one JSON Lines record {"id": ..., "text": "..."}; throws errc::parse naming `where` (and
/// the byte of invalid UTF-8).
void parse_text_record(const std::string& line, const std::string& where, text_document& doc);
/// The same, with invalid_utf8::replace reading invalid UTF-8 anywhere in the line as U+FFFD first.
void parse_text_record(const std::string& line, const std::string& where, text_document& doc,
                       invalid_utf8 policy);

/// The same with the general JSON parser only: the reference the fast path is tested against.
void parse_text_record_slow(const std::string& line, const std::string& where, text_document& doc);

}  // namespace tritium
