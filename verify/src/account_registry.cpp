#include "tritium/account_registry.hpp"

#include <filesystem>
#include <fstream>
#include <iterator>
#include <unordered_map>

#include "tritium/digest.hpp"
#include "tritium/error.hpp"
#include "tritium/json_records.hpp"
#include "tritium/trace.hpp"
#include "tritium/utf8.hpp"

namespace tritium {

account_registry read_account_registry(const std::string& path) {
  account_registry registry;
  registry.path = path;
  if (path == "-") {
    throw error(errc::invalid_argument,
                "registry: expected a file (its digest goes in the report), got standard input");
  }
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    throw error(errc::invalid_argument, "registry " + path + ": a folder, expected a JSON Lines file");
  }
  // The digest is of exactly the bytes parsed: the file is read once, hashed, then split.
  std::ifstream file(path, std::ios::binary);
  if (!file) throw error(errc::invalid_argument, "cannot open registry " + path);
  const std::string bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  if (file.bad()) throw error(errc::invalid_argument, "read error in registry " + path);
  registry.digest = sha256_digest(bytes);
  std::unordered_map<std::string, std::string> seen;  // id → where
  auto each = [&](auto&& f) {
    std::uint64_t number = 0;
    for (std::size_t at = 0; at < bytes.size();) {
      std::size_t end = bytes.find('\n', at);
      if (end == std::string::npos) end = bytes.size();
      std::string line = bytes.substr(at, end - at);
      at = end + 1;
      blank_byte_order_mark(line, ++number);
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      const std::string where = path + ":" + std::to_string(number);
      f(parse_json_line(line, where), where);
    }
  };
  each([&](const nlohmann::json& j, const std::string& where) {
    if (!j.is_object() || j.size() != 1 || !j.contains("account")) {
      throw error(errc::parse, where + ": expected {\"account\": \"<id>\"} and no other field");
    }
    const auto& field = j["account"];
    if (!field.is_string()) throw error(errc::parse, where + ": field \"account\": expected a string");
    std::string id = field.get<std::string>();
    if (id.empty() || id.size() > trace_v1::max_account_bytes) {
      throw error(errc::parse, where + ": field \"account\": expected 1 to " +
                                   std::to_string(trace_v1::max_account_bytes) + " bytes, got " +
                                   std::to_string(id.size()));
    }
    if (const std::size_t bad = find_invalid_utf8(id); bad != std::string::npos) {
      throw error(errc::parse, where + ": field \"account\": invalid UTF-8 at byte " + std::to_string(bad) + " of the id");
    }
    const auto [it, fresh] = seen.emplace(id, where);
    if (!fresh) throw error(errc::parse, where + ": account listed twice (first at " + it->second + ")");
    registry.ids.push_back(std::move(id));
  });
  if (registry.ids.empty()) {
    throw error(errc::invalid_argument, "registry " + path + ": holds no account");
  }
  return registry;
}

}  // namespace tritium
