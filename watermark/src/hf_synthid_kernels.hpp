// Internal: the kernels of one layer of SynthID's bucket tournament (hf_synthid::reweight_dense).
// tests/watermark/hf_synthid_test.cpp checks every one this CPU runs against the portable loops.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

namespace tritium::detail {

/// Every kernel gives the same bits. partial_mass: lane k of `partial` sums b[y] over the y ≡ k mod 8
/// with g[y] ≠ 0, in order (the mass is then ((0 + 1) + (2 + 3)) + ((4 + 5) + (6 + 7))). update:
/// b[y] *= g[y] ? up : down and lf[y] += g[y] ? ln_up : ln_down, with no fused multiply-add.
struct layer_kernels {
  void (*partial_mass)(const double* b, const std::uint8_t* g, std::uint32_t n, double partial[8]);
  void (*update)(double* b, double* lf, const std::uint8_t* g, std::uint32_t n, double up, double down,
                 double ln_up, double ln_down);
};

/// The kernels this CPU can run, the portable loops first.
std::vector<std::pair<const char*, layer_kernels>> available_layer_kernels();

}  // namespace tritium::detail
