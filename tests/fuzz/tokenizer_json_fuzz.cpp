// tokenizer.json (tritium/tokenizer.hpp): loading, then encoding and decoding a few texts with what
// loaded, so that the normalizers, pre-tokenizers, regexes and the model built from the input all run.
#include "fuzz_support.hpp"
#include "tokenizer_fuzz_texts.hpp"
#include "tritium/tokenizer.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  tritium::fuzz::expect_clean([&] {
    const tritium::tokenizer tok = tritium::tokenizer::from_json(tritium::fuzz::bytes_of(data, size), "fuzz.json");
    tritium::fuzz::exercise(tok);
  });
  return 0;
}
