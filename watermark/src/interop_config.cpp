// A transformers watermark configuration, read exactly (tritium/interop_config.hpp).
#include "tritium/interop_config.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iterator>
#include <limits>
#include <nlohmann/json.hpp>
#include <span>

#include "tritium/error.hpp"
#include "tritium/json_document.hpp"

namespace tritium {
namespace {

using json = nlohmann::json;

// The fields of each configuration class, as transformers' to_dict() writes them.
constexpr const char* kgw_fields[] = {"greenlist_ratio", "bias", "hashing_key", "seeding_scheme", "context_width"};
constexpr const char* synthid_fields[] = {"ngram_len",          "keys",
                                          "context_history_size", "sampling_table_seed",
                                          "sampling_table_size",  "skip_first_ngram_calls",
                                          "debug_mode"};

bool is_one_of(const std::string& name, std::span<const char* const> names) {
  return std::any_of(names.begin(), names.end(), [&](const char* n) { return name == n; });
}

[[noreturn]] void bad_field(const std::string& where, const std::string& field, const std::string& why) {
  throw error(errc::invalid_argument, where + ": field \"" + field + "\": " + why);
}

std::uint64_t unsigned_field(const json& v, const std::string& where, const std::string& field, std::uint64_t lo,
                             std::uint64_t hi) {
  if (!v.is_number_integer()) bad_field(where, field, "expected an integer");
  if (v.is_number_unsigned()) {
    const std::uint64_t x = v.get<std::uint64_t>();
    if (x >= lo && x <= hi) return x;
  } else if (v.get<std::int64_t>() >= 0 && static_cast<std::uint64_t>(v.get<std::int64_t>()) >= lo &&
             static_cast<std::uint64_t>(v.get<std::int64_t>()) <= hi) {
    return static_cast<std::uint64_t>(v.get<std::int64_t>());
  }
  bad_field(where, field, "expected an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got " + v.dump());
}

double number_field(const json& v, const std::string& where, const std::string& field) {
  if (!v.is_number()) bad_field(where, field, "expected a number");
  return v.get<double>();
}

bool bool_field(const json& v, const std::string& where, const std::string& field) {
  if (!v.is_boolean()) bad_field(where, field, "expected true or false");
  return v.get<bool>();
}

}  // namespace

interop_config parse_interop_config(std::string_view json_text, const std::string& what) {
  const json doc = detail::parse_json_document<json>(json_text, what);
  if (!doc.is_object()) throw error(errc::invalid_argument, what + ": expected a JSON object");
  const json* config = &doc;
  std::string where = what;
  if (doc.contains("watermarking_config")) {
    config = &doc["watermarking_config"];
    where = what + ": watermarking_config";
    if (config->is_null()) {
      throw error(errc::invalid_argument, what + ": the generation config's watermarking_config is null: it watermarks nothing");
    }
    if (!config->is_object()) throw error(errc::invalid_argument, where + ": expected a JSON object");
  }
  interop_config out;
  bool any_kgw = false, any_synthid = false;
  for (const auto& [name, value] : config->items()) {
    if (is_one_of(name, kgw_fields)) {
      any_kgw = true;
    } else if (is_one_of(name, synthid_fields)) {
      any_synthid = true;
    } else {
      bad_field(where, name, std::string("not a field of transformers' WatermarkingConfig or SynthIDTextWatermarkingConfig") +
                                 (config == &doc ? " (a generation config holds the watermark as \"watermarking_config\")" : ""));
    }
    out.fields.push_back(name);
  }
  if (any_kgw && any_synthid) {
    throw error(errc::invalid_argument, where + ": it mixes fields of WatermarkingConfig (KGW) and of "
                                                "SynthIDTextWatermarkingConfig; which scheme is meant is ambiguous");
  }
  if (!any_kgw && !any_synthid) {
    throw error(errc::invalid_argument, where + ": no watermark field: expected those of WatermarkingConfig (greenlist_ratio, "
                                                "bias, hashing_key, seeding_scheme, context_width) or of "
                                                "SynthIDTextWatermarkingConfig (ngram_len, keys, ...)");
  }
  if (any_kgw) {
    out.kind = interop_kind::hf_kgw;
    hf_kgw_params& p = out.kgw;
    for (const auto& [name, v] : config->items()) {
      if (name == "greenlist_ratio") {
        p.greenlist_ratio = number_field(v, where, name);
        if (!(p.greenlist_ratio > 0.0 && p.greenlist_ratio < 1.0)) bad_field(where, name, "expected a value in (0, 1), got " + v.dump());
      } else if (name == "bias") {
        const double b = number_field(v, where, name);
        if (!std::isfinite(b) || std::fabs(b) > 1e30) bad_field(where, name, "expected a finite float32 value, got " + v.dump());
        p.bias = static_cast<float>(b);
      } else if (name == "hashing_key") {
        p.hashing_key = unsigned_field(v, where, name, 0, (std::uint64_t{1} << 63) - 1);
      } else if (name == "seeding_scheme") {
        if (v == "lefthash") {
          p.seeding = hf_seeding::lefthash;
        } else if (v == "selfhash") {
          p.seeding = hf_seeding::selfhash;
        } else {
          bad_field(where, name, "expected \"lefthash\" or \"selfhash\", got " + v.dump());
        }
      } else if (name == "context_width") {
        p.context_width = static_cast<std::uint32_t>(unsigned_field(v, where, name, 1, 1024));
      }
    }
    return out;
  }
  out.kind = interop_kind::hf_synthid;
  hf_synthid_params& p = out.synthid;
  if (!config->contains("keys")) throw error(errc::invalid_argument, where + ": SynthID needs its \"keys\" (one per layer)");
  if (!config->contains("ngram_len")) throw error(errc::invalid_argument, where + ": SynthID needs its \"ngram_len\"");
  for (const auto& [name, v] : config->items()) {
    if (name == "ngram_len") {
      p.ngram_len = static_cast<std::uint32_t>(unsigned_field(v, where, name, 2, 1024));
    } else if (name == "keys") {
      if (!v.is_array() || v.empty()) bad_field(where, name, "expected a non-empty array of integers");
      p.keys.clear();
      for (std::size_t i = 0; i < v.size(); ++i) {
        const json& k = v[i];
        if (!k.is_number_integer() || (k.is_number_unsigned() && k.get<std::uint64_t>() > std::uint64_t{INT64_MAX})) {
          bad_field(where, name + "[" + std::to_string(i) + "]", "expected a 64-bit signed integer, got " + k.dump());
        }
        p.keys.push_back(k.get<std::int64_t>());
      }
    } else if (name == "context_history_size") {
      p.context_history_size = static_cast<std::uint32_t>(unsigned_field(v, where, name, 1, 1u << 24));
    } else if (name == "sampling_table_seed") {
      p.sampling_table_seed = unsigned_field(v, where, name, 0, std::numeric_limits<std::uint64_t>::max());
    } else if (name == "sampling_table_size") {
      p.sampling_table_size = static_cast<std::uint32_t>(unsigned_field(v, where, name, 2, 1u << 24));
    } else if (name == "skip_first_ngram_calls") {
      p.skip_first_ngram_calls = bool_field(v, where, name);
    } else if (name == "debug_mode") {
      // Generation only (the processor replaces the scores by ones first); detection reads no scores,
      // and embedding refuses it (the C ABI's tritium_hf_scheme).
      out.debug_mode = bool_field(v, where, name);
    }
  }
  return out;
}

interop_config load_interop_config(const std::filesystem::path& path) {
  constexpr std::uintmax_t max_bytes = 16u << 20;
  std::error_code ec;
  const std::uintmax_t size = std::filesystem::file_size(path, ec);
  if (!ec && size > max_bytes) {
    throw error(errc::invalid_argument, path.string() + ": " + std::to_string(size) +
                                            " bytes: a watermark configuration is at most 16 MiB");
  }
  if (std::filesystem::is_directory(path, ec)) {
    throw error(errc::invalid_argument, path.string() + ": a folder, not a watermark configuration file");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) throw error(errc::invalid_argument, "cannot open watermark configuration " + path.string());
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw error(errc::invalid_argument, "cannot read watermark configuration " + path.string());
  return parse_interop_config(bytes, path.string());
}

}  // namespace tritium
