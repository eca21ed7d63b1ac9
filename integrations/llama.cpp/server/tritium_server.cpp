// tritium-llama-server: llama-server (llama.cpp v0.4.0, patched by server.patch) whose completions
// carry tritium's watermark, with each API account's own mark (papers/attribution.md §3.2).
//
// This file holds everything tritium adds: the options (read and removed from the command line
// before llama-server parses the rest), the key, the accounts file, the served-output log, and the
// hooks the patch calls (tritium_server_hooks.h). See the README, "Serve with llama.cpp".
#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "common.h"
#include "sampling.h"
#include "tritium/tritium.h"
#include "json_out.hpp"
#include "tritium_llama_sampler.h"
#include "tritium_server_hooks.h"

int llama_server(int argc, char** argv);  // tools/server/server.cpp

namespace {

struct account {
  std::string id;
  bool marked = true;                           // the operator may switch an account's mark off
  unsigned char api_key_digest[crypto_hash_sha256_BYTES];
  tritium_account_code* code = nullptr;
};

// The served-output log: one JSON line per completion, each written with a single write(2) on an
// O_APPEND descriptor under a mutex, so records never interleave. See open_log for what happens to
// a record torn by a crash.
struct served_log {
  std::string path;
  int fd = -1;
  bool sync = false;  // fdatasync after every record (--watermark-log-sync)
  std::mutex mutex;
};

struct state {
  tritium_key* key = nullptr;
  // --watermark-hf-config in place of a key: the configuration's text until the model's width is known
  // (check_model makes the scheme for it), then the scheme.
  std::string hf_config_path, hf_config_text;
  tritium_hf_scheme* hf = nullptr;
  uint32_t hf_kind = TRITIUM_HF_KGW;
  tritium_kgw_info info{};
  uint32_t scheme = TRITIUM_SCHEME_KGW;  // --watermark-scheme
  std::string key_id;
  std::vector<account> accounts;
  std::vector<std::vector<unsigned char>> server_key_digests;  // --api-key keys, hashed on first use
  served_log log;
};

state* g = nullptr;  // set once in main, before llama-server starts any thread; read-only afterwards

[[noreturn]] void fail(const std::string& message) {
  std::fprintf(stderr, "tritium-llama-server: %s\n", message.c_str());
  std::exit(1);
}

std::string tritium_error() { return tritium_last_error(); }

void digest_of(std::string_view text, unsigned char out[crypto_hash_sha256_BYTES]) {
  crypto_hash_sha256(out, reinterpret_cast<const unsigned char*>(text.data()), text.size());
}

// A secret file (key, accounts) must be a regular file that only its owner can read.
void check_private(const std::string& option, const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) fail(option + " " + path + ": " + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) fail(option + " " + path + ": not a regular file");
  if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0)
    fail(option + " " + path + ": readable by group or others (it holds secrets); run: chmod 600 " + path);
}

void load_key(const std::string& path) {
  check_private("--watermark-key", path);
  if (tritium_key_load(path.c_str(), &g->key) != TRITIUM_OK) fail("--watermark-key " + path + ": " + tritium_error());
  if (tritium_key_info(g->key, &g->info) != TRITIUM_OK) fail("--watermark-key " + path + ": " + tritium_error());
  char id[65];
  if (tritium_key_id(g->key, id) != TRITIUM_OK) fail("--watermark-key " + path + ": " + tritium_error());
  g->key_id = id;
}

const char* scheme_names[] = {"kgw", "gumbel", "unigram"};
const char* hf_scheme_names[] = {"hf-kgw", "hf-synthid"};

// The name the log and the start-up line give the scheme that marks.
std::string marking_scheme() { return g->key != nullptr ? scheme_names[g->scheme] : hf_scheme_names[g->hf_kind]; }

// --watermark-hf-config: read now and checked once the model's vocabulary is known (a KGW green list is
// a permutation of the model's V). The file is not secret to the server's users alone, but its keys
// decide the mark: like the key, it must be private to the operator.
void load_hf_config(const std::string& path) {
  check_private("--watermark-hf-config", path);  // a regular file, its owner's alone
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && st.st_size > (16 << 20))
    fail("--watermark-hf-config " + path + ": " + std::to_string(st.st_size) + " bytes: a configuration is at most 16 MiB");
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("--watermark-hf-config " + path + ": cannot open");
  g->hf_config_text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  if (in.bad()) fail("--watermark-hf-config " + path + ": read error");
  g->hf_config_path = path;
  // Every field is checked now, before the model loads, for a vocabulary of 2^20 (a KGW green list of
  // that many tokens is the largest any model here needs); check_model makes the scheme for the
  // model's own V.
  tritium_hf_scheme* probe = nullptr;
  if (tritium_hf_scheme_parse(g->hf_config_text.data(), g->hf_config_text.size(), 1u << 20, &probe) != TRITIUM_OK)
    fail("--watermark-hf-config " + path + ": " + tritium_error());
  tritium_hf_scheme_free(probe);
}

// The scheme the server marks with: --watermark-scheme, which the key must name; without it the
// key's KGW, or the one scheme it names. A key naming several others needs the option.
void choose_scheme(const std::string& wanted) {
  uint32_t mask = 0;
  if (tritium_key_schemes(g->key, &mask) != TRITIUM_OK) fail("--watermark-key: " + tritium_error());
  std::string named;
  for (uint32_t s = 0; s < 3; ++s) {
    if (mask & (1u << s)) named += (named.empty() ? "" : ", ") + std::string(scheme_names[s]);
  }
  if (!wanted.empty()) {
    uint32_t s = 0;
    while (s < 3 && wanted != scheme_names[s]) ++s;
    if (s == 3) fail("--watermark-scheme " + wanted + ": expected kgw, gumbel or unigram");
    if ((mask & (1u << s)) == 0)
      fail("--watermark-scheme " + wanted + ": the key names " + named + " only (make a key with tritium keygen --scheme " +
           wanted + ")");
    g->scheme = s;
    return;
  }
  if (mask & (1u << TRITIUM_SCHEME_KGW)) {
    g->scheme = TRITIUM_SCHEME_KGW;
  } else if (mask == (1u << TRITIUM_SCHEME_GUMBEL) || mask == (1u << TRITIUM_SCHEME_UNIGRAM)) {
    g->scheme = mask == (1u << TRITIUM_SCHEME_GUMBEL) ? TRITIUM_SCHEME_GUMBEL : TRITIUM_SCHEME_UNIGRAM;
  } else {
    fail("--watermark-key: the key names " + named + ": choose one with --watermark-scheme");
  }
}

// The accounts file: JSON Lines {"account": ID, "api_key": KEY} with an optional "watermark": false
// (the operator's switch; only this file can turn an account's mark off). Blank lines and lines
// starting with '#' are skipped. An API key may appear once; an account may have several keys.
void load_accounts(const std::string& path) {
  check_private("--watermark-accounts", path);
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("--watermark-accounts " + path + ": cannot open");
  std::string line;
  for (size_t number = 1; std::getline(in, line); ++number) {
    const std::string where = "--watermark-accounts " + path + ", line " + std::to_string(number) + ": ";
    if (line.empty() || line[0] == '#') continue;
    nlohmann::json record;
    try {
      record = nlohmann::json::parse(line);
    } catch (const nlohmann::json::parse_error& e) {
      fail(where + "not JSON (byte " + std::to_string(e.byte) + " of the line)");
    }
    if (!record.is_object()) fail(where + "not a JSON object");
    for (const auto& [name, value] : record.items()) {
      if (name != "account" && name != "api_key" && name != "watermark")
        fail(where + "unknown field \"" + name + "\" (fields: account, api_key, watermark)");
    }
    if (!record.contains("account") || !record["account"].is_string() || record["account"].get<std::string>().empty())
      fail(where + "\"account\" must be a non-empty string");
    if (!record.contains("api_key") || !record["api_key"].is_string() || record["api_key"].get<std::string>().empty())
      fail(where + "\"api_key\" must be a non-empty string");
    if (record.contains("watermark") && !record["watermark"].is_boolean())
      fail(where + "\"watermark\" must be true or false");
    account a;
    a.id = record["account"].get<std::string>();
    a.marked = record.value("watermark", true);
    const std::string api_key = record["api_key"].get<std::string>();
    digest_of(api_key, a.api_key_digest);
    for (const account& other : g->accounts) {
      if (sodium_memcmp(other.api_key_digest, a.api_key_digest, sizeof a.api_key_digest) == 0)
        fail(where + "this API key is already listed (each key names one account)");
    }
    if (tritium_account_code_create(g->key, a.id.data(), a.id.size(), &a.code) != TRITIUM_OK)
      fail(where + "account: " + tritium_error());
    g->accounts.push_back(std::move(a));
  }
  if (in.bad()) fail("--watermark-accounts " + path + ": read error");
  if (g->accounts.empty()) fail("--watermark-accounts " + path + ": no account listed");
}

// Opens the served-output log for appending (mode 0600: it holds prompts). A crash can leave the
// last record torn (a kill during write(2) may cut it short); such a tail is cut off here, with a
// warning that says how many bytes, so that the file is whole lines again before anything is added.
void open_log(const std::string& path, bool sync) {
  g->log.path = path;
  g->log.sync = sync;
  g->log.fd = ::open(path.c_str(), O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (g->log.fd < 0) fail("--watermark-log " + path + ": " + std::strerror(errno));
  struct stat st {};
  if (::fstat(g->log.fd, &st) != 0 || !S_ISREG(st.st_mode)) fail("--watermark-log " + path + ": not a regular file");
  off_t end = st.st_size;
  if (end == 0) return;
  // Find the last newline, reading backwards in blocks.
  char block[4096];
  off_t keep = 0;
  for (off_t pos = end; pos > 0 && keep == 0;) {
    const off_t start = pos >= static_cast<off_t>(sizeof block) ? pos - static_cast<off_t>(sizeof block) : 0;
    const ssize_t n = ::pread(g->log.fd, block, static_cast<size_t>(pos - start), start);
    if (n != pos - start) fail("--watermark-log " + path + ": read error");
    for (ssize_t i = n - 1; i >= 0; --i) {
      if (block[i] == '\n') {
        keep = start + i + 1;
        break;
      }
    }
    pos = start;
  }
  if (keep == end) return;
  std::fprintf(stderr,
               "tritium-llama-server: --watermark-log %s: the last record was torn (%lld bytes after the last complete "
               "line, from a crash); cutting it off\n",
               path.c_str(), static_cast<long long>(end - keep));
  if (::ftruncate(g->log.fd, keep) != 0 || ::fsync(g->log.fd) != 0)
    fail("--watermark-log " + path + ": cannot cut the torn record: " + std::strerror(errno));
}

std::string utc_now() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  tm t{};
  gmtime_r(&ts.tv_sec, &t);
  char buf[40];
  const size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &t);
  std::snprintf(buf + n, sizeof buf - n, ".%03ldZ", ts.tv_nsec / 1000000);
  return buf;
}

bool header_is(const std::string& name, std::string_view wanted) {
  if (name.size() != wanted.size()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(name[i])) != std::tolower(static_cast<unsigned char>(wanted[i])))
      return false;
  }
  return true;
}

// The API key a request presents, read as llama-server's middleware reads it: Authorization (with or
// without "Bearer "), else X-Api-Key.
std::string presented_key(const std::map<std::string, std::string>& headers) {
  std::string authorization, x_api_key;
  for (const auto& [name, value] : headers) {
    if (header_is(name, "authorization")) authorization = value;
    if (header_is(name, "x-api-key")) x_api_key = value;
  }
  std::string key = authorization.empty() ? x_api_key : authorization;
  constexpr std::string_view bearer = "Bearer ";
  if (key.compare(0, bearer.size(), bearer) == 0) key.erase(0, bearer.size());
  return key;
}

// The index of the account whose key digest equals `digest`, or -1. Every account is compared, in
// constant time, so the time taken does not depend on which key (if any) matches.
int32_t find_account(const unsigned char digest[crypto_hash_sha256_BYTES]) {
  int32_t found = -1;
  for (size_t i = 0; i < g->accounts.size(); ++i) {
    const int equal = sodium_memcmp(g->accounts[i].api_key_digest, digest, crypto_hash_sha256_BYTES) == 0;
    const auto mask = static_cast<int32_t>(-equal);  // all ones when equal
    found = (found & ~mask) | (static_cast<int32_t>(i) & mask);
  }
  return found;
}

const char* usage =
    "tritium options (read before llama-server's own):\n"
    "  --watermark-key FILE       the master watermark key (tritium keygen --trace; mode 0600, refused otherwise);\n"
    "                             every completion is marked\n"
    "  --watermark-scheme NAME    kgw (default when the key names it), unigram (a bias, like kgw) or gumbel\n"
    "                             (chooses the token in place of the final random draw; a greedy request's\n"
    "                             choices carry no mark and are logged so); the key must name it. Accounts\n"
    "                             are marked through kgw only\n"
    "  --watermark-accounts FILE  JSON Lines {\"account\": ID, \"api_key\": KEY[, \"watermark\": false]} (mode 0600):\n"
    "                             requests must carry one of these keys (or an --api-key key, marked without an\n"
    "                             account); each account's completions carry its own mark\n"
    "  --watermark-log FILE       append one JSON line per completion (account id, key id, request id, model,\n"
    "                             prompt and output token ids, finish reason); mode 0600\n"
    "  --watermark-log-sync       fdatasync the log after every record (survives power loss, slower)\n"
    "  --watermark-hf-config FILE instead of a key: mark as a transformers deployment does, from its\n"
    "                             generation_config.json (\"watermarking_config\") or the WatermarkingConfig /\n"
    "                             SynthIDTextWatermarkingConfig object alone (mode 0600); green lists over the\n"
    "                             model's V; found by tritium detect --hf-config. No accounts\n";

}  // namespace

namespace tritium_server {

bool enabled() { return g != nullptr; }

bool check_model(const llama_vocab* vocab, std::string* error) {
  if (g == nullptr) return true;
  const int32_t n = llama_vocab_n_tokens(vocab);
  if (g->key == nullptr) {
    if (g->hf != nullptr) return true;  // made once
    if (tritium_hf_scheme_parse(g->hf_config_text.data(), g->hf_config_text.size(), static_cast<uint32_t>(n), &g->hf) !=
            TRITIUM_OK ||
        tritium_hf_scheme_kind(g->hf, &g->hf_kind) != TRITIUM_OK) {
      *error = "--watermark-hf-config " + g->hf_config_path + ": " + tritium_error();
      return false;
    }
    std::fprintf(stderr, "tritium-llama-server: %s marks with V = %d\n", hf_scheme_names[g->hf_kind], n);
    return true;
  }
  if (n != static_cast<int32_t>(g->info.vocab_size)) {
    *error = "the model's vocabulary has " + std::to_string(n) + " tokens but the watermark key covers V = " +
             std::to_string(g->info.vocab_size) + " (make the key with tritium keygen --vocab-size " +
             std::to_string(n) + ")";
    return false;
  }
  return true;
}

bool requires_api_key() { return g != nullptr && !g->accounts.empty(); }

bool api_key_valid(const std::vector<std::string>& server_keys, const std::string& presented) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  digest_of(presented, digest);
  int valid = 0;
  for (const std::string& key : server_keys) {
    unsigned char other[crypto_hash_sha256_BYTES];
    digest_of(key, other);
    valid |= sodium_memcmp(other, digest, sizeof digest) == 0;
  }
  if (g != nullptr) valid |= find_account(digest) >= 0;
  return valid != 0;
}

int32_t account_of(const std::map<std::string, std::string>& headers) {
  if (g == nullptr || g->accounts.empty()) return no_account;
  unsigned char digest[crypto_hash_sha256_BYTES];
  digest_of(presented_key(headers), digest);
  const int32_t found = find_account(digest);
  return found >= 0 ? found : no_account;
}

// Gumbel chooses the token itself: the selector takes the place of the chain's final random draw
// (`dist`), after penalties, top-k, top-p and temperature. A chain that ends otherwise (mirostat,
// adaptive-p) has no draw to replace, and the request is refused rather than served unmarked.
void attach_selector(llama_sampler* chain, uint32_t seed) {
  const int n = llama_sampler_chain_n(chain);
  const std::string last = n > 0 ? llama_sampler_name(llama_sampler_chain_get(chain, n - 1)) : "nothing";
  if (last != "dist") {
    throw std::runtime_error("this server marks completions with Gumbel sampling, which takes the place of the final "
                             "random draw; a request whose sampling ends in " + last +
                             " (mirostat, adaptive-p) cannot carry the mark");
  }
  uint64_t selector_seed = seed;
  if (seed == LLAMA_DEFAULT_SEED) randombytes_buf(&selector_seed, sizeof selector_seed);  // as dist draws its own
  llama_sampler* ours = tritium_llama_selector_init(g->key, TRITIUM_SCHEME_GUMBEL, g->info.vocab_size, selector_seed);
  if (ours == nullptr) throw std::runtime_error(std::string("watermark selector: ") + tritium_error());
  llama_sampler_free(llama_sampler_chain_remove(chain, n - 1));
  llama_sampler_chain_add(chain, ours);
}

// A transformers configuration goes where transformers runs its processor: after the logits processors
// (logit-bias, repetition penalties, DRY) and before the warpers (top-k, top-p, min-p, temperature) and
// the draw. There every token is still a candidate in id order, and the sampler changes the row exactly as
// the processor does.
void attach_hf(llama_sampler* chain) {
  llama_sampler* ours = tritium_llama_hf_sampler_init(g->hf);
  if (ours == nullptr) throw std::runtime_error(std::string("watermark sampler: ") + tritium_error());
  int at = 0;
  while (at < llama_sampler_chain_n(chain)) {
    const std::string_view name = llama_sampler_name(llama_sampler_chain_get(chain, at));
    if (name != "logit-bias" && name != "penalties" && name != "dry") break;
    ++at;
  }
  std::vector<llama_sampler*> after;
  while (llama_sampler_chain_n(chain) > at) after.push_back(llama_sampler_chain_remove(chain, at));
  llama_sampler_chain_add(chain, ours);
  for (llama_sampler* s : after) llama_sampler_chain_add(chain, s);
}

bool attach(common_sampler* sampler, int32_t account, uint32_t seed) {
  if (g == nullptr) return false;
  // A sampling task that did not come through a completion handler (account unset; none does in
  // this version) is still marked, with the key alone: the watermark is never quietly off.
  const tritium_account_code* code = nullptr;
  if (account >= 0) {
    const ::account& a = g->accounts.at(static_cast<size_t>(account));
    if (!a.marked) return false;
    code = a.code;
  }
  llama_sampler* chain = common_sampler_get(sampler);
  if (g->key == nullptr) {
    attach_hf(chain);
    return true;
  }
  if (g->scheme == TRITIUM_SCHEME_GUMBEL) {
    attach_selector(chain, seed);
    return true;
  }
  llama_sampler* ours = g->scheme == TRITIUM_SCHEME_KGW
                            ? tritium_llama_sampler_init(g->key, g->info.vocab_size, code, 0)
                            : tritium_llama_sampler_init_scheme(g->key, g->scheme, g->info.vocab_size, 0);
  if (ours == nullptr) throw std::runtime_error(std::string("watermark sampler: ") + tritium_error());
  // Insert after logit-bias (the user's biases and the model's suppressed tokens), ahead of
  // penalties, top-k, top-p, temperature and the final draw.
  const int n = llama_sampler_chain_n(chain);
  const int at = n > 0 && std::string_view(llama_sampler_name(llama_sampler_chain_get(chain, 0))) == "logit-bias" ? 1 : 0;
  std::vector<llama_sampler*> after;
  while (llama_sampler_chain_n(chain) > at) after.push_back(llama_sampler_chain_remove(chain, at));
  llama_sampler_chain_add(chain, ours);
  for (llama_sampler* s : after) llama_sampler_chain_add(chain, s);
  return true;
}

void bias_logits(common_sampler* sampler, llama_context* ctx, int idx) {
  if (g == nullptr || sampler == nullptr) return;
  llama_sampler* ours = tritium_llama_sampler_find(common_sampler_get(sampler));
  if (ours == nullptr) return;
  float* row = llama_get_logits_ith(ctx, idx);
  // On failure (-1) the sampler's apply marks the step from the candidates instead.
  if (row != nullptr) tritium_llama_sampler_bias_logits(ours, row, g->info.vocab_size);
}

void log_completion(common_sampler* sampler, int32_t account, const std::string& request_id, int index,
                    const std::string& model, const std::vector<int32_t>& prompt_tokens,
                    const std::vector<int32_t>& output_tokens, const char* finish_reason) {
  if (g == nullptr || g->log.fd < 0) return;
  const bool has_account = account >= 0;
  bool marked = !has_account || g->accounts.at(static_cast<size_t>(account)).marked;
  // Gumbel marks a choice, not a distribution: a completion none of whose choices had two or more
  // candidates (temperature 0, top-k 1) carries no mark, and the log says so.
  int64_t marked_steps = -1;
  if (g->key == nullptr) {  // a transformers configuration: the steps its processor changed
    llama_sampler* ours = sampler != nullptr ? tritium_llama_hf_sampler_find(common_sampler_get(sampler)) : nullptr;
    marked_steps = ours != nullptr ? tritium_llama_hf_sampler_marked_steps(ours) : 0;
    marked = marked_steps > 0;
  } else if (g->scheme == TRITIUM_SCHEME_GUMBEL) {
    llama_sampler* selector = sampler != nullptr ? tritium_llama_selector_find(common_sampler_get(sampler)) : nullptr;
    marked_steps = selector != nullptr ? tritium_llama_selector_marked_steps(selector) : 0;
    marked = marked_steps > 0;
  }
  std::string line = "{\"time\":\"" + utc_now() + "\",\"account\":";
  if (has_account) {
    tritium_llama::append_json_string(line, g->accounts[static_cast<size_t>(account)].id);
  } else {
    line += "null";
  }
  line += ",\"watermarked\":";
  line += marked ? "true" : "false";
  line += ",\"scheme\":\"" + marking_scheme() + "\"";
  if (marked_steps >= 0) line += ",\"marked_steps\":" + std::to_string(marked_steps);
  if (g->key != nullptr) {
    line += ",\"key_id\":\"" + g->key_id + "\"";
  } else {
    line += ",\"hf_config\":";
    tritium_llama::append_json_string(line, g->hf_config_path);
  }
  line += ",\"request_id\":";
  tritium_llama::append_json_string(line, request_id);
  line += ",\"index\":" + std::to_string(index) + ",\"model\":";
  tritium_llama::append_json_string(line, model);
  line += ",\"finish_reason\":";
  tritium_llama::append_json_string(line, finish_reason);
  line += ",\"prompt_tokens\":";
  tritium_llama::append_json_tokens(line, prompt_tokens);
  line += ",\"tokens\":";
  tritium_llama::append_json_tokens(line, output_tokens);
  line += "}\n";
  std::lock_guard<std::mutex> lock(g->log.mutex);
  size_t done = 0;
  while (done < line.size()) {
    const ssize_t n = ::write(g->log.fd, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw std::runtime_error("served-output log " + g->log.path + ": " + std::strerror(errno));
    done += static_cast<size_t>(n);
  }
  if (g->log.sync && ::fdatasync(g->log.fd) != 0)
    throw std::runtime_error("served-output log " + g->log.path + ": " + std::strerror(errno));
}

}  // namespace tritium_server

int main(int argc, char** argv) {
  std::string key_path, accounts_path, log_path, scheme_name, hf_config_path;
  bool log_sync = false, help = false;
  std::vector<char*> rest{argv[0]};
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    auto value = [&](std::string& out) {
      if (i + 1 >= argc) fail(std::string(arg) + " needs a file name");
      out = argv[++i];
    };
    if (arg == "--watermark-key") {
      value(key_path);
    } else if (arg == "--watermark-accounts") {
      value(accounts_path);
    } else if (arg == "--watermark-log") {
      value(log_path);
    } else if (arg == "--watermark-scheme") {
      if (i + 1 >= argc) fail("--watermark-scheme needs kgw, gumbel or unigram");
      scheme_name = argv[++i];
    } else if (arg == "--watermark-hf-config") {
      value(hf_config_path);
    } else if (arg == "--watermark-log-sync") {
      log_sync = true;
    } else {
      if (arg == "-h" || arg == "--help" || arg == "--usage") help = true;
      rest.push_back(argv[i]);
    }
  }
  if (help) std::fputs(usage, stdout);
  if (!key_path.empty() && !hf_config_path.empty())
    fail("--watermark-key and --watermark-hf-config: give one (a tritium key, or a transformers configuration)");
  if (!hf_config_path.empty() && !accounts_path.empty())
    fail("--watermark-accounts: account marks need a tritium key (papers/attribution.md), not --watermark-hf-config");
  if (!hf_config_path.empty() && !scheme_name.empty())
    fail("--watermark-scheme names a scheme of a tritium key; --watermark-hf-config's scheme is its file's");
  if (key_path.empty() && hf_config_path.empty() && !(accounts_path.empty() && log_path.empty() && !log_sync && scheme_name.empty()))
    fail("--watermark-accounts, --watermark-scheme, --watermark-log and --watermark-log-sync need --watermark-key "
         "(or, except the first two, --watermark-hf-config)");
  if (log_path.empty() && log_sync) fail("--watermark-log-sync needs --watermark-log");
  if (!key_path.empty()) {
    if (sodium_init() < 0) fail("libsodium failed to initialise");
    g = new state;
    load_key(key_path);
    choose_scheme(scheme_name);
    if (!accounts_path.empty() && g->scheme != TRITIUM_SCHEME_KGW)
      fail("--watermark-accounts: account marks ride on kgw (papers/attribution.md), not " +
           std::string(scheme_names[g->scheme]) + ": serve accounts with --watermark-scheme kgw");
    if (!accounts_path.empty()) load_accounts(accounts_path);
    if (!log_path.empty()) open_log(log_path, log_sync);
    std::fprintf(stderr, "tritium-llama-server: watermark on (%s, V = %u, %zu accounts%s)\n", scheme_names[g->scheme],
                 g->info.vocab_size, g->accounts.size(), log_path.empty() ? "" : ", served-output log on");
  } else if (!hf_config_path.empty()) {
    g = new state;
    load_hf_config(hf_config_path);
    if (!log_path.empty()) open_log(log_path, log_sync);
    std::fprintf(stderr, "tritium-llama-server: watermark on (transformers configuration %s%s)\n", hf_config_path.c_str(),
                 log_path.empty() ? "" : ", served-output log on");
  }
  rest.push_back(nullptr);
  return llama_server(static_cast<int>(rest.size()) - 1, rest.data());
}
