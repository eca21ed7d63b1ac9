#include "tritium/key.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <initializer_list>
#include <limits>
#include <nlohmann/json.hpp>

#include "crypto/crypto.hpp"
#include "tritium/json_document.hpp"
#include "tritium/private_file.hpp"
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

json trace_to_json(const trace_params& t) {
  json j;
  j["prf"] = trace_v1::name;
  j["code_length"] = t.code_length;
  j["symbol_bits"] = t.symbol_bits;
  j["position_width"] = t.position_width;
  j["account_delta"] = t.account_delta;
  return j;
}

json params_to_json(const kgw_params& p, const std::optional<trace_params>& trace) {
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
  // Likewise only for keys made with `keygen --trace` (papers/key-file-v1.md §1, `params.trace`).
  if (trace) j["trace"] = trace_to_json(*trace);
  // And only for keys that name other schemes than KGW alone (§1.2, `params.schemes`).
  if (p.schemes != scheme_bit(scheme_kind::kgw)) {
    json names = json::array();
    for (const scheme_kind s : schemes_in(p.schemes)) names.push_back(scheme_name(s));
    j["schemes"] = names;
  }
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

// What a value is, for a message: numbers and strings as written (strings quoted), other types by
// name. Never used on the secret, the key id or the MAC.
std::string shown(const json& v) {
  if (v.is_string()) return quoted_for_message(v.get_ref<const std::string&>());
  if (v.is_number()) return v.dump();
  return std::string(v.type_name());
}

// Key files are read strictly: every field has one JSON type, integers are JSON integers in the
// range of their C++ type (1.7 is not 1, and 1e30 is refused before any conversion), and a field this
// version does not know is refused rather than ignored, since it would not be covered by the MAC.
void require_known_fields(const json& object, std::initializer_list<const char*> known, const std::string& where,
                          const std::filesystem::path& path) {
  for (auto it = object.begin(); it != object.end(); ++it) {
    bool found = false;
    for (const char* name : known) found = found || it.key() == name;
    if (!found) corrupt(path, "unknown field " + quoted_for_message(where + it.key()));
  }
}

const json& member(const json& object, const char* name, const std::string& where, const std::filesystem::path& path) {
  const auto it = object.find(name);
  if (it == object.end()) corrupt(path, "missing field '" + where + name + "'");
  return *it;
}

std::uint32_t uint32_field(const json& object, const char* name, const std::string& where,
                           const std::filesystem::path& path) {
  const json& v = member(object, name, where, path);
  if (v.is_number_unsigned() && v.get<std::uint64_t>() <= std::numeric_limits<std::uint32_t>::max()) {
    return static_cast<std::uint32_t>(v.get<std::uint64_t>());
  }
  corrupt(path, "field '" + where + name + "': expected an integer in [0, 4294967295], got " + shown(v));
}

double number_field(const json& object, const char* name, const std::string& where, const std::filesystem::path& path) {
  const json& v = member(object, name, where, path);
  if (!v.is_number()) corrupt(path, "field '" + where + name + "': expected a number, got " + shown(v));
  return v.get<double>();
}

// `secret` says whether the value may be shown in a message.
const std::string& string_field(const json& object, const char* name, const std::string& where,
                                const std::filesystem::path& path, bool secret = false) {
  const json& v = member(object, name, where, path);
  if (!v.is_string()) {
    corrupt(path, "field '" + where + name + "': expected a string, got " + (secret ? std::string(v.type_name()) : shown(v)));
  }
  return v.get_ref<const std::string&>();
}

// The optional `params.trace` object (papers/key-file-v1.md §1): read as strictly as the rest.
std::optional<trace_params> trace_from_json(const json& params, const std::filesystem::path& path) {
  const auto it = params.find("trace");
  if (it == params.end()) return std::nullopt;
  const json& j = *it;
  if (!j.is_object()) corrupt(path, "field 'params.trace': expected an object, got " + shown(j));
  const std::string where = "params.trace.";
  require_known_fields(j, {"prf", "code_length", "symbol_bits", "position_width", "account_delta"},
                       where, path);
  const std::string& prf = string_field(j, "prf", where, path);
  if (prf != trace_v1::name) {
    corrupt(path, std::string("field 'params.trace.prf': expected ") + trace_v1::name + ", got " +
                      quoted_for_message(prf));
  }
  trace_params t;
  t.code_length = uint32_field(j, "code_length", where, path);
  t.symbol_bits = uint32_field(j, "symbol_bits", where, path);
  t.position_width = uint32_field(j, "position_width", where, path);
  t.account_delta = number_field(j, "account_delta", where, path);
  try {
    t.validate();
  } catch (const error& e) {
    corrupt(path, e.what());
  }
  return t;
}

kgw_params params_from_json(const json& j, const std::filesystem::path& path) {
  if (!j.is_object()) corrupt(path, "field 'params': expected an object, got " + shown(j));
  const std::string where = "params.";
  require_known_fields(j, {"gamma", "gamma_bits", "gamma_threshold", "delta", "context_width", "seeding", "vocab_size",
                           "tokenizer_digest", "tokenizer_vocab_size", "trace", "schemes"},
                       where, path);
  kgw_params p;
  p.gamma_bits = uint32_field(j, "gamma_bits", where, path);
  p.gamma_threshold = uint32_field(j, "gamma_threshold", where, path);
  p.delta = number_field(j, "delta", where, path);
  p.context_width = uint32_field(j, "context_width", where, path);
  const std::string& seeding_text = string_field(j, "seeding", where, path);
  const auto s = seeding_from_name(seeding_text);
  if (!s) corrupt(path, "field 'params.seeding': expected lefthash or selfhash, got " + quoted_for_message(seeding_text));
  p.seeding_scheme = *s;
  p.vocab_size = uint32_field(j, "vocab_size", where, path);
  const auto digest = j.find("tokenizer_digest");
  if (digest != j.end() && !digest->is_null()) p.tokenizer_digest = string_field(j, "tokenizer_digest", where, path);
  if (j.contains("tokenizer_vocab_size")) p.tokenizer_vocab_size = uint32_field(j, "tokenizer_vocab_size", where, path);
  if (const auto list = j.find("schemes"); list != j.end()) {
    // §1.2: a non-empty array of distinct scheme names.
    if (!list->is_array() || list->empty()) {
      corrupt(path, "field 'params.schemes': expected a non-empty array of scheme names, got " + shown(*list));
    }
    p.schemes = 0;
    for (std::size_t i = 0; i < list->size(); ++i) {
      const json& name = (*list)[i];
      const std::string at = "field 'params.schemes[" + std::to_string(i) + "]': ";
      if (!name.is_string()) corrupt(path, at + "expected a scheme name, got " + shown(name));
      const auto kind = scheme_from_name(name.get<std::string>());
      if (!kind) corrupt(path, at + "expected kgw, gumbel or unigram, got " + shown(name));
      if (p.schemes & scheme_bit(*kind)) corrupt(path, at + "names " + scheme_name(*kind) + " a second time");
      p.schemes = static_cast<scheme_set>(p.schemes | scheme_bit(*kind));
    }
  }
  try {
    p.validate();
  } catch (const error& e) {
    corrupt(path, e.what());
  }
  if (number_field(j, "gamma", where, path) != p.gamma()) {
    corrupt(path, "field 'params.gamma' disagrees with gamma_threshold / 2^gamma_bits");
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

const char* scheme_name(scheme_kind s) noexcept {
  switch (s) {
    case scheme_kind::kgw: return "kgw";
    case scheme_kind::gumbel: return "gumbel";
    case scheme_kind::unigram: return "unigram";
  }
  return "unknown";
}

std::optional<scheme_kind> scheme_from_name(const std::string& name) noexcept {
  for (std::size_t i = 0; i < scheme_kinds; ++i) {
    const auto s = static_cast<scheme_kind>(i);
    if (name == scheme_name(s)) return s;
  }
  return std::nullopt;
}

std::vector<scheme_kind> schemes_in(scheme_set set) {
  std::vector<scheme_kind> out;
  for (std::size_t i = 0; i < scheme_kinds; ++i) {
    if (set & (1u << i)) out.push_back(static_cast<scheme_kind>(i));
  }
  return out;
}

std::string scheme_list_text(scheme_set set) {
  std::string out;
  for (const scheme_kind s : schemes_in(set)) out += (out.empty() ? "" : ", ") + std::string(scheme_name(s));
  return out;
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
  // Checked here, where every key passes, so that the digest a key file holds is safe to print.
  const bool digest_ok =
      tokenizer_digest.empty() ||
      (tokenizer_digest.size() == 7 + 64 && tokenizer_digest.compare(0, 7, "sha256:") == 0 &&
       tokenizer_digest.find_first_not_of("0123456789abcdef", 7) == std::string::npos);
  if (!digest_ok) {
    bad("tokenizer_digest: expected \"sha256:\" and 64 lowercase hex digits, got " +
        quoted_for_message(tokenizer_digest));
  }
  if (vocab_size < 2 || vocab_size > prf_v1::max_vocab_size) {
    bad("vocab_size: expected 2 <= V <= " + std::to_string(prf_v1::max_vocab_size) + ", got " +
        std::to_string(vocab_size));
  }
  if (schemes == 0 || (schemes & ~all_schemes) != 0) {
    bad("schemes: expected a non-empty set of kgw, gumbel and unigram, got the bits " + std::to_string(schemes));
  }
}

key::key(const std::array<std::uint8_t, secret_size>& secret, const kgw_params& params,
         const std::optional<trace_params>& trace)
    : secret_(secret), params_(params), trace_(trace), id_(compute_key_id(secret)) {
  params_.validate();
  if (trace_) trace_->validate();
  if (trace_ && !params_.names(scheme_kind::kgw)) {
    throw error(errc::invalid_argument, "trace: account tracing marks through KGW, but the key's schemes do not include kgw");
  }
}

trace_params trace_defaults_for(const kgw_params& p) noexcept {
  trace_params t;
  t.position_width = std::max(trace_default_position_width, p.context_width);
  return t;
}

void key::require_trace(const std::string& what) const {
  if (!trace_) {
    throw error(errc::mismatch, what + ": the key " + id_.substr(0, 16) +
                                    " has no trace parameters (params.trace), so it cannot mark "
                                    "accounts; make a key with `tritium keygen --trace`");
  }
}

void key::require_scheme(scheme_kind s, const std::string& what) const {
  if (!params_.names(s)) {
    throw error(errc::mismatch, what + ": the key " + id_.substr(0, 16) + " names the scheme(s) " +
                                    scheme_list_text(params_.schemes) + " (params.schemes), not " +
                                    scheme_name(s) + "; make a key with `tritium keygen --scheme " +
                                    scheme_name(s) + "`");
  }
}

key::~key() { detail::secure_zero(secret_.data(), secret_.size()); }

key key::generate(const kgw_params& params, const std::optional<trace_params>& trace) {
  params.validate();
  if (trace) trace->validate();
  std::array<std::uint8_t, secret_size> secret{};
  detail::random_bytes(secret);
  key k(secret, params, trace);
  detail::secure_zero(secret.data(), secret.size());
  return k;
}

key key::derive(const std::string& label) const {
  std::array<std::uint8_t, secret_size> secret{};
  detail::hkdf_expand_sha256(secret_, label, secret);
  key k(secret, params_, trace_);
  detail::secure_zero(secret.data(), secret.size());
  return k;
}

key key::from_secret(const std::array<std::uint8_t, secret_size>& secret, const kgw_params& params,
                     const std::optional<trace_params>& trace) {
  return key(secret, params, trace);
}

std::string key::public_json() const {
  json j;
  j["format"] = key_file_format;
  j["version"] = key_file_version;
  j["key_id"] = id_;
  j["scheme"] = "kgw";
  j["prf"] = prf_v1::name;
  j["params"] = params_to_json(params_, trace_);
  return j.dump(2);
}

key_vocab_choice choose_key_vocab_size(const key_vocab_sources& s) {
  using origin = key_vocab_choice::origin;
  if (s.requested != 0 && s.model_width != 0 && s.requested != s.model_width) {
    throw error(errc::invalid_argument,
                "vocabulary size: --vocab-size " + std::to_string(s.requested) +
                    " disagrees with the model's logits width " + std::to_string(s.model_width) +
                    " (a key's V is the width of the logits it watermarks); give only --model, or --vocab-size " +
                    std::to_string(s.model_width));
  }
  key_vocab_choice c;
  if (s.model_width != 0) {
    c = {s.model_width, origin::model};
  } else if (s.requested != 0) {
    c = {s.requested, origin::requested};
  } else if (s.tokenizer_ids != 0) {
    c = {s.tokenizer_ids, origin::tokenizer};
  } else {
    throw error(errc::invalid_argument, "vocabulary size: give --model, --vocab-size or --tokenizer");
  }
  if (s.tokenizer_ids > c.vocab_size) {
    const std::string what = c.from == origin::model ? "the model's logits width " : "--vocab-size ";
    throw error(errc::mismatch, "vocabulary size: the tokenizer has " + std::to_string(s.tokenizer_ids) +
                                    " ids, more than " + what + std::to_string(c.vocab_size) +
                                    " (every id needs a logit); give --model, or --vocab-size " +
                                    std::to_string(s.tokenizer_ids) + " or more");
  }
  return c;
}

void key::require_vocab_size(std::uint32_t vocab_size) const {
  if (vocab_size != params_.vocab_size) {
    throw error(errc::mismatch, "vocabulary size: the key " + id_.substr(0, 16) + " was made for V = " +
                                    std::to_string(params_.vocab_size) + ", got V = " + std::to_string(vocab_size) +
                                    " (V is the width of the logits a key watermarks); make a key with "
                                    "`tritium keygen --vocab-size " + std::to_string(vocab_size) + "` or --model");
  }
}

void key::require_logits_width(std::uint32_t width, const std::string& model_name) const {
  if (width != params_.vocab_size) {
    throw error(errc::mismatch, "vocabulary size: the key " + id_.substr(0, 16) + " was made for V = " +
                                    std::to_string(params_.vocab_size) + ", but the model " +
                                    quoted_for_message(model_name) + " has logits of width " +
                                    std::to_string(width) + "; make the key with `tritium keygen --model` on "
                                    "this model (or --vocab-size " + std::to_string(width) + ")");
  }
}

void key::require_tokenizer_ids(std::uint32_t tokenizer_ids, const std::string& tokenizer_name) const {
  if (tokenizer_ids > params_.vocab_size) {
    throw error(errc::mismatch, "vocabulary size: the tokenizer " + quoted_for_message(tokenizer_name) + " has " +
                                    std::to_string(tokenizer_ids) + " ids, more than the key " + id_.substr(0, 16) +
                                    "'s V = " + std::to_string(params_.vocab_size) +
                                    " (the width of the logits it watermarks); make the key with `tritium keygen --model` on "
                                    "this tokenizer's model, or `--tokenizer` on this tokenizer");
  }
}

void key::require_tokenizer(const std::string& tokenizer_digest) const {
  if (!params_.tokenizer_digest.empty() && !tokenizer_digest.empty() &&
      params_.tokenizer_digest != tokenizer_digest) {
    throw error(errc::mismatch, "tokenizer: the key " + id_.substr(0, 16) + " is bound to " +
                                    params_.tokenizer_digest + ", got " + quoted_for_message(tokenizer_digest));
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
    j = detail::parse_json_document<json>(text, "key file " + path.string());
  } catch (const error& e) {
    detail::secure_zero(text.data(), text.size());
    throw error(errc::key_corrupt, e.what());
  }
  detail::secure_zero(text.data(), text.size());
  if (!j.is_object()) throw error(errc::parse, "key file " + path.string() + ": expected a JSON object, got " + shown(j));
  const auto format = j.find("format");
  if (format == j.end() || !format->is_string() || format->get_ref<const std::string&>() != key_file_format) {
    throw error(errc::parse, "key file " + path.string() + ": expected format \"tritium-key\", got " +
                                 (format == j.end() ? std::string("no field 'format'") : shown(*format)));
  }
  require_known_fields(j, {"format", "version", "key_id", "scheme", "prf", "params", "secret", "mac"}, "", path);
  const json& version = member(j, "version", "", path);
  if (!version.is_number_integer() || version != key_file_version) {
    corrupt(path, "unsupported version: expected 1, got " + shown(version));
  }
  const std::string& scheme = string_field(j, "scheme", "", path);
  if (scheme != "kgw") corrupt(path, "unsupported scheme: expected kgw, got " + quoted_for_message(scheme));
  const std::string& prf = string_field(j, "prf", "", path);
  if (prf != prf_v1::name) {
    corrupt(path, std::string("unsupported PRF: expected ") + prf_v1::name + ", got " + quoted_for_message(prf));
  }
  const json& params_json = member(j, "params", "", path);
  const kgw_params params = params_from_json(params_json, path);
  const std::optional<trace_params> trace = trace_from_json(params_json, path);
  if (trace && !params.names(scheme_kind::kgw)) {
    corrupt(path, "field 'params.trace': account tracing marks through KGW, but params.schemes does not name kgw");
  }

  std::array<std::uint8_t, secret_size> secret{};
  string_field(j, "secret", "", path, true);
  auto& secret_hex = j["secret"].get_ref<std::string&>();
  const bool hex_ok = from_hex(secret_hex, secret);
  detail::secure_zero(secret_hex.data(), secret_hex.size());
  if (!hex_ok) corrupt(path, "field 'secret': expected 64 lowercase hex digits");

  key k(secret, params, trace);
  detail::secure_zero(secret.data(), secret.size());
  const std::string& stored_id = string_field(j, "key_id", "", path, true);
  auto as_bytes = [](const std::string& s) {
    return std::span<const std::uint8_t>(reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
  };
  if (!detail::equal_constant_time(as_bytes(stored_id), as_bytes(k.id_))) {
    corrupt(path, "the secret does not match the stored key id (the file was damaged or edited)");
  }
  const std::string& stored_mac = string_field(j, "mac", "", path, true);
  // The MAC covers the params object as stored (canonically re-serialised), so that any edit of a
  // stored field, including derived ones like "gamma", is caught (papers/prf-v1.md §2).
  const std::string mac = params_mac(k.secret_, params_json);
  if (!detail::equal_constant_time(as_bytes(stored_mac), as_bytes(mac))) {
    corrupt(path, "the parameters fail their integrity check (the file was damaged or edited)");
  }
  return k;
}

}  // namespace tritium
