// Input files of the command line. The libraries report a file that cannot be opened as errc::io,
// whether it was to be read or written; for the command line an input that cannot be read is bad
// input (exit 3), and only an output that cannot be written is exit 5. Every load of a file the user
// names as an input goes through as_input().
#pragma once

#include <filesystem>
#include <string>

#include "tritium/error.hpp"
#include "tritium/ngram_lm.hpp"
#include "tritium/radioactivity.hpp"
#include "tritium/tokenizer.hpp"

namespace tritium::cli {

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

}  // namespace tritium::cli
