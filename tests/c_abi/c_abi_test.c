/* A C99 program against tritium.h: the ABI compiles as C, never throws, and reports errors through
 * status codes and tritium_last_error(). Usage: c_abi_test KEYFILE (a key with V = 1000). */
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

  if (argc != 2) {
    fprintf(stderr, "usage: %s KEYFILE\n", argv[0]);
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
  tritium_stream_free(NULL);
  tritium_key_free(NULL);
  printf("%s: tritium %s C ABI: %d failures\n", argv[0], tritium_version(), failures);
  return failures == 0 ? 0 : 1;
}
