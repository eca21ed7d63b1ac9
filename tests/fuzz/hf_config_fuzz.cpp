// transformers watermark configurations (tritium/interop_config.hpp): parse_interop_config, then the
// scan built from what it accepted (a selfhash table drawn, a SynthID table checked and drawn) and one
// short document detected, so that every configuration the parser lets through is one the detectors
// can run; then the same bytes through the C ABI's embedding (tritium_hf_scheme_parse), which must
// answer with a status, never crash, and mark a few steps of a short sequence once it accepted them.
#include <array>
#include <vector>

#include "fuzz_support.hpp"
#include "tritium/interop_scan.hpp"
#include "tritium/tritium.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static constexpr std::array<tritium::token_id, 12> text = {5, 17, 999, 0, 5, 17, 999, 3, 42, 42, 42, 7};
  tritium::fuzz::expect_clean([&] {
    tritium::interop_config config =
        tritium::parse_interop_config(tritium::fuzz::bytes_of(data, size), "fuzz input");
    if (config.kind == tritium::interop_kind::hf_kgw) config.kgw.vocab_size = 1000;
    tritium::interop_spec spec;
    spec.input = "-";
    const tritium::interop_scan scan(spec, config, tritium::scan_environment{});
    (void)scan.detect(text);
  });
  tritium_hf_scheme* scheme = nullptr;
  if (tritium_hf_scheme_parse(reinterpret_cast<const char*>(data), size, 1000, &scheme) != TRITIUM_OK) return 0;
  tritium_hf_stream* stream = nullptr;
  if (tritium_hf_stream_create(scheme, &stream) == TRITIUM_OK) {
    std::vector<float> row(1000);
    const std::array<std::int32_t, 5> ids = {999, 0, 42, 17, 500};
    std::array<float, 5> candidates{};
    tritium_hf_stream_begin(stream, text.data(), 3);
    for (std::size_t i = 3; i < text.size(); ++i) {
      for (std::size_t v = 0; v < row.size(); ++v) row[v] = static_cast<float>((v * 7919 + i) % 13);
      if (tritium_hf_stream_apply(stream, row.data(), row.size()) != TRITIUM_OK) __builtin_trap();
      candidates = {1.0f, 2.0f, 3.0f, 4.0f, 5.0f};
      if (tritium_hf_stream_apply_candidates(stream, ids.data(), candidates.data(), ids.size()) != TRITIUM_OK) __builtin_trap();
      tritium_hf_stream_accept(stream, text[i]);
    }
  }
  tritium_hf_stream_free(stream);
  tritium_hf_scheme_free(scheme);
  return 0;
}
