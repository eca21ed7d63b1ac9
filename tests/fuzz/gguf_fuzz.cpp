// GGUF vocabularies (tritium/tokenizer.hpp): tokenizer::load reads only from a path (and recognises
// GGUF by its magic); then encoding and decoding a few texts with what loaded.
#include "fuzz_support.hpp"
#include "tokenizer_fuzz_texts.hpp"
#include "tritium/tokenizer.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static tritium::fuzz::memory_file file;
  file.assign(tritium::fuzz::bytes_of(data, size));
  tritium::fuzz::expect_clean([&] {
    const tritium::tokenizer tok = tritium::tokenizer::load(file.path());
    tritium::fuzz::exercise(tok);
  });
  return 0;
}
