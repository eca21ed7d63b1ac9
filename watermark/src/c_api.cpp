// Every extern "C" body of tritium lives here: each one catches every exception and turns it into a
// status code plus a per-thread message.
#include <algorithm>
#include <array>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <vector>

#include "crypto/crypto.hpp"
#include "tritium/error.hpp"
#include "tritium/key.hpp"
#include "tritium/kgw.hpp"
#include "tritium/kgw_stream.hpp"
#include "tritium/scheme_stream.hpp"
#include "tritium/trace.hpp"
#include "tritium/tritium.h"
#include "tritium/hf_kgw.hpp"
#include "tritium/hf_synthid.hpp"
#include "tritium/interop_config.hpp"

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

namespace tritium::capi {

// A transformers configuration, built once for rows of n_vocab floats.
struct hf_scheme {
  interop_kind kind = interop_kind::hf_kgw;
  std::uint32_t n_vocab = 0;
  std::optional<hf_kgw> kgw;
  std::optional<hf_synthid> synthid;
};

}  // namespace tritium::capi

struct tritium_hf_scheme {
  std::shared_ptr<const tritium::capi::hf_scheme> scheme;
};

// One sequence. `synthid` is the processor's state after every accepted step (advanced once per
// token, never by apply, which works on a copy): so apply may run twice on one step.
struct tritium_hf_stream {
  std::shared_ptr<const tritium::capi::hf_scheme> scheme;
  std::array<tritium::token_id, 64> tail{};  ///< the sequence's last tokens (KGW's widest window), oldest first
  std::size_t tail_size = 0;
  std::uint64_t length = 0;             ///< tokens in the sequence, prompt included
  tritium::token_id last = 0;           ///< the token the processor's next call reads as input_ids[-1]
  std::optional<tritium::hf_synthid_state> synthid;
  std::vector<std::int32_t> scratch;    ///< KGW's V-entry permutation, made on first use
  std::vector<std::uint8_t> seen;       ///< candidates' duplicate check, V entries, left all zero
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

std::shared_ptr<const tritium::capi::hf_scheme> make_hf_scheme(const tritium::interop_config& config, uint32_t n_vocab) {
  if (n_vocab < 2) {
    throw tritium::error(tritium::errc::invalid_argument, "tritium_hf_scheme: n_vocab: expected at least 2, got " +
                                                              std::to_string(n_vocab));
  }
  if (config.debug_mode) {
    throw tritium::error(tritium::errc::invalid_argument,
                         "tritium_hf_scheme: field \"debug_mode\" is true: transformers' processor then replaces the "
                         "scores by ones, a test mode that serves no model's distribution; set it to false to mark");
  }
  auto scheme = std::make_shared<tritium::capi::hf_scheme>();
  scheme->kind = config.kind;
  scheme->n_vocab = n_vocab;
  if (config.kind == tritium::interop_kind::hf_kgw) {
    tritium::hf_kgw_params p = config.kgw;
    p.vocab_size = n_vocab;
    scheme->kgw.emplace(p);
  } else {
    scheme->synthid.emplace(config.synthid);
  }
  return scheme;
}

void check_hf_token(const tritium_hf_stream& stream, tritium::token_id token, const char* what,
                    std::optional<std::size_t> index) {
  if (token < 0 || static_cast<std::uint32_t>(token) >= stream.scheme->n_vocab) {
    throw tritium::error(tritium::errc::invalid_argument,
                         std::string(what) + (index ? "[" + std::to_string(*index) + "]" : std::string()) + " = " +
                             std::to_string(token) + " is outside [0, " + std::to_string(stream.scheme->n_vocab) + ")");
  }
}

// Never throws: accept may advance SynthID's state first.
void push_hf_token(tritium_hf_stream& stream, tritium::token_id token) noexcept {
  if (stream.tail_size == stream.tail.size()) {
    std::copy(stream.tail.begin() + 1, stream.tail.end(), stream.tail.begin());
    --stream.tail_size;
  }
  stream.tail[stream.tail_size++] = token;
  ++stream.length;
  stream.last = token;
}

std::span<const tritium::token_id> tail_of(const tritium_hf_stream& stream) noexcept {
  return {stream.tail.data(), stream.tail_size};
}

// The new sequence's state is made first and committed only once nothing can throw: a failed begin
// leaves the stream as it was.
void begin_hf_stream(tritium_hf_stream& stream, std::span<const tritium::token_id> prompt) {
  std::optional<tritium::hf_synthid_state> state;
  if (stream.scheme->kind == tritium::interop_kind::hf_synthid) state.emplace(*stream.scheme->synthid);
  stream.tail_size = 0;
  stream.length = 0;
  stream.last = 0;
  for (const tritium::token_id t : prompt.last(std::min<std::size_t>(prompt.size(), 64))) push_hf_token(stream, t);
  stream.length = prompt.size();
  stream.synthid.reset();
  if (state) stream.synthid.emplace(std::move(*state));
}

// Candidates lie in [0, V) and are distinct: a repeated id would count its probability twice.
void check_distinct_candidates(tritium_hf_stream& stream, std::span<const tritium::token_id> ids) {
  stream.seen.resize(stream.scheme->n_vocab);
  std::size_t i = 0;
  std::string problem;
  for (; i < ids.size(); ++i) {
    if (ids[i] < 0 || static_cast<std::uint32_t>(ids[i]) >= stream.scheme->n_vocab) {
      problem = "tritium_hf_stream_apply_candidates: ids[" + std::to_string(i) + "] = " + std::to_string(ids[i]) +
                " is outside [0, " + std::to_string(stream.scheme->n_vocab) + ")";
      break;
    }
    std::uint8_t& seen = stream.seen[static_cast<std::size_t>(ids[i])];
    if (seen != 0) {
      problem = "tritium_hf_stream_apply_candidates: ids[" + std::to_string(i) + "] = " + std::to_string(ids[i]) +
                " repeats an earlier candidate";
      break;
    }
    seen = 1;
  }
  for (std::size_t j = 0; j < i; ++j) stream.seen[static_cast<std::size_t>(ids[j])] = 0;  // left all zero
  if (!problem.empty()) throw tritium::error(tritium::errc::invalid_argument, problem);
}

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

tritium_status tritium_hf_scheme_parse(const char* json, size_t n, uint32_t n_vocab, tritium_hf_scheme** out) {
  TRITIUM_REQUIRE(out != nullptr, "tritium_hf_scheme_parse: out must not be NULL");
  *out = nullptr;
  TRITIUM_REQUIRE(json != nullptr || n == 0, "tritium_hf_scheme_parse: json is NULL but n > 0");
  return guarded([&] {
    const tritium::interop_config config =
        tritium::parse_interop_config({json == nullptr ? "" : json, n}, "watermark configuration");
    *out = new tritium_hf_scheme{make_hf_scheme(config, n_vocab)};
  });
}

tritium_status tritium_hf_scheme_load(const char* path, uint32_t n_vocab, tritium_hf_scheme** out) {
  TRITIUM_REQUIRE(path != nullptr && out != nullptr, "tritium_hf_scheme_load: path and out must not be NULL");
  *out = nullptr;
  return guarded([&] { *out = new tritium_hf_scheme{make_hf_scheme(tritium::load_interop_config(path), n_vocab)}; });
}

void tritium_hf_scheme_free(tritium_hf_scheme* scheme) { delete scheme; }

tritium_status tritium_hf_scheme_kind(const tritium_hf_scheme* scheme, uint32_t* out_kind) {
  TRITIUM_REQUIRE(scheme != nullptr && out_kind != nullptr, "tritium_hf_scheme_kind: scheme and out_kind must not be NULL");
  *out_kind = scheme->scheme->kind == tritium::interop_kind::hf_kgw ? TRITIUM_HF_KGW : TRITIUM_HF_SYNTHID;
  return TRITIUM_OK;
}

tritium_status tritium_hf_scheme_vocab_size(const tritium_hf_scheme* scheme, uint32_t* out_n_vocab) {
  TRITIUM_REQUIRE(scheme != nullptr && out_n_vocab != nullptr,
                  "tritium_hf_scheme_vocab_size: scheme and out_n_vocab must not be NULL");
  *out_n_vocab = scheme->scheme->n_vocab;
  return TRITIUM_OK;
}

tritium_status tritium_hf_stream_create(const tritium_hf_scheme* scheme, tritium_hf_stream** out) {
  TRITIUM_REQUIRE(scheme != nullptr && out != nullptr, "tritium_hf_stream_create: scheme and out must not be NULL");
  *out = nullptr;
  return guarded([&] {
    auto stream = std::make_unique<tritium_hf_stream>();
    stream->scheme = scheme->scheme;
    begin_hf_stream(*stream, {});
    *out = stream.release();
  });
}

tritium_status tritium_hf_stream_clone(const tritium_hf_stream* stream, tritium_hf_stream** out) {
  TRITIUM_REQUIRE(stream != nullptr && out != nullptr, "tritium_hf_stream_clone: stream and out must not be NULL");
  *out = nullptr;
  return guarded([&] { *out = new tritium_hf_stream(*stream); });
}

void tritium_hf_stream_free(tritium_hf_stream* stream) { delete stream; }

tritium_status tritium_hf_stream_begin(tritium_hf_stream* stream, const int32_t* prompt, size_t n) {
  TRITIUM_REQUIRE(stream != nullptr, "tritium_hf_stream_begin: stream must not be NULL");
  TRITIUM_REQUIRE(prompt != nullptr || n == 0, "tritium_hf_stream_begin: prompt is NULL but n > 0");
  return guarded([&] {
    const std::span<const tritium::token_id> tokens(prompt, n);
    for (std::size_t i = 0; i < n; ++i) check_hf_token(*stream, tokens[i], "tritium_hf_stream_begin: prompt", i);
    begin_hf_stream(*stream, tokens);
  });
}

tritium_status tritium_hf_stream_accept(tritium_hf_stream* stream, int32_t token) {
  TRITIUM_REQUIRE(stream != nullptr, "tritium_hf_stream_accept: stream must not be NULL");
  return guarded([&] {
    check_hf_token(*stream, token, "tritium_hf_stream_accept: token", std::nullopt);
    if (stream->scheme->kind == tritium::interop_kind::hf_synthid) {
      stream->synthid.value().advance(stream->last);  // the step's processor call (allocates nothing)
    }
    push_hf_token(*stream, token);
  });
}

int tritium_hf_stream_active(const tritium_hf_stream* stream) {
  if (stream == nullptr) {
    fail_argument("tritium_hf_stream_active: stream must not be NULL");
    return -1;
  }
  int active = -1;
  const tritium_status status = guarded([&] {
    if (stream->scheme->kind == tritium::interop_kind::hf_synthid) {
      tritium::hf_synthid_state step = stream->synthid.value();
      active = step.advance(stream->last) ? 1 : 0;
    } else {
      active = stream->length >= stream->scheme->kgw->params().context_width ? 1 : 0;
    }
  });
  return status == TRITIUM_OK ? active : -1;
}

tritium_status tritium_hf_stream_apply(tritium_hf_stream* stream, float* logits, size_t n_vocab) {
  TRITIUM_REQUIRE(stream != nullptr && logits != nullptr, "tritium_hf_stream_apply: stream and logits must not be NULL");
  return guarded([&] {
    const tritium::capi::hf_scheme& scheme = *stream->scheme;
    if (n_vocab != scheme.n_vocab) {
      throw tritium::error(tritium::errc::invalid_argument, "tritium_hf_stream_apply: a row of " + std::to_string(n_vocab) +
                                                                " logits, but the scheme was made for " +
                                                                std::to_string(scheme.n_vocab));
    }
    const std::span<float> row(logits, n_vocab);
    if (scheme.kind == tritium::interop_kind::hf_synthid) {
      tritium::hf_synthid_state step = stream->synthid.value();
      step.apply(stream->last, row);
    } else if (stream->length >= scheme.kgw->params().context_width) {
      stream->scratch.resize(scheme.n_vocab);
      scheme.kgw->bias_dense(tail_of(*stream), row, stream->scratch);
    }
  });
}

tritium_status tritium_hf_stream_apply_candidates(tritium_hf_stream* stream, const int32_t* ids, float* logits,
                                                  size_t n) {
  TRITIUM_REQUIRE(stream != nullptr, "tritium_hf_stream_apply_candidates: stream must not be NULL");
  TRITIUM_REQUIRE((ids != nullptr && logits != nullptr) || n == 0,
                  "tritium_hf_stream_apply_candidates: ids and logits must not be NULL when n > 0");
  return guarded([&] {
    const tritium::capi::hf_scheme& scheme = *stream->scheme;
    const std::span<const tritium::token_id> candidates(ids, n);
    check_distinct_candidates(*stream, candidates);
    if (n == 0) return;
    const std::span<float> values(logits, n);
    if (scheme.kind == tritium::interop_kind::hf_synthid) {
      tritium::hf_synthid_state step = stream->synthid.value();
      if (step.advance(stream->last)) scheme.synthid->reweight_candidates(step.context(), candidates, values);
    } else if (stream->length >= scheme.kgw->params().context_width) {
      scheme.kgw->bias_candidates(tail_of(*stream), candidates, values);
    }
  });
}

}  // extern "C"
