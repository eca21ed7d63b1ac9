// JSON Lines records whose ids come either as token ids or as text to tokenize; shared by the
// commands that read generations, corpora and suspect outputs (lm, radioactivity).
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tritium/json_lines.hpp"
#include "tritium/error.hpp"
#include "tritium/tokenizer.hpp"

namespace tritium {

/// One JSON Lines record; throws errc::parse naming `where` ("file:line") and the byte offset.
inline nlohmann::json parse_json_line(const std::string& line, const std::string& where) {
  check_json_line_bytes(line, where);
  try {
    return nlohmann::json::parse(line);
  } catch (const nlohmann::json::parse_error& e) {
    throw error(errc::parse, where + ":" + std::to_string(e.byte) + ": not valid JSON");
  } catch (const nlohmann::json::exception&) {
    throw error(errc::parse, where + ": not valid JSON (a number out of range)");
  }
}

/// Calls f(record, "file:line") for each non-blank line of a JSON Lines file, or of standard input
/// for "-" (named "<stdin>"). A folder is refused (errc::invalid_argument, naming it): opened as a
/// stream it reads as empty, and an input that yields nothing must never pass for one that was read.
template <class F>
void each_record(const std::string& path, F&& f) {
  std::ifstream file;
  std::istream* in = &std::cin;
  const std::string name = path == "-" ? "<stdin>" : path;
  if (path != "-") {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) {
      throw error(errc::invalid_argument, "input " + path + ": a folder, expected a JSON Lines file (or - for standard input)");
    }
    file.open(path, std::ios::binary);
    if (!file) throw error(errc::invalid_argument, "cannot open input " + path);
    in = &file;
  }
  std::string line;
  std::uint64_t number = 0;
  while (std::getline(*in, line)) {
    ++number;
    blank_byte_order_mark(line, number);
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = name + ":" + std::to_string(number);
    f(parse_json_line(line, where), where);
  }
  if (in->bad()) throw error(errc::invalid_argument, "read error in " + name + " after line " + std::to_string(number));
}

/// The ids of one part of a record under the record schema (README.md, "What the readers accept"):
/// the answer ("tokens" / "text") or the prompt ("prompt_tokens" / "prompt"). The ids in `ids_field`,
/// or the string in `text_field` tokenized by `session`. A record may carry both forms only when they
/// are the same part — the text is the tokenizer's decoding of the ids, as `generate` writes them —
/// and then the ids are read; never one field in place of another. A field "completion" (what
/// `generate` wrote before the schema) beside "text" is ambiguous and refused. False when the record
/// has neither field (nor a misnamed "completion"); throws errc::parse naming `where` for an
/// ambiguous, misnamed or malformed field.
inline bool ids_of(const nlohmann::json& j, const char* ids_field, const char* text_field,
                   tokenizer::session* session, std::vector<token_id>& out, const std::string& where) {
  out.clear();
  const std::string ids_name(ids_field), text_name(text_field);
  const bool has_ids = j.contains(ids_field);
  const bool has_text = j.contains(text_field);
  if (text_name == "text" && j.contains("completion")) {
    if (has_text) {
      throw error(errc::parse, where + ": fields \"text\" and \"completion\": ambiguous, expected the answer in \"text\" alone");
    }
    if (!has_ids) {
      throw error(errc::parse, where + ": missing field \"tokens\" or \"text\" (this line has \"completion\": the answer goes in \"text\")");
    }
  }
  if (has_ids) {
    const auto& ids = j[ids_field];
    if (!ids.is_array()) {
      throw error(errc::parse, where + ": field \"" + ids_name + "\": expected an array of token ids");
    }
    // Checked one by one: a conversion would turn 1.5 into 1 and 2^32 into 0 without a word.
    for (std::size_t i = 0; i < ids.size(); ++i) {
      const auto& v = ids[i];
      constexpr std::int64_t largest = std::numeric_limits<token_id>::max();
      const bool id = v.is_number_unsigned() ? v.get<std::uint64_t>() <= static_cast<std::uint64_t>(largest)
                      : v.is_number_integer() ? v.get<std::int64_t>() >= 0 && v.get<std::int64_t>() <= largest  // -0
                                              : false;
      if (!id) {
        throw error(errc::parse, where + ": field \"" + ids_name + "\"[" + std::to_string(i) +
                                     "]: expected an integer token id in [0, 2^31), got " + v.dump());
      }
      out.push_back(static_cast<token_id>(v.get<std::int64_t>()));
    }
    if (!has_text) return true;
  }
  if (has_text && !j[text_field].is_string()) {
    throw error(errc::parse, where + ": field \"" + text_name + "\": expected a string");
  }
  if (has_ids) {
    // Both forms: read only when they agree, which needs the tokenizer's decoding of the ids.
    const std::string both = where + ": fields \"" + ids_name + "\" and \"" + text_name + "\"";
    if (session == nullptr) {
      throw error(errc::parse, both + ": ambiguous without a tokenizer to check that they hold the same " +
                                   "text: give --tokenizer, or keep one of them");
    }
    std::string decoded;
    try {
      decoded = session->owner().decode(out);
    } catch (const error& e) {
      throw error(e.code(), both + ": " + e.what());
    }
    if (decoded != j[text_field].get_ref<const std::string&>()) {
      throw error(errc::parse, both + ": ambiguous, expected the same text (\"" + text_name +
                                   "\" the decoding of \"" + ids_name + "\"), got different ones; keep one of them");
    }
    return true;
  }
  if (has_text) {
    if (session == nullptr) {
      throw error(errc::invalid_argument, where + ": field \"" + text_name + "\" holds text: give --tokenizer");
    }
    session->encode(j[text_field].get_ref<const std::string&>(), out);
    return true;
  }
  return false;
}

}  // namespace tritium
