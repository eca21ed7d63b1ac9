// JSON output shared by tritium-llama-generate and tritium-llama-server's served-output log: a
// string with the escapes JSON requires (quote, backslash, control characters; other bytes pass
// through, so the caller's UTF-8 stays as it is) and an array of token ids.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

namespace tritium_llama {

inline void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", u);
      out += buf;
    } else {
      out += c;
    }
  }
  out += '"';
}

inline void append_json_tokens(std::string& out, const std::vector<int32_t>& tokens) {
  out += '[';
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (i != 0) out += ',';
    out += std::to_string(tokens[i]);
  }
  out += ']';
}

}  // namespace tritium_llama
