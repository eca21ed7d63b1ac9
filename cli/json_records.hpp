// JSON Lines records whose ids come either as token ids or as text to tokenize; shared by the
// commands that read generations, corpora and suspect outputs (lm, radioactivity).
#pragma once

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tritium/error.hpp"
#include "tritium/tokenizer.hpp"

namespace tritium::cli {

/// One JSON Lines record; throws errc::parse naming `where` ("file:line") and the byte offset.
inline nlohmann::json parse_json_line(const std::string& line, const std::string& where) {
  // Named here with its byte, not as "not valid JSON" (an option may let the caller replace it first).
  if (const std::size_t bad = find_invalid_utf8(line); bad != std::string::npos) {
    throw error(errc::parse, where + ":" + std::to_string(bad + 1) + ": invalid UTF-8");
  }
  try {
    return nlohmann::json::parse(line);
  } catch (const nlohmann::json::parse_error& e) {
    throw error(errc::parse, where + ":" + std::to_string(e.byte) + ": not valid JSON");
  } catch (const nlohmann::json::exception&) {
    throw error(errc::parse, where + ": not valid JSON (a number out of range)");
  }
}

/// Calls f(record, "file:line") for each non-blank line of a JSON Lines file.
template <class F>
void each_record(const std::string& path, F&& f) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw error(errc::invalid_argument, "cannot open input " + path);
  std::string line;
  std::uint64_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = path + ":" + std::to_string(number);
    f(parse_json_line(line, where), where);
  }
}

/// The ids of a record: the array in `ids_field`, or the tokenized string in `text_field` (which needs
/// a session). False when the record has neither.
inline bool ids_of(const nlohmann::json& j, const char* ids_field, const char* text_field,
                   tokenizer::session* session, std::vector<token_id>& out, const std::string& where) {
  out.clear();
  if (j.contains(ids_field)) {
    try {
      out = j[ids_field].get<std::vector<token_id>>();
    } catch (const nlohmann::json::exception&) {
      throw error(errc::parse, where + ": field \"" + std::string(ids_field) + "\": expected an array of token ids");
    }
    return true;
  }
  if (j.contains(text_field) && j[text_field].is_string()) {
    if (session == nullptr) {
      throw error(errc::invalid_argument, where + ": field \"" + std::string(text_field) + "\" holds text: give --tokenizer");
    }
    session->encode(j[text_field].get<std::string>(), out);
    return true;
  }
  return false;
}

}  // namespace tritium::cli
