// Tracing's concurrent parts (run under ThreadSanitizer in CI with the other pipeline tests): the
// counting thread of a trace scan, and the ranking workers, give exactly the single-thread figures.
#include <unistd.h>

#include <array>
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "tritium/key.hpp"
#include "tritium/sampling_rng.hpp"
#include "tritium/trace_scan.hpp"

using namespace tritium;
namespace fs = std::filesystem;

TEST_CASE("Pipeline: tracing counts on their own thread equal counting on the scan's thread", "[pipeline][trace]") {
  std::array<std::uint8_t, key::secret_size> secret{};
  secret[3] = 9;
  kgw_params p;
  p.set_gamma(0.25);
  p.vocab_size = 1000;
  const key k = key::from_secret(secret, p);
  const std::string tag = std::to_string(::getpid());
  const fs::path answers = fs::temp_directory_path() / ("tritium-trace-pipeline-" + tag + ".jsonl");
  const fs::path registry = fs::temp_directory_path() / ("tritium-trace-pipeline-registry-" + tag + ".jsonl");
  {
    // Closed mode: prompts (excluded windows) and answers, 300 records of 1,000 tokens, more than one
    // batch of the counting thread; a few answers repeat, so the tape's order matters.
    std::ofstream out(answers);
    sampling_rng rng(8);
    for (int r = 0; r < 300; ++r) {
      sampling_rng text_rng(r % 7 == 0 ? 1234 : rng.next());
      out << "{\"prompt_tokens\": [";
      for (int i = 0; i < 20; ++i) out << (i ? "," : "") << text_rng.next() % 1000;
      out << "], \"tokens\": [";
      for (int i = 0; i < 1000; ++i) out << (i ? "," : "") << text_rng.next() % 1000;
      out << "]}\n";
    }
    std::ofstream reg(registry);
    for (int i = 0; i < 20000; ++i) reg << "{\"account\": \"a" << i << "\"}\n";
  }
  auto run = [&](unsigned threads) {
    trace_spec spec;
    spec.scan.mode = radioactivity_mode::closed;
    spec.scan.inputs = {answers.string()};
    spec.registry = registry.string();
    spec.decoys = 100;
    scan_environment env;
    env.threads = threads;
    trace_scan scan(spec, k, trace_params{}, env);
    return scan.run();
  };
  const trace_outcome one = run(1), two = run(2);
  fs::remove(answers);
  fs::remove(registry);
  REQUIRE(one.counts.tuples > 200000);
  REQUIRE(one.counts.digest() == two.counts.digest());
  REQUIRE(one.tuples_read == two.tuples_read);
  REQUIRE(one.scores == two.scores);
  REQUIRE(one.global.result.test.scored == two.global.result.test.scored);
  REQUIRE(one.outcome == two.outcome);
  REQUIRE(one.decoys.ks.statistic == two.decoys.ks.statistic);
}
