// Account tracing end to end through the library (papers/attribution.md §4, issue 15 item 3): a
// corpus holding one account's outputs accuses that account and no other, innocent accounts are
// accused no more often than α says over many null runs, and human text accuses nobody.
//
// The marked text comes from an embedding written here from the specification (papers/trace-v1.md
// §4: δ_a added where the account lane of a candidate equals the account's symbol at the step's
// position), independent of the library's kernels.
#include <unistd.h>

#include <algorithm>
#include <array>
#include <catch2/catch.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "support/binomial_interval.hpp"
#include "support/test_keys.hpp"
#include "tritium/account_null.hpp"
#include "tritium/key.hpp"
#include "tritium/sampling_rng.hpp"
#include "tritium/trace.hpp"
#include "tritium/trace_counts.hpp"
#include "tritium/trace_scan.hpp"

using namespace tritium;
namespace fs = std::filesystem;

namespace {

constexpr std::uint32_t vocab = 400;

key trace_test_key(std::uint64_t seed, std::uint32_t v = vocab) { return test::seeded_key(v, seed); }

// n tokens from a Zipf law over the vocabulary, each step's candidates whose account lane equals the
// account's symbol at the step's position given +δ_a (no account: unmarked).
std::vector<token_id> marked_text(const key& k, const trace_params& params, const account_code* account,
                                  std::size_t n, std::uint64_t seed) {
  const trace_prf prf(k, params);
  sampling_rng rng(seed);
  std::vector<double> base(vocab), w(vocab);
  for (std::uint32_t v = 0; v < vocab; ++v) base[v] = 1.0 / (1.0 + v);
  std::vector<token_id> text;
  for (std::uint32_t i = 0; i < params.position_width; ++i) text.push_back(static_cast<token_id>(rng.next() % vocab));
  while (text.size() < n) {
    const auto window = std::span<const token_id>(text).last(params.position_width);
    double total = 0.0;
    if (account != nullptr) {
      const prf_context g = prf.context(window);
      const std::uint32_t symbol = account->symbols[prf.position(g)];
      for (std::uint32_t v = 0; v < vocab; ++v) {
        w[v] = base[v] * (prf.account_lane(g, static_cast<token_id>(v)) == symbol ? std::exp(params.account_delta) : 1.0);
        total += w[v];
      }
    } else {
      w = base;
      for (double x : w) total += x;
    }
    double u = rng.uniform() * total;
    std::uint32_t v = 0;
    while (v + 1 < vocab && (u -= w[v]) > 0.0) ++v;
    text.push_back(static_cast<token_id>(v));
  }
  return text;
}

fs::path temp_path(const std::string& name) {
  return fs::temp_directory_path() / ("tritium-trace-scan-test-" + std::to_string(::getpid()) + "-" + name);
}

void write_registry(const fs::path& p, std::size_t n, const std::string& prefix, std::size_t guilty_at = SIZE_MAX,
                    const std::string& guilty = "") {
  std::ofstream out(p);
  for (std::size_t i = 0; i < n; ++i) {
    out << "{\"account\": \"" << (i == guilty_at ? guilty : prefix + std::to_string(i)) << "\"}\n";
  }
}

}  // namespace

TEST_CASE("One account's outputs in a corpus accuse that account and no other", "[trace][scan]") {
  const key k = trace_test_key(1);
  const trace_params params;
  const account_code guilty = derive_account_code(k, "guilty-4321", params);
  // 2,000 tokens (issue 15: c = 1 from at most 2,000 tokens), as 10 records of 200.
  const std::vector<token_id> text = marked_text(k, params, &guilty, 2000, 77);
  const fs::path corpus = temp_path("corpus.jsonl"), registry = temp_path("registry.jsonl");
  {
    std::ofstream out(corpus);
    for (std::size_t r = 0; r < 10; ++r) {
      out << "{\"tokens\": [";
      for (std::size_t i = 0; i < 200; ++i) out << (i ? "," : "") << text[r * 200 + i];
      out << "]}\n";
    }
  }
  write_registry(registry, 10000, "acct-", 4321, "guilty-4321");
  trace_spec spec;
  spec.scan.inputs = {corpus.string()};
  spec.registry = registry.string();
  spec.decoys = 1000;
  trace_scan scan(spec, k, params, {});
  REQUIRE(scan.files() == std::vector<std::string>{corpus.string(), registry.string()});
  const trace_outcome o = scan.run();
  fs::remove(corpus);
  fs::remove(registry);
  REQUIRE(o.accounts == 10000);
  REQUIRE(o.counts.tuples > 1900);
  INFO("top: " << o.listed.front().id << " log10 p_fw " << o.listed.front().log10_p_fw << "; second "
               << o.listed[1].id << " " << o.listed[1].log10_p_fw << "; decoys KS p " << o.decoys.ks.p_value);
  REQUIRE(o.outcome == "accounts accused");
  REQUIRE(o.listed.front().id == "guilty-4321");
  REQUIRE(o.listed.front().index == 4321);
  REQUIRE(o.listed.front().accused);
  REQUIRE(o.listed.front().log10_p_fw <= -6.0);
  REQUIRE_FALSE(o.listed[1].accused);
  REQUIRE(o.listed.size() == 1 + trace_default_listed);
  REQUIRE(o.decoys.passed);
  REQUIRE(o.scores[4321] == o.listed.front().score);
}

namespace {

// Null runs: a fixed corpus marked for an account outside every registry, and in each run a new
// registry of never-issued ids, whose code words are fresh, independent of the counts. The
// family-wise error is at most α per run (Šidák, exact for independent innocents; the p-values are
// conservative), so the runs with an accusation at α = 0.1 stay within the 99.9% interval of
// Bin(runs, 0.1) from above, and none reaches 1e-6.
void null_runs(std::size_t runs, std::size_t accounts, unsigned threads) {
  const key k = trace_test_key(2);
  const trace_params params;
  const account_code outsider = derive_account_code(k, "outsider", params);
  trace_counter counter(k, params, 1);
  counter.count_text(marked_text(k, params, &outsider, 4000, 3));
  const account_score_table table = count_table(counter.counts());
  const account_null_law law = account_null(table);
  const account_codebook book(k, params);
  std::size_t accused_01 = 0, accused_1e6 = 0;
  std::vector<std::string> ids(accounts);
  for (std::size_t run = 0; run < runs; ++run) {
    for (std::size_t i = 0; i < accounts; ++i) ids[i] = "run" + std::to_string(run) + "-acct" + std::to_string(i);
    const std::vector<std::uint64_t> scores = score_accounts(book, table, ids, threads);
    const double fw = sidak_log10(law.log10_p(*std::max_element(scores.begin(), scores.end())), accounts);
    accused_01 += fw <= -1.0 ? 1 : 0;
    accused_1e6 += fw <= -6.0 ? 1 : 0;
  }
  const auto [lo, hi] = test::binomial_interval(runs, 0.1);
  WARN(runs << " null runs of " << accounts << " accounts: " << accused_01 << " with an accusation at alpha = 0.1 (99.9% bound "
            << hi << "), " << accused_1e6 << " at alpha = 1e-6");
  REQUIRE(accused_01 <= hi);
  REQUIRE(accused_1e6 == 0);
  // The outsider's own code word is far out in the tail: the counts do carry a mark.
  REQUIRE(law.log10_p(table.score_symbols(outsider.symbols)) < -10.0);
}

}  // namespace

TEST_CASE("Innocent accounts are accused no more often than alpha says", "[trace][scan][null]") {
  null_runs(200, 1000, 2);  // fast; the 1,000 runs of 10,000 accounts are the [.long] case below
}

TEST_CASE("Innocent accounts over the issue's 1000 null runs of 10000 accounts", "[.long][trace]") {
  // Run with: build/tests/tritium_tests "[.long][trace]"  (about ten seconds on two cores)
  null_runs(1000, 10000, 0);
}

TEST_CASE("Human text accuses nobody", "[trace][scan]") {
  // Moby-Dick through the Qwen3 tokenizer: no account's outputs are in it.
  const key k = trace_test_key(3, 151936);
  const trace_params params;
  const fs::path registry = temp_path("human-registry.jsonl");
  write_registry(registry, 10000, "acct-");
  trace_spec spec;
  spec.scan.inputs = {TRITIUM_FIXTURES_DIR "/corpus/moby_dick.jsonl"};
  spec.scan.tokenizer = TRITIUM_FIXTURES_DIR "/tokenizers/qwen3/tokenizer.json";
  spec.registry = registry.string();
  trace_scan scan(spec, k, params, {});
  const trace_outcome o = scan.run();
  fs::remove(registry);
  INFO("counted " << o.counts.tuples << ", top log10 p_fw " << o.listed.front().log10_p_fw << ", decoys KS p " << o.decoys.ks.p_value);
  REQUIRE(o.counts.tuples > 100000);
  REQUIRE(o.outcome == "no account accused");
  REQUIRE_FALSE(o.listed.front().accused);
  REQUIRE(o.decoys.passed);
  REQUIRE(o.global.outcome == "no evidence");
}

TEST_CASE("A tracing scan refuses what it would not use", "[trace][scan]") {
  const key k = trace_test_key(4);
  trace_spec spec;
  spec.scan.inputs = {"corpus.jsonl"};
  REQUIRE_THROWS_WITH(trace_scan(spec, k, trace_params{}, {}), "trace: give --registry (the accounts to rank)");
  spec.registry = "r.jsonl";
  spec.alpha = 1.5;
  REQUIRE_THROWS_WITH(trace_scan(spec, k, trace_params{}, {}), Catch::Matchers::StartsWith("trace: --alpha: expected a value in (0, 1)"));
  spec.alpha = 1e-6;
  spec.scan.model = "m.tlm";
  REQUIRE_THROWS_WITH(trace_scan(spec, k, trace_params{}, {}), "trace corpus: --model is not read in corpus mode (the corpus is the suspect)");
}
