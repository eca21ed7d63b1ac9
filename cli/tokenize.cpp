// `tritium tokenize`: raw text → JSON Lines of token ids, with a real tokenizer.
#include <algorithm>
#include <charconv>
#include <iostream>
#include <thread>

#include "tritium/atomic_output.hpp"
#include "tritium/batch_pipeline.hpp"
#include "commands.hpp"
#include "exit_codes.hpp"
#include "option_forms.hpp"
#include "progress_line.hpp"
#include "tritium/text_source.hpp"
#include "tokenize_support.hpp"
#include "tritium/error.hpp"
#include "tritium/tokenizer.hpp"

namespace tritium::cli {

void add_text_input_options(CLI::App& app, std::string& format, std::string& invalid, unsigned& threads) {
  app.add_option("--format", format,
                 "Input format: auto (.jsonl/.json: JSON Lines {\"id\", \"text\"}; a folder: its .txt "
                 "files; other files: one text document; stdin: JSON Lines), jsonl, or text")
      ->check(CLI::IsMember({"auto", "jsonl", "text"}))
      ->capture_default_str();
  app.add_option("--invalid-utf8", invalid,
                 "Invalid UTF-8: error (name the byte offset) or replace (U+FFFD per maximal subpart)")
      ->check(CLI::IsMember({"error", "replace"}))
      ->capture_default_str();
  add_threads_option(app, threads);
}

void add_threads_option(CLI::App& app, unsigned& threads) {
  app.add_option("--threads", threads,
                 "Worker threads, at most " + std::to_string(max_threads) + " (default: all cores)")
      ->check(CLI::Range(0u, max_threads));
}

void tokenize_command::setup(CLI::App& parent) {
  app = parent.add_subcommand("tokenize", "Tokenize raw text with a tokenizer.json or GGUF vocabulary");
  app->add_option("--tokenizer,-t", tokenizer_path, "tokenizer.json or .gguf file")->required();
  app->add_option("--input,-i", input, "Text: a .txt file, a folder of them, JSON Lines, or - (stdin)")
      ->capture_default_str();
  add_output_option(*app, output, "Write here (atomically, replacing the file) instead of stdout", false);
  app->add_flag("--json", json, "JSON Lines {\"id\": ..., \"tokens\": [...]} (the default output is a summary)");
  add_text_input_options(*app, format, invalid_utf8, threads);
  app->footer(exit_codes_footer({{exit_evidence, "the text was tokenized"},
                                 {exit_input_error, input_meaning},
                                 {exit_usage, usage_meaning},
                                 {exit_io_error, output_meaning},
                                 {exit_internal, internal_meaning}}));
  add_quiet_flag(*app, quiet);
}

int tokenize_command::run() const {
  const tokenizer tok = load_tokenizer(tokenizer_path);
  text_source source(input, format);
  source.defer_parsing(true);
  source.set_invalid_utf8(parse_invalid_utf8(invalid_utf8));
  atomic_output out(output);
  std::ostream& os = out.stream();
  const unsigned workers = default_threads(threads);
  std::vector<tokenizer::session> sessions;
  for (unsigned w = 0; w < workers; ++w) sessions.emplace_back(tok, parse_invalid_utf8(invalid_utf8));
  std::uint64_t documents = 0, bytes = 0, tokens = 0;
  std::string line;
  if (!json) os << "id                                          bytes     tokens\n";
  progress_line progress_shown = stderr_progress("tokenize", quiet, output.empty());
  progress_meter progress(progress_shown.callback(), "documents");
  run_batches<text_document, std::vector<token_id>>(
      workers, batch_limits{},
      [&](text_document& d) { return source.next(d); },
      [](const text_document& d) { return d.text.size(); },
      [&](text_document& d, std::vector<token_id>& ids, unsigned w) {
        resolve(d);  // JSON Lines records are parsed here, on the workers
        try {
          ids.clear();
          sessions[w].encode(d.text, ids);
        } catch (const error& e) {
          throw error(e.code(), d.where + ": " + e.what());
        }
      },
      [&](text_document& d, std::vector<token_id>& ids) {
        progress.advance();
        ++documents;
        bytes += d.text.size();
        tokens += ids.size();
        if (json) {
          line = "{\"id\":";
          line += d.id_json;
          line += ",\"tokens\":";
          append_token_array(line, ids);
          line += "}\n";
          os << line;
        } else {
          std::string id = d.id_json;
          if (id.size() > 40) id = id.substr(0, 39) + "~";
          char row[128];
          std::snprintf(row, sizeof row, "%-40s %10zu %10zu\n", id.c_str(), d.text.size(), ids.size());
          os << row;
        }
      });
  progress.finish();
  if (!json) {
    os << "\n" << documents << (documents == 1 ? " document, " : " documents, ") << bytes << " bytes, " << tokens << " tokens; tokenizer "
       << tok.id_summary() << " (" << tok.description() << "; " << tok.digest() << ")\n";
  }
  out.commit();
  return exit_evidence;
}

}  // namespace tritium::cli
