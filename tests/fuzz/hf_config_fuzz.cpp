// transformers watermark configurations (tritium/interop_scan.hpp): parse_interop_config, then the scan
// built from what it accepted (a selfhash table drawn, a SynthID table checked and drawn) and one
// short document detected, so that every configuration the parser lets through is one the detectors
// can run.
#include <array>

#include "fuzz_support.hpp"
#include "tritium/interop_scan.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  tritium::fuzz::expect_clean([&] {
    tritium::interop_config config =
        tritium::parse_interop_config(tritium::fuzz::bytes_of(data, size), "fuzz input");
    if (config.kind == tritium::interop_kind::hf_kgw) config.kgw.vocab_size = 1000;
    tritium::interop_spec spec;
    spec.input = "-";
    const tritium::interop_scan scan(spec, config, tritium::scan_environment{});
    static constexpr std::array<tritium::token_id, 12> text = {5, 17, 999, 0, 5, 17, 999, 3, 42, 42, 42, 7};
    (void)scan.detect(text);
  });
  return 0;
}
