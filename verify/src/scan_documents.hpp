// The one loop that reads a scan's documents (detect_scan and interop_scan): token-id JSON Lines on the
// calling thread, or text through a tokenizer on worker threads (tritium/batch_pipeline.hpp), each
// worker with its own tokenizer session. Internal to verify/.
#pragma once

#include <filesystem>
#include <fstream>
#include <iostream>
#include <span>
#include <string>
#include <vector>

#include "tritium/batch_pipeline.hpp"
#include "tritium/error.hpp"
#include "tritium/inputs.hpp"
#include "tritium/scan.hpp"
#include "tritium/text_source.hpp"
#include "tritium/token_jsonl.hpp"
#include "tritium/tokenizer.hpp"

namespace tritium::detail {

struct document_input {
  std::string name;            ///< as the spec names it; "-" is standard input
  std::filesystem::path path;  ///< where it is opened
  const tokenizer* text_tokenizer = nullptr;  ///< null: the input holds token ids
  std::string format = "auto";
  invalid_utf8 utf8 = invalid_utf8::error;
  unsigned workers = 1;        ///< text input only
  /// Text input: the files a folder must still hold (listed when the scan was made); null: unchecked.
  const std::vector<std::filesystem::path>* listed = nullptr;
};

/// The input of a scan: `name` resolved against env.base; text through `text_tokenizer` on the
/// environment's workers, token ids (text_tokenizer null) on the calling thread.
inline document_input input_of(const std::string& name, const scan_environment& env, const tokenizer* text_tokenizer,
                               const std::string& format, invalid_utf8 utf8) {
  document_input in;
  in.name = name;
  in.path = env.resolve(name);
  in.text_tokenizer = text_tokenizer;
  in.format = format;
  in.utf8 = utf8;
  in.workers = text_tokenizer != nullptr ? default_threads(env.threads) : 1;
  return in;
}

/// Lists a text input (a file, or a folder of .txt; the scan has a tokenizer) when a scan is made, so that a report can hash
/// its files before any is read: `listed` as they are opened, `named` as the spec names the input.
/// "-" lists nothing.
inline void list_input(const std::string& input, const scan_environment& env, const std::string& format,
                       std::vector<std::filesystem::path>& listed, std::vector<std::string>& named) {
  if (input == "-") return;
  const std::filesystem::path root = env.resolve(input);
  text_source listing(root.string(), format);
  listed = listing.files();
  for (const auto& f : listed) named.push_back((std::filesystem::path(input) / f.lexically_relative(root)).string());
}

/// The files a scan reads, as a report names them: the tokenizer (when given), then the input, a
/// folder as its listed files (`named`), "-" as itself (never a subject, and refused as one).
inline std::vector<std::string> input_files(const std::string& tokenizer_path, const std::string& input,
                                            const scan_environment& env, bool text, const std::vector<std::string>& named) {
  std::vector<std::string> out;
  if (!tokenizer_path.empty()) out.push_back(tokenizer_path);
  std::error_code ec;
  if (input != "-" && text && std::filesystem::is_directory(env.resolve(input), ec)) {
    out.insert(out.end(), named.begin(), named.end());
  } else {
    out.push_back(input);
  }
  return out;
}

/// For each document in input order: `work(tokens, result, worker)` computes its Result (on a worker
/// for text; its errors are prefixed with the document's place), then `take(id_json, tokens, result,
/// where)` runs on the calling thread.
template <class Result, class Work, class Take>
void scan_documents(const document_input& in, Work work, Take take) {
  if (in.text_tokenizer == nullptr) {
    std::ifstream file;
    std::istream* stream = &std::cin;
    if (in.name != "-") {
      file.open(in.path, std::ios::binary);
      if (!file) throw error(errc::invalid_argument, "cannot open input " + in.name);
      stream = &file;
    }
    token_jsonl_reader reader(*stream, in.name);
    token_document doc;
    Result result{};
    while (reader.next(doc)) {
      const std::string where = in.name + ":" + std::to_string(doc.line);
      try {
        work(std::span<const token_id>(doc.tokens), result, 0u);
      } catch (const error& e) {
        throw error(e.code(), where + ": " + e.what());
      }
      take(doc.id_json, std::span<const token_id>(doc.tokens), result, where);
    }
    return;
  }
  text_source source(in.name == "-" ? std::string("-") : in.path.string(), in.format);
  // The files read must be the files listed (and hashed, for a report) when the scan was made.
  if (in.listed != nullptr && source.files() != *in.listed) {
    throw error(errc::invalid_argument, "input folder " + in.name + " changed since the scan listed its files");
  }
  source.defer_parsing(true);
  source.set_invalid_utf8(in.utf8);
  std::vector<tokenizer::session> sessions;
  for (unsigned w = 0; w < in.workers; ++w) sessions.emplace_back(*in.text_tokenizer, in.utf8);
  struct item {
    std::vector<token_id> tokens;
    Result result{};
  };
  run_batches<text_document, item>(
      in.workers, batch_limits{}, [&](text_document& d) { return source.next(d); },
      [](const text_document& d) { return d.text.size(); },
      [&](text_document& d, item& r, unsigned w) {
        resolve(d);  // JSON Lines records are parsed here, on the workers
        try {
          r.tokens.clear();
          sessions[w].encode(d.text, r.tokens);
          work(std::span<const token_id>(r.tokens), r.result, w);
        } catch (const error& e) {
          throw error(e.code(), d.where + ": " + e.what());
        }
      },
      [&](text_document& d, item& r) { take(d.id_json, std::span<const token_id>(r.tokens), r.result, d.where); });
}

}  // namespace tritium::detail
