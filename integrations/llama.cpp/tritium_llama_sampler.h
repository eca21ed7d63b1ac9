// A llama.cpp sampler (llama_sampler_i, llama.cpp v0.4.0) backed by tritium's C ABI: it adds the
// key's watermark bias δ to the green candidates, and δ_a to the account's quarter when an account
// code is set, in place on the candidates' logits. Put it right after logit-bias in a chain, so that
// penalties, top-k, top-p and temperature see the watermarked distribution, and end the chain with
// `dist` (issue 16; papers/attribution.md §3.2 for the account mark).
//
// The sampler owns one tritium_stream: `accept` pushes every token (prompt and generated) into its
// context window, `apply` changes no state (llama.cpp may apply twice for one position), `reset`
// starts a new sequence, and `clone` copies the stream with its window.
#pragma once

#include "llama.h"
#include "tritium/tritium.h"

#ifdef __cplusplus
extern "C" {
#endif

// A new sampler for `key` over logits of width n_vocab (the key's V), marking `account` if not NULL.
// Neither `key` nor `account` is owned; both must outlive the sampler and its clones. Returns NULL
// on error, with tritium_last_error() naming it.
struct llama_sampler* tritium_llama_sampler_init(const tritium_key* key, uint32_t n_vocab,
                                                 const tritium_account_code* account, uint64_t seed);

// The same bias under another scheme the key names: TRITIUM_SCHEME_KGW (no account) or
// TRITIUM_SCHEME_UNIGRAM (one fixed green list). Gumbel chooses the token itself: use
// tritium_llama_selector_init for it (NULL here). Returns NULL on error, with tritium_last_error().
struct llama_sampler* tritium_llama_sampler_init_scheme(const tritium_key* key, uint32_t scheme, uint32_t n_vocab,
                                                        uint64_t seed);

// The faster path for a caller that holds the step's full logits row (llama_get_logits_ith):
// biases the row in place (n must be the key's V) before the candidates are built from it, and the
// sampler's apply then leaves them alone until the next accept or reset. This saves a pass over the
// 12-byte candidates (1.8 MB at V = 151,936). Returns 1 if the row was biased (calling it again on
// the same, already biased row does nothing), 0 if this step carries no mark, -1 on error (the
// sampler's own apply then marks the step as usual, as it does for any step this is not called
// for). Once it returned 1, the step must be sampled from candidates built from this row.
int tritium_llama_sampler_bias_logits(struct llama_sampler* sampler, float* logits, size_t n);

// A sampler that ends a chain in place of `dist`, for a scheme that chooses the token itself
// (TRITIUM_SCHEME_GUMBEL; KGW and Unigram work too, as a biased draw over the candidates): apply
// selects among the candidates the chain left (after top-k, top-p, temperature) with
// tritium_stream_sample_candidates, under `scheme`, which the key must name. Repeated windows are
// sampled plainly (mask_repeated_contexts), so that a deterministic choice cannot loop. `accept`
// pushes every token (prompt and generated). Returns NULL on error, with tritium_last_error().
struct llama_sampler* tritium_llama_selector_init(const tritium_key* key, uint32_t scheme, uint32_t n_vocab,
                                                  uint64_t seed);

// The tritium sampler in `chain` (or `chain` itself if it is one), or NULL.
struct llama_sampler* tritium_llama_sampler_find(struct llama_sampler* chain);

// The tritium selector in `chain` (or `chain` itself if it is one), or NULL.
struct llama_sampler* tritium_llama_selector_find(struct llama_sampler* chain);

// How many of the selector's choices since its last reset carry the mark: steps with a full,
// unrepeated context window and at least two candidates with a finite logit. A chain that leaves
// one (temperature 0, top-k 1) chooses without marking. -1 if `selector` is not a tritium selector.
int64_t tritium_llama_selector_marked_steps(const struct llama_sampler* selector);

// ---- A transformers configuration (tritium_hf_scheme: WatermarkingConfig or SynthIDTextWatermarkingConfig) ----
// A sampler that changes the candidates as transformers' processor changes its row, so that a deployment
// moving from transformers (or TGI) to llama.cpp keeps its marks, found by `tritium detect --hf-config`
// and by transformers' detectors. Put it first in the chain, as transformers does (its processors run
// before temperature, top-k and top-p): there, with every token in id order, it changes the row exactly
// as the processor does. After top-k or top-p it biases (KGW) or reweights (SynthID, DeepMind's order)
// the candidates left, which detection reads the same way. Make `scheme` for the model's vocabulary
// (llama_vocab_n_tokens); it is not owned and may be freed once the sampler exists (its stream keeps
// it). Returns NULL on error, with tritium_last_error().
//
// A candidate that comes in at -inf (removed by logit-bias or a grammar) stays at -inf, where
// transformers would write float32's lowest value: llama.cpp reads -inf as removed.
//
// Steps are told from prompt tokens by the chain's own calls: a token accepted after apply is a
// generated step (SynthID's processor state advances, as it does once per step in transformers); a
// token accepted with no apply since the last accept is part of the prompt, and the sequence restarts
// from the whole prompt at the next apply, as transformers' generate starts from its input_ids.
struct llama_sampler* tritium_llama_hf_sampler_init(const tritium_hf_scheme* scheme);

// The transformers-configuration sampler in `chain` (or `chain` itself if it is one), or NULL.
struct llama_sampler* tritium_llama_hf_sampler_find(struct llama_sampler* chain);

// Steps since the last reset whose candidates the processor changed (KGW: a context long enough and,
// for selfhash, a green token among the 40 highest; SynthID: a context the FIFO does not hold), counted
// at accept. -1 if `sampler` is not one.
int64_t tritium_llama_hf_sampler_marked_steps(const struct llama_sampler* sampler);

#ifdef __cplusplus
}
#endif
