// Options shared by the text-input commands (tokenize, detect --tokenizer).
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "tritium/inputs.hpp"
#include "tritium/error.hpp"
#include "tritium/tokenizer.hpp"

namespace tritium::cli {

void add_text_input_options(CLI::App& app, std::string& format, std::string& invalid, unsigned& threads);
/// --threads N, at most max_threads (0: every core); the output never depends on it.
void add_threads_option(CLI::App& app, unsigned& threads);

}  // namespace tritium::cli
