/* tritium.h — the stable C ABI of tritium's watermark embedding, for inference servers.
 *
 * Objects are opaque handles created by `tritium_<object>_create`/`_load` and released by
 * `tritium_<object>_free` (free(NULL) is a no-op). Every function that can fail returns a
 * `tritium_status`; on failure `tritium_last_error()` gives a message for the calling thread.
 * No C++ exception ever crosses this boundary. Status values never change; new ones are appended.
 *
 * Ownership: a stream keeps its key's scheme alive on its own, so a key may be freed while streams
 * made from it live on. A stream is not thread-safe; clone it per sequence or slot.
 *
 * Order in a sampler chain: apply the bias before top-k/top-p/temperature (as Hugging Face and TGI
 * do), or use tritium_stream_sample as the final selector. The order is part of what detection
 * assumes: document it next to your deployment's key.
 */
#ifndef TRITIUM_H
#define TRITIUM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum tritium_status {
  TRITIUM_OK = 0,
  TRITIUM_ERR_INVALID_ARGUMENT = 1,
  TRITIUM_ERR_IO = 2,
  TRITIUM_ERR_PARSE = 3,
  TRITIUM_ERR_KEY_CORRUPT = 4,
  TRITIUM_ERR_MISMATCH = 5,
  TRITIUM_ERR_OUT_OF_RANGE = 6,
  TRITIUM_ERR_INTERNAL = 7,
  TRITIUM_ERR_NO_MEMORY = 8,
  TRITIUM_ERR_VERIFICATION_FAILED = 9,
  TRITIUM_ERR_USAGE = 10
} tritium_status;

typedef struct tritium_key tritium_key;
typedef struct tritium_stream tritium_stream;

/* The message of the last failure on this thread ("" if none). Valid until the next call. */
const char* tritium_last_error(void);

/* The library version, e.g. "0.1.0". */
const char* tritium_version(void);

/* Loads a key file written by `tritium keygen`. The file's integrity is checked. */
tritium_status tritium_key_load(const char* path, tritium_key** out);
void tritium_key_free(tritium_key* key);

/* The key id (64 hex digits and a NUL) — a commitment, safe to log. */
tritium_status tritium_key_id(const tritium_key* key, char out[65]);

/* The public parameters a deployment must respect. */
typedef struct tritium_kgw_info {
  double gamma;
  double delta;
  uint32_t context_width;
  uint32_t vocab_size;
  uint32_t seeding; /* 1 = lefthash, 2 = selfhash */
} tritium_kgw_info;
tritium_status tritium_key_info(const tritium_key* key, tritium_kgw_info* out);

/* The native schemes a key can name (its params.schemes; papers/key-file-v1.md §1.2). */
enum {
  TRITIUM_SCHEME_KGW = 0,    /* green lists by context: bias or sample */
  TRITIUM_SCHEME_GUMBEL = 1, /* exponential-minimum choice: sample or sample_candidates only */
  TRITIUM_SCHEME_UNIGRAM = 2 /* one fixed green list: bias or sample */
};

/* Bit k of *out_mask is set when the key names scheme k (keys without params.schemes: KGW alone). */
tritium_status tritium_key_schemes(const tritium_key* key, uint32_t* out_mask);

typedef struct tritium_stream_options {
  int mask_repeated_contexts; /* non-zero: leave contexts already used in the sequence unbiased */
  uint64_t seed;              /* seed of the stream's sampling random source */
} tritium_stream_options;

/* Creates a KGW stream for one sequence. `n_vocab` is the logits width and must equal the key's
 * vocabulary size. `options` may be NULL for the defaults: no masking and a seed drawn from the
 * operating system's CSPRNG, so that streams created without options never share random draws.
 * A key that does not name KGW: TRITIUM_ERR_MISMATCH. */
tritium_status tritium_stream_create(const tritium_key* key, uint32_t n_vocab,
                                     const tritium_stream_options* options, tritium_stream** out);
/* The same under `scheme` (TRITIUM_SCHEME_*), which the key must name (TRITIUM_ERR_MISMATCH otherwise).
 * Gumbel chooses the token itself: call tritium_stream_sample or _sample_candidates as the chain's
 * final selector (the bias calls return TRITIUM_ERR_USAGE), and set mask_repeated_contexts, so that a
 * window the sequence has already chosen after is sampled plainly instead of locking it into a loop. */
tritium_status tritium_stream_create_scheme(const tritium_key* key, uint32_t scheme, uint32_t n_vocab,
                                            const tritium_stream_options* options, tritium_stream** out);
/* A copy of the stream, including the state of its random source: the copy draws the same numbers
 * as the original would. Call tritium_stream_set_seed on it to make its draws independent. */
tritium_status tritium_stream_clone(const tritium_stream* stream, tritium_stream** out);

/* Reseeds the stream's sampling random source. */
tritium_status tritium_stream_set_seed(tritium_stream* stream, uint64_t seed);
void tritium_stream_free(tritium_stream* stream);

/* Starts a new sequence; `prompt_tail` (may be NULL when n = 0) supplies the first context. */
tritium_status tritium_stream_begin(tritium_stream* stream, const int32_t* prompt_tail, size_t n);
tritium_status tritium_stream_accept(tritium_stream* stream, int32_t token);
tritium_status tritium_stream_reset(tritium_stream* stream);

/* 1 if the next step is watermarked, 0 otherwise (short context or masked repeat), <0 on error. */
int tritium_stream_active(const tritium_stream* stream);

/* Adds δ to the green entries of a full logits row of `n_vocab` floats, in place. */
tritium_status tritium_stream_bias_dense(tritium_stream* stream, float* logits, size_t n_vocab);

/* Adds δ to logits[i] where ids[i] is green, for a candidate list of n entries, in place. */
tritium_status tritium_stream_bias_sparse(tritium_stream* stream, const int32_t* ids,
                                          float* logits, size_t n);

/* Draws the next token from a full row without accepting it: softmax(logits + δ·green) for KGW and
 * Unigram, the Gumbel choice for Gumbel. */
tritium_status tritium_stream_sample(tritium_stream* stream, const float* logits, size_t n_vocab,
                                     int32_t* out_token);

/* The same among n candidates (ids in [0, V) with their logits, after top-k/top-p/temperature), as a
 * sampler chain's final step: KGW and Unigram draw from softmax(logits + bias) over the candidates,
 * Gumbel chooses among them. Not accepted. */
tritium_status tritium_stream_sample_candidates(tritium_stream* stream, const int32_t* ids, const float* logits,
                                                size_t n, int32_t* out_token);

/* ---- Account tracing (papers/trace-v1.md; papers/attribution.md §3.2 and §6.1) ----
 * A key made with `tritium keygen --trace` can also mark which account a sequence was generated for.
 * Derive an account's code once (a few microseconds; nothing is stored per account) and set it on
 * the stream of each request or sequence: every watermarked step then also adds the key's δ_a to
 * the candidates whose account lane equals the account's symbol at that step, in the same pass as
 * the green bias (tritium_stream_bias_dense, _bias_sparse and _sample alike). */
typedef struct tritium_account_code tritium_account_code;

/* Derives the code of account `id` (n bytes of UTF-8, 1 <= n <= 1024, taken as bytes: no Unicode
 * normalisation) under `key`. Invalid UTF-8 or a bad length: TRITIUM_ERR_INVALID_ARGUMENT (the
 * message names the byte offset); a key without trace parameters: TRITIUM_ERR_MISMATCH (the message
 * names the fix, `tritium keygen --trace`). The code does not keep the key; free it with
 * tritium_account_code_free. */
tritium_status tritium_account_code_create(const tritium_key* key, const char* id, size_t n,
                                           tritium_account_code** out);
void tritium_account_code_free(tritium_account_code* code);

/* Marks the stream's following steps with `code` (NULL clears: KGW only). The stream keeps a
 * pointer and does not take ownership: the caller keeps `code` alive until it is cleared or the
 * stream (and every clone made while it was set) is freed. The setting survives
 * tritium_stream_begin and _reset. A code from a key with other trace parameters:
 * TRITIUM_ERR_INVALID_ARGUMENT; a stream whose key has no trace parameters: TRITIUM_ERR_MISMATCH. */
tritium_status tritium_stream_set_account(tritium_stream* stream, const tritium_account_code* code);

/* ---- Watermarks as Hugging Face transformers and TGI configure them (papers/hf-kgw.md, hf-synthid.md) ----
 * A deployment that marks with transformers' WatermarkLogitsProcessor (KGW; TGI's watermark is one
 * configuration of it) or SynthIDTextWatermarkLogitsProcessor keeps its marks when it serves through
 * another engine: a tritium_hf_scheme reads the deployment's own configuration and changes a logits row
 * as the processor does, so that `tritium detect --hf-config` and transformers' detectors find them.
 * The configuration is JSON as transformers' to_dict() writes it: a generation_config.json holding
 * "watermarking_config", or that object alone. Fields it does not know, a wrong type or value, or the
 * fields of both schemes at once: TRITIUM_ERR_INVALID_ARGUMENT naming the field; not JSON:
 * TRITIUM_ERR_PARSE naming the byte. Only torch's CPU generator is reproduced (KGW on a GPU draws other
 * green lists). A KGW hashing_key or SynthID keys are the deployment's: tritium never prints them. */
typedef struct tritium_hf_scheme tritium_hf_scheme;
typedef struct tritium_hf_stream tritium_hf_stream;

enum {
  TRITIUM_HF_KGW = 0,    /* WatermarkingConfig: lefthash or selfhash green lists, bias added to logits */
  TRITIUM_HF_SYNTHID = 1 /* SynthIDTextWatermarkingConfig: the tournament reweights the softmax */
};

/* Reads a configuration file (at most 16 MiB) for logits rows of n_vocab floats: the model's
 * vocab_size for KGW, whose green lists are permutations of [0, n_vocab) (TGI: the logits width). */
tritium_status tritium_hf_scheme_load(const char* path, uint32_t n_vocab, tritium_hf_scheme** out);
/* The same from n bytes of JSON. */
tritium_status tritium_hf_scheme_parse(const char* json, size_t n, uint32_t n_vocab, tritium_hf_scheme** out);
void tritium_hf_scheme_free(tritium_hf_scheme* scheme);
/* TRITIUM_HF_KGW or TRITIUM_HF_SYNTHID. */
tritium_status tritium_hf_scheme_kind(const tritium_hf_scheme* scheme, uint32_t* out_kind);
/* The row width it was made for. */
tritium_status tritium_hf_scheme_vocab_size(const tritium_hf_scheme* scheme, uint32_t* out_n_vocab);

/* One sequence's state (SynthID's context and repeated-context FIFO; KGW's last tokens). The stream
 * keeps its scheme alive: the scheme may be freed first. Not thread-safe: one stream per sequence. */
tritium_status tritium_hf_stream_create(const tritium_hf_scheme* scheme, tritium_hf_stream** out);
tritium_status tritium_hf_stream_clone(const tritium_hf_stream* stream, tritium_hf_stream** out);
void tritium_hf_stream_free(tritium_hf_stream* stream);
/* Starts a sequence after `prompt` (n tokens, the whole prompt: KGW skips a step while the sequence is
 * shorter than context_width, as transformers does; SynthID's context starts as zeros whatever it is). */
tritium_status tritium_hf_stream_begin(tritium_hf_stream* stream, const int32_t* prompt, size_t n);
/* The token chosen at the current step. Each accept is one step of transformers' generation loop,
 * whose processor runs once a step: SynthID's FIFO takes the step's context whether or not the row was
 * given to apply. */
tritium_status tritium_hf_stream_accept(tritium_hf_stream* stream, int32_t token);
/* 1 if apply would change the current step's row, 0 if the processor leaves it alone (a short sequence,
 * a repeated SynthID context, skip_first_ngram_calls), <0 on error. */
int tritium_hf_stream_active(const tritium_hf_stream* stream);
/* The processor on the current step's full row of n_vocab floats, in place. It changes no state: applying
 * it to two copies of the row gives the same result (a llama.cpp chain may apply a sampler twice). A row
 * SynthID cannot take (a NaN or +inf score, none finite): TRITIUM_ERR_INVALID_ARGUMENT naming the entry. */
tritium_status tritium_hf_stream_apply(tritium_hf_stream* stream, float* logits, size_t n_vocab);
/* The same on n candidates (distinct ids in [0, n_vocab), with their logits), for a chain that
 * watermarks after top-k/top-p: KGW biases the candidates transformers would bias on the full row
 * (selfhash: the 40 highest candidates, which are the row's when the candidates are its top ones;
 * after an arbitrary subset, other green tokens get the bias); SynthID runs the tournament over the
 * candidates, in the order
 * of DeepMind's reference. Detection is the same either way; the sampled distribution is that of the
 * order chosen. Document it with the deployment's configuration. */
tritium_status tritium_hf_stream_apply_candidates(tritium_hf_stream* stream, const int32_t* ids, float* logits,
                                                  size_t n);

#ifdef __cplusplus
}
#endif

#endif /* TRITIUM_H */
