// DSSE envelopes (tritium/dsse.hpp): dsse_open against one trusted key, the key that signed the seed
// envelopes (tests/fuzz/signer.key.pub).
#include <vector>

#include "fuzz_support.hpp"
#include "tritium/evidence/dsse.hpp"
#include "tritium/evidence/signing.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::vector<tritium::report_public_key> trusted = {
      tritium::report_public_key::load(TRITIUM_FUZZ_DIR "/signer.key.pub")};
  tritium::fuzz::expect_clean([&] { (void)tritium::dsse_open(tritium::fuzz::bytes_of(data, size), trusted); });
  return 0;
}
