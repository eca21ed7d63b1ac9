// Token JSON Lines (tritium/token_jsonl.hpp): every line of the input through the reader.
#include <sstream>

#include "fuzz_support.hpp"
#include "tritium/token_jsonl.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  tritium::fuzz::expect_clean([&] {
    std::istringstream in{std::string(tritium::fuzz::bytes_of(data, size))};
    tritium::token_jsonl_reader reader(in, "fuzz.jsonl");
    tritium::token_document doc;
    while (reader.next(doc)) {
    }
  });
  return 0;
}
