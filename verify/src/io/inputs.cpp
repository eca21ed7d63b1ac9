#include "tritium/inputs.hpp"

#include <algorithm>
#include <charconv>
#include <thread>

namespace tritium {

void append_token_array(std::string& out, const std::vector<token_id>& ids) {
  out += '[';
  char digits[16];
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (i) out += ',';
    const auto [end, ec] = std::to_chars(digits, digits + sizeof digits, ids[i]);
    out.append(digits, end);
  }
  out += ']';
}

unsigned default_threads(unsigned requested) {
  if (requested != 0) return requested;
  const unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : std::min(n, max_threads);
}

invalid_utf8 parse_invalid_utf8(const std::string& name) {
  return name == "replace" ? invalid_utf8::replace : invalid_utf8::error;
}

}  // namespace tritium
