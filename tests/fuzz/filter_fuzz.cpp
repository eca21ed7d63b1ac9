// Radioactivity filter files (tritium/radioactivity.hpp), loaded for fixtures/cli/test.key, the key
// the seed filters are made with. The trailing SHA-256 catches damage, not a crafted file, so the
// target rewrites it to match before loading.
#include <string>

#include "fuzz_support.hpp"
#include "tritium/digest.hpp"
#include "tritium/key.hpp"
#include "tritium/radioactivity.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const tritium::key k = tritium::key::load(TRITIUM_FIXTURES_DIR "/cli/test.key");
  static tritium::fuzz::memory_file file;
  std::string bytes(tritium::fuzz::bytes_of(data, size));
  constexpr std::size_t sum_size = 7 + 64;  // "sha256:" + 64 hex digits
  if (bytes.size() >= sum_size) {
    bytes.replace(bytes.size() - sum_size, sum_size, tritium::sha256_digest(std::string_view(bytes).substr(0, bytes.size() - sum_size)));
  }
  file.assign(bytes);
  tritium::fuzz::expect_clean([&] {
    (void)tritium::window_filter::load(file.path(), k, "");
    (void)tritium::window_filter::load(file.path(), k, "sha256:0000");
  });
  return 0;
}
