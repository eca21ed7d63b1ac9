// tritium-llama-generate: generates from a GGUF model with llama.cpp's own API and sampler chain,
// tritium's sampler first in the chain (tritium_llama_sampler.h), so that top-k, top-p, min-p and
// temperature see the watermarked distribution. The smallest complete use of the sampler, and the
// program integrations/llama.cpp/bench times with and without the watermark.
//
//   tritium-llama-generate -m MODEL.gguf (-k KEY [--account ID] | --hf-config FILE | --no-watermark)
//                          [-p PROMPT] [-n N] [--seed S] [--threads T]
//
// --hf-config marks as a transformers deployment does, from its generation_config.json (or the
// WatermarkingConfig / SynthIDTextWatermarkingConfig object alone): `tritium detect --hf-config` and
// transformers' detectors find the mark (tritium_llama_hf_sampler_init).
//
// Prints one JSON object: the prompt and output token ids, the text, the number of tokens generated,
// the generation's tokens per second (wall clock, prompt included) and llama.cpp's own timings
// (decode and sampling, per token), and with --hf-config the steps the processor changed. Exit 0, or 2
// on bad usage, 3 on input errors (model, key, account, configuration).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "json_out.hpp"
#include "llama.h"
#include "tritium/tritium.h"
#include "tritium_llama_sampler.h"

namespace {

[[noreturn]] void die(int code, const std::string& message) {
  std::fprintf(stderr, "tritium-llama-generate: %s\n", message.c_str());
  std::exit(code);
}

std::string json_string(std::string_view s) {
  std::string out;
  tritium_llama::append_json_string(out, s);
  return out;
}

std::string json_tokens(const std::vector<llama_token>& tokens) {
  std::string out;
  tritium_llama::append_json_tokens(out, tokens);
  return out;
}

unsigned long parse_number(std::string_view option, const char* text) {
  char* end = nullptr;
  const unsigned long value = std::strtoul(text, &end, 10);
  if (end == text || *end != '\0') die(2, std::string(option) + ": expected a number, got '" + text + "'");
  return value;
}

}  // namespace

int main(int argc, char** argv) {
  std::string model_path, key_path, hf_config_path, account, prompt = "Once upon a time";
  unsigned long n_predict = 128, seed = 1, threads = 0;
  bool no_watermark = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) die(2, std::string(arg) + " needs a value");
      return argv[++i];
    };
    if (arg == "-m" || arg == "--model") model_path = value();
    else if (arg == "-k" || arg == "--key") key_path = value();
    else if (arg == "--hf-config") hf_config_path = value();
    else if (arg == "--account") account = value();
    else if (arg == "-p" || arg == "--prompt") prompt = value();
    else if (arg == "-n") n_predict = parse_number(arg, value());
    else if (arg == "--seed") seed = parse_number(arg, value());
    else if (arg == "--threads") threads = parse_number(arg, value());
    else if (arg == "--no-watermark") no_watermark = true;
    else die(2, "unknown option '" + std::string(arg) + "' (options: -m, -k, --account, --hf-config, --no-watermark, -p, -n, --seed, --threads)");
  }
  if (model_path.empty()) die(2, "-m MODEL.gguf is required");
  if (int{no_watermark} + int{!key_path.empty()} + int{!hf_config_path.empty()} != 1)
    die(2, "give exactly one of -k KEY, --hf-config FILE and --no-watermark");
  if (key_path.empty() && !account.empty())
    die(2, std::string("--account needs -k KEY (it is unused with ") + (no_watermark ? "--no-watermark)" : "--hf-config)"));
  if (n_predict == 0) die(2, "-n must be at least 1");

  llama_log_set([](ggml_log_level, const char*, void*) {}, nullptr);
  ggml_backend_load_all_from_path(TRITIUM_LLAMA_PREBUILT_DIR);
  llama_backend_init();
  llama_model_params mparams = llama_model_default_params();
  llama_model* model = llama_model_load_from_file(model_path.c_str(), mparams);
  if (model == nullptr) die(3, "cannot load model " + model_path);
  const llama_vocab* vocab = llama_model_get_vocab(model);
  const int32_t n_vocab = llama_vocab_n_tokens(vocab);

  tritium_key* key = nullptr;
  tritium_account_code* code = nullptr;
  tritium_hf_scheme* hf_scheme = nullptr;
  if (!hf_config_path.empty() &&
      tritium_hf_scheme_load(hf_config_path.c_str(), static_cast<uint32_t>(n_vocab), &hf_scheme) != TRITIUM_OK)
    die(3, "--hf-config: " + std::string(tritium_last_error()));
  if (!key_path.empty()) {
    if (tritium_key_load(key_path.c_str(), &key) != TRITIUM_OK) die(3, key_path + ": " + tritium_last_error());
    if (!account.empty() && tritium_account_code_create(key, account.data(), account.size(), &code) != TRITIUM_OK)
      die(3, "--account: " + std::string(tritium_last_error()));
  }

  std::vector<llama_token> prompt_tokens(prompt.size() + 8);
  const int n_prompt = llama_tokenize(vocab, prompt.data(), static_cast<int32_t>(prompt.size()), prompt_tokens.data(),
                                      static_cast<int32_t>(prompt_tokens.size()), true, false);
  if (n_prompt <= 0) die(3, "the prompt tokenizes to nothing");
  prompt_tokens.resize(static_cast<size_t>(n_prompt));

  llama_context_params cparams = llama_context_default_params();
  cparams.n_ctx = static_cast<uint32_t>(prompt_tokens.size() + n_predict + 8);
  cparams.n_batch = cparams.n_ctx;
  cparams.no_perf = false;
  // One thread per core by default: more threads than cores spin against each other.
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  cparams.n_threads = cparams.n_threads_batch = static_cast<int32_t>(threads);
  llama_context* ctx = llama_init_from_model(model, cparams);
  if (ctx == nullptr) die(3, "cannot create a context");

  // llama-server's default chain: logit-bias with the tokens the model forbids (its GGUF's
  // tokenizer.ggml.suppress_tokens, e.g. byte tokens that are not whole UTF-8), tritium's sampler
  // (where server.patch puts it), top-k, top-p, min-p, temperature, the draw.
  llama_sampler_chain_params sparams = llama_sampler_chain_default_params();
  sparams.no_perf = false;
  llama_sampler* chain = llama_sampler_chain_init(sparams);
  int32_t n_suppress = 0;
  const llama_token* suppress = llama_vocab_get_suppress_tokens(vocab, &n_suppress);
  if (n_suppress > 0) {
    std::vector<llama_logit_bias> biases;
    for (int32_t i = 0; i < n_suppress; ++i) biases.push_back({suppress[i], -INFINITY});
    llama_sampler_chain_add(chain, llama_sampler_init_logit_bias(n_vocab, n_suppress, biases.data()));
  }
  llama_sampler* mark = nullptr;
  llama_sampler* hf_mark = nullptr;
  if (hf_scheme != nullptr) {  // where transformers runs its processor: before the warpers
    hf_mark = tritium_llama_hf_sampler_init(hf_scheme);
    if (hf_mark == nullptr) die(3, std::string("watermark sampler: ") + tritium_last_error());
    llama_sampler_chain_add(chain, hf_mark);
  }
  if (key != nullptr) {
    mark = tritium_llama_sampler_init(key, static_cast<uint32_t>(n_vocab), code, seed);
    if (mark == nullptr) die(3, std::string("watermark sampler: ") + tritium_last_error());
    llama_sampler_chain_add(chain, mark);
  }
  llama_sampler_chain_add(chain, llama_sampler_init_top_k(40));
  llama_sampler_chain_add(chain, llama_sampler_init_top_p(0.95f, 1));
  llama_sampler_chain_add(chain, llama_sampler_init_min_p(0.05f, 1));
  llama_sampler_chain_add(chain, llama_sampler_init_temp(0.8f));
  llama_sampler_chain_add(chain, llama_sampler_init_dist(static_cast<uint32_t>(seed)));
  for (const llama_token t : prompt_tokens) llama_sampler_accept(chain, t);  // the context of the first step

  std::vector<llama_token> output;
  std::string text;
  llama_batch batch = llama_batch_get_one(prompt_tokens.data(), static_cast<int32_t>(prompt_tokens.size()));
  llama_token next = 0;
  const auto start = std::chrono::steady_clock::now();
  while (output.size() < n_predict) {
    if (llama_decode(ctx, batch) != 0) die(3, "llama_decode failed");
    // The faster path: mark the logits row in place before the candidates are built from it (the
    // sampler's apply then skips them); without it the sampler marks the candidates itself.
    if (mark != nullptr && tritium_llama_sampler_bias_logits(mark, llama_get_logits_ith(ctx, -1), static_cast<size_t>(n_vocab)) < 0)
      die(3, std::string("watermark: ") + tritium_last_error());
    next = llama_sampler_sample(chain, ctx, -1);  // also accepts `next` into the chain
    if (llama_vocab_is_eog(vocab, next)) break;
    output.push_back(next);
    char piece[256];
    const int n = llama_token_to_piece(vocab, next, piece, sizeof piece, 0, false);
    if (n > 0) text.append(piece, static_cast<size_t>(n));
    batch = llama_batch_get_one(&next, 1);
  }

  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const llama_perf_context_data perf = llama_perf_context(ctx);
  const llama_perf_sampler_data sperf = llama_perf_sampler(chain);
  const double n = static_cast<double>(output.size());
  std::string marked;
  if (hf_mark != nullptr) marked = ",\"marked_steps\":" + std::to_string(tritium_llama_hf_sampler_marked_steps(hf_mark));
  std::printf("{\"watermark\":%s%s,\"n_vocab\":%d,\"prompt_tokens\":%s,\"tokens\":%s,\"text\":%s,\"n_gen\":%zu,"
              "\"decode_ms_per_token\":%.4f,\"sample_ms_per_token\":%.4f,\"tokens_per_s\":%.2f}\n",
              no_watermark ? "false" : "true", marked.c_str(), n_vocab, json_tokens(prompt_tokens).c_str(), json_tokens(output).c_str(),
              json_string(text).c_str(), output.size(), perf.t_eval_ms / std::max(1, perf.n_eval),
              sperf.t_sample_ms / std::max(1, sperf.n_sample),
              n / seconds);

  llama_sampler_free(chain);
  llama_free(ctx);
  llama_model_free(model);
  tritium_account_code_free(code);
  tritium_key_free(key);
  tritium_hf_scheme_free(hf_scheme);
  llama_backend_free();
  return 0;
}
