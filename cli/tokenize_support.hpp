// Helpers shared by the text-input commands (tokenize, detect --tokenizer).
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "input_files.hpp"
#include "tritium/error.hpp"
#include "tritium/tokenizer.hpp"

namespace tritium::cli {

/// The most worker threads --threads accepts. Each worker holds a thread and a tokenizer session;
/// a batch holds at most 4096 documents (batch_pipeline.hpp), and no machine we target has more
/// cores than this, so a larger request is a mistake (4294967295 allocated sessions until the OOM
/// killer fired), refused as a usage error.
inline constexpr unsigned max_threads = 1024;

void append_token_array(std::string& out, const std::vector<token_id>& ids);
/// `requested`, or every core (at most max_threads) when 0.
unsigned default_threads(unsigned requested);
invalid_utf8 parse_invalid_utf8(const std::string& name);
void add_text_input_options(CLI::App& app, std::string& format, std::string& invalid, unsigned& threads);

}  // namespace tritium::cli
