// tritium/account_registry.hpp — the accounts a tracing test ranks.
//
// A registry is JSON Lines, one {"account": "<id>"} per line: every id ever issued that the test
// covers (papers/attribution.md §4.4: N, the number of accounts tested, sets the family-wise
// correction, so the registry is fixed before the scan and its digest goes in the report).
#pragma once

#include <string>
#include <vector>

namespace tritium {

struct account_registry {
  std::string path;              ///< as given
  std::string digest;            ///< "sha256:…" of the file's bytes, as read
  std::vector<std::string> ids;  ///< in file order
};

/// Reads a registry. Throws errc::parse naming "file:line" for a line that is not a JSON object with
/// exactly one string field "account", for an id tracing refuses (empty, over 1024 bytes, invalid
/// UTF-8: the byte offset within the id), and for an id listed twice (naming both lines);
/// errc::invalid_argument for a file that cannot be opened, is a folder, or holds no account.
account_registry read_account_registry(const std::string& path);

}  // namespace tritium
