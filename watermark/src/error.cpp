#include "tritium/error.hpp"

namespace tritium {

const char* errc_name(errc code) noexcept {
  switch (code) {
    case errc::invalid_argument: return "invalid_argument";
    case errc::io: return "io";
    case errc::parse: return "parse";
    case errc::key_corrupt: return "key_corrupt";
    case errc::mismatch: return "mismatch";
    case errc::out_of_range: return "out_of_range";
    case errc::internal: return "internal";
    case errc::no_memory: return "no_memory";
    case errc::verification_failed: return "verification_failed";
  }
  return "unknown";
}

}  // namespace tritium
