#include "text_source.hpp"

#include <algorithm>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "tritium/error.hpp"

namespace tritium::cli {
namespace {

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw error(errc::invalid_argument, "cannot open input " + p.string());
  std::ostringstream s;
  s << in.rdbuf();
  if (in.bad()) throw error(errc::invalid_argument, "read error in " + p.string());
  return s.str();
}

bool has_jsonl_extension(const std::filesystem::path& p) {
  const auto e = p.extension().string();
  return e == ".jsonl" || e == ".json" || e == ".ndjson";
}

}  // namespace

void parse_text_record(const std::string& line, const std::string& where, text_document& doc) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(line);
  } catch (const nlohmann::json::parse_error& e) {
    throw error(errc::parse, where + ":" + std::to_string(e.byte) + ": not valid JSON");
  }
  if (!j.is_object()) throw error(errc::parse, where + ": expected a JSON object {\"id\": ..., \"text\": ...}");
  auto text = j.find("text");
  if (text == j.end()) text = j.find("prompt");  // prompt files for `generate`
  if (text == j.end()) {
    if (j.contains("tokens")) {
      throw error(errc::parse, where + ": field \"text\" missing (this line has \"tokens\": run detect without --tokenizer)");
    }
    throw error(errc::parse, where + ": missing field \"text\"");
  }
  if (!text->is_string()) throw error(errc::parse, where + ": field \"text\": expected a string");
  doc.text = text->get<std::string>();
  const auto id = j.find("id");
  if (id == j.end()) {
    doc.id_json = "null";
  } else if (id->is_string() || id->is_number()) {
    doc.id_json = id->dump();
  } else {
    throw error(errc::parse, where + ": field \"id\": expected a string or a number");
  }
  doc.where = where;
}

text_source::text_source(const std::string& path, const std::string& format) : name_(path) {
  namespace fs = std::filesystem;
  if (path == "-") {
    kind_ = format == "text" ? kind::single_text : kind::jsonl;
    in_ = &std::cin;
    name_ = "<stdin>";
    return;
  }
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    kind_ = kind::folder;
    root_ = path;
    for (auto it = fs::recursive_directory_iterator(path, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec)) {
      if (it->is_regular_file() && it->path().extension() == ".txt") files_.push_back(it->path());
    }
    if (ec) throw error(errc::invalid_argument, "cannot list folder " + path + ": " + ec.message());
    std::sort(files_.begin(), files_.end());
    return;
  }
  if (!fs::exists(path, ec)) throw error(errc::invalid_argument, "cannot open input " + path + ": no such file");
  const bool jsonl = format == "jsonl" || (format == "auto" && has_jsonl_extension(path));
  kind_ = jsonl ? kind::jsonl : kind::single_text;
  if (jsonl) {
    file_.open(path, std::ios::binary);
    if (!file_) throw error(errc::invalid_argument, "cannot open input " + path);
    in_ = &file_;
  }
}

bool text_source::next(text_document& doc) {
  switch (kind_) {
    case kind::jsonl:
      while (std::getline(*in_, line_)) {
        ++line_number_;
        if (line_.find_first_not_of(" \t\r") == std::string::npos) continue;
        parse_text_record(line_, name_ + ":" + std::to_string(line_number_), doc);
        return true;
      }
      if (in_->bad()) throw error(errc::invalid_argument, "read error in " + name_);
      return false;
    case kind::single_text:
      if (single_done_) return false;
      single_done_ = true;
      if (in_ != nullptr) {
        std::ostringstream s;
        s << in_->rdbuf();
        doc.text = s.str();
      } else {
        doc.text = read_file(name_);
      }
      doc.id_json = nlohmann::json(name_).dump();
      doc.where = name_;
      return true;
    case kind::folder:
      if (next_file_ >= files_.size()) return false;
      {
        const auto& p = files_[next_file_++];
        doc.text = read_file(p);
        doc.id_json = nlohmann::json(std::filesystem::relative(p, root_).generic_string()).dump();
        doc.where = p.string();
      }
      return true;
  }
  return false;
}

}  // namespace tritium::cli
