// Watermark key files (tritium/key.hpp): key::load reads only from a path.
#include "fuzz_support.hpp"
#include "tritium/key.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static tritium::fuzz::memory_file file;
  file.assign(tritium::fuzz::bytes_of(data, size));
  tritium::fuzz::expect_clean([&] {
    const tritium::key k = tritium::key::load(file.path());
    (void)k.public_json();
  });
  return 0;
}
