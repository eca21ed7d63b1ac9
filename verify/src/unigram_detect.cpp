#include "tritium/unigram_detect.hpp"

#include <cmath>
#include <numbers>
#include <string>
#include <vector>

#include "tritium/error.hpp"
#include "tritium/hypergeometric_tail.hpp"

namespace tritium {

unigram_detection unigram_detect(const unigram& scheme, std::span<const token_id> tokens,
                                 const detect_options& options) {
  if (options.want_marks || options.curve_points > 0) {
    throw error(errc::usage, "Unigram detection: marks and curves are not produced for this scheme");
  }
  if (!(options.alpha > 0.0 && options.alpha < 1.0)) {
    throw error(errc::invalid_argument, "Unigram detection: alpha must lie in (0, 1)");
  }
  if (options.dedup == dedup_mode::none) {
    throw error(errc::usage, "Unigram detection scores distinct token ids; --dedup none has no valid p-value here");
  }
  const std::uint32_t vocab = scheme.vocab_size();
  const auto& green = scheme.green_mask();
  unigram_detection d;
  d.tokens = tokens.size();
  std::vector<std::uint8_t> seen(vocab, 0);
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    const token_id t = tokens[i];
    if (t < 0 || static_cast<std::uint32_t>(t) >= vocab) {
      throw error(errc::out_of_range, "token " + std::to_string(i) + ": expected 0 <= id < " +
                                          std::to_string(vocab) + ", got " + std::to_string(t));
    }
    const auto v = static_cast<std::size_t>(t);
    if (seen[v]) continue;
    seen[v] = 1;
    ++d.scored;
    d.green += green[v];
  }
  const std::uint64_t G = scheme.green_count();
  const double ln_alpha = std::log(options.alpha);
  d.ln_p = hypergeometric_upper_tail_ln(vocab, G, d.scored, d.green);
  d.log10_p = d.ln_p / std::numbers::ln10;
  d.detected = d.ln_p <= ln_alpha;
  d.insufficient = !d.detected && hypergeometric_upper_tail_ln(vocab, G, d.scored, std::min<std::uint64_t>(d.scored, G)) > ln_alpha;
  return d;
}

}  // namespace tritium
