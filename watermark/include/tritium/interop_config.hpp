// tritium/interop_config.hpp — a watermark configuration another project wrote: Hugging Face
// transformers' `WatermarkingConfig` (KGW, also TGI's watermark) or `SynthIDTextWatermarkingConfig`, as
// their to_dict() writes it, alone or as the "watermarking_config" member of a generation_config.json.
// It is read exactly or refused (an unknown field, a wrong type or value, the fields of both schemes):
// the same file configures detection (tritium/interop_scan.hpp) and embedding (the C ABI's
// tritium_hf_scheme, tritium.h), so a deployment and its analyst cannot read it two ways.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "tritium/hf_kgw.hpp"
#include "tritium/hf_synthid.hpp"

namespace tritium {

enum class interop_kind : std::uint8_t { hf_kgw = 0, hf_synthid = 1 };

/// One configuration as read from its file.
struct interop_config {
  interop_kind kind = interop_kind::hf_kgw;
  /// kind hf_kgw: every WatermarkingConfig field (transformers' defaults where the file omits one);
  /// vocab_size is not part of the file: the caller sets it (the model's logits width, TGI's too).
  hf_kgw_params kgw;
  hf_synthid_params synthid;  ///< kind hf_synthid
  /// SynthID's debug_mode: the processor replaces the scores by ones before it reweights them. Detection
  /// reads no scores and ignores it; embedding refuses it rather than mark a distribution the
  /// deployment does not sample from.
  bool debug_mode = false;
  /// The fields the file set, by name, in the order read: what the analyst gave, for messages.
  std::vector<std::string> fields;
};

/// Parses a configuration: a JSON object that is either a generation config holding it as
/// "watermarking_config", or the configuration object itself. `what` names the source in messages.
/// Throws errc::parse (not JSON, naming the byte) or errc::invalid_argument naming the field and what
/// is wrong with it: an unknown field, a wrong type or value, fields of both schemes, none at all, or
/// a generation config whose watermarking_config is null.
interop_config parse_interop_config(std::string_view json_text, const std::string& what);
/// Reads and parses a file (errc::invalid_argument when it cannot be read).
interop_config load_interop_config(const std::filesystem::path& path);

}  // namespace tritium
