// A detect test as a whole (tritium/scan.hpp): what it reads, how paths resolve, and that the files it
// reads are the files it listed (a report hashes those before the run).
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <cmath>
#include <fstream>
#include <random>
#include <vector>

#include "tritium/error.hpp"
#include "tritium/kgw.hpp"
#include "tritium/gamma_tail.hpp"
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

TEST_CASE("detect_scan with windows: a pasted passage decides through its corrected p", "[scan][window]") {
  // 3,000 tokens drawn without the key, with 80 tokens chosen green under their context at 1,500.
  folder f;
  const key k = gpt2_key();
  const kgw scheme(k);
  std::mt19937_64 rng(20261204);
  std::uniform_int_distribution<token_id> any(0, 50256);
  std::vector<token_id> tokens;
  for (int i = 0; i < 3000; ++i) {
    token_id t = any(rng);
    if (i >= 1500 && i < 1580) {
      const token_id prev[1] = {tokens.back()};
      while (!scheme.is_green(prev, t)) t = any(rng);
    }
    tokens.push_back(t);
  }
  std::string line = "{\"id\": \"pasted\", \"tokens\": [";
  for (std::size_t i = 0; i < tokens.size(); ++i) line += (i ? ", " : "") + std::to_string(tokens[i]);
  f.write("docs.jsonl", line + "]}\n");

  detect_spec spec;
  spec.input = (f.dir / "docs.jsonl").string();
  std::vector<detection> seen;
  auto keep = [&](const std::string&, std::span<const token_id>, const detection& d) { seen.push_back(d); };
  const detect_verdict whole = detect_scan(spec, k, {}).run(keep);
  spec.min_window = 50;
  const detect_verdict scanned = detect_scan(spec, k, {}).run(keep);
  REQUIRE(seen.size() == 2);
  CHECK_FALSE(seen[0].window.has_value());
  REQUIRE(seen[1].window.has_value());
  const window_scan_result& w = *seen[1].window;
  CHECK(seen[1].ln_p == seen[0].ln_p);  // the whole text's p is unchanged
  CHECK(w.whole_ln_p == Approx(seen[0].ln_p).epsilon(1e-12));
  CHECK(w.token_begin >= 1500 - 50);
  CHECK(w.token_end <= 1580 + 50);
  CHECK(seen[1].marks.empty());  // the scan drops them
  INFO("whole text log10 p " << seen[0].log10_p << ", corrected window log10 p " << w.ln_p_scan / std::log(10.0));
  CHECK(whole.outcome == "no evidence");
  CHECK(scanned.outcome == "evidence");
  CHECK(scanned.decisive_log10_p == Approx(w.ln_p_scan / std::log(10.0)).epsilon(1e-12));

  spec.pooled = true;
  CHECK_THROWS_MATCHES(detect_scan(spec, k, {}), error, Catch::Matchers::Predicate<error>([](const error& e) {
                         return e.code() == errc::usage;
                       }));
  spec.pooled = false;
  spec.min_window = 9;
  CHECK_THROWS_MATCHES(detect_scan(spec, k, {}), error, Catch::Matchers::Predicate<error>([](const error& e) {
                         return e.code() == errc::usage;
                       }));
}

TEST_CASE("detect_scan over several schemes: one row per scheme and a verdict corrected for all", "[scan][schemes]") {
  // fixtures/cli: three Gumbel-marked and two plain documents under test-schemes.key (kgw, gumbel, unigram).
  const key k = key::load(TRITIUM_FIXTURES_DIR "/cli/test-schemes.key");
  detect_spec spec;
  spec.input = TRITIUM_FIXTURES_DIR "/cli/docs_gumbel.jsonl";
  spec.schemes = k.params().schemes;
  std::vector<detection> rows;
  auto keep = [&](const std::string&, std::span<const token_id>, const detection& d) { rows.push_back(d); };
  const detect_verdict v = detect_scan(spec, k, {}).run(keep);
  REQUIRE(rows.size() == 15);
  CHECK(v.documents == 5);
  CHECK(v.schemes == 3);
  double smallest = 0.0;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    CHECK(rows[i].scheme == static_cast<scheme_kind>(i % 3));  // kgw, gumbel, unigram for each document
    const bool gumbel_marked = i < 9 && rows[i].scheme == scheme_kind::gumbel;
    CHECK(rows[i].detected == gumbel_marked);
    smallest = std::min(smallest, rows[i].ln_p);
  }
  CHECK(v.outcome == "evidence");
  CHECK(v.decisive_log10_p == Approx((smallest + std::log(15.0)) / std::log(10.0)).epsilon(1e-12));

  // One scheme alone: five rows and no factor for the others.
  rows.clear();
  spec.schemes = scheme_bit(scheme_kind::gumbel);
  const detect_verdict alone = detect_scan(spec, k, {}).run(keep);
  CHECK(rows.size() == 5);
  CHECK(alone.decisive_log10_p == Approx((smallest + std::log(5.0)) / std::log(10.0)).epsilon(1e-12));

  // A scheme the key does not name, and the combinations not built, are refused before any reading.
  const key kgw_only = key::load(TRITIUM_FIXTURES_DIR "/cli/test.key");
  CHECK_THROWS_MATCHES(detect_scan(spec, kgw_only, {}), error, Catch::Matchers::Predicate<error>([](const error& e) {
                         return e.code() == errc::mismatch;
                       }));
  // A pooled Gumbel test needs deduplication.
  spec.pooled = true;
  spec.dedup = dedup_mode::none;
  CHECK_THROWS_MATCHES(detect_scan(spec, k, {}), error, Catch::Matchers::Predicate<error>([](const error& e) {
                         return e.code() == errc::usage;
                       }));
  spec.dedup = dedup_mode::context_token;

  // Pooled, Gumbel alone: one test over the five documents, its p the Gamma tail of the pooled
  // counts; the rows handed out are each document's share.
  rows.clear();
  const detect_verdict pooled = detect_scan(spec, k, {}).run(keep);
  REQUIRE(pooled.pooled_schemes.size() == 1);
  CHECK(rows.size() == 5);
  std::uint64_t shares = 0;
  double score = 0.0;
  for (const detection& r : rows) {
    shares += r.scored;
    score += r.score;
  }
  CHECK(pooled.pooled.scheme == scheme_kind::gumbel);
  CHECK(pooled.pooled.scored == shares);
  CHECK(pooled.pooled.score == Approx(score).epsilon(1e-12));
  CHECK(pooled.pooled.ln_p == Approx(gamma_upper_tail_ln(shares, pooled.pooled.score)).epsilon(1e-12));
  spec.pooled = false;
  spec.schemes = scheme_bit(scheme_kind::unigram);
  spec.dedup = dedup_mode::none;
  CHECK_THROWS_MATCHES(detect_scan(spec, k, {}), error, Catch::Matchers::Predicate<error>([](const error& e) {
                         return e.code() == errc::usage;
                       }));
}
