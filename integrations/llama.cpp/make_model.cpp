// tritium-llama-make-model: writes a small random-weight llama-architecture GGUF that carries a real
// vocabulary, so that end-to-end tests can serve it with llama-server without committing a model.
//
//   tritium-llama-make-model VOCAB_GGUF OUT_GGUF [--seed N]
//       VOCAB_GGUF is a vocab-only GGUF (llama.cpp's models/ggml-vocab-qwen2.gguf in our tests). The
//       output is the same bytes for the same vocabulary and seed (default 1).
//   tritium-llama-make-model --check MODEL_GGUF [--seed N] [--backend-dir DIR]
//       loads MODEL_GGUF with llama.cpp, samples 50 tokens after "Once upon a time" with a seeded
//       softmax draw that honours tokenizer.ggml.suppress_tokens, prints the text and the entropy of the
//       first next-token distribution, and fails unless every token the model may emit decodes to
//       valid UTF-8 on its own.
//
// Exit codes: 0 success, 1 a check failed or a file could not be read or written, 2 bad usage.

#include <ggml-backend.h>
#include <ggml.h>
#include <gguf.h>
#include <llama.h>

#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#ifndef TRITIUM_LLAMA_PREBUILT_DIR
// Empty: let ggml look for its CPU backend next to the executable and in the working directory.
#define TRITIUM_LLAMA_PREBUILT_DIR ""
#endif

namespace {

// The model is as small as llama.cpp's llama graph allows while still exercising grouped-query
// attention (2 KV heads for 4 query heads) and RoPE; the vocabulary, not the layers, dominates the size.
constexpr uint32_t n_embd = 64;
constexpr uint32_t n_layer = 2;
constexpr uint32_t n_head = 4;
constexpr uint32_t n_head_kv = 2;
constexpr uint32_t n_ff = 128;
constexpr uint32_t n_ctx_train = 4096;
constexpr uint32_t n_embd_head = n_embd / n_head;
constexpr float rope_freq_base = 10000.0f;
constexpr float rms_norm_eps = 1e-5f;
constexpr uint32_t llama_ftype_mostly_f16 = 1;  // llama_ftype: big matrices F16, norms F32

// Weight scales. The output projection is tied to token_embd (llama.cpp's llama loader falls back to
// token_embd when no `output` tensor exists), so token_embd's scale sets the spread of the logits: after
// output_norm the hidden state has RMS 1, a logit is a dot product over n_embd = 64 terms, and its
// standard deviation is about 8 * embd_std. With Gaussian logits of deviation s the entropy is near
// ln V - s^2 / 2, so embd_std = 0.35 (s ~ 2.8) puts it near 8 nats instead of ln 151936 = 11.9.
// The layer matrices use 2 / sqrt(fan_in), so each sub-layer adds a residual update of RMS well above
// the token's own embedding (RMS 0.35): at 1 / sqrt(fan_in) the tied output still favoured the input
// token (43 immediate repeats in 300 sampled tokens, seed 1); at 2 / sqrt(fan_in) there were none.
constexpr double embd_std = 0.35;
constexpr double attn_std = 0.25;  // 2 / sqrt(n_embd)
constexpr double ffn_in_std = 0.25;  // 2 / sqrt(n_embd)
constexpr double ffn_down_std = 0.177;  // 2 / sqrt(n_ff)

constexpr int check_n_tokens = 50;
constexpr const char* check_prompt = "Once upon a time";

// Standard normal draws that are the same on every platform: std::normal_distribution's algorithm is
// left to the library, and Box-Muller needs log and cos, which libms do not round identically. The sum
// of 12 uniforms (Irwin-Hall) has mean 6 and variance 1 and is computed here in exact integer and
// double arithmetic; its tails stop at +-6, which does not matter for random weights.
class normal_source {
 public:
  explicit normal_source(uint64_t seed) : rng_(seed) {}

  double next() {
    uint64_t sum = 0;
    for (int draw = 0; draw < 3; ++draw) {
      const uint64_t bits = rng_();
      for (int part = 0; part < 4; ++part) sum += (bits >> (16 * part)) & 0xffffu;
    }
    // Each 16-bit part k stands for the uniform (k + 0.5) / 65536, so the sum of 12 is (sum + 6) / 65536.
    return (static_cast<double>(sum) + 6.0) / 65536.0 - 6.0;
  }

 private:
  std::mt19937_64 rng_;
};

// Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above U+10FFFF. llama-server
// serialises generated text as JSON and answers 500 when that fails, so a token is safe to emit only
// when its bytes are complete, valid UTF-8 on their own.
bool is_valid_utf8(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    const auto lead = static_cast<unsigned char>(text[i]);
    size_t n_cont = 0;
    unsigned char cont_min = 0x80;
    unsigned char cont_max = 0xbf;
    if (lead < 0x80) {
      n_cont = 0;
    } else if (lead >= 0xc2 && lead <= 0xdf) {
      n_cont = 1;
    } else if (lead >= 0xe0 && lead <= 0xef) {
      n_cont = 2;
      if (lead == 0xe0) cont_min = 0xa0;  // overlong
      if (lead == 0xed) cont_max = 0x9f;  // surrogates
    } else if (lead >= 0xf0 && lead <= 0xf4) {
      n_cont = 3;
      if (lead == 0xf0) cont_min = 0x90;  // overlong
      if (lead == 0xf4) cont_max = 0x8f;  // above U+10FFFF
    } else {
      return false;
    }
    if (text.size() - i - 1 < n_cont) return false;
    for (size_t k = 1; k <= n_cont; ++k) {
      const auto byte = static_cast<unsigned char>(text[i + k]);
      const unsigned char lo = k == 1 ? cont_min : 0x80;
      const unsigned char hi = k == 1 ? cont_max : 0xbf;
      if (byte < lo || byte > hi) return false;
    }
    i += 1 + n_cont;
  }
  return true;
}

std::string token_piece(const llama_vocab* vocab, llama_token token) {
  std::string piece(16, '\0');
  int32_t n = llama_token_to_piece(vocab, token, piece.data(), static_cast<int32_t>(piece.size()), 0,
                                   /*special=*/false);
  if (n < 0) {
    piece.resize(static_cast<size_t>(-n));
    n = llama_token_to_piece(vocab, token, piece.data(), static_cast<int32_t>(piece.size()), 0, false);
  }
  piece.resize(n > 0 ? static_cast<size_t>(n) : 0);
  return piece;
}

// Tokens a random model must never emit: everything but EOS that is special (control, user-defined
// such as qwen2's [PAD151646], unknown, unused or of no type) or whose plain-text piece is empty or not valid UTF-8 on its own (the byte tokens for
// 0x80-0xff and BPE tokens that hold part of a multi-byte character). EOS stays so generation can end.
struct suppression {
  std::vector<int32_t> tokens;
  size_t n_special = 0;
  size_t n_empty = 0;
  size_t n_invalid_utf8 = 0;
};

bool must_suppress(const llama_vocab* vocab, llama_token token, suppression* counts) {
  if (token == llama_vocab_eos(vocab)) return false;
  constexpr int special_attrs = LLAMA_TOKEN_ATTR_UNKNOWN | LLAMA_TOKEN_ATTR_UNUSED |
                                LLAMA_TOKEN_ATTR_CONTROL | LLAMA_TOKEN_ATTR_USER_DEFINED;
  const int attr = llama_vocab_get_attr(vocab, token);
  if (attr == LLAMA_TOKEN_ATTR_UNDEFINED || (attr & special_attrs) != 0) {
    if (counts) ++counts->n_special;
    return true;
  }
  const std::string piece = token_piece(vocab, token);
  if (piece.empty()) {
    if (counts) ++counts->n_empty;
    return true;
  }
  if (!is_valid_utf8(piece)) {
    if (counts) ++counts->n_invalid_utf8;
    return true;
  }
  return false;
}

// Keeps llama.cpp's informational chatter off the terminal but lets warnings and errors through,
// including the continuation lines that follow them.
struct log_filter {
  bool printing = false;
};

void filter_log(ggml_log_level level, const char* text, void* user_data) {
  auto* filter = static_cast<log_filter*>(user_data);
  if (level != GGML_LOG_LEVEL_CONT) {
    filter->printing = level == GGML_LOG_LEVEL_WARN || level == GGML_LOG_LEVEL_ERROR;
  }
  if (filter->printing) std::fputs(text, stderr);
}

bool compute_suppression(const char* vocab_path, int32_t* n_vocab, suppression* out) {
  llama_model_params params = llama_model_default_params();
  params.vocab_only = true;
  // The model owns the vocabulary; both are freed below.
  llama_model* model = llama_model_load_from_file(vocab_path, params);
  if (!model) {
    std::fprintf(stderr, "loading the vocabulary failed: expected a vocab GGUF, got %s\n", vocab_path);
    return false;
  }
  const llama_vocab* vocab = llama_model_get_vocab(model);
  *n_vocab = llama_vocab_n_tokens(vocab);
  for (llama_token token = 0; token < *n_vocab; ++token) {
    if (must_suppress(vocab, token, out)) out->tokens.push_back(token);
  }
  llama_model_free(model);
  return true;
}

// One tensor to write: shape as ggml orders it (ne[0] is the row length) and its bytes.
struct weight {
  std::string name;
  ggml_type type;
  int64_t ne0;
  int64_t ne1;  // 1 for vectors
  std::vector<uint8_t> data;
};

weight make_weight(std::string name, ggml_type type, int64_t ne0, int64_t ne1, double std_dev,
                   normal_source* normal) {
  const auto n = static_cast<size_t>(ne0 * ne1);
  std::vector<float> values(n, 1.0f);  // std_dev 0: an RMS-norm gain of 1
  if (std_dev > 0) {
    for (float& value : values) value = static_cast<float>(std_dev * normal->next());
  }
  weight w{std::move(name), type, ne0, ne1, {}};
  if (type == GGML_TYPE_F16) {
    w.data.resize(n * sizeof(ggml_fp16_t));
    ggml_fp32_to_fp16_row(values.data(), reinterpret_cast<ggml_fp16_t*>(w.data.data()),
                          static_cast<int64_t>(n));
  } else {
    w.data.resize(n * sizeof(float));
    std::memcpy(w.data.data(), values.data(), w.data.size());
  }
  return w;
}

std::vector<weight> make_weights(int32_t n_vocab, uint64_t seed) {
  normal_source normal(seed);
  constexpr int64_t e = n_embd;
  constexpr int64_t e_kv = n_embd_head * n_head_kv;
  std::vector<weight> weights;
  // token_embd is the only large matrix (n_vocab x 64); F16 halves the file. The small ones stay F32.
  weights.push_back(make_weight("token_embd.weight", GGML_TYPE_F16, e, n_vocab, embd_std, &normal));
  weights.push_back(make_weight("output_norm.weight", GGML_TYPE_F32, e, 1, 0, &normal));
  for (uint32_t layer = 0; layer < n_layer; ++layer) {
    const std::string blk = "blk." + std::to_string(layer) + ".";
    weights.push_back(make_weight(blk + "attn_norm.weight", GGML_TYPE_F32, e, 1, 0, &normal));
    weights.push_back(make_weight(blk + "attn_q.weight", GGML_TYPE_F32, e, e, attn_std, &normal));
    weights.push_back(make_weight(blk + "attn_k.weight", GGML_TYPE_F32, e, e_kv, attn_std, &normal));
    weights.push_back(make_weight(blk + "attn_v.weight", GGML_TYPE_F32, e, e_kv, attn_std, &normal));
    weights.push_back(make_weight(blk + "attn_output.weight", GGML_TYPE_F32, e, e, attn_std, &normal));
    weights.push_back(make_weight(blk + "ffn_norm.weight", GGML_TYPE_F32, e, 1, 0, &normal));
    weights.push_back(make_weight(blk + "ffn_gate.weight", GGML_TYPE_F32, e, n_ff, ffn_in_std, &normal));
    weights.push_back(make_weight(blk + "ffn_up.weight", GGML_TYPE_F32, e, n_ff, ffn_in_std, &normal));
    weights.push_back(make_weight(blk + "ffn_down.weight", GGML_TYPE_F32, n_ff, e, ffn_down_std, &normal));
  }
  return weights;
}

// Copies the tokenizer.* key/values of the vocab GGUF; its general.* and <arch>.* keys describe the
// model the vocabulary came from and are replaced by ours.
bool copy_tokenizer_kvs(const char* vocab_path, gguf_context* out) {
  gguf_init_params params{/*no_alloc=*/true, /*ctx=*/nullptr};
  gguf_context* src = gguf_init_from_file(vocab_path, params);
  if (!src) {
    std::fprintf(stderr, "reading %s failed: expected a GGUF file\n", vocab_path);
    return false;
  }
  gguf_context* tokenizer = gguf_init_empty();
  gguf_set_kv(tokenizer, src);
  gguf_free(src);
  std::vector<std::string> other_keys;
  for (int64_t i = 0; i < gguf_get_n_kv(tokenizer); ++i) {
    const std::string_view key = gguf_get_key(tokenizer, i);
    if (!key.starts_with("tokenizer.")) other_keys.emplace_back(key);
  }
  for (const std::string& key : other_keys) gguf_remove_key(tokenizer, key.c_str());
  const bool has_tokens = gguf_find_key(tokenizer, "tokenizer.ggml.tokens") >= 0;
  if (has_tokens) gguf_set_kv(out, tokenizer);
  gguf_free(tokenizer);
  if (!has_tokens) std::fprintf(stderr, "%s: expected the key tokenizer.ggml.tokens, found none\n", vocab_path);
  return has_tokens;
}

int make_model(const char* vocab_path, const std::string& out_path, uint64_t seed) {
  int32_t n_vocab = 0;
  suppression suppressed;
  if (!compute_suppression(vocab_path, &n_vocab, &suppressed)) return 1;

  gguf_context* out = gguf_init_empty();
  const std::string name = "tritium random llama (seed " + std::to_string(seed) + ")";
  gguf_set_val_str(out, "general.architecture", "llama");
  gguf_set_val_str(out, "general.name", name.c_str());
  gguf_set_val_u32(out, "general.file_type", llama_ftype_mostly_f16);
  gguf_set_val_u32(out, "llama.context_length", n_ctx_train);
  gguf_set_val_u32(out, "llama.embedding_length", n_embd);
  gguf_set_val_u32(out, "llama.block_count", n_layer);
  gguf_set_val_u32(out, "llama.feed_forward_length", n_ff);
  gguf_set_val_u32(out, "llama.attention.head_count", n_head);
  gguf_set_val_u32(out, "llama.attention.head_count_kv", n_head_kv);
  gguf_set_val_u32(out, "llama.rope.dimension_count", n_embd_head);
  gguf_set_val_f32(out, "llama.rope.freq_base", rope_freq_base);
  gguf_set_val_f32(out, "llama.attention.layer_norm_rms_epsilon", rms_norm_eps);
  gguf_set_val_u32(out, "llama.vocab_size", static_cast<uint32_t>(n_vocab));
  if (!copy_tokenizer_kvs(vocab_path, out)) {
    gguf_free(out);
    return 1;
  }
  gguf_set_arr_data(out, "tokenizer.ggml.suppress_tokens", GGUF_TYPE_INT32, suppressed.tokens.data(),
                    suppressed.tokens.size());

  const std::vector<weight> weights = make_weights(n_vocab, seed);
  // The ggml context only describes the tensors; their bytes stay in `weights` until the file is written.
  ggml_init_params ctx_params{ggml_tensor_overhead() * weights.size(), nullptr, /*no_alloc=*/true};
  ggml_context* meta = ggml_init(ctx_params);
  for (const weight& w : weights) {
    ggml_tensor* tensor = ggml_new_tensor_2d(meta, w.type, w.ne0, w.ne1);
    ggml_set_name(tensor, w.name.c_str());
    gguf_add_tensor(out, tensor);
    gguf_set_tensor_data(out, w.name.c_str(), w.data.data());
  }

  // Written beside the target and renamed, so an interrupted build never leaves a truncated model.
  const std::string tmp_path = out_path + ".tmp";
  const bool written = gguf_write_to_file(out, tmp_path.c_str(), /*only_meta=*/false);
  ggml_free(meta);
  gguf_free(out);
  std::error_code error;
  if (written) std::filesystem::rename(tmp_path, out_path, error);
  if (!written || error) {
    std::fprintf(stderr, "writing %s failed%s%s\n", out_path.c_str(), error ? ": " : "",
                 error ? error.message().c_str() : "");
    std::filesystem::remove(tmp_path, error);
    return 1;
  }
  std::printf("wrote %s: llama, %d tokens, embd %u, %u layers, %u heads (%u kv), ffn %u, seed %llu\n",
              out_path.c_str(), n_vocab, n_embd, n_layer, n_head, n_head_kv, n_ff,
              static_cast<unsigned long long>(seed));
  std::printf("suppressed %zu of %d tokens: %zu special, %zu empty, %zu not valid UTF-8 on their own\n",
              suppressed.tokens.size(), n_vocab, suppressed.n_special, suppressed.n_empty,
              suppressed.n_invalid_utf8);
  return 0;
}

// Softmax of the logits with the suppressed tokens removed, in double so the draw does not depend on
// float summation order.
std::vector<double> softmax(const float* logits, int32_t n_vocab, const std::vector<bool>& banned) {
  float max_logit = -INFINITY;
  for (int32_t i = 0; i < n_vocab; ++i) {
    if (!banned[static_cast<size_t>(i)] && logits[i] > max_logit) max_logit = logits[i];
  }
  std::vector<double> probs(static_cast<size_t>(n_vocab), 0.0);
  double total = 0;
  for (int32_t i = 0; i < n_vocab; ++i) {
    if (banned[static_cast<size_t>(i)]) continue;
    probs[static_cast<size_t>(i)] = std::exp(static_cast<double>(logits[i] - max_logit));
    total += probs[static_cast<size_t>(i)];
  }
  for (double& p : probs) p /= total;
  return probs;
}

double entropy_nats(const std::vector<double>& probs) {
  double h = 0;
  for (double p : probs) {
    if (p > 0) h -= p * std::log(p);
  }
  return h;
}

llama_token draw(const std::vector<double>& probs, std::mt19937_64* rng) {
  // 53 random bits as a uniform in [0, 1): std::uniform_real_distribution is implementation-defined.
  const double u = static_cast<double>((*rng)() >> 11) * 0x1.0p-53;
  double cumulative = 0;
  llama_token last_possible = 0;
  for (size_t i = 0; i < probs.size(); ++i) {
    if (probs[i] <= 0) continue;
    cumulative += probs[i];
    last_possible = static_cast<llama_token>(i);
    if (u < cumulative) return last_possible;
  }
  return last_possible;  // rounding left u above the final cumulative sum
}

int check_model_loaded(llama_model* model, uint64_t seed) {
  const llama_vocab* vocab = llama_model_get_vocab(model);
  const int32_t n_vocab = llama_vocab_n_tokens(vocab);
  int32_t n_suppress = 0;
  const llama_token* suppress = llama_vocab_get_suppress_tokens(vocab, &n_suppress);
  std::vector<bool> banned(static_cast<size_t>(n_vocab), false);
  for (int32_t i = 0; i < n_suppress; ++i) banned[static_cast<size_t>(suppress[i])] = true;

  // The file's own list must cover every token that our rule would suppress.
  int32_t n_unsafe = 0;
  for (llama_token token = 0; token < n_vocab; ++token) {
    if (!banned[static_cast<size_t>(token)] && must_suppress(vocab, token, nullptr)) {
      if (n_unsafe++ < 5) std::fprintf(stderr, "token %d may be emitted but is not safe\n", token);
    }
  }
  std::printf("suppress list: %d tokens; emittable but unsafe: %d\n", n_suppress, n_unsafe);

  llama_context_params ctx_params = llama_context_default_params();
  ctx_params.n_ctx = 256;
  ctx_params.n_batch = 256;
  ctx_params.n_threads = 2;
  ctx_params.n_threads_batch = 2;
  llama_context* ctx = llama_init_from_model(model, ctx_params);  // freed below
  if (!ctx) {
    std::fprintf(stderr, "creating a llama context failed\n");
    return 1;
  }

  std::vector<llama_token> tokens(64);
  const int32_t n_prompt =
      llama_tokenize(vocab, check_prompt, static_cast<int32_t>(std::strlen(check_prompt)), tokens.data(),
                     static_cast<int32_t>(tokens.size()), /*add_special=*/true, /*parse_special=*/false);
  if (n_prompt <= 0) {
    std::fprintf(stderr, "tokenizing the prompt failed: %d\n", n_prompt);
    llama_free(ctx);
    return 1;
  }
  tokens.resize(static_cast<size_t>(n_prompt));

  std::mt19937_64 rng(seed);
  std::string text = check_prompt;
  int n_invalid = 0;
  int n_repeats = 0;
  double entropy_sum = 0;
  int n_steps = 0;
  llama_batch batch = llama_batch_get_one(tokens.data(), n_prompt);
  llama_token previous = tokens.back();
  llama_token next = 0;
  for (int step = 0; step < check_n_tokens; ++step) {
    if (llama_decode(ctx, batch) != 0) {
      std::fprintf(stderr, "llama_decode failed at step %d\n", step);
      llama_free(ctx);
      return 1;
    }
    const float* logits = llama_get_logits_ith(ctx, -1);
    const std::vector<double> probs = softmax(logits, n_vocab, banned);
    const double entropy = entropy_nats(probs);
    if (step == 0) {
      const std::vector<double> unsuppressed = softmax(logits, n_vocab, std::vector<bool>(banned.size()));
      std::printf("entropy after the prompt: %.2f nats (%.2f before suppression; uniform would be %.2f)\n",
                  entropy, entropy_nats(unsuppressed), std::log(static_cast<double>(n_vocab)));
    }
    entropy_sum += entropy;
    ++n_steps;
    next = draw(probs, &rng);
    if (next == llama_vocab_eos(vocab)) break;
    const std::string piece = token_piece(vocab, next);
    if (!is_valid_utf8(piece)) ++n_invalid;
    if (next == previous) ++n_repeats;
    previous = next;
    text += piece;
    batch = llama_batch_get_one(&next, 1);
  }
  llama_free(ctx);

  std::printf("mean entropy over %d steps: %.2f nats; immediate repeats: %d\n", n_steps,
              entropy_sum / n_steps, n_repeats);
  std::printf("text: %s\n", text.c_str());
  std::printf("pieces not valid UTF-8: %d\n", n_invalid);
  return n_invalid == 0 && n_unsafe == 0 && n_suppress > 0 ? 0 : 1;
}

int check_model(const char* model_path, uint64_t seed, const std::string& backend_dir) {
  // The prebuilt ggml finds its CPU backend only where it is told to look.
  if (backend_dir.empty()) {
    ggml_backend_load_all();
  } else {
    ggml_backend_load_all_from_path(backend_dir.c_str());
  }
  llama_model* model = llama_model_load_from_file(model_path, llama_model_default_params());
  if (!model) {
    std::fprintf(stderr, "loading %s failed: expected a llama GGUF\n", model_path);
    return 1;
  }
  const int status = check_model_loaded(model, seed);
  llama_model_free(model);
  return status;
}

bool parse_seed(std::string_view text, uint64_t* seed) {
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), *seed);
  return error == std::errc() && end == text.data() + text.size();
}

int usage() {
  std::fprintf(stderr,
               "usage: tritium-llama-make-model VOCAB_GGUF OUT_GGUF [--seed N]\n"
               "       tritium-llama-make-model --check MODEL_GGUF [--seed N] [--backend-dir DIR]\n"
               "exit codes: 0 success, 1 failure, 2 bad usage\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> positional;
  uint64_t seed = 1;
  bool check = false;
  std::string backend_dir = TRITIUM_LLAMA_PREBUILT_DIR;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--check") {
      check = true;
    } else if (arg == "--seed" && i + 1 < argc) {
      if (!parse_seed(argv[++i], &seed)) {
        std::fprintf(stderr, "--seed: expected an unsigned 64-bit integer, got '%s'\n", argv[i]);
        return 2;
      }
    } else if (arg == "--backend-dir" && i + 1 < argc) {
      backend_dir = argv[++i];
    } else if (arg.starts_with("--")) {
      return usage();
    } else {
      positional.emplace_back(arg);
    }
  }
  if (positional.size() != (check ? 1u : 2u)) return usage();

  log_filter filter;
  llama_log_set(filter_log, &filter);
  llama_backend_init();
  const int status = check ? check_model(positional[0].c_str(), seed, backend_dir)
                           : make_model(positional[0].c_str(), positional[1], seed);
  llama_backend_free();
  return status;
}
