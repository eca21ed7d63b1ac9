// Internal: the vector kernels behind torch_cpu::generator and the Fisher–Yates walks
// (torch_cpu_rng.cpp). Each kernel computes exactly what its portable loop computes;
// tests/watermark/torch_cpu_kat_test.cpp checks every one this CPU can run against it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace tritium::detail {

/// One MT19937 refill: the twist of the 624 state words in place, then the tempered outputs into
/// `out` (624 words).
using mt_refill_kernel = void (*)(std::uint32_t* state, std::uint32_t* out);

/// Fisher–Yates targets: target[j] = first + j + x[j] mod (d − j) for j < count, where magic[j] is
/// fast_mod_magic(d − j) (torch_cpu_rng.hpp) and d − j ≥ 1.
using walk_targets_kernel = void (*)(const std::uint32_t* x, const std::uint64_t* magic, std::uint32_t d,
                                     std::uint32_t first, std::uint32_t* target, std::size_t count);

/// The identity permutation: a[i] = i for i < n (what every walk starts from; V entries per list).
using iota_kernel = void (*)(std::int32_t* a, std::size_t n);

/// Whether value is among a[0 … n) (a token's search for the step that sends it home).
using contains_kernel = bool (*)(const std::uint32_t* a, std::size_t n, std::uint32_t value);

struct named_torch_cpu_kernels {
  const char* name;
  mt_refill_kernel refill;
  walk_targets_kernel targets;
  iota_kernel iota;
  contains_kernel contains;
};

/// The kernels this CPU can run, the portable loops first.
std::vector<named_torch_cpu_kernels> available_torch_cpu_kernels();

/// The fastest available ones, chosen once.
const named_torch_cpu_kernels& best_torch_cpu_kernels();

}  // namespace tritium::detail
