// The calls server.patch adds to llama-server (llama.cpp v0.4.0), implemented by tritium_server.cpp.
// The patch only calls these; everything tritium does in the server lives on our side, so that the
// patch stays small and the patched server sources can be compiled once and cached (build-server.sh).
//
// One request's path: the HTTP middleware checks its API key (api_key_valid, constant time); the
// completion handler maps the key to an account (account_of) and stores the result in the task's
// parameters, which n > 1 children copy; the slot's sampler chain gets tritium's sampler (attach);
// each finished completion is appended to the served-output log (log_completion).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

struct common_sampler;
struct llama_context;
struct llama_vocab;

namespace tritium_server {

// Values of task_params::watermark_account besides an index into the accounts file.
constexpr int32_t unset = -2;       // the task did not come through a completion handler
constexpr int32_t no_account = -1;  // marked with the key alone: no accounts file, or an --api-key key

// True when the server was started with --watermark-key.
bool enabled();

// Called once the model is loaded: false (with the reason in *error) when the model's vocabulary
// does not have the key's width V.
bool check_model(const llama_vocab* vocab, std::string* error);

// True when requests must carry an API key even though llama-server's own --api-key list is empty
// (an accounts file was given).
bool requires_api_key();

// Whether `presented` is one of `server_keys` (--api-key) or of the accounts file's keys. Every
// stored key is compared, each in constant time, whatever matches.
bool api_key_valid(const std::vector<std::string>& server_keys, const std::string& presented);

// The account whose API key the request's headers carry (Authorization: Bearer, or X-Api-Key;
// header names compared case-insensitively), or no_account.
int32_t account_of(const std::map<std::string, std::string>& headers);

// Puts tritium's sampler into the chain of `sampler` for `account`: KGW and Unigram bias right after
// logit-bias; Gumbel's selector takes the place of the final `dist` (seeded with the request's
// `seed` for repeated windows, which it samples plainly). Returns false and leaves the chain alone
// when nothing is to be marked (the watermark is off, or the operator switched it off for this
// account); throws std::runtime_error when the sampler cannot be made, or when the chain has no
// `dist` for Gumbel to replace (mirostat, adaptive-p): such a request is refused, not served unmarked.
bool attach(common_sampler* sampler, int32_t account, uint32_t seed);

// Before a position is sampled on the CPU: biases the logits row of output `idx` in place when the
// slot's chain holds tritium's sampler, which then leaves the candidates built from that row alone
// (tritium_llama_sampler_bias_logits). Does nothing otherwise.
void bias_logits(common_sampler* sampler, llama_context* ctx, int idx);

// Appends one record to the served-output log, if one was configured; `sampler` is the completion's
// (under Gumbel the record says how many of its choices carry the mark). Throws std::runtime_error
// when the record cannot be written (the completion must then not be delivered as logged).
void log_completion(common_sampler* sampler, int32_t account, const std::string& request_id, int index,
                    const std::string& model, const std::vector<int32_t>& prompt_tokens,
                    const std::vector<int32_t>& output_tokens, const char* finish_reason);

}  // namespace tritium_server
