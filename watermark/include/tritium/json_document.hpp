// tritium/json_document.hpp — the one way tritium reads a whole JSON document from untrusted bytes (key files,
// report-signing keys, DSSE envelopes, tokenizer.json). JSON Lines readers have their own per-line
// parser in verify/ (tritium/json_lines.hpp).
#pragma once

#include <cstddef>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <string_view>

namespace tritium::detail {

/// Arrays and objects nested deeper than this are refused before parsing. Real key files, envelopes
/// and tokenizer.json files nest fewer than 10 levels; the limit keeps every recursive walk over a
/// parsed document (copies, dumps, the tokenizer.json component readers) far from the stack's end.
inline constexpr std::size_t json_max_depth = 64;

/// Parses `bytes` as exactly one JSON document (RFC 8259). The policy, shared by every reader of a
/// whole JSON document:
///   - a UTF-8 byte order mark at the very start is skipped; nothing else may precede the value;
///   - after the value only whitespace may follow: no second value, no trailing garbage;
///   - a NUL byte anywhere is refused (JSON text never holds one; nlohmann would stop reading there
///     and silently ignore the rest);
///   - arrays and objects may nest at most `json_max_depth` levels;
///   - a key may appear only once in an object (no "last one wins");
///   - a number too large for a double (e.g. 1e999) is refused.
/// Throws errc::parse with "<what>: not valid JSON at byte <offset>: <reason>" (the byte offset is
/// 0-based). The message never quotes the document's bytes, so that the text of a secret key file
/// cannot leak into it; a duplicated key is named quoted with quoted_for_message().
template <class Json>
Json parse_json_document(std::string_view bytes, const std::string& what);

extern template nlohmann::json parse_json_document<nlohmann::json>(std::string_view, const std::string&);
extern template nlohmann::ordered_json parse_json_document<nlohmann::ordered_json>(std::string_view,
                                                                                    const std::string&);

}  // namespace tritium::detail
