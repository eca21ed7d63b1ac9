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

/// The account half of a fused step (papers/trace-v1.md §4, attribution.md §3.2): `delta` is added
/// where the `bits`-bit account lane of token i in `keystream` equals `symbol`. `keystream` must stay
/// readable for 64 bytes past the last lane.
struct account_lanes {
  const std::uint8_t* keystream;
  std::uint32_t bits;  ///< b_a ∈ {1, 2}
  std::uint32_t symbol;
  float delta;
};

/// The fused dense bias: logits[i] += δ where green, then += δ_a where the account lane matches (in
/// this order in every kernel, so that all give the same floats).
using fused_bias_kernel = void (*)(float* logits, const std::uint8_t* keystream, std::size_t n,
                                   std::uint32_t bits, std::uint32_t threshold, float delta,
                                   const account_lanes& account);

struct named_fused_bias_kernel {
  const char* name;
  fused_bias_kernel kernel;
};

/// The self-hash row's step (kgw::bias_dense): adds `delta` to logits[i], i < n, where lanes[i] is
/// below `threshold`; every other logit is left exactly as it was.
using below_kernel = void (*)(float* logits, const std::uint16_t* lanes, std::size_t n, std::uint32_t threshold,
                              float delta);

struct named_below_kernel {
  const char* name;
  below_kernel kernel;
};

std::vector<named_below_kernel> available_below_kernels();
below_kernel best_below_kernel();

/// Adds the account delta alone (for self-hash keys, whose green lists are not a keystream).
void add_account_matches(float* logits, std::size_t n, const account_lanes& account) noexcept;

std::vector<named_fused_bias_kernel> available_fused_bias_kernels();
fused_bias_kernel best_fused_bias_kernel();

/// The kernels this CPU can run, slowest first; the portable loop is always there.
std::vector<named_bias_kernel> available_bias_kernels();

/// The fastest available kernel.
bias_kernel best_bias_kernel();

}  // namespace tritium::detail
