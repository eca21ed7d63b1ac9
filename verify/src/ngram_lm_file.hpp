// Internal to tritium: the integrity fields of the n-gram model file (ngram_lm.cpp), for the fuzz
// target. Its checksums catch damage, not a crafted file, so a fuzzer must be able to craft files
// whose checksums hold to reach the structural checks behind them.
#pragma once

#include <span>

namespace tritium::detail {

/// Rewrites the payload and header checksums of a model file image so that they match its bytes
/// (file_size included); images shorter than the header are left as they are.
void ngram_file_reseal(std::span<unsigned char> image) noexcept;

}  // namespace tritium::detail
