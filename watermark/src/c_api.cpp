// Every extern "C" body of tritium lives here: each one catches every exception and turns it into a
// status code plus a per-thread message.
#include <memory>
#include <new>
#include <string>

#include "crypto/crypto.hpp"
#include "tritium/error.hpp"
#include "tritium/key.hpp"
#include "tritium/kgw.hpp"
#include "tritium/kgw_stream.hpp"
#include "tritium/scheme_stream.hpp"
#include "tritium/trace.hpp"
#include "tritium/tritium.h"

struct tritium_key {
  std::shared_ptr<const tritium::key_schemes> schemes;
  tritium::key key;
};

struct tritium_stream {
  tritium::scheme_stream stream;
};

struct tritium_account_code {
  tritium::account_code code;
};

namespace {

thread_local std::string last_error;

tritium_status fail(tritium_status status, const std::string& message) noexcept {
  try {
    last_error = message;
  } catch (...) {
    last_error.clear();
  }
  return status;
}

template <class F>
tritium_status guarded(F&& body) noexcept {
  try {
    body();
    return TRITIUM_OK;
  } catch (const tritium::error& e) {
    return fail(static_cast<tritium_status>(static_cast<int>(e.code())), e.what());
  } catch (const std::bad_alloc&) {
    return fail(TRITIUM_ERR_NO_MEMORY, "out of memory");
  } catch (const std::exception& e) {
    return fail(TRITIUM_ERR_INTERNAL, e.what());
  } catch (...) {
    return fail(TRITIUM_ERR_INTERNAL, "unknown exception");
  }
}

tritium_status fail_argument(const char* message) noexcept {
  try {
    last_error = message;
  } catch (...) {
    last_error.clear();
  }
  return TRITIUM_ERR_INVALID_ARGUMENT;
}

#define TRITIUM_REQUIRE(cond, what)               \
  do {                                            \
    if (!(cond)) return fail_argument(what);      \
  } while (0)

}  // namespace

extern "C" {

const char* tritium_last_error(void) { return last_error.c_str(); }

const char* tritium_version(void) { return "0.1.0"; }

tritium_status tritium_key_load(const char* path, tritium_key** out) {
  TRITIUM_REQUIRE(path != nullptr && out != nullptr, "tritium_key_load: path and out must not be NULL");
  *out = nullptr;
  return guarded([&] {
    tritium::key k = tritium::key::load(path);
    auto schemes = std::make_shared<const tritium::key_schemes>(k);
    *out = new tritium_key{std::move(schemes), std::move(k)};
  });
}

void tritium_key_free(tritium_key* key) { delete key; }

tritium_status tritium_key_id(const tritium_key* key, char out[65]) {
  TRITIUM_REQUIRE(key != nullptr && out != nullptr, "tritium_key_id: key and out must not be NULL");
  const std::string& id = key->key.id();
  id.copy(out, 64);
  out[64] = '\0';
  return TRITIUM_OK;
}

tritium_status tritium_key_info(const tritium_key* key, tritium_kgw_info* out) {
  TRITIUM_REQUIRE(key != nullptr && out != nullptr, "tritium_key_info: key and out must not be NULL");
  const auto& p = key->key.params();
  out->gamma = p.gamma();
  out->delta = p.delta;
  out->context_width = p.context_width;
  out->vocab_size = p.vocab_size;
  out->seeding = static_cast<uint32_t>(p.seeding_scheme);
  return TRITIUM_OK;
}

tritium_status tritium_key_schemes(const tritium_key* key, uint32_t* out_mask) {
  TRITIUM_REQUIRE(key != nullptr && out_mask != nullptr, "tritium_key_schemes: key and out_mask must not be NULL");
  *out_mask = key->key.params().schemes;
  return TRITIUM_OK;
}

tritium_status tritium_stream_create_scheme(const tritium_key* key, uint32_t scheme, uint32_t n_vocab,
                                            const tritium_stream_options* options, tritium_stream** out) {
  TRITIUM_REQUIRE(key != nullptr && out != nullptr, "tritium_stream_create: key and out must not be NULL");
  *out = nullptr;
  TRITIUM_REQUIRE(scheme < tritium::scheme_kinds,
                  "tritium_stream_create_scheme: scheme must be TRITIUM_SCHEME_KGW, _GUMBEL or _UNIGRAM");
  return guarded([&] {
    key->key.require_vocab_size(n_vocab);
    tritium::stream_options o;
    if (options != nullptr) {
      o.mask_repeated_contexts = options->mask_repeated_contexts != 0;
      o.seed = options->seed;
    } else {
      o.seed = tritium::detail::random_seed();
    }
    *out = new tritium_stream{tritium::scheme_stream(key->schemes, static_cast<tritium::scheme_kind>(scheme), o)};
  });
}

tritium_status tritium_stream_create(const tritium_key* key, uint32_t n_vocab,
                                     const tritium_stream_options* options, tritium_stream** out) {
  return tritium_stream_create_scheme(key, TRITIUM_SCHEME_KGW, n_vocab, options, out);
}

tritium_status tritium_stream_clone(const tritium_stream* stream, tritium_stream** out) {
  TRITIUM_REQUIRE(stream != nullptr && out != nullptr,
                  "tritium_stream_clone: stream and out must not be NULL");
  *out = nullptr;
  return guarded([&] { *out = new tritium_stream{stream->stream}; });
}

void tritium_stream_free(tritium_stream* stream) { delete stream; }

tritium_status tritium_stream_set_seed(tritium_stream* stream, uint64_t seed) {
  TRITIUM_REQUIRE(stream != nullptr, "tritium_stream_set_seed: stream must not be NULL");
  stream->stream.rng().reseed(seed);
  return TRITIUM_OK;
}

tritium_status tritium_stream_begin(tritium_stream* stream, const int32_t* prompt_tail, size_t n) {
  TRITIUM_REQUIRE(stream != nullptr, "tritium_stream_begin: stream must not be NULL");
  TRITIUM_REQUIRE(prompt_tail != nullptr || n == 0,
                  "tritium_stream_begin: prompt_tail is NULL but n > 0");
  return guarded([&] { stream->stream.begin({prompt_tail, n}); });
}

tritium_status tritium_stream_accept(tritium_stream* stream, int32_t token) {
  TRITIUM_REQUIRE(stream != nullptr, "tritium_stream_accept: stream must not be NULL");
  return guarded([&] { stream->stream.accept(token); });
}

tritium_status tritium_stream_reset(tritium_stream* stream) {
  TRITIUM_REQUIRE(stream != nullptr, "tritium_stream_reset: stream must not be NULL");
  stream->stream.reset();
  return TRITIUM_OK;
}

int tritium_stream_active(const tritium_stream* stream) {
  if (stream == nullptr) {
    fail_argument("tritium_stream_active: stream must not be NULL");
    return -1;
  }
  return stream->stream.active() ? 1 : 0;
}

tritium_status tritium_stream_bias_dense(tritium_stream* stream, float* logits, size_t n_vocab) {
  TRITIUM_REQUIRE(stream != nullptr && logits != nullptr,
                  "tritium_stream_bias_dense: stream and logits must not be NULL");
  return guarded([&] { stream->stream.bias_dense({logits, n_vocab}); });
}

tritium_status tritium_stream_bias_sparse(tritium_stream* stream, const int32_t* ids, float* logits,
                                          size_t n) {
  TRITIUM_REQUIRE(stream != nullptr, "tritium_stream_bias_sparse: stream must not be NULL");
  TRITIUM_REQUIRE((ids != nullptr && logits != nullptr) || n == 0,
                  "tritium_stream_bias_sparse: ids and logits must not be NULL when n > 0");
  return guarded([&] { stream->stream.bias_sparse({ids, n}, {logits, n}); });
}

tritium_status tritium_stream_sample(tritium_stream* stream, const float* logits, size_t n_vocab,
                                     int32_t* out_token) {
  TRITIUM_REQUIRE(stream != nullptr && logits != nullptr && out_token != nullptr,
                  "tritium_stream_sample: stream, logits and out_token must not be NULL");
  return guarded([&] { *out_token = stream->stream.sample({logits, n_vocab}); });
}

tritium_status tritium_stream_sample_candidates(tritium_stream* stream, const int32_t* ids, const float* logits,
                                                size_t n, int32_t* out_token) {
  TRITIUM_REQUIRE(stream != nullptr && ids != nullptr && logits != nullptr && out_token != nullptr,
                  "tritium_stream_sample_candidates: stream, ids, logits and out_token must not be NULL");
  return guarded([&] { *out_token = stream->stream.sample_candidates({ids, n}, {logits, n}); });
}

tritium_status tritium_account_code_create(const tritium_key* key, const char* id, size_t n,
                                           tritium_account_code** out) {
  TRITIUM_REQUIRE(key != nullptr && out != nullptr,
                  "tritium_account_code_create: key and out must not be NULL");
  *out = nullptr;
  TRITIUM_REQUIRE(id != nullptr || n == 0, "tritium_account_code_create: id is NULL but n > 0");
  return guarded([&] {
    key->key.require_trace("tritium_account_code_create");
    tritium::account_code code =
        tritium::derive_account_code(key->key, {id == nullptr ? "" : id, n}, *key->key.trace());
    *out = new tritium_account_code{std::move(code)};
  });
}

void tritium_account_code_free(tritium_account_code* code) { delete code; }

tritium_status tritium_stream_set_account(tritium_stream* stream, const tritium_account_code* code) {
  TRITIUM_REQUIRE(stream != nullptr, "tritium_stream_set_account: stream must not be NULL");
  return guarded([&] { stream->stream.set_account(code == nullptr ? nullptr : &code->code); });
}

}  // extern "C"
