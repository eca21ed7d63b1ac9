// Inputs as every front end reads them: files the user names, worker threads, the invalid-UTF-8
// policy by name. The libraries report a file that cannot be opened as errc::io,
// whether it was to be read or written; for the command line an input that cannot be read is bad
// input (exit 3), and only an output that cannot be written is exit 5. Every load of a file the user
// names as an input goes through as_input().
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "tritium/error.hpp"
#include "tritium/ngram_lm.hpp"
#include "tritium/radioactivity.hpp"
#include "tritium/tokenizer.hpp"

namespace tritium {

/// Runs `load()`; an errc::io it throws is rethrown as errc::invalid_argument (exit 3), same message.
template <class Load>
auto as_input(Load&& load) -> decltype(load()) {
  try {
    return load();
  } catch (const error& e) {
    if (e.code() == errc::io) throw error(errc::invalid_argument, e.what());
    throw;
  }
}

inline tokenizer load_tokenizer(const std::string& path) {
  return as_input([&] { return tokenizer::load(path); });
}

inline ngram_lm load_model(const std::string& path) {
  return as_input([&] { return ngram_lm::load(path); });
}

inline window_filter load_filter(const std::string& path, const key& k, const std::string& tokenizer_digest) {
  return as_input([&] { return window_filter::load(path, k, tokenizer_digest); });
}

/// The most worker threads a scan accepts. Each worker holds a thread and a tokenizer session;
/// a batch holds at most 4096 documents (batch_pipeline.hpp), and no machine we target has more
/// cores than this, so a larger request is a mistake (4294967295 allocated sessions until the OOM
/// killer fired), refused as a usage error.
inline constexpr unsigned max_threads = 1024;

/// `requested`, or every core (at most max_threads) when 0.
unsigned default_threads(unsigned requested);
/// "replace" or "error" (anything else reads as "error": the front end checks the name).
invalid_utf8 parse_invalid_utf8(const std::string& name);
/// Appends `[id,id,...]` to `out` (the token arrays of JSON Lines output).
void append_token_array(std::string& out, const std::vector<token_id>& ids);

}  // namespace tritium
