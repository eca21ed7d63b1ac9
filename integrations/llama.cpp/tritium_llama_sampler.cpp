#include "tritium_llama_sampler.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <iterator>
#include <cstdio>
#include <new>
#include <vector>

namespace {

struct sampler_state {
  tritium_stream* stream = nullptr;
  size_t n_vocab = 0;
  std::vector<int32_t> ids;  // scratch: the candidates' ids and logits, gathered for the bias call
  std::vector<float> logits;
  std::vector<float> bias;  // the dense path's bias of every id
  // Set by tritium_llama_sampler_bias_logits when it has biased this step's logits row in place (the
  // candidates apply sees are then built from the biased row); cleared by accept and reset.
  bool row_biased = false;
  const float* row = nullptr;     // that row, and its biased values at the probe positions: a second
  float probes[64] = {};          // call for the same row (same pointer, same values) does nothing
};

constexpr size_t n_probes = 64;
size_t probe_index(size_t n, size_t i) { return (i * n) / n_probes + (n / n_probes) / 2; }

sampler_state* state_of(const llama_sampler* s) { return static_cast<sampler_state*>(s->ctx); }

// apply cannot return an error to llama.cpp; a failed bias (a candidate id outside the key's V)
// leaves this step unmarked, which must not pass unnoticed: say so on stderr.
void report_failure() { std::fprintf(stderr, "tritium sampler: this step is not watermarked: %s\n", tritium_last_error()); }

const char* sampler_name(const llama_sampler*) { return "tritium"; }

void sampler_accept(llama_sampler* s, llama_token token) {
  state_of(s)->row_biased = false;
  tritium_stream_accept(state_of(s)->stream, token);
}

void sampler_apply(llama_sampler* s, llama_token_data_array* cur) {
  sampler_state& st = *state_of(s);
  if (tritium_stream_active(st.stream) != 1) return;  // short context: this step carries no mark
  if (st.row_biased) return;  // the candidates come from a row tritium_llama_sampler_bias_logits biased
  const size_t n = cur->size;
  // Long candidate lists (the usual case, first in a chain: every token in id order): compute the
  // bias of every id once into a row (the key's dense kernel, on a row that stays in cache), then add
  // it in one pass over the candidates. The candidate array is 12 bytes per token (1.8 MB at
  // V = 151,936), so touching it once rather than three times is most of the cost.
  if (n >= st.n_vocab / 8) {
    st.bias.assign(st.n_vocab, 0.0f);
    if (tritium_stream_bias_dense(st.stream, st.bias.data(), st.n_vocab) != TRITIUM_OK) {
      report_failure();
      return;
    }
    llama_token_data* data = cur->data;
    const float* bias = st.bias.data();
    for (size_t i = 0; i < n; ++i) {
      const auto id = static_cast<uint32_t>(data[i].id);
      if (id >= st.n_vocab) {
        std::fprintf(stderr, "tritium sampler: candidate id %d is outside the key's V = %zu; this step is not fully watermarked\n",
                     data[i].id, st.n_vocab);
        return;
      }
      data[i].logit += bias[id];
    }
    return;
  }
  st.ids.resize(n);
  st.logits.resize(n);
  for (size_t i = 0; i < n; ++i) {
    st.ids[i] = cur->data[i].id;
    st.logits[i] = cur->data[i].logit;
  }
  if (tritium_stream_bias_sparse(st.stream, st.ids.data(), st.logits.data(), n) != TRITIUM_OK) {
    report_failure();
    return;
  }
  for (size_t i = 0; i < n; ++i) cur->data[i].logit = st.logits[i];
}

void sampler_reset(llama_sampler* s) {
  state_of(s)->row_biased = false;
  tritium_stream_reset(state_of(s)->stream);
}

void sampler_free(llama_sampler* s) {
  sampler_state* st = state_of(s);
  tritium_stream_free(st->stream);
  delete st;
}

llama_sampler* sampler_clone(const llama_sampler* s);

llama_sampler_i sampler_iface = {
    /* .name = */ sampler_name,
    /* .accept = */ sampler_accept,
    /* .apply = */ sampler_apply,
    /* .reset = */ sampler_reset,
    /* .clone = */ sampler_clone,
    /* .free = */ sampler_free,
    /* .backend_init = */ nullptr,
    /* .backend_accept = */ nullptr,
    /* .backend_apply = */ nullptr,
    /* .backend_set_input = */ nullptr,
    /* .backend_reset = */ nullptr,
    /* .copy_state = */ nullptr,
};

llama_sampler* sampler_clone(const llama_sampler* s) {
  auto* st = new (std::nothrow) sampler_state;
  if (st == nullptr) return nullptr;
  const sampler_state& from = *state_of(s);
  st->n_vocab = from.n_vocab;
  st->row_biased = from.row_biased;
  st->row = from.row;
  std::copy(std::begin(from.probes), std::end(from.probes), std::begin(st->probes));
  if (tritium_stream_clone(state_of(s)->stream, &st->stream) != TRITIUM_OK) {
    delete st;
    return nullptr;
  }
  return llama_sampler_init(&sampler_iface, st);
}

// ---- The selector: the chain's final step, for a scheme that chooses the token (Gumbel) ----

struct selector_state {
  tritium_stream* stream = nullptr;
  std::vector<int32_t> ids;
  std::vector<float> logits;
  // Steps since the last reset whose choice carries the mark: the stream was active (full context,
  // not a repeated window) and two or more candidates had a finite logit. A greedy chain leaves one
  // (top-k 1 removes the others, temperature 0 sets them to -inf), and its choice carries no mark.
  uint64_t marked_steps = 0;
};

selector_state* selector_of(const llama_sampler* s) { return static_cast<selector_state*>(s->ctx); }

const char* selector_name(const llama_sampler*) { return "tritium-select"; }

void selector_accept(llama_sampler* s, llama_token token) { tritium_stream_accept(selector_of(s)->stream, token); }

void selector_apply(llama_sampler* s, llama_token_data_array* cur) {
  selector_state& st = *selector_of(s);
  const size_t n = cur->size;
  if (n == 0) return;
  st.ids.resize(n);
  st.logits.resize(n);
  size_t live = 0;  // candidates the draw can still pick: temperature 0 leaves one, the rest at -inf
  for (size_t i = 0; i < n; ++i) {
    st.ids[i] = cur->data[i].id;
    st.logits[i] = cur->data[i].logit;
    if (std::isfinite(cur->data[i].logit)) ++live;
  }
  int32_t token = -1;
  const bool marks = live >= 2 && tritium_stream_active(st.stream) == 1;
  if (tritium_stream_sample_candidates(st.stream, st.ids.data(), st.logits.data(), n, &token) != TRITIUM_OK) {
    // apply cannot fail: the step falls back to the most likely candidate, and says so.
    std::fprintf(stderr, "tritium selector: this step is not watermarked: %s\n", tritium_last_error());
    size_t best = 0;
    for (size_t i = 1; i < n; ++i) best = cur->data[i].logit > cur->data[best].logit ? i : best;
    cur->selected = static_cast<int64_t>(best);
    return;
  }
  for (size_t i = 0; i < n; ++i) {
    if (cur->data[i].id == token) {
      cur->selected = static_cast<int64_t>(i);
      st.marked_steps += marks ? 1 : 0;
      return;
    }
  }
}

void selector_reset(llama_sampler* s) {
  selector_of(s)->marked_steps = 0;
  tritium_stream_reset(selector_of(s)->stream);
}

void selector_free(llama_sampler* s) {
  selector_state* st = selector_of(s);
  tritium_stream_free(st->stream);
  delete st;
}

llama_sampler* selector_clone(const llama_sampler* s);

llama_sampler_i selector_iface = {
    /* .name = */ selector_name,
    /* .accept = */ selector_accept,
    /* .apply = */ selector_apply,
    /* .reset = */ selector_reset,
    /* .clone = */ selector_clone,
    /* .free = */ selector_free,
    /* .backend_init = */ nullptr,
    /* .backend_accept = */ nullptr,
    /* .backend_apply = */ nullptr,
    /* .backend_set_input = */ nullptr,
    /* .backend_reset = */ nullptr,
    /* .copy_state = */ nullptr,
};

llama_sampler* selector_clone(const llama_sampler* s) {
  auto* st = new (std::nothrow) selector_state;
  if (st == nullptr) return nullptr;
  st->marked_steps = selector_of(s)->marked_steps;
  if (tritium_stream_clone(selector_of(s)->stream, &st->stream) != TRITIUM_OK) {
    delete st;
    return nullptr;
  }
  return llama_sampler_init(&selector_iface, st);
}

}  // namespace

extern "C" llama_sampler* tritium_llama_selector_init(const tritium_key* key, uint32_t scheme, uint32_t n_vocab,
                                                      uint64_t seed) {
  auto* st = new (std::nothrow) selector_state;
  if (st == nullptr) return nullptr;
  const tritium_stream_options options{1, seed};  // a repeated window is sampled plainly (no loops)
  if (tritium_stream_create_scheme(key, scheme, n_vocab, &options, &st->stream) != TRITIUM_OK ||
      tritium_stream_begin(st->stream, nullptr, 0) != TRITIUM_OK) {
    tritium_stream_free(st->stream);
    delete st;
    return nullptr;
  }
  return llama_sampler_init(&selector_iface, st);
}

namespace {

// The bias sampler around the stream `create` makes (a tritium_status), begun with no prompt.
template <class Create>
llama_sampler* bias_sampler(uint32_t n_vocab, Create create) {
  auto* st = new (std::nothrow) sampler_state;
  if (st == nullptr) return nullptr;
  st->n_vocab = n_vocab;
  if (create(&st->stream) != TRITIUM_OK || tritium_stream_begin(st->stream, nullptr, 0) != TRITIUM_OK) {
    tritium_stream_free(st->stream);
    delete st;
    return nullptr;
  }
  return llama_sampler_init(&sampler_iface, st);
}

// `chain` itself if it has interface `iface`, or its first sampler that has it, or NULL.
llama_sampler* find_in(llama_sampler* chain, const llama_sampler_i* iface) {
  if (chain == nullptr) return nullptr;
  if (chain->iface == iface) return chain;
  const int n = llama_sampler_chain_n(chain);
  for (int i = 0; i < n; ++i) {
    llama_sampler* s = llama_sampler_chain_get(chain, i);
    if (s != nullptr && s->iface == iface) return s;
  }
  return nullptr;
}

}  // namespace

extern "C" llama_sampler* tritium_llama_sampler_init(const tritium_key* key, uint32_t n_vocab,
                                                     const tritium_account_code* account, uint64_t seed) {
  const tritium_stream_options options{0, seed};
  return bias_sampler(n_vocab, [&](tritium_stream** stream) {
    const tritium_status made = tritium_stream_create(key, n_vocab, &options, stream);
    if (made != TRITIUM_OK || account == nullptr) return made;
    return tritium_stream_set_account(*stream, account);
  });
}

extern "C" llama_sampler* tritium_llama_sampler_init_scheme(const tritium_key* key, uint32_t scheme, uint32_t n_vocab,
                                                            uint64_t seed) {
  if (scheme == TRITIUM_SCHEME_GUMBEL) return nullptr;  // it chooses, it does not bias: the selector
  const tritium_stream_options options{0, seed};
  return bias_sampler(n_vocab, [&](tritium_stream** stream) {
    return tritium_stream_create_scheme(key, scheme, n_vocab, &options, stream);
  });
}

extern "C" llama_sampler* tritium_llama_sampler_find(llama_sampler* chain) { return find_in(chain, &sampler_iface); }

extern "C" llama_sampler* tritium_llama_selector_find(llama_sampler* chain) { return find_in(chain, &selector_iface); }

extern "C" int64_t tritium_llama_selector_marked_steps(const llama_sampler* selector) {
  if (selector == nullptr || selector->iface != &selector_iface) return -1;
  return static_cast<int64_t>(selector_of(selector)->marked_steps);
}

extern "C" int tritium_llama_sampler_bias_logits(llama_sampler* sampler, float* logits, size_t n) {
  if (sampler == nullptr || sampler->iface != &sampler_iface || logits == nullptr) return -1;
  sampler_state& st = *state_of(sampler);
  if (n != st.n_vocab) return -1;
  const int active = tritium_stream_active(st.stream);
  if (active < 0) return -1;
  if (active == 0) return 0;
  if (st.row_biased && st.row == logits) {
    bool same = true;
    for (size_t i = 0; i < n_probes && same; ++i) same = logits[probe_index(n, i)] == st.probes[i];
    if (same) return 1;  // this very row was biased already
  }
  if (tritium_stream_bias_dense(st.stream, logits, n) != TRITIUM_OK) {
    st.row_biased = false;
    return -1;
  }
  st.row_biased = true;
  st.row = logits;
  for (size_t i = 0; i < n_probes; ++i) st.probes[i] = logits[probe_index(n, i)];
  return 1;
}

// ---- The transformers-configuration sampler ----

namespace {

struct hf_sampler_state {
  tritium_hf_stream* stream = nullptr;
  size_t n_vocab = 0;
  std::vector<int32_t> sequence;  // every token accepted since the last reset, prompt and generated
  bool restart = true;            // begin the stream from `sequence` at the next apply
  bool applied = false;         // apply ran since the last accept: the next accept is a generated step
  bool step_marks = false;      // and that apply changed the candidates
  uint64_t marked_steps = 0;
  std::vector<int32_t> ids;     // scratch for the candidate path and the dense row
  std::vector<float> logits;
};

hf_sampler_state* hf_of(const llama_sampler* s) { return static_cast<hf_sampler_state*>(s->ctx); }

const char* hf_name(const llama_sampler*) { return "tritium-hf"; }

void hf_accept(llama_sampler* s, llama_token token) {
  hf_sampler_state& st = *hf_of(s);
  if (!st.applied) {  // a prompt token: the sequence restarts, as a prompt, at the next apply
    st.sequence.push_back(token);
    st.restart = true;
    return;
  }
  st.applied = false;
  st.marked_steps += st.step_marks ? 1 : 0;
  st.sequence.push_back(token);
  if (tritium_hf_stream_accept(st.stream, token) != TRITIUM_OK) {
    std::fprintf(stderr, "tritium-hf sampler: %s; the sequence restarts at the next step\n", tritium_last_error());
    st.restart = true;
  }
}

void hf_apply(llama_sampler* s, llama_token_data_array* cur) {
  hf_sampler_state& st = *hf_of(s);
  if (st.restart) {
    // KGW reads the last 64 tokens at most and the length; SynthID starts from zeros whatever the prompt.
    if (tritium_hf_stream_begin(st.stream, st.sequence.data(), st.sequence.size()) != TRITIUM_OK) {
      std::fprintf(stderr, "tritium-hf sampler: this step is not watermarked: %s\n", tritium_last_error());
      return;
    }
    st.restart = false;
  }
  st.applied = true;
  st.step_marks = false;
  const int active = tritium_hf_stream_active(st.stream);
  if (active < 0) std::fprintf(stderr, "tritium-hf sampler: this step is not watermarked: %s\n", tritium_last_error());
  if (active != 1) return;
  const size_t n = cur->size;
  bool in_id_order = n == st.n_vocab;
  for (size_t i = 0; i < n && in_id_order; ++i) in_id_order = cur->data[i].id == static_cast<llama_token>(i);
  st.logits.resize(n);
  for (size_t i = 0; i < n; ++i) st.logits[i] = cur->data[i].logit;
  tritium_status status;
  if (in_id_order) {  // first in the chain: the processor's own row
    status = tritium_hf_stream_apply(st.stream, st.logits.data(), n);
  } else {
    st.ids.resize(n);
    for (size_t i = 0; i < n; ++i) st.ids[i] = cur->data[i].id;
    status = tritium_hf_stream_apply_candidates(st.stream, st.ids.data(), st.logits.data(), n);
  }
  if (status != TRITIUM_OK) {
    std::fprintf(stderr, "tritium-hf sampler: this step is not watermarked: %s\n", tritium_last_error());
    return;
  }
  // transformers writes float32's lowest value for a token SynthID leaves no probability; llama.cpp
  // reads -inf as removed (logit-bias, grammar, top-n-sigma's statistics), so a token that came in
  // removed stays removed. The step is marked when the processor changed a candidate (selfhash: one of
  // the 40 highest was green).
  bool changed = false;
  for (size_t i = 0; i < n; ++i) {
    const float before = cur->data[i].logit;
    if (before == -INFINITY) continue;
    changed = changed || st.logits[i] != before;
    cur->data[i].logit = st.logits[i];
  }
  cur->sorted = false;
  st.step_marks = changed;
}

void hf_reset(llama_sampler* s) {
  hf_sampler_state& st = *hf_of(s);
  st.sequence.clear();
  st.restart = true;
  st.applied = false;
  st.step_marks = false;
  st.marked_steps = 0;
}

void hf_free(llama_sampler* s) {
  hf_sampler_state* st = hf_of(s);
  tritium_hf_stream_free(st->stream);
  delete st;
}

llama_sampler* hf_clone(const llama_sampler* s);

llama_sampler_i hf_iface = {
    /* .name = */ hf_name,
    /* .accept = */ hf_accept,
    /* .apply = */ hf_apply,
    /* .reset = */ hf_reset,
    /* .clone = */ hf_clone,
    /* .free = */ hf_free,
    /* .backend_init = */ nullptr,
    /* .backend_accept = */ nullptr,
    /* .backend_apply = */ nullptr,
    /* .backend_set_input = */ nullptr,
    /* .backend_reset = */ nullptr,
    /* .copy_state = */ nullptr,
};

llama_sampler* hf_clone(const llama_sampler* s) {
  const hf_sampler_state& from = *hf_of(s);
  auto* st = new (std::nothrow) hf_sampler_state;
  if (st == nullptr) return nullptr;
  st->n_vocab = from.n_vocab;
  st->sequence = from.sequence;
  st->restart = from.restart;
  st->applied = from.applied;
  st->step_marks = from.step_marks;
  st->marked_steps = from.marked_steps;
  if (tritium_hf_stream_clone(from.stream, &st->stream) != TRITIUM_OK) {
    delete st;
    return nullptr;
  }
  return llama_sampler_init(&hf_iface, st);
}

}  // namespace

extern "C" llama_sampler* tritium_llama_hf_sampler_init(const tritium_hf_scheme* scheme) {
  uint32_t n_vocab = 0;
  if (tritium_hf_scheme_vocab_size(scheme, &n_vocab) != TRITIUM_OK) return nullptr;
  auto* st = new (std::nothrow) hf_sampler_state;
  if (st == nullptr) return nullptr;
  st->n_vocab = n_vocab;
  if (tritium_hf_stream_create(scheme, &st->stream) != TRITIUM_OK) {
    delete st;
    return nullptr;
  }
  return llama_sampler_init(&hf_iface, st);
}

extern "C" llama_sampler* tritium_llama_hf_sampler_find(llama_sampler* chain) { return find_in(chain, &hf_iface); }

extern "C" int64_t tritium_llama_hf_sampler_marked_steps(const llama_sampler* sampler) {
  if (sampler == nullptr || sampler->iface != &hf_iface) return -1;
  return static_cast<int64_t>(hf_of(sampler)->marked_steps);
}
