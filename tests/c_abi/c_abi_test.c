/* A C99 program against tritium.h: the ABI compiles as C, never throws, and reports errors through
 * status codes and tritium_last_error(). Usage: c_abi_test KEYFILE SCRATCH_DIR (a key with V = 1000;
 * a writable folder for a damaged copy of it). */
#include <math.h>
#include <stdio.h>
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

  if (argc != 3) {
    fprintf(stderr, "usage: %s KEYFILE SCRATCH_DIR\n", argv[0]);
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

  tritium_stream_free(NULL);
  tritium_key_free(NULL);
  printf("%s: tritium %s C ABI: %d failures\n", argv[0], tritium_version(), failures);
  return failures == 0 ? 0 : 1;
}
