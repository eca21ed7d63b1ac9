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

}  // namespace tritium::cli
