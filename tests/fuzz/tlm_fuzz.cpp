// The reference model file (.tlm, tritium/ngram_lm.hpp). Its checksums catch damage, not a crafted
// file, so the target reseals them before loading: the structural checks behind them are what a
// crafted file meets. A model that loads is queried at a few contexts.
#include <algorithm>
#include <array>
#include <vector>

#include "fuzz_support.hpp"
#include "ngram_lm_file.hpp"
#include "tritium/ngram_lm.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static tritium::fuzz::memory_file file;
  std::vector<unsigned char> image(data, data + size);
  tritium::detail::ngram_file_reseal(image);
  file.assign({reinterpret_cast<const char*>(image.data()), image.size()});
  tritium::fuzz::expect_clean([&] {
    const tritium::ngram_lm model = tritium::ngram_lm::load(file.path());
    const std::uint32_t v = model.vocab_size();
    const std::array<tritium::token_id, 6> context = {0, 1, 2, static_cast<tritium::token_id>(v - 1), 3, 0};
    const std::size_t n = std::min<std::size_t>(model.context_length(), context.size());
    for (std::uint32_t k = 1; k <= model.order(); ++k) (void)model.discounts(k);
    for (const tritium::token_id t : {tritium::token_id{0}, tritium::token_id{1}, static_cast<tritium::token_id>(v - 1)}) {
      (void)model.probability(std::span(context).first(n), t);
    }
    // The full distribution only for vocabularies of test size (a crafted header may claim 2^31 ids).
    if (v <= (1u << 16)) {
      std::vector<double> probs(v);
      model.distribution(std::span(context).first(n), probs);
    }
  });
  return 0;
}
