// Regenerates fixtures/cli/docs.jsonl from fixtures/cli/test.key (see fixtures/README.md):
// three watermarked and two plain 120-token documents from the synthetic model, and a 3-token one.
// With --gumbel, fixtures/cli/docs_gumbel.jsonl: three 120-token documents chosen by the Gumbel scheme
// under the key and two plain ones.
// With --hf CONFIG V, the documents of a transformers watermark configuration (tritium/interop_scan.hpp):
// three 200-token documents marked by transformers' KGW or SynthID processor as tritium reproduces it, and
// two plain ones, from the synthetic model over V ids (fixtures/cli/docs_hf_kgw.jsonl, docs_hf_synthid.jsonl).
// Usage: make_cli_fixtures KEYFILE [--gumbel] > docs.jsonl
//        make_cli_fixtures --hf CONFIG V > docs.jsonl
#include <algorithm>
#include <cmath>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "tritium/gumbel.hpp"
#include "tritium/interop_scan.hpp"
#include "tritium/kgw_stream.hpp"
#include "tritium/synthetic_lm.hpp"

namespace {

int gumbel_documents(const tritium::key& k) {
  const tritium::gumbel g(k);
  const tritium::synthetic_lm lm(k.params().vocab_size, 4242, 1.6);
  std::vector<float> logits(k.params().vocab_size), probs(k.params().vocab_size);
  tritium::sampling_scratch scratch;
  for (int d = 0; d < 5; ++d) {
    const bool watermarked = d < 3;
    tritium::sampling_rng rng(static_cast<std::uint64_t>(d + 100));
    tritium::token_id previous = d;
    std::cout << "{\"id\": \"" << (watermarked ? "gumbel-" : "plain-") << d << "\", \"tokens\": [";
    for (int t = 0; t < 120; ++t) {
      lm.logits(previous, logits);
      if (watermarked) {
        const float top = *std::max_element(logits.begin(), logits.end());
        for (std::size_t v = 0; v < logits.size(); ++v) probs[v] = std::exp(logits[v] - top);
        const tritium::token_id window[1] = {previous};
        previous = g.select(window, probs);
      } else {
        previous = tritium::kgw::sample_plain(logits, rng, scratch);
      }
      std::cout << (t ? ", " : "") << previous;
    }
    std::cout << "]}\n";
  }
  return 0;
}

int hf_documents(const char* config_path, const char* vocab_text) {
  tritium::interop_config config = tritium::load_interop_config(config_path);
  const auto vocab = static_cast<std::uint32_t>(std::stoul(vocab_text));
  config.kgw.vocab_size = vocab;
  const bool kgw = config.kind == tritium::interop_kind::hf_kgw;
  std::unique_ptr<const tritium::hf_kgw> kgw_scheme;
  std::unique_ptr<const tritium::hf_synthid> synthid_scheme;
  if (kgw) {
    kgw_scheme = std::make_unique<const tritium::hf_kgw>(config.kgw);
  } else {
    synthid_scheme = std::make_unique<const tritium::hf_synthid>(config.synthid);
  }
  const tritium::synthetic_lm lm(vocab, 4242, 1.6);
  std::vector<float> logits(vocab);
  std::vector<std::int32_t> scratch(vocab);
  tritium::sampling_scratch sampling;
  for (int d = 0; d < 5; ++d) {
    const bool watermarked = d < 3;
    tritium::sampling_rng rng(static_cast<std::uint64_t>(d + 200));
    std::vector<tritium::token_id> text{d};  // the prompt's last token
    std::unique_ptr<tritium::hf_synthid_state> state;
    if (synthid_scheme) state = std::make_unique<tritium::hf_synthid_state>(*synthid_scheme);
    std::cout << "{\"id\": \"" << (watermarked ? "marked-" : "plain-") << d << "\", \"tokens\": [";
    for (int t = 0; t < 200; ++t) {
      lm.logits(text.back(), logits);
      if (watermarked && kgw_scheme) kgw_scheme->bias_dense(text, logits, scratch);
      if (watermarked && state) state->apply(text.back(), logits);
      text.push_back(tritium::kgw::sample_plain(logits, rng, sampling));
      std::cout << (t ? ", " : "") << text.back();
    }
    std::cout << "]}\n";
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 4 && std::string(argv[1]) == "--hf") return hf_documents(argv[2], argv[3]);
  if (argc < 2 || argc > 3 || (argc == 3 && std::string(argv[2]) != "--gumbel")) {
    std::cerr << "usage: make_cli_fixtures KEYFILE [--gumbel]\n";
    return 2;
  }
  const tritium::key k = tritium::key::load(argv[1]);
  if (argc == 3) return gumbel_documents(k);
  auto scheme = std::make_shared<const tritium::kgw>(k);
  const tritium::synthetic_lm lm(k.params().vocab_size, 4242, 1.6);
  std::vector<float> logits(k.params().vocab_size);
  tritium::sampling_scratch scratch;
  for (int d = 0; d < 5; ++d) {
    const bool watermarked = d < 3;
    tritium::stream_options o;
    o.seed = static_cast<std::uint64_t>(d + 1);
    tritium::kgw_stream stream(scheme, o);
    const tritium::token_id prompt[1] = {d};
    stream.begin(prompt);
    tritium::token_id previous = prompt[0];
    std::cout << "{\"id\": \"" << (watermarked ? "marked-" : "plain-") << d << "\", \"tokens\": [";
    for (int t = 0; t < 120; ++t) {
      lm.logits(previous, logits);
      previous = watermarked ? stream.sample(logits)
                             : tritium::kgw::sample_plain(logits, stream.rng(), scratch);
      stream.accept(previous);
      std::cout << (t ? ", " : "") << previous;
    }
    std::cout << "]}\n";
  }
  std::cout << "{\"id\": 6, \"tokens\": [5, 6, 7], \"note\": \"too short for any conclusion\"}\n";
  return 0;
}
