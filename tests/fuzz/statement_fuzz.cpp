// In-toto statements (cli/report.cpp): `tritium report verify` on a signed envelope holding the input.
#include "report_cli.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static tritium::fuzz::report_cli cli;
  // The subjects are looked up below the scratch directory, where there are none (exit 6 after the
  // statement's layout is checked).
  cli.run(tritium::fuzz::bytes_of(data, size), "verify", {"--base", cli.dir().string(), "--json"});
  return 0;
}
