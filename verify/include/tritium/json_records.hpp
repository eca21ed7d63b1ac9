// JSON Lines records whose ids come either as token ids or as text to tokenize; shared by the
// commands that read generations, corpora and suspect outputs (lm, radioactivity).
#pragma once

#include <cstdint>
#include <fstream>
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

/// Calls f(record, "file:line") for each non-blank line of a JSON Lines file.
template <class F>
void each_record(const std::string& path, F&& f) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw error(errc::invalid_argument, "cannot open input " + path);
  std::string line;
  std::uint64_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    blank_byte_order_mark(line, number);
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
    const auto& ids = j[ids_field];
    if (!ids.is_array()) {
      throw error(errc::parse, where + ": field \"" + std::string(ids_field) + "\": expected an array of token ids");
    }
    // Checked one by one: a conversion would turn 1.5 into 1 and 2^32 into 0 without a word.
    for (std::size_t i = 0; i < ids.size(); ++i) {
      const auto& v = ids[i];
      constexpr std::int64_t largest = std::numeric_limits<token_id>::max();
      const bool id = v.is_number_unsigned() ? v.get<std::uint64_t>() <= static_cast<std::uint64_t>(largest)
                      : v.is_number_integer() ? v.get<std::int64_t>() >= 0 && v.get<std::int64_t>() <= largest  // -0
                                              : false;
      if (!id) {
        throw error(errc::parse, where + ": field \"" + std::string(ids_field) + "\"[" + std::to_string(i) +
                                     "]: expected an integer token id in [0, 2^31), got " + v.dump());
      }
      out.push_back(static_cast<token_id>(v.get<std::int64_t>()));
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

}  // namespace tritium
