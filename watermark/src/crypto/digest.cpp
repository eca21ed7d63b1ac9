#include "tritium/digest.hpp"

#include <sodium.h>

#include <fstream>
#include <vector>

#include "tritium/error.hpp"

namespace tritium {
namespace {

std::string render(const unsigned char digest[crypto_hash_sha256_BYTES]) {
  static const char hex[] = "0123456789abcdef";
  std::string out = "sha256:";
  for (std::size_t i = 0; i < crypto_hash_sha256_BYTES; ++i) {
    out += hex[digest[i] >> 4];
    out += hex[digest[i] & 15];
  }
  return out;
}

}  // namespace

std::string sha256_digest(std::string_view bytes) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
  return render(digest);
}

std::array<std::uint8_t, 32> sha256_bytes(std::string_view bytes) {
  static_assert(crypto_hash_sha256_BYTES == 32);
  std::array<std::uint8_t, 32> out{};
  crypto_hash_sha256(out.data(), reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
  return out;
}

std::string sha256_file_digest(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw error(errc::io, "cannot open " + path.string() + " for reading");
  crypto_hash_sha256_state state;
  crypto_hash_sha256_init(&state);
  std::vector<char> buffer(1 << 20);
  while (in) {
    in.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    const auto n = in.gcount();
    if (n > 0) crypto_hash_sha256_update(&state, reinterpret_cast<const unsigned char*>(buffer.data()),
                                         static_cast<unsigned long long>(n));
  }
  if (in.bad()) throw error(errc::io, "read error in " + path.string());
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256_final(&state, digest);
  return render(digest);
}

struct sha256_stream::state {
  crypto_hash_sha256_state s;
};

sha256_stream::sha256_stream() : state_(std::make_unique<state>()) { crypto_hash_sha256_init(&state_->s); }
sha256_stream::~sha256_stream() = default;

void sha256_stream::update(std::string_view bytes) {
  crypto_hash_sha256_update(&state_->s, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
}

std::string sha256_stream::finish() {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256_final(&state_->s, digest);
  return render(digest);
}

}  // namespace tritium
