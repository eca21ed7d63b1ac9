#include "tritium/key.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <type_traits>
#include <nlohmann/json.hpp>

#include "crypto/crypto.hpp"
#include "private_file.hpp"
#include "tritium/error.hpp"
#include "tritium/prf.hpp"

namespace tritium {
namespace {

using json = nlohmann::json;

constexpr const char* key_file_format = "tritium-key";
constexpr int key_file_version = 1;
constexpr std::uintmax_t key_file_max_bytes = 64 * 1024;

std::string to_hex(std::span<const std::uint8_t> bytes) {
  static const char digits[] = "0123456789abcdef";
  std::string out(bytes.size() * 2, '0');
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    out[2 * i] = digits[bytes[i] >> 4];
    out[2 * i + 1] = digits[bytes[i] & 15];
  }
  return out;
}

bool from_hex(const std::string& text, std::span<std::uint8_t> out) {
  if (text.size() != out.size() * 2) return false;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  for (std::size_t i = 0; i < out.size(); ++i) {
    const int hi = nibble(text[2 * i]);
    const int lo = nibble(text[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<std::uint8_t>(hi << 4 | lo);
  }
  return true;
}

std::string compute_key_id(const std::array<std::uint8_t, key::secret_size>& secret) {
  std::uint8_t message[prf_v1::key_id_label.size() + 1 + key::secret_size];
  std::memcpy(message, prf_v1::key_id_label.data(), prf_v1::key_id_label.size());
  message[prf_v1::key_id_label.size()] = 0x00;
  std::memcpy(message + prf_v1::key_id_label.size() + 1, secret.data(), secret.size());
  std::uint8_t digest[32];
  detail::sha256(message, digest);
  detail::secure_zero(message, sizeof message);
  return to_hex(digest);
}

json params_to_json(const kgw_params& p) {
  json j;
  j["gamma"] = p.gamma();
  j["gamma_bits"] = p.gamma_bits;
  j["gamma_threshold"] = p.gamma_threshold;
  j["delta"] = p.delta;
  j["context_width"] = p.context_width;
  j["seeding"] = seeding_name(p.seeding_scheme);
  j["vocab_size"] = p.vocab_size;
  j["tokenizer_digest"] = p.tokenizer_digest.empty() ? json(nullptr) : json(p.tokenizer_digest);
  // Written only when set, so that key files made before the field existed keep their MAC.
  if (p.tokenizer_vocab_size != 0) j["tokenizer_vocab_size"] = p.tokenizer_vocab_size;
  return j;
}

// The HMAC binds the public parameters to the secret, so that an edited γ or δ is caught on load.
std::string params_mac(const std::array<std::uint8_t, key::secret_size>& secret, const json& params) {
  std::uint8_t mac_key[32];
  detail::hkdf_expand_sha256(secret, prf_v1::key_file_mac_label, mac_key);
  const std::string canonical = params.dump();
  std::uint8_t mac[32];
  detail::hmac_sha256(mac_key, {reinterpret_cast<const std::uint8_t*>(canonical.data()),
                                canonical.size()},
                      mac);
  detail::secure_zero(mac_key, sizeof mac_key);
  return to_hex(mac);
}

[[noreturn]] void corrupt(const std::filesystem::path& path, const std::string& what) {
  throw error(errc::key_corrupt, "key file " + path.string() + ": " + what);
}

template <class T>
T field(const json& object, const char* name, const std::filesystem::path& path) {
  auto it = object.find(name);
  if (it == object.end()) corrupt(path, std::string("missing field '") + name + "'");
  if constexpr (std::is_integral_v<T>) {
    // nlohmann converts a JSON float to an integer with a plain cast: 1.7 would read as 1, and 1e300
    // is undefined behaviour. Only an integer within T's range is read.
    const bool in_range =
        it->is_number_unsigned()  ? it->template get<std::uint64_t>() <= std::uint64_t{std::numeric_limits<T>::max()}
        : it->is_number_integer() ? it->template get<std::int64_t>() >= std::int64_t{std::numeric_limits<T>::min()} &&
                                        it->template get<std::int64_t>() <= std::int64_t{std::numeric_limits<T>::max()}
                                  : false;
    if (!in_range) {
      corrupt(path, std::string("field '") + name + "': expected an integer in [" +
                        std::to_string(std::numeric_limits<T>::min()) + ", " + std::to_string(std::numeric_limits<T>::max()) +
                        "], got " + (it->is_number() ? it->dump() : std::string(it->type_name())));
    }
  }
  try {
    return it->get<T>();
  } catch (const json::exception&) {
    corrupt(path, std::string("field '") + name + "' has the wrong type (" + it->type_name() + ")");
  }
}

kgw_params params_from_json(const json& j, const std::filesystem::path& path) {
  if (!j.is_object()) corrupt(path, "field 'params' must be an object");
  kgw_params p;
  p.gamma_bits = field<std::uint32_t>(j, "gamma_bits", path);
  p.gamma_threshold = field<std::uint32_t>(j, "gamma_threshold", path);
  p.delta = field<double>(j, "delta", path);
  p.context_width = field<std::uint32_t>(j, "context_width", path);
  const auto seeding_text = field<std::string>(j, "seeding", path);
  const auto s = seeding_from_name(seeding_text);
  if (!s) corrupt(path, "field 'seeding': expected lefthash or selfhash, got '" + seeding_text + "'");
  p.seeding_scheme = *s;
  p.vocab_size = field<std::uint32_t>(j, "vocab_size", path);
  auto digest = j.find("tokenizer_digest");
  if (digest != j.end() && !digest->is_null()) p.tokenizer_digest = field<std::string>(j, "tokenizer_digest", path);
  if (j.contains("tokenizer_vocab_size")) p.tokenizer_vocab_size = field<std::uint32_t>(j, "tokenizer_vocab_size", path);
  try {
    p.validate();
  } catch (const error& e) {
    corrupt(path, e.what());
  }
  if (field<double>(j, "gamma", path) != p.gamma()) {
    corrupt(path, "field 'gamma' disagrees with gamma_threshold / 2^gamma_bits");
  }
  return p;
}

}  // namespace

const char* seeding_name(seeding s) noexcept {
  switch (s) {
    case seeding::lefthash: return "lefthash";
    case seeding::selfhash: return "selfhash";
  }
  return "unknown";
}

std::optional<seeding> seeding_from_name(const std::string& name) noexcept {
  if (name == "lefthash") return seeding::lefthash;
  if (name == "selfhash") return seeding::selfhash;
  return std::nullopt;
}

double kgw_params::gamma() const noexcept {
  return static_cast<double>(gamma_threshold) / std::ldexp(1.0, static_cast<int>(gamma_bits));
}

void kgw_params::set_gamma(double gamma) {
  if (!(gamma > 0.0 && gamma < 1.0)) {
    throw error(errc::invalid_argument,
                "gamma: expected a value in (0, 1), got " + std::to_string(gamma));
  }
  for (std::uint32_t bits : {1u, 2u, 4u, 8u, 16u}) {
    const double scaled = std::ldexp(gamma, static_cast<int>(bits));
    if (scaled == std::floor(scaled)) {
      gamma_bits = bits;
      gamma_threshold = static_cast<std::uint32_t>(scaled);
      return;
    }
  }
  const double scaled = std::round(std::ldexp(gamma, 16));
  if (scaled < 1.0 || scaled >= 65536.0) {
    throw error(errc::invalid_argument,
                "gamma: expected a value representable as k/65536 with 0 < k < 65536, got " +
                    std::to_string(gamma));
  }
  gamma_bits = 16;
  gamma_threshold = static_cast<std::uint32_t>(scaled);
}

void kgw_params::validate() const {
  auto bad = [](const std::string& what) { throw error(errc::invalid_argument, what); };
  if (gamma_bits != 1 && gamma_bits != 2 && gamma_bits != 4 && gamma_bits != 8 && gamma_bits != 16) {
    bad("gamma_bits: expected one of 1, 2, 4, 8, 16, got " + std::to_string(gamma_bits));
  }
  if (gamma_threshold < 1 || gamma_threshold >= (1u << gamma_bits)) {
    bad("gamma_threshold: expected 1 <= T < 2^gamma_bits = " + std::to_string(1u << gamma_bits) +
        ", got " + std::to_string(gamma_threshold));
  }
  if (!(delta >= 0.0) || !std::isfinite(delta) || delta > 64.0) {
    bad("delta: expected a finite value in [0, 64], got " + std::to_string(delta));
  }
  if (context_width < 1 || context_width > prf_v1::max_context_width) {
    bad("context_width: expected 1 <= h <= " + std::to_string(prf_v1::max_context_width) +
        ", got " + std::to_string(context_width));
  }
  if (tokenizer_vocab_size > vocab_size) {
    bad("tokenizer_vocab_size: expected at most vocab_size = " + std::to_string(vocab_size) + ", got " +
        std::to_string(tokenizer_vocab_size));
  }
  if (vocab_size < 2 || vocab_size > prf_v1::max_vocab_size) {
    bad("vocab_size: expected 2 <= V <= " + std::to_string(prf_v1::max_vocab_size) + ", got " +
        std::to_string(vocab_size));
  }
}

key::key(const std::array<std::uint8_t, secret_size>& secret, const kgw_params& params)
    : secret_(secret), params_(params), id_(compute_key_id(secret)) {
  params_.validate();
}

key::~key() { detail::secure_zero(secret_.data(), secret_.size()); }

key key::generate(const kgw_params& params) {
  params.validate();
  std::array<std::uint8_t, secret_size> secret{};
  detail::random_bytes(secret);
  key k(secret, params);
  detail::secure_zero(secret.data(), secret.size());
  return k;
}

key key::derive(const std::string& label) const {
  std::array<std::uint8_t, secret_size> secret{};
  detail::hkdf_expand_sha256(secret_, label, secret);
  key k(secret, params_);
  detail::secure_zero(secret.data(), secret.size());
  return k;
}

key key::from_secret(const std::array<std::uint8_t, secret_size>& secret, const kgw_params& params) {
  return key(secret, params);
}

std::string key::public_json() const {
  json j;
  j["format"] = key_file_format;
  j["version"] = key_file_version;
  j["key_id"] = id_;
  j["scheme"] = "kgw";
  j["prf"] = prf_v1::name;
  j["params"] = params_to_json(params_);
  return j.dump(2);
}

void key::require_vocab_size(std::uint32_t vocab_size) const {
  if (vocab_size != params_.vocab_size) {
    throw error(errc::mismatch, "vocabulary size: the key " + id_.substr(0, 16) +
                                    " was made for V = " + std::to_string(params_.vocab_size) +
                                    ", got V = " + std::to_string(vocab_size));
  }
}

void key::require_tokenizer(const std::string& tokenizer_digest) const {
  if (!params_.tokenizer_digest.empty() && !tokenizer_digest.empty() &&
      params_.tokenizer_digest != tokenizer_digest) {
    throw error(errc::mismatch, "tokenizer: the key " + id_.substr(0, 16) + " is bound to " +
                                    params_.tokenizer_digest + ", got " + tokenizer_digest);
  }
}

void key::save(const std::filesystem::path& path, bool overwrite) const {
  json j = json::parse(public_json());
  std::string secret_hex = to_hex(secret_);
  j["secret"] = secret_hex;
  detail::secure_zero(secret_hex.data(), secret_hex.size());
  j["mac"] = params_mac(secret_, j["params"]);
  std::string text = j.dump(2) + "\n";
  auto& stored = j["secret"].get_ref<std::string&>();
  detail::secure_zero(stored.data(), stored.size());

  try {
    detail::write_private_file(path, text, overwrite, "key file");
  } catch (...) {
    detail::secure_zero(text.data(), text.size());
    throw;
  }
  detail::secure_zero(text.data(), text.size());
}

key key::load(const std::filesystem::path& path, key_load_info* info) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    throw error(errc::io, "key file " + path.string() + ": " + std::strerror(errno));
  }
  if (!S_ISREG(st.st_mode)) throw error(errc::io, "key file " + path.string() + ": not a regular file");
  if (static_cast<std::uintmax_t>(st.st_size) > key_file_max_bytes) {
    throw error(errc::parse, "key file " + path.string() + ": expected at most 65536 bytes, got " +
                                 std::to_string(st.st_size));
  }
  if (info != nullptr) info->permissions_too_open = (st.st_mode & (S_IRWXG | S_IRWXO)) != 0;

  // One buffer, wiped after parsing: no stream keeps a copy of the secret.
  std::ifstream in(path, std::ios::binary);
  if (!in) throw error(errc::io, "key file " + path.string() + ": cannot open for reading");
  std::string text(static_cast<std::size_t>(st.st_size), '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  if (text.empty()) corrupt(path, "the file is empty");

  json j;
  try {
    j = json::parse(text);
  } catch (const json::parse_error& e) {
    detail::secure_zero(text.data(), text.size());
    // The byte offset names where the JSON breaks; the text itself is not echoed (it holds the secret).
    corrupt(path, "not valid JSON (truncated or edited?) at byte " + std::to_string(e.byte));
  } catch (const json::exception&) {
    detail::secure_zero(text.data(), text.size());
    corrupt(path, "not valid JSON (a number out of range)");
  }
  detail::secure_zero(text.data(), text.size());
  // find, not value(): value() throws a type error (exit 70) when "format" is not a string.
  const auto format = j.is_object() ? j.find("format") : j.end();
  if (format == j.end() || *format != key_file_format) {
    throw error(errc::parse, "key file " + path.string() + ": expected format \"tritium-key\"");
  }
  const int version = field<int>(j, "version", path);
  if (version != key_file_version) {
    corrupt(path, "unsupported version: expected 1, got " + std::to_string(version));
  }
  const auto scheme = field<std::string>(j, "scheme", path);
  if (scheme != "kgw") corrupt(path, "unsupported scheme: expected kgw, got '" + scheme + "'");
  const auto prf = field<std::string>(j, "prf", path);
  if (prf != prf_v1::name) {
    corrupt(path, std::string("unsupported PRF: expected ") + prf_v1::name + ", got '" + prf + "'");
  }
  auto params_it = j.find("params");
  if (params_it == j.end()) corrupt(path, "missing field 'params'");
  const kgw_params params = params_from_json(*params_it, path);

  std::array<std::uint8_t, secret_size> secret{};
  const auto secret_it = j.find("secret");
  if (secret_it == j.end() || !secret_it->is_string()) corrupt(path, "field 'secret': expected a string");
  auto& secret_hex = secret_it->get_ref<std::string&>();
  const bool hex_ok = from_hex(secret_hex, secret);
  detail::secure_zero(secret_hex.data(), secret_hex.size());
  if (!hex_ok) corrupt(path, "field 'secret': expected 64 lowercase hex digits");

  key k(secret, params);
  detail::secure_zero(secret.data(), secret.size());
  const auto stored_id = field<std::string>(j, "key_id", path);
  auto as_bytes = [](const std::string& s) {
    return std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
  };
  if (!detail::equal_constant_time(as_bytes(stored_id), as_bytes(k.id_))) {
    corrupt(path, "the secret does not match the stored key id (the file was damaged or edited)");
  }
  const auto stored_mac = field<std::string>(j, "mac", path);
  // The MAC covers the params object as stored (canonically re-serialised), so that any edit of a
  // stored field, including derived ones like "gamma", is caught (papers/prf-v1.md §2).
  const std::string mac = params_mac(k.secret_, *params_it);
  if (!detail::equal_constant_time(as_bytes(stored_mac), as_bytes(mac))) {
    corrupt(path, "the parameters fail their integrity check (the file was damaged or edited)");
  }
  return k;
}

}  // namespace tritium
