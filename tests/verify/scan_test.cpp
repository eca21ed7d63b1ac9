// A detect test as a whole (tritium/scan.hpp): what it reads, how paths resolve, and that the files it
// reads are the files it listed (a report hashes those before the run).
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "tritium/error.hpp"
#include "tritium/scan.hpp"

using namespace tritium;
namespace fs = std::filesystem;

namespace {

struct folder {
  fs::path dir = fs::temp_directory_path() / ("tritium-scan-test-" + std::to_string(::getpid()));
  folder() {
    fs::remove_all(dir);
    fs::create_directories(dir / "texts");
  }
  ~folder() { fs::remove_all(dir); }
  void write(const fs::path& name, const std::string& text) const { std::ofstream(dir / name) << text; }
};

key gpt2_key() {
  kgw_params p;
  p.set_gamma(0.25);
  p.vocab_size = 50257;
  std::array<std::uint8_t, key::secret_size> secret{};
  return key::from_secret(secret, p);
}

}  // namespace

TEST_CASE("detect_scan: a folder's files are listed once and must be the files read", "[scan]") {
  const folder f;
  f.write("texts/a.txt", "The quick brown fox jumps over the lazy dog.");
  f.write("texts/b.txt", "A second document, short.");
  const key k = gpt2_key();
  detect_spec spec;
  spec.input = "texts";
  spec.tokenizer = fs::path(TRITIUM_FIXTURES_DIR) / "tokenizers/gpt2/tokenizer.json";
  scan_environment env;
  env.base = f.dir;  // the spec's relative paths resolve below it
  std::vector<std::string> warnings;
  env.warn = [&](const std::string& w) { warnings.push_back(w); };

  detect_scan scan(spec, k, env);
  CHECK(warnings.size() == 1);  // the key is bound to no tokenizer
  const std::vector<std::string> files = scan.files();
  REQUIRE(files.size() == 3);
  CHECK(files[1] == "texts/a.txt");
  CHECK(files[2] == "texts/b.txt");
  std::vector<std::string> ids;
  const detect_verdict v = scan.run([&](const std::string& id, auto, const detection&) { ids.push_back(id); });
  CHECK(ids == std::vector<std::string>{"\"a.txt\"", "\"b.txt\""});
  CHECK(v.documents == 2);

  // A file added after the listing would be read without being a report's subject: refused.
  detect_scan later(spec, k, env);
  f.write("texts/c.txt", "Added after the scan listed the folder.");
  CHECK_THROWS_WITH(later.run(), Catch::Contains("input folder texts changed since the scan listed its files"));
}

TEST_CASE("detect_scan: no document is insufficient evidence, never a verdict", "[scan]") {
  const folder f;
  f.write("empty.jsonl", "\n\n");
  const key k = gpt2_key();
  detect_spec spec;
  spec.input = (f.dir / "empty.jsonl").string();
  for (const bool pooled : {false, true}) {
    spec.pooled = pooled;
    detect_scan scan(spec, k, {});
    const detect_verdict v = scan.run();
    CHECK(v.documents == 0);
    CHECK(v.outcome == "insufficient evidence");
  }
}
