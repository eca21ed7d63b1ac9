// A suspect's fingerprint answers (tritium/fingerprint.hpp): JSON Lines read against a small set made
// from fixtures/cli/test.key, then the exact test on what was read.
#include <string>

#include "fuzz_support.hpp"
#include "tritium/fingerprint.hpp"
#include "tritium/key.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const tritium::fingerprint_set set = tritium::make_fingerprint_set(
      tritium::key::load(TRITIUM_FIXTURES_DIR "/cli/test.key"), {.questions = 16, .candidates = 64});
  static tritium::fuzz::memory_file file;
  file.assign(tritium::fuzz::bytes_of(data, size));
  tritium::fuzz::expect_clean([&] {
    const auto answers = tritium::read_fingerprint_answers(file.path(), set);
    (void)tritium::test_fingerprint(set, answers, 1e-6);
  });
  return 0;
}
