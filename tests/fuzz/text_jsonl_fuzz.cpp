// Text JSON Lines (tritium/text_source.hpp): the first line through the fast record parser and the full
// one, which must agree on every line (the same document, or the same error); then the whole input
// through a text_source with deferred parsing, as `tokenize` and `detect --tokenizer` read it.
#include <string>

#include "fuzz_support.hpp"
#include "tritium/text_source.hpp"

namespace {

using tritium::text_document;

std::string outcome_of(void (*parse)(const std::string&, const std::string&, text_document&), const std::string& line) {
  text_document d;
  try {
    parse(line, "fuzz.jsonl:1", d);
  } catch (const tritium::error& e) {
    if (e.code() == tritium::errc::internal || e.code() == tritium::errc::no_memory) {
      tritium::fuzz::finding("tritium::error internal", e.what());
    }
    return std::string("error: ") + e.what();
  }
  return d.id_json + "\n" + d.text + "\n" + d.where;
}

tritium::fuzz::memory_file& file() {
  static tritium::fuzz::memory_file f;
  return f;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes = tritium::fuzz::bytes_of(data, size);
  tritium::fuzz::expect_clean([&] {
    const std::string line(bytes.substr(0, bytes.find('\n')));
    const std::string fast = outcome_of(tritium::parse_text_record, line);
    const std::string slow = outcome_of(tritium::parse_text_record_slow, line);
    if (fast != slow) tritium::fuzz::finding("the fast and the full text record parsers disagree", fast + "\n---\n" + slow);
  });
  tritium::fuzz::expect_clean([&] {
    file().assign(bytes);
    tritium::text_source source(file().path(), "jsonl");
    source.defer_parsing(true);
    text_document doc;
    while (source.next(doc)) tritium::resolve(doc);
  });
  return 0;
}
