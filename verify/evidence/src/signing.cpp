#include "tritium/evidence/signing.hpp"

#include <sodium.h>
#include <sys/stat.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "tritium/json_document.hpp"
#include "tritium/private_file.hpp"
#include "tritium/error.hpp"

namespace tritium {
namespace {

using json = nlohmann::json;

constexpr const char* signing_type = "tritium-report-signing-key";
constexpr const char* public_type = "tritium-report-public-key";
constexpr std::uintmax_t key_file_max_bytes = 4096;

std::string key_id_of(const std::array<std::uint8_t, 32>& pk) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, pk.data(), pk.size());
  static const char hex[] = "0123456789abcdef";
  std::string id = "ed25519:";
  for (std::size_t i = 0; i < 16; ++i) {
    id += hex[digest[i] >> 4];
    id += hex[digest[i] & 15];
  }
  return id;
}

// Reads a small key file whole; the caller wipes the text.
std::string read_key_file(const std::filesystem::path& path, const char* what) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) throw error(errc::io, std::string(what) + " " + path.string() + ": cannot read it");
  if (!S_ISREG(st.st_mode)) throw error(errc::io, std::string(what) + " " + path.string() + ": not a regular file");
  if (static_cast<std::uintmax_t>(st.st_size) > key_file_max_bytes) {
    throw error(errc::parse, std::string(what) + " " + path.string() + ": expected at most 4096 bytes, got " +
                                 std::to_string(st.st_size));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw error(errc::io, std::string(what) + " " + path.string() + ": cannot open for reading");
  std::string text(static_cast<std::size_t>(st.st_size), '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  return text;
}

// A value read from a key file, for a message: strings quoted (they may hold terminal controls or
// invalid UTF-8, on which dump() would throw), containers by their type only.
std::string shown(const json& v) {
  if (v.is_string()) return quoted_for_message(v.get_ref<const std::string&>());
  if (v.is_structured()) return v.type_name();
  return v.dump();
}

// Parses the fields both files share and returns the public key they hold.
std::array<std::uint8_t, 32> parse_common(const json& j, const std::filesystem::path& path, const char* type,
                                          const char* what) {
  auto field = [&](const char* name) -> const json& {
    const auto it = j.find(name);
    if (it == j.end()) throw error(errc::parse, std::string(what) + " " + path.string() + ": missing field \"" + name + "\"");
    return *it;
  };
  const json& t = field("type");
  if (!t.is_string() || t.get<std::string>() != type) {
    throw error(errc::parse, std::string(what) + " " + path.string() + ": field \"type\": expected \"" + type +
                                 "\", got " + shown(t));
  }
  if (!field("version").is_number_integer() || field("version") != 1) {
    throw error(errc::parse, std::string(what) + " " + path.string() + ": field \"version\": expected 1, got " +
                                 shown(field("version")));
  }
  if (field("algorithm") != "ed25519") {
    throw error(errc::parse, std::string(what) + " " + path.string() + ": field \"algorithm\": expected \"ed25519\", got " +
                                 shown(field("algorithm")));
  }
  if (!field("public_key").is_string() || !field("key_id").is_string()) {
    throw error(errc::parse, std::string(what) + " " + path.string() + ": \"public_key\" and \"key_id\" must be strings");
  }
  const std::string pk = base64_decode(field("public_key").get<std::string>(),
                                       std::string(what) + " " + path.string() + ": field \"public_key\"");
  if (pk.size() != 32) {
    throw error(errc::parse, std::string(what) + " " + path.string() + ": field \"public_key\": expected 32 bytes, got " +
                                 std::to_string(pk.size()));
  }
  std::array<std::uint8_t, 32> out{};
  std::memcpy(out.data(), pk.data(), 32);
  if (field("key_id").get<std::string>() != key_id_of(out)) {
    throw error(errc::key_corrupt, std::string(what) + " " + path.string() + ": field \"key_id\" " +
                                       shown(field("key_id")) + " is not the id of its public key (" +
                                       key_id_of(out) + ")");
  }
  return out;
}

json public_fields(const report_public_key& k, const char* type) {
  json j;
  j["type"] = type;
  j["version"] = 1;
  j["algorithm"] = "ed25519";
  j["key_id"] = k.key_id();
  j["public_key"] = base64_encode(std::string_view(reinterpret_cast<const char*>(k.bytes().data()), 32));
  return j;
}

}  // namespace

std::string base64_encode(std::string_view bytes) {
  std::string out(sodium_base64_encoded_len(bytes.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(),
                    sodium_base64_VARIANT_ORIGINAL);
  out.resize(out.size() - 1);  // the terminating NUL
  return out;
}

std::string base64_decode(std::string_view text, const std::string& what) {
  std::string out(text.size() / 4 * 3 + 3, '\0');
  std::size_t length = 0;
  const char* end = nullptr;
  const int rc = sodium_base642bin(reinterpret_cast<unsigned char*>(out.data()), out.size(), text.data(), text.size(),
                                   nullptr, &length, &end, sodium_base64_VARIANT_ORIGINAL);
  if (rc != 0 || end != text.data() + text.size()) {
    const std::size_t at = end != nullptr ? static_cast<std::size_t>(end - text.data()) : 0;
    throw error(errc::parse, what + ": invalid base64 at character " + std::to_string(at) + " of " +
                                 std::to_string(text.size()));
  }
  out.resize(length);
  return out;
}

report_public_key report_public_key::from_bytes(const std::array<std::uint8_t, 32>& bytes) {
  if (sodium_init() < 0) throw error(errc::internal, "libsodium failed to initialise");
  report_public_key k;
  k.bytes_ = bytes;
  k.key_id_ = key_id_of(bytes);
  return k;
}

report_public_key report_public_key::load(const std::filesystem::path& path) {
  const std::string text = read_key_file(path, "public key");
  const json j = detail::parse_json_document<json>(text, "public key " + path.string());
  if (!j.is_object()) throw error(errc::parse, "public key " + path.string() + ": expected a JSON object");
  if (j.contains("seed")) {
    throw error(errc::parse, "public key " + path.string() +
                                 ": this is a signing key (it holds a secret); give its .pub file instead");
  }
  return from_bytes(parse_common(j, path, public_type, "public key"));
}

void report_public_key::save(const std::filesystem::path& path, bool overwrite) const {
  // Not secret, but written the same careful way: complete or absent, never replacing a file.
  detail::write_private_file(path, public_fields(*this, public_type).dump(2) + "\n", overwrite, "public key");
  ::chmod(path.c_str(), S_IRUSR | S_IWUSR | S_IRGRP | S_IROTH);
}

bool report_public_key::verify(std::string_view message, std::string_view signature) const noexcept {
  if (signature.size() != crypto_sign_BYTES) return false;
  return crypto_sign_verify_detached(reinterpret_cast<const unsigned char*>(signature.data()),
                                     reinterpret_cast<const unsigned char*>(message.data()), message.size(),
                                     bytes_.data()) == 0;
}

report_signing_key report_signing_key::generate() {
  if (sodium_init() < 0) throw error(errc::internal, "libsodium failed to initialise");
  report_signing_key k;
  std::array<std::uint8_t, 32> pk{};
  crypto_sign_keypair(pk.data(), k.secret_.data());
  k.public_ = report_public_key::from_bytes(pk);
  return k;
}

report_signing_key report_signing_key::load(const std::filesystem::path& path) {
  if (sodium_init() < 0) throw error(errc::internal, "libsodium failed to initialise");
  std::string text = read_key_file(path, "signing key");
  json j;
  try {
    j = detail::parse_json_document<json>(text, "signing key " + path.string());
  } catch (...) {
    detail::secure_zero(text.data(), text.size());
    throw;
  }
  detail::secure_zero(text.data(), text.size());
  if (!j.is_object()) throw error(errc::parse, "signing key " + path.string() + ": expected a JSON object");
  const auto pk = parse_common(j, path, signing_type, "signing key");
  const auto it = j.find("seed");
  if (it == j.end() || !it->is_string()) {
    throw error(errc::parse, "signing key " + path.string() + ": missing field \"seed\"");
  }
  std::string& seed_text = it->get_ref<std::string&>();
  std::string seed;
  try {
    seed = base64_decode(seed_text, "signing key " + path.string() + ": field \"seed\"");
  } catch (...) {
    detail::secure_zero(seed_text.data(), seed_text.size());
    throw;
  }
  detail::secure_zero(seed_text.data(), seed_text.size());
  if (seed.size() != crypto_sign_SEEDBYTES) {
    detail::secure_zero(seed.data(), seed.size());
    throw error(errc::key_corrupt, "signing key " + path.string() + ": field \"seed\": expected 32 bytes, got " +
                                       std::to_string(seed.size()));
  }
  report_signing_key k;
  std::array<std::uint8_t, 32> derived{};
  crypto_sign_seed_keypair(derived.data(), k.secret_.data(), reinterpret_cast<const unsigned char*>(seed.data()));
  detail::secure_zero(seed.data(), seed.size());
  if (!detail::equal_constant_time(derived, pk)) {
    throw error(errc::key_corrupt, "signing key " + path.string() +
                                       ": the stored public key is not the one its seed derives (file damaged)");
  }
  k.public_ = report_public_key::from_bytes(pk);
  return k;
}

void report_signing_key::save(const std::filesystem::path& path, bool overwrite) const {
  json j = public_fields(public_, signing_type);
  std::string seed = base64_encode(std::string_view(reinterpret_cast<const char*>(secret_.data()), crypto_sign_SEEDBYTES));
  j["seed"] = seed;
  detail::secure_zero(seed.data(), seed.size());
  std::string text = j.dump(2) + "\n";
  auto& stored = j["seed"].get_ref<std::string&>();
  detail::secure_zero(stored.data(), stored.size());
  try {
    detail::write_private_file(path, text, overwrite, "signing key");
  } catch (...) {
    detail::secure_zero(text.data(), text.size());
    throw;
  }
  detail::secure_zero(text.data(), text.size());
}

report_signing_key::report_signing_key(report_signing_key&& other) noexcept
    : secret_(other.secret_), public_(std::move(other.public_)) {
  detail::secure_zero(other.secret_.data(), other.secret_.size());
}

report_signing_key::~report_signing_key() { detail::secure_zero(secret_.data(), secret_.size()); }

std::string report_signing_key::sign(std::string_view message) const {
  std::string sig(crypto_sign_BYTES, '\0');
  crypto_sign_detached(reinterpret_cast<unsigned char*>(sig.data()), nullptr,
                       reinterpret_cast<const unsigned char*>(message.data()), message.size(), secret_.data());
  return sig;
}

}  // namespace tritium
