// The tritium sampler inside a llama.cpp sampler chain (prebuilt libllama v0.4.0) biases the
// candidates exactly as tritium_stream_bias_dense biases a full row, with an account mark, over 50
// steps; a clone taken mid-sequence continues identically; reset starts a new sequence.
// The selector (Gumbel in place of `dist`) after top-k chooses what the Gumbel stream chooses among the
// top-k candidates, whatever its seed.
// Usage: tritium_llama_sampler_test KEY_FILE SCHEMES_KEY_FILE (a key made with --trace, V = 151,936;
// a key naming kgw, gumbel and unigram)
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <string_view>
#include <vector>

#include "tritium_llama_sampler.h"

namespace {

int failures = 0;

void expect(bool ok, const char* what) {
  if (!ok) {
    std::printf("FAILED: %s\n", what);
    ++failures;
  }
}

// True when the chain's candidates after apply equal `logits` biased by `ref` (a reference stream).
bool same_as_dense(llama_sampler* chain, tritium_stream* ref, const std::vector<float>& logits, bool* changed) {
  const size_t V = logits.size();
  std::vector<llama_token_data> cand(V);
  for (size_t i = 0; i < V; ++i) cand[i] = {static_cast<llama_token>(i), logits[i], 0.0f};
  llama_token_data_array arr{cand.data(), cand.size(), -1, false};
  llama_sampler_apply(chain, &arr);
  std::vector<float> want = logits;
  if (tritium_stream_active(ref) == 1) tritium_stream_bias_dense(ref, want.data(), V);
  bool same = true;
  *changed = false;
  for (size_t i = 0; i < V; ++i) {
    same = same && std::fabs(cand[i].logit - want[i]) <= 1e-6f;
    *changed = *changed || cand[i].logit != logits[i];
  }
  return same;
}

void selector_checks(const char* schemes_path) {
  tritium_key* key = nullptr;
  if (tritium_key_load(schemes_path, &key) != TRITIUM_OK) {
    std::printf("key: %s\n", tritium_last_error());
    ++failures;
    return;
  }
  tritium_kgw_info info{};
  tritium_key_info(key, &info);
  const uint32_t V = info.vocab_size;
  const size_t k = 40;
  llama_sampler* chain = llama_sampler_chain_init(llama_sampler_chain_default_params());
  llama_sampler_chain_add(chain, llama_sampler_init_top_k(static_cast<int32_t>(k)));
  llama_sampler* select = tritium_llama_selector_init(key, TRITIUM_SCHEME_GUMBEL, V, 11);
  expect(select != nullptr, "tritium_llama_selector_init");
  if (select == nullptr) return;
  expect(std::string_view(llama_sampler_name(select)) == "tritium-select", "selector name");
  llama_sampler_chain_add(chain, select);
  tritium_stream* ref = nullptr;
  const tritium_stream_options options{1, 99};  // another seed: Gumbel's choice does not depend on it
  expect(tritium_stream_create_scheme(key, TRITIUM_SCHEME_GUMBEL, V, &options, &ref) == TRITIUM_OK, "reference stream");
  tritium_stream_begin(ref, nullptr, 0);
  std::mt19937 rng(3);
  std::normal_distribution<float> normal(0.0f, 3.0f);
  std::vector<float> logits(V);
  std::vector<llama_token_data> cand(V);
  // A fresh row of random logits for every id, as `c` leaves the candidates.
  auto apply_fresh_row = [&](llama_sampler* c) {
    for (float& l : logits) l = normal(rng);
    for (uint32_t i = 0; i < V; ++i) cand[i] = {static_cast<llama_token>(i), logits[i], 0.0f};
    llama_token_data_array arr{cand.data(), cand.size(), -1, false};
    llama_sampler_apply(c, &arr);
    return arr;
  };
  int same = 0, chosen = 0;
  for (int step = 0; step < 60; ++step) {
    const llama_token_data_array arr = apply_fresh_row(chain);
    expect(arr.selected >= 0 && static_cast<size_t>(arr.selected) < arr.size, "the selector selects a candidate");
    const llama_token got = arr.data[arr.selected].id;
    // The reference: the k largest logits, chosen among by the stream.
    std::vector<int32_t> top(V);
    for (uint32_t i = 0; i < V; ++i) top[i] = static_cast<int32_t>(i);
    std::partial_sort(top.begin(), top.begin() + static_cast<std::ptrdiff_t>(k), top.end(),
                      [&](int32_t a, int32_t b) { return logits[static_cast<size_t>(a)] > logits[static_cast<size_t>(b)]; });
    top.resize(k);
    std::vector<float> top_logits(k);
    for (size_t i = 0; i < k; ++i) top_logits[i] = logits[static_cast<size_t>(top[i])];
    int32_t want = -1;
    const bool active = tritium_stream_active(ref) == 1;
    tritium_stream_sample_candidates(ref, top.data(), top_logits.data(), k, &want);
    if (active) {
      ++chosen;
      same += got == want;
    }
    llama_sampler_accept(chain, got);
    tritium_stream_accept(ref, got);
  }
  expect(chosen >= 55 && same == chosen, "every Gumbel step chooses what the stream chooses among the top k");
  std::printf("selector: %d of %d Gumbel steps as the reference\n", same, chosen);
  // What the server logs: the selector counts the steps whose choice carries the mark.
  expect(tritium_llama_selector_find(chain) == select, "tritium_llama_selector_find finds the selector in its chain");
  expect(tritium_llama_selector_marked_steps(select) == chosen, "the selector counts every marked step");
  expect(tritium_llama_selector_marked_steps(chain) == -1, "a chain is not a selector");
  llama_sampler_reset(chain);
  expect(tritium_llama_selector_marked_steps(select) == 0, "reset starts the count again");
  tritium_stream_free(ref);
  llama_sampler_free(chain);
  // A greedy chain leaves one candidate that can be drawn (top-k 1 removes the others, temperature 0
  // sets their logits to -inf): the selector takes it, and no step is marked.
  for (const bool by_temperature : {false, true}) {
    llama_sampler* greedy = llama_sampler_chain_init(llama_sampler_chain_default_params());
    llama_sampler_chain_add(greedy, by_temperature ? llama_sampler_init_temp(0.0f) : llama_sampler_init_top_k(1));
    llama_sampler_chain_add(greedy, tritium_llama_selector_init(key, TRITIUM_SCHEME_GUMBEL, V, 11));
    for (int step = 0; step < 20; ++step) {
      const llama_token_data_array arr = apply_fresh_row(greedy);
      const auto best = std::max_element(logits.begin(), logits.end()) - logits.begin();
      expect(arr.selected >= 0 && arr.data[arr.selected].id == best, "a greedy chain's selector takes the only candidate");
      llama_sampler_accept(greedy, arr.data[arr.selected].id);
    }
    expect(tritium_llama_selector_marked_steps(tritium_llama_selector_find(greedy)) == 0,
           by_temperature ? "temperature 0: the choices carry no mark, and the count says so"
                          : "top-k 1: the choices carry no mark, and the count says so");
    llama_sampler_free(greedy);
  }
  tritium_key_free(key);
}

// The transformers-configuration sampler: first in a chain it changes the full row exactly as a
// tritium_hf_stream does (itself checked against the processors and torch), prompt tokens accepted
// before the first apply start the sequence, applying twice changes nothing more, and after top-k it
// changes the candidates as the stream's candidate path does.
void hf_checks() {
  const uint32_t V = 5003;
  const char* configs[] = {
      R"({"greenlist_ratio": 0.25, "bias": 2.0, "hashing_key": 15485863, "seeding_scheme": "selfhash", "context_width": 4})",
      R"({"ngram_len": 3, "keys": [654, 400, 836, 123, 340, 443, 597, 160], "context_history_size": 16})"};
  for (const char* config : configs) {
    tritium_hf_scheme* scheme = nullptr;
    if (tritium_hf_scheme_parse(config, std::strlen(config), V, &scheme) != TRITIUM_OK) {
      std::printf("hf scheme: %s\n", tritium_last_error());
      ++failures;
      return;
    }
    llama_sampler* chain = llama_sampler_chain_init(llama_sampler_chain_default_params());
    llama_sampler_chain_add(chain, tritium_llama_hf_sampler_init(scheme));
    llama_sampler* topk = llama_sampler_chain_init(llama_sampler_chain_default_params());
    llama_sampler_chain_add(topk, llama_sampler_init_top_k(40));
    llama_sampler_chain_add(topk, tritium_llama_hf_sampler_init(scheme));
    tritium_hf_stream* ref = nullptr;
    tritium_hf_stream_create(scheme, &ref);
    tritium_hf_scheme_free(scheme);  // the samplers' streams keep it
    expect(tritium_llama_hf_sampler_find(chain) != nullptr && tritium_llama_hf_sampler_find(topk) != nullptr,
           "tritium_llama_hf_sampler_find");
    expect(std::string_view(llama_sampler_name(tritium_llama_hf_sampler_find(chain))) == "tritium-hf", "hf name");
    const std::vector<int32_t> prompt{151, 152, 153, 154, 155};
    for (const int32_t t : prompt) {
      llama_sampler_accept(chain, t);
      llama_sampler_accept(topk, t);
    }
    tritium_hf_stream_begin(ref, prompt.data(), prompt.size());
    std::vector<int32_t> sequence = prompt;
    std::mt19937 rng(23);
    std::normal_distribution<float> normal(0.0f, 2.0f);
    std::vector<float> logits(V);
    int same_rows = 0, same_candidates = 0, marked = 0;
    const int steps = 30;
    for (int step = 0; step < steps; ++step) {
      for (float& l : logits) l = normal(rng);
      std::vector<float> want = logits;
      const bool marks = tritium_hf_stream_active(ref) == 1;
      marked += marks ? 1 : 0;
      tritium_hf_stream_apply(ref, want.data(), V);
      bool same = true;
      for (int twice = 0; twice < 2; ++twice) {  // llama.cpp may apply a chain twice to one position
        std::vector<llama_token_data> cand(V);
        for (size_t i = 0; i < V; ++i) cand[i] = {static_cast<llama_token>(i), logits[i], 0.0f};
        llama_token_data_array arr{cand.data(), cand.size(), -1, false};
        llama_sampler_apply(chain, &arr);
        for (size_t i = 0; i < V; ++i) same = same && cand[i].logit == want[i];
      }
      same_rows += same ? 1 : 0;
      // After top-k: the 40 highest, in the order top-k leaves them.
      std::vector<llama_token_data> cand(V);
      for (size_t i = 0; i < V; ++i) cand[i] = {static_cast<llama_token>(i), logits[i], 0.0f};
      llama_token_data_array arr{cand.data(), cand.size(), -1, false};
      llama_sampler_apply(topk, &arr);
      std::vector<int32_t> ids(arr.size);
      std::vector<float> values(arr.size);
      for (size_t i = 0; i < arr.size; ++i) {
        ids[i] = arr.data[i].id;
        values[i] = logits[static_cast<size_t>(arr.data[i].id)];
      }
      tritium_hf_stream_apply_candidates(ref, ids.data(), values.data(), ids.size());
      bool same_top = arr.size == 40;
      for (size_t i = 0; i < arr.size && same_top; ++i) same_top = arr.data[i].logit == values[i];
      same_candidates += same_top ? 1 : 0;
      const auto t = static_cast<llama_token>(rng() % V);
      llama_sampler_accept(chain, t);
      llama_sampler_accept(topk, t);
      tritium_hf_stream_accept(ref, t);
      sequence.push_back(t);
    }
    expect(same_rows == steps, "first in the chain: the row is the stream's, applied once or twice");
    expect(same_candidates == steps, "after top-k: the candidates are the stream's candidate path");
    expect(marked >= steps - 2, "the steps are marked");
    expect(tritium_llama_hf_sampler_marked_steps(tritium_llama_hf_sampler_find(chain)) == marked,
           "marked steps are counted at accept");
    // A clone continues the sequence; reset forgets it (and the count).
    llama_sampler* copy = llama_sampler_clone(chain);
    for (float& l : logits) l = normal(rng);
    std::vector<float> want = logits;
    tritium_hf_stream_apply(ref, want.data(), V);
    std::vector<llama_token_data> cand(V);
    for (size_t i = 0; i < V; ++i) cand[i] = {static_cast<llama_token>(i), logits[i], 0.0f};
    llama_token_data_array arr{cand.data(), cand.size(), -1, false};
    llama_sampler_apply(copy, &arr);
    bool same = true;
    for (size_t i = 0; i < V; ++i) same = same && cand[i].logit == want[i];
    expect(same, "a clone continues its sequence");
    // A second turn: tokens accepted with no apply between them are a prompt, and the sequence restarts
    // from everything accepted (SynthID from a zero context, as transformers' generate would). Tokens
    // that come in at -inf stay there.
    for (const int32_t t : {201, 202, 203}) {
      llama_sampler_accept(chain, t);
      sequence.push_back(t);
    }
    tritium_hf_stream* again = nullptr;
    tritium_hf_stream_clone(ref, &again);
    tritium_hf_stream_begin(again, sequence.data(), sequence.size());
    for (float& l : logits) l = normal(rng);
    for (size_t i = 0; i < 10; ++i) logits[i * 97] = -INFINITY;
    want = logits;
    tritium_hf_stream_apply(again, want.data(), V);
    for (size_t i = 0; i < V; ++i) cand[i] = {static_cast<llama_token>(i), logits[i], 0.0f};
    arr = {cand.data(), cand.size(), -1, false};
    llama_sampler_apply(chain, &arr);
    same = true;
    bool removed_stay = true;
    for (size_t i = 0; i < V; ++i) {
      if (logits[i] == -INFINITY) {
        removed_stay = removed_stay && cand[i].logit == -INFINITY;
      } else {
        same = same && cand[i].logit == want[i];
      }
    }
    expect(same, "a second turn's prompt restarts the sequence from everything accepted");
    expect(removed_stay, "a candidate removed before the sampler (-inf) stays removed");
    tritium_hf_stream_free(again);
    llama_sampler_reset(chain);
    expect(tritium_llama_hf_sampler_marked_steps(tritium_llama_hf_sampler_find(chain)) == 0, "reset clears the count");
    llama_sampler_free(copy);
    llama_sampler_free(chain);
    llama_sampler_free(topk);
    tritium_hf_stream_free(ref);
  }
  expect(tritium_llama_hf_sampler_init(nullptr) == nullptr, "no scheme: NULL");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::printf("usage: tritium_llama_sampler_test KEY_FILE SCHEMES_KEY_FILE\n");
    return 2;
  }
  selector_checks(argv[2]);
  hf_checks();
  tritium_key* key = nullptr;
  if (tritium_key_load(argv[1], &key) != TRITIUM_OK) {
    std::printf("key: %s\n", tritium_last_error());
    return 1;
  }
  tritium_kgw_info info{};
  tritium_key_info(key, &info);
  const uint32_t V = info.vocab_size;
  tritium_account_code* account = nullptr;
  expect(tritium_account_code_create(key, "acct-42", 7, &account) == TRITIUM_OK, "account code");

  llama_sampler* chain = llama_sampler_chain_init(llama_sampler_chain_default_params());
  llama_sampler* mark = tritium_llama_sampler_init(key, V, account, 1);
  expect(mark != nullptr, "tritium_llama_sampler_init");
  llama_sampler_chain_add(chain, mark);
  expect(std::string_view(llama_sampler_name(mark)) == "tritium", "name");
  tritium_stream* ref = nullptr;
  const tritium_stream_options options{0, 1};
  tritium_stream_create(key, V, &options, &ref);
  tritium_stream_set_account(ref, account);
  tritium_stream_begin(ref, nullptr, 0);

  std::mt19937 rng(7);
  std::normal_distribution<float> normal;
  std::vector<float> logits(V);
  llama_sampler* copy = nullptr;
  tritium_stream* copy_ref = nullptr;
  int marked = 0;
  for (int step = 0; step < 50; ++step) {
    for (float& l : logits) l = normal(rng);
    bool changed = false;
    expect(same_as_dense(chain, ref, logits, &changed), "the chain's candidates equal the dense bias");
    marked += changed ? 1 : 0;
    const llama_token t = static_cast<llama_token>(rng() % V);
    llama_sampler_accept(chain, t);
    tritium_stream_accept(ref, t);
    if (step == 25) {
      copy = llama_sampler_clone(chain);
      tritium_stream_clone(ref, &copy_ref);
    }
  }
  expect(marked >= 45, "steps after the first context are marked");
  // The clone continues from the state it was taken in (steps 26..), independently of the original.
  bool changed = false;
  for (float& l : logits) l = normal(rng);
  expect(copy != nullptr && same_as_dense(copy, copy_ref, logits, &changed) && changed, "a clone continues its sequence");
  // A candidate list that is not the full row in id order (say, after top-k): the sparse path must
  // bias each candidate exactly as the dense row does.
  {
    std::vector<float> dense = logits;
    tritium_stream_bias_dense(copy_ref, dense.data(), V);
    std::vector<llama_token_data> cand;
    for (int i = 0; i < 1000; ++i) {
      const auto id = static_cast<llama_token>((static_cast<uint64_t>(i) * 2654435761u + 17) % V);
      cand.push_back({id, logits[static_cast<size_t>(id)], 0.0f});
    }
    llama_token_data_array arr{cand.data(), cand.size(), -1, false};
    llama_sampler_apply(copy, &arr);
    bool same = true;
    for (const llama_token_data& c : cand) same = same && std::fabs(c.logit - dense[static_cast<size_t>(c.id)]) <= 1e-6f;
    expect(same, "a partial, shuffled candidate list is biased as the dense row");
  }
  // The raw-row path: the caller biases the step's logits row (twice, as a careless caller might);
  // candidates built from it then pass the chain unchanged, equal to the dense bias applied once.
  {
    expect(tritium_llama_sampler_find(copy) != nullptr && tritium_llama_sampler_find(chain) != nullptr, "find the sampler in a chain");
    std::vector<float> row = logits;
    llama_sampler* mark_copy = tritium_llama_sampler_find(copy);
    expect(tritium_llama_sampler_bias_logits(mark_copy, row.data(), V) == 1, "bias_logits marks an active step");
    expect(tritium_llama_sampler_bias_logits(mark_copy, row.data(), V) == 1, "bias_logits again on the same row");
    std::vector<float> dense = logits;
    tritium_stream_bias_dense(copy_ref, dense.data(), V);
    std::vector<llama_token_data> cand(V);
    for (uint32_t i = 0; i < V; ++i) cand[i] = {static_cast<llama_token>(i), row[i], 0.0f};
    llama_token_data_array arr{cand.data(), cand.size(), -1, false};
    llama_sampler_apply(copy, &arr);
    bool same = true;
    for (uint32_t i = 0; i < V; ++i) same = same && std::fabs(cand[i].logit - dense[i]) <= 1e-6f;
    expect(same, "a row biased by bias_logits (twice) is biased exactly once");
    // After accept, apply marks the next step itself again.
    const llama_token t = 12345;
    llama_sampler_accept(copy, t);
    tritium_stream_accept(copy_ref, t);
    bool next_changed = false;
    expect(same_as_dense(copy, copy_ref, logits, &next_changed) && next_changed, "after accept, apply marks the next step");
  }
  // Reset: a new sequence with no context is not marked.
  llama_sampler_reset(chain);
  tritium_stream_reset(ref);
  expect(same_as_dense(chain, ref, logits, &changed) && !changed, "after reset the first step is not marked");

  llama_sampler_free(copy);
  llama_sampler_free(chain);
  tritium_stream_free(copy_ref);
  tritium_stream_free(ref);
  tritium_account_code_free(account);
  tritium_key_free(key);
  std::printf("%d marked steps of 50; %s\n", marked, failures == 0 ? "ok" : "FAILED");
  return failures == 0 ? 0 : 1;
}
