// Builds against the installed package only: find_package(tritium) and tritium::verify.
#include <array>
#include <cstdio>
#include <vector>

#include "tritium/detect.hpp"
#include "tritium/kgw.hpp"

int main() {
  tritium::kgw_params p;
  p.set_gamma(0.25);
  p.vocab_size = 1000;
  std::array<std::uint8_t, tritium::key::secret_size> secret{};
  const tritium::key k = tritium::key::from_secret(secret, p);
  const tritium::kgw_detector detector(k);
  std::vector<tritium::token_id> tokens(200);
  for (std::size_t i = 0; i < tokens.size(); ++i) tokens[i] = static_cast<tritium::token_id>(i * 7 % 1000);
  const auto d = detector.detect(tokens);
  std::printf("consumer: scored %llu, log10 p %.3f\n", static_cast<unsigned long long>(d.scored), d.log10_p);
  return d.scored == 199 ? 0 : 1;
}
