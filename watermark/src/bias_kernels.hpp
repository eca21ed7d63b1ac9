// Internal: the kernels of the dense KGW bias (kgw::bias_dense).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace tritium::detail {

/// Adds `delta` to logits[i], i < n, where the `bits`-bit lane of token i in `keystream` (bits
/// [i·bits, i·bits + bits), LSB first) is below `threshold`. `keystream` must stay readable for 64
/// bytes past the last lane.
using bias_kernel = void (*)(float* logits, const std::uint8_t* keystream, std::size_t n,
                             std::uint32_t bits, std::uint32_t threshold, float delta);

struct named_bias_kernel {
  const char* name;
  bias_kernel kernel;
};

/// The kernels this CPU can run, slowest first; the portable loop is always there.
std::vector<named_bias_kernel> available_bias_kernels();

/// The fastest available kernel.
bias_kernel best_bias_kernel();

}  // namespace tritium::detail
