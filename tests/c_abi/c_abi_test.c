/* A C99 program against tritium.h: the ABI compiles as C, never throws, and reports errors through
 * status codes and tritium_last_error(). Usage: c_abi_test KEYFILE SCRATCH_DIR TRACE_KEYFILE (a key
 * with V = 1000; a writable folder for a damaged copy of it; fixtures/kat/trace_v1.key, a key with
 * trace parameters). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tritium/tritium.h"

static int failures = 0;

#define EXPECT(cond)                                              \
  do {                                                            \
    if (!(cond)) {                                                \
      fprintf(stderr, "%s:%d: failed: %s\n", __FILE__, __LINE__, #cond); \
      ++failures;                                                 \
    }                                                             \
  } while (0)

/* Account tracing: the first biased row of fixtures/kat/trace_v1.json (papers/trace-v1.md §5 item
 * 4): history (17, 4242, 151935), account "acct-000001", from an all-zero row; class of a candidate
 * = green + 2 * (account lane == symbol), read off the floats 0, δ = 2, δ_a = 0.75, δ + δ_a. */
static const unsigned char kat_classes_first64[64] = {0, 0, 0, 0, 0, 1, 1, 2, 2, 0, 1, 1, 0, 0, 0, 1, 0, 0, 0, 0, 1, 2, 1, 2, 0, 0, 2, 2, 1, 2, 0, 2, 3, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 3, 2, 2, 0, 0, 0, 0, 0, 0, 2, 1, 3, 1, 1, 0, 1, 1, 0, 0};
static const size_t kat_class_counts[4] = {85520, 28417, 28508, 9491};

static int class_of(float x) {
  if (x == 0.0f) return 0;
  if (x == 2.0f) return 1;
  if (x == 0.75f) return 2;
  if (x == 2.75f) return 3;
  return -1;
}

static void trace_checks(const char* plain_path, const char* trace_path) {
  const uint32_t vocab = 151936;
  const int32_t history[3] = {17, 4242, 151935};
  const int32_t sparse_ids[4] = {0, 5, 32, 151935};
  float sparse_row[4] = {0.0f, 0.0f, 0.0f, 0.0f};
  size_t counts[4] = {0, 0, 0, 0};
  tritium_key* plain = NULL;
  tritium_key* key = NULL;
  tritium_account_code* code = NULL;
  tritium_stream* stream = NULL;
  float* row = NULL;
  size_t i;

  /* A key without trace parameters cannot make an account code; the message names the fix. */
  EXPECT(tritium_key_load(plain_path, &plain) == TRITIUM_OK);
  EXPECT(tritium_account_code_create(plain, "acct-000001", 11, &code) == TRITIUM_ERR_MISMATCH);
  EXPECT(code == NULL);
  EXPECT(strstr(tritium_last_error(), "tritium keygen --trace") != NULL);
  tritium_key_free(plain);

  EXPECT(tritium_key_load(trace_path, &key) == TRITIUM_OK);
  if (key == NULL) return;
  /* Invalid UTF-8 (a lone continuation byte) and an empty id are invalid arguments. */
  EXPECT(tritium_account_code_create(key, "\x80", 1, &code) == TRITIUM_ERR_INVALID_ARGUMENT);
  EXPECT(strstr(tritium_last_error(), "byte offset 0") != NULL);
  EXPECT(tritium_account_code_create(key, "", 0, &code) == TRITIUM_ERR_INVALID_ARGUMENT);
  EXPECT(tritium_account_code_create(key, NULL, 3, &code) == TRITIUM_ERR_INVALID_ARGUMENT);
  EXPECT(tritium_stream_set_account(NULL, NULL) == TRITIUM_ERR_INVALID_ARGUMENT);

  EXPECT(tritium_account_code_create(key, "acct-000001", 11, &code) == TRITIUM_OK);
  EXPECT(tritium_stream_create(key, vocab, NULL, &stream) == TRITIUM_OK);
  /* The code does not keep the key, and the stream keeps the scheme: the key may go first. */
  tritium_key_free(key);
  row = (float*)calloc(vocab, sizeof *row);
  EXPECT(row != NULL);
  if (code != NULL && stream != NULL && row != NULL) {
    EXPECT(tritium_stream_set_account(stream, code) == TRITIUM_OK);
    EXPECT(tritium_stream_begin(stream, history, 3) == TRITIUM_OK);
    EXPECT(tritium_stream_bias_dense(stream, row, vocab) == TRITIUM_OK);
    for (i = 0; i < 64; ++i) EXPECT(class_of(row[i]) == (int)kat_classes_first64[i]);
    for (i = 0; i < vocab; ++i) {
      const int c = class_of(row[i]);
      if (c >= 0) ++counts[c];
    }
    for (i = 0; i < 4; ++i) EXPECT(counts[i] == kat_class_counts[i]);
    EXPECT(tritium_stream_bias_sparse(stream, sparse_ids, sparse_row, 4) == TRITIUM_OK);
    for (i = 0; i < 4; ++i) EXPECT(sparse_row[i] == row[sparse_ids[i]]);
    /* NULL clears the account: the same step adds δ to the green candidates only. */
    EXPECT(tritium_stream_set_account(stream, NULL) == TRITIUM_OK);
    memset(row, 0, vocab * sizeof *row);
    EXPECT(tritium_stream_bias_dense(stream, row, vocab) == TRITIUM_OK);
    for (i = 0; i < 64; ++i) EXPECT(class_of(row[i]) == (int)(kat_classes_first64[i] & 1));
  }
  free(row);
  tritium_stream_free(stream);
  tritium_account_code_free(code);
  tritium_account_code_free(NULL);
}

/* The scheme choice (papers/key-file-v1.md §1.2): a key naming kgw, gumbel and unigram. */
static void scheme_checks(const char* plain_path, const char* schemes_path) {
  tritium_key* plain = NULL;
  tritium_key* key = NULL;
  tritium_stream* g1 = NULL;
  tritium_stream* g2 = NULL;
  tritium_stream* u = NULL;
  tritium_stream_options masked = {1, 42};
  tritium_stream_options other_seed = {1, 43};
  uint32_t mask = 0;
  float row[1000];
  float biased_a[1000];
  float biased_b[1000];
  int32_t a[1] = {5};
  int32_t b[1] = {6};
  int32_t ids[4] = {3, 30, 300, 999};
  float cand[4] = {0.0f, -0.5f, -1.0f, -1.5f};
  int32_t t1 = -1;
  int32_t t2 = -2;
  size_t i;
  int differ = 0;

  EXPECT(tritium_key_load(plain_path, &plain) == TRITIUM_OK);
  EXPECT(tritium_key_load(schemes_path, &key) == TRITIUM_OK);
  if (plain == NULL || key == NULL) return;
  EXPECT(tritium_key_schemes(plain, &mask) == TRITIUM_OK && mask == 1u);
  EXPECT(tritium_key_schemes(key, &mask) == TRITIUM_OK && mask == 7u);
  /* A scheme the key does not name, and one that does not exist. */
  EXPECT(tritium_stream_create_scheme(plain, TRITIUM_SCHEME_GUMBEL, 1000, NULL, &g1) == TRITIUM_ERR_MISMATCH);
  EXPECT(strstr(tritium_last_error(), "not gumbel") != NULL);
  EXPECT(tritium_stream_create_scheme(key, 7, 1000, NULL, &g1) == TRITIUM_ERR_INVALID_ARGUMENT);
  EXPECT(g1 == NULL);

  /* Gumbel chooses: the same window and row give the same token whatever the stream's seed. */
  EXPECT(tritium_stream_create_scheme(key, TRITIUM_SCHEME_GUMBEL, 1000, &masked, &g1) == TRITIUM_OK);
  EXPECT(tritium_stream_create_scheme(key, TRITIUM_SCHEME_GUMBEL, 1000, &other_seed, &g2) == TRITIUM_OK);
  for (i = 0; i < 1000; ++i) row[i] = (float)(-0.002 * (double)i);
  EXPECT(tritium_stream_bias_dense(g1, row, 1000) == TRITIUM_ERR_USAGE);
  EXPECT(strstr(tritium_last_error(), "Gumbel chooses the token itself") != NULL);
  EXPECT(tritium_stream_begin(g1, a, 1) == TRITIUM_OK && tritium_stream_begin(g2, a, 1) == TRITIUM_OK);
  EXPECT(tritium_stream_active(g1) == 1);
  EXPECT(tritium_stream_sample(g1, row, 1000, &t1) == TRITIUM_OK);
  EXPECT(tritium_stream_sample(g2, row, 1000, &t2) == TRITIUM_OK);
  EXPECT(t1 == t2 && t1 >= 0 && t1 < 1000);
  EXPECT(tritium_stream_sample_candidates(g1, ids, cand, 4, &t1) == TRITIUM_OK);
  EXPECT(tritium_stream_sample_candidates(g2, ids, cand, 4, &t2) == TRITIUM_OK);
  EXPECT(t1 == t2 && (t1 == 3 || t1 == 30 || t1 == 300 || t1 == 999));
  /* With masking, a window the sequence chose after before is sampled plainly (inactive). */
  EXPECT(tritium_stream_accept(g1, 7) == TRITIUM_OK);
  EXPECT(tritium_stream_accept(g1, 5) == TRITIUM_OK);
  EXPECT(tritium_stream_active(g1) == 0);
  EXPECT(tritium_stream_accept(g1, 8) == TRITIUM_OK);
  EXPECT(tritium_stream_active(g1) == 1);
  EXPECT(tritium_stream_sample_candidates(g1, ids, cand, 3, &t1) == TRITIUM_OK);
  EXPECT(t1 == 3 || t1 == 30 || t1 == 300);

  /* Unigram: one list whatever the context. */
  EXPECT(tritium_stream_create_scheme(key, TRITIUM_SCHEME_UNIGRAM, 1000, &masked, &u) == TRITIUM_OK);
  for (i = 0; i < 1000; ++i) biased_a[i] = biased_b[i] = row[i];
  EXPECT(tritium_stream_begin(u, a, 1) == TRITIUM_OK);
  EXPECT(tritium_stream_bias_dense(u, biased_a, 1000) == TRITIUM_OK);
  EXPECT(tritium_stream_begin(u, b, 1) == TRITIUM_OK);
  EXPECT(tritium_stream_bias_dense(u, biased_b, 1000) == TRITIUM_OK);
  for (i = 0; i < 1000; ++i) {
    EXPECT(biased_a[i] == biased_b[i]);
    differ += biased_a[i] != row[i];
  }
  EXPECT(differ == 250); /* G = floor(0.25 * 1000) green ids */
  EXPECT(tritium_stream_sample(u, row, 1000, &t1) == TRITIUM_OK && t1 >= 0 && t1 < 1000);

  tritium_stream_free(u);
  tritium_stream_free(g2);
  tritium_stream_free(g1);
  tritium_key_free(key);
  tritium_key_free(plain);
}

/* The transformers schemes (tritium_hf_*). KGW: the green list transformers' processor draws with its
 * defaults for GPT-2 after token 50256, from real torch (fixtures/kat/torch_cpu_v1.json, "hf lefthash
 * gpt2 defaults"): 25890, 9324 and 0 among the green tokens, and not 1, 3 or 17; G = 12,564 tokens are
 * biased (as under any seed). */
static void hf_checks(void) {
  static const char kgw_config[] =
      "{\"watermarking_config\": {\"greenlist_ratio\": 0.25, \"bias\": 2.0, \"hashing_key\": 15485863, "
      "\"seeding_scheme\": \"lefthash\", \"context_width\": 1}}";
  static const char synthid_config[] = "{\"ngram_len\": 5, \"keys\": [654, 400, 836, 123, 340, 443, 597, 160, 57]}";
  static const char unknown_field[] = "{\"greenlist_ratio\": 0.25, \"gamma\": 0.5}";
  const uint32_t vocab = 50257;
  const int32_t prompt[2] = {464, 50256};
  const int32_t ids[4] = {1, 25890, 17, 9324};
  float cand[4] = {0.5f, 0.5f, 0.5f, 0.5f};
  tritium_hf_scheme* scheme = NULL;
  tritium_hf_stream* stream = NULL;
  tritium_hf_stream* copy = NULL;
  float* row = (float*)calloc(vocab, sizeof *row);
  uint32_t kind = 9;
  size_t i, green = 0;
  double total = 0.0;
  EXPECT(row != NULL);
  if (row == NULL) return;

  EXPECT(tritium_hf_scheme_parse(kgw_config, strlen(kgw_config), vocab, &scheme) == TRITIUM_OK);
  EXPECT(tritium_hf_scheme_kind(scheme, &kind) == TRITIUM_OK && kind == TRITIUM_HF_KGW);
  EXPECT(tritium_hf_scheme_vocab_size(scheme, &kind) == TRITIUM_OK && kind == vocab);
  EXPECT(tritium_hf_stream_create(scheme, &stream) == TRITIUM_OK);
  tritium_hf_scheme_free(scheme); /* the stream keeps it */
  EXPECT(tritium_hf_stream_active(stream) == 0); /* an empty sequence: transformers skips the step */
  EXPECT(tritium_hf_stream_begin(stream, prompt, 2) == TRITIUM_OK);
  EXPECT(tritium_hf_stream_active(stream) == 1);
  EXPECT(tritium_hf_stream_apply(stream, row, vocab) == TRITIUM_OK);
  for (i = 0; i < vocab; ++i) green += row[i] == 2.0f;
  EXPECT(green == 12564);
  EXPECT(row[25890] == 2.0f && row[9324] == 2.0f && row[0] == 2.0f && row[2] == 2.0f);
  EXPECT(row[1] == 0.0f && row[3] == 0.0f && row[17] == 0.0f);
  EXPECT(tritium_hf_stream_apply_candidates(stream, ids, cand, 4) == TRITIUM_OK);
  EXPECT(cand[0] == 0.5f && cand[1] == 2.5f && cand[2] == 0.5f && cand[3] == 2.5f);
  EXPECT(tritium_hf_stream_apply(stream, row, vocab - 1) == TRITIUM_ERR_INVALID_ARGUMENT);
  EXPECT(tritium_hf_stream_accept(stream, (int32_t)vocab) == TRITIUM_ERR_INVALID_ARGUMENT);
  EXPECT(strstr(tritium_last_error(), "50257 is outside") != NULL);
  tritium_hf_stream_free(stream);

  /* SynthID: the row becomes the log of a distribution; a context the FIFO holds is left alone. */
  EXPECT(tritium_hf_scheme_parse(synthid_config, strlen(synthid_config), vocab, &scheme) == TRITIUM_OK);
  EXPECT(tritium_hf_scheme_kind(scheme, &kind) == TRITIUM_OK && kind == TRITIUM_HF_SYNTHID);
  EXPECT(tritium_hf_stream_create(scheme, &stream) == TRITIUM_OK);
  tritium_hf_scheme_free(scheme);
  EXPECT(tritium_hf_stream_begin(stream, prompt, 2) == TRITIUM_OK);
  EXPECT(tritium_hf_stream_active(stream) == 1);
  for (i = 0; i < vocab; ++i) row[i] = (float)(i % 7);
  EXPECT(tritium_hf_stream_apply(stream, row, vocab) == TRITIUM_OK);
  for (i = 0; i < vocab; ++i) total += exp((double)row[i]);
  EXPECT(fabs(total - 1.0) < 1e-4);
  EXPECT(tritium_hf_stream_accept(stream, 0) == TRITIUM_OK); /* the context is zeros again */
  EXPECT(tritium_hf_stream_active(stream) == 0);
  EXPECT(tritium_hf_stream_clone(stream, &copy) == TRITIUM_OK);
  EXPECT(tritium_hf_stream_active(copy) == 0);
  EXPECT(tritium_hf_stream_accept(stream, 5) == TRITIUM_OK);
  EXPECT(tritium_hf_stream_active(stream) == 1);
  tritium_hf_stream_free(stream);
  tritium_hf_stream_free(copy);

  /* A field transformers does not have is refused by name. */
  scheme = NULL;
  EXPECT(tritium_hf_scheme_parse(unknown_field, strlen(unknown_field), vocab, &scheme) == TRITIUM_ERR_INVALID_ARGUMENT);
  EXPECT(scheme == NULL);
  EXPECT(strstr(tritium_last_error(), "\"gamma\"") != NULL);
  tritium_hf_scheme_free(NULL);
  tritium_hf_stream_free(NULL);
  free(row);
}

int main(int argc, char** argv) {
  tritium_key* key = NULL;
  tritium_stream* stream = NULL;
  tritium_stream* copy = NULL;
  tritium_kgw_info info;
  char id[65];
  float logits[1000];
  float biased[1000];
  int32_t ids[3] = {1, 2, 999};
  float sparse[3] = {0.0f, 0.0f, 0.0f};
  int32_t prompt[2] = {11, 12};
  int32_t token = -1;
  int32_t token_copy = -2;
  size_t i;
  int greens = 0;

  if (argc != 5) {
    fprintf(stderr, "usage: %s KEYFILE SCRATCH_DIR TRACE_KEYFILE SCHEMES_KEYFILE\n", argv[0]);
    return 2;
  }
  /* Errors: a missing file, NULL arguments. */
  EXPECT(tritium_key_load("/nonexistent/key", &key) == TRITIUM_ERR_IO);
  EXPECT(key == NULL);
  EXPECT(strstr(tritium_last_error(), "/nonexistent/key") != NULL);
  EXPECT(tritium_key_load(NULL, &key) == TRITIUM_ERR_INVALID_ARGUMENT);

  EXPECT(tritium_key_load(argv[1], &key) == TRITIUM_OK);
  if (key == NULL) return 1;
  EXPECT(tritium_key_id(key, id) == TRITIUM_OK);
  EXPECT(strlen(id) == 64);
  EXPECT(tritium_key_info(key, &info) == TRITIUM_OK);
  EXPECT(info.vocab_size == 1000);
  EXPECT(fabs(info.gamma - 0.25) < 1e-12);

  /* The logits width must match the key. */
  EXPECT(tritium_stream_create(key, 999, NULL, &stream) == TRITIUM_ERR_MISMATCH);
  EXPECT(strstr(tritium_last_error(), "V = 1000") != NULL);
  EXPECT(tritium_stream_create(key, 1000, NULL, &stream) == TRITIUM_OK);
  /* The stream keeps the scheme alive: the key handle may go first. */
  tritium_key_free(key);
  key = NULL;

  EXPECT(tritium_stream_active(stream) == 0);
  EXPECT(tritium_stream_begin(stream, prompt, 2) == TRITIUM_OK);
  EXPECT(tritium_stream_active(stream) == 1);

  for (i = 0; i < 1000; ++i) logits[i] = biased[i] = (float)(-0.01 * (double)i);
  EXPECT(tritium_stream_bias_dense(stream, biased, 1000) == TRITIUM_OK);
  for (i = 0; i < 1000; ++i) {
    const float d = biased[i] - logits[i];
    EXPECT(d == 0.0f || fabsf(d - (float)info.delta) < 1e-5f);
    greens += d != 0.0f;
  }
  /* Green entries are Binomial(1000, 0.25): mean 250, sd 13.7; the 99.99% interval |z| < 3.9 is
   * [197, 303], so a correct list fails this for 1 key in 10,000 (the fixture key is fixed). */
  EXPECT(greens >= 197 && greens <= 303);
  EXPECT(tritium_stream_bias_sparse(stream, ids, sparse, 3) == TRITIUM_OK);
  for (i = 0; i < 3; ++i) EXPECT((sparse[i] != 0.0f) == (biased[ids[i]] != logits[ids[i]]));
  EXPECT(tritium_stream_bias_dense(stream, biased, 10) == TRITIUM_ERR_MISMATCH);

  EXPECT(tritium_stream_clone(stream, &copy) == TRITIUM_OK);
  EXPECT(tritium_stream_sample(stream, logits, 1000, &token) == TRITIUM_OK);
  EXPECT(tritium_stream_sample(copy, logits, 1000, &token_copy) == TRITIUM_OK);
  EXPECT(token == token_copy);
  EXPECT(token >= 0 && token < 1000);
  EXPECT(tritium_stream_accept(stream, token) == TRITIUM_OK);
  EXPECT(tritium_stream_accept(stream, 1000) == TRITIUM_ERR_OUT_OF_RANGE);
  EXPECT(strstr(tritium_last_error(), "1000") != NULL);
  EXPECT(tritium_stream_reset(stream) == TRITIUM_OK);
  EXPECT(tritium_stream_active(stream) == 0);

  tritium_stream_free(copy);
  tritium_stream_free(stream);
  copy = stream = NULL;

  /* Rows with NaN, and candidate ids outside [0, V), are refused with a status and a message. */
  {
    tritium_key* k = NULL;
    float row[1000];
    int32_t bad_ids[2] = {5, 1000};
    int32_t negative_ids[1] = {-1};
    float two[2] = {0.0f, 0.0f};
    EXPECT(tritium_key_load(argv[1], &k) == TRITIUM_OK);
    EXPECT(tritium_stream_create(k, 1000, NULL, &stream) == TRITIUM_OK);
    EXPECT(tritium_stream_begin(stream, prompt, 2) == TRITIUM_OK);
    for (i = 0; i < 1000; ++i) row[i] = 0.0f;
    row[17] = NAN;
    EXPECT(tritium_stream_sample(stream, row, 1000, &token) == TRITIUM_ERR_INVALID_ARGUMENT);
    EXPECT(strstr(tritium_last_error(), "NaN") != NULL);
    EXPECT(tritium_stream_bias_sparse(stream, bad_ids, two, 2) == TRITIUM_ERR_OUT_OF_RANGE);
    EXPECT(strstr(tritium_last_error(), "candidate 1") != NULL && strstr(tritium_last_error(), "1000") != NULL);
    EXPECT(tritium_stream_bias_sparse(stream, negative_ids, two, 1) == TRITIUM_ERR_OUT_OF_RANGE);
    EXPECT(two[0] == 0.0f && two[1] == 0.0f); /* nothing written on refusal */
    tritium_stream_free(stream);
    stream = NULL;

    /* Options: the same seed gives the same draws; tritium_stream_set_seed makes two streams with
     * different seeds draw alike; masking leaves a context already used in the sequence unbiased. */
    {
      tritium_stream_options o;
      tritium_stream* a = NULL;
      tritium_stream* b = NULL;
      int same = 0, differ = 0;
      int32_t ta, tb;
      for (i = 0; i < 1000; ++i) row[i] = (float)(-0.003 * (double)i);
      o.mask_repeated_contexts = 0;
      o.seed = 42;
      EXPECT(tritium_stream_create(k, 1000, &o, &a) == TRITIUM_OK);
      EXPECT(tritium_stream_create(k, 1000, &o, &b) == TRITIUM_OK);
      EXPECT(tritium_stream_begin(a, prompt, 2) == TRITIUM_OK);
      EXPECT(tritium_stream_begin(b, prompt, 2) == TRITIUM_OK);
      for (i = 0; i < 50; ++i) {
        EXPECT(tritium_stream_sample(a, row, 1000, &ta) == TRITIUM_OK);
        EXPECT(tritium_stream_sample(b, row, 1000, &tb) == TRITIUM_OK);
        same += ta == tb;
      }
      EXPECT(same == 50);
      EXPECT(tritium_stream_set_seed(b, 43) == TRITIUM_OK);
      for (i = 0; i < 50; ++i) {
        EXPECT(tritium_stream_sample(a, row, 1000, &ta) == TRITIUM_OK);
        EXPECT(tritium_stream_sample(b, row, 1000, &tb) == TRITIUM_OK);
        differ += ta != tb;
      }
      /* Two independent draws from a distribution this flat agree with probability about 1/500
       * each: 50 draws all equal would mean the reseed did nothing. */
      EXPECT(differ > 0);
      EXPECT(tritium_stream_set_seed(a, 7) == TRITIUM_OK);
      EXPECT(tritium_stream_set_seed(b, 7) == TRITIUM_OK);
      same = 0;
      for (i = 0; i < 50; ++i) {
        EXPECT(tritium_stream_sample(a, row, 1000, &ta) == TRITIUM_OK);
        EXPECT(tritium_stream_sample(b, row, 1000, &tb) == TRITIUM_OK);
        same += ta == tb;
      }
      EXPECT(same == 50);
      tritium_stream_free(a);
      tritium_stream_free(b);

      o.mask_repeated_contexts = 1;
      EXPECT(tritium_stream_create(k, 1000, &o, &a) == TRITIUM_OK);
      EXPECT(tritium_stream_begin(a, prompt, 2) == TRITIUM_OK); /* context: 12 (h = 1) */
      EXPECT(tritium_stream_active(a) == 1);
      EXPECT(tritium_stream_accept(a, 12) == TRITIUM_OK); /* context 12 again: already used */
      EXPECT(tritium_stream_active(a) == 0);
      for (i = 0; i < 1000; ++i) biased[i] = row[i];
      EXPECT(tritium_stream_bias_dense(a, biased, 1000) == TRITIUM_OK);
      EXPECT(memcmp(biased, row, sizeof row) == 0); /* masked: the row is left as it was */
      EXPECT(tritium_stream_accept(a, 13) == TRITIUM_OK); /* a fresh context */
      EXPECT(tritium_stream_active(a) == 1);
      tritium_stream_free(a);
    }
    tritium_key_free(k);
  }

  /* A key file whose secret was changed fails its integrity check: TRITIUM_ERR_KEY_CORRUPT. */
  {
    char path[4096];
    char text[8192];
    char* secret;
    size_t n;
    FILE* in = fopen(argv[1], "rb");
    FILE* out;
    tritium_key* k = NULL;
    EXPECT(in != NULL);
    if (in != NULL) {
      n = fread(text, 1, sizeof text - 1, in);
      fclose(in);
      text[n] = '\0';
      secret = strstr(text, "\"secret\": \"");
      EXPECT(secret != NULL);
      if (secret != NULL) {
        secret += strlen("\"secret\": \"");
        *secret = *secret == '0' ? '1' : '0';
        snprintf(path, sizeof path, "%s/c_abi_corrupt.key", argv[2]);
        out = fopen(path, "wb");
        EXPECT(out != NULL);
        if (out != NULL) {
          fwrite(text, 1, n, out);
          fclose(out);
          EXPECT(tritium_key_load(path, &k) == TRITIUM_ERR_KEY_CORRUPT);
          EXPECT(k == NULL);
          EXPECT(strstr(tritium_last_error(), "c_abi_corrupt.key") != NULL);
          remove(path);
        }
      }
    }
  }

  trace_checks(argv[1], argv[3]);
  scheme_checks(argv[1], argv[4]);
  hf_checks();

  tritium_stream_free(NULL);
  tritium_key_free(NULL);
  printf("%s: tritium %s C ABI: %d failures\n", argv[0], tritium_version(), failures);
  return failures == 0 ? 0 : 1;
}
