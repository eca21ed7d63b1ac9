// SynthID-Text as transformers runs it: g-values, hashes, table and repetition mask from real torch
// (fixtures/kat/torch_cpu_v1.json), and the tournament's expected g-value.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "support/binomial_interval.hpp"
#include "tritium/digest.hpp"
#include "tritium/hf_synthid.hpp"
#include "hf_synthid_kernels.hpp"

using namespace tritium;
using json = nlohmann::json;
using tritium::test::binomial_interval;

namespace {

const json& synthid_kat() {
  static const json doc = [] {
    std::ifstream in(TRITIUM_FIXTURES_DIR "/kat/torch_cpu_v1.json");
    REQUIRE(in);
    return json::parse(in)["synthid"];
  }();
  return doc;
}

hf_synthid_params params_with(std::vector<std::int64_t> keys, std::uint32_t ngram_len) {
  hf_synthid_params p;
  p.keys = std::move(keys);
  p.ngram_len = ngram_len;
  return p;
}

}  // namespace

TEST_CASE("HF SynthID: the table and hashes and g-values equal transformers' recipe run on torch", "[hf_synthid][kat]") {
  const json& kat = synthid_kat();
  const hf_synthid scheme(params_with({1}, 2));
  const auto& table = scheme.table();
  std::size_t ones = 0;
  for (const auto g : table) ones += g;
  CHECK(ones == kat["table_ones"].get<std::size_t>());  // 32,743: the table is not balanced
  CHECK(sha256_digest(std::string(table.begin(), table.end())).substr(7) == kat["table_sha256_u8"].get<std::string>());
  REQUIRE(kat["ngrams"].size() >= 6);
  for (const auto& c : kat["ngrams"]) {
    const auto tokens = c["tokens"].get<std::vector<token_id>>();
    const auto keys = c["keys"].get<std::vector<std::int64_t>>();
    INFO("n-gram " << c["tokens"].dump());
    const hf_synthid s(params_with(keys, static_cast<std::uint32_t>(tokens.size())));
    const std::span<const token_id> all(tokens);
    CHECK(static_cast<std::int64_t>(s.context_hash(all.first(tokens.size() - 1))) ==
          std::stoll(c["context_hash"].get<std::string>()));
    CHECK(static_cast<std::int64_t>(s.context_hash(all)) == std::stoll(c["token_hash"].get<std::string>()));
    std::vector<std::uint8_t> g(keys.size());
    s.g_values(all, g);
    CHECK(std::vector<int>(g.begin(), g.end()) == c["g"].get<std::vector<int>>());
  }
}

TEST_CASE("HF SynthID: a repeated context leaves the row alone as transformers' FIFO says", "[hf_synthid][kat]") {
  const json& r = synthid_kat()["repetition"];
  const auto tokens = r["tokens"].get<std::vector<token_id>>();
  const auto fresh = r["fresh"].get<std::vector<bool>>();
  hf_synthid_params p = params_with({654, 400}, r["ngram_len"]);
  p.context_history_size = r["history"];
  const hf_synthid scheme(p);
  // The processor's state: call 1 starts from the zero context; call c ≥ 2 shifts in tokens[c − 2], so
  // from call 3 on its context is tokens[c − 3 .. c − 2], the detector's context c − 3. The zero-padded
  // contexts of calls 1 and 2 hash unlike any real one here (no token is 0).
  REQUIRE(p.ngram_len == 3);
  hf_synthid_state state(scheme);
  std::vector<float> row(50, 0.0f);
  state.apply(-1, row);
  REQUIRE(fresh.size() == tokens.size() - 2);
  for (std::size_t c = 2; c < 3 + fresh.size(); ++c) {
    std::vector<float> scores(50, 0.0f);
    const bool applied = state.apply(tokens[c - 2], scores);
    if (c < 3) continue;
    INFO("call " << c);
    CHECK(applied == fresh[c - 3]);
    CHECK((scores != std::vector<float>(50, 0.0f)) == applied);
  }
}

TEST_CASE("HF SynthID tournament: the sampled token's mean g-value is 0.5 + 0.25(1 - 1/V) on a flat law",
          "[hf_synthid][statistics]") {
  // notes/schemes.md §6.4 (g_value_expectations, N = 2): V = 2 gives 0.625. 20,000 fresh contexts,
  // one layer, a uniform row; the draw's g-value is Bernoulli(0.625) when the update is right.
  const hf_synthid scheme(params_with({12345}, 2));
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> unif(0.0, 1.0);
  std::uint64_t ones = 0;
  const std::uint64_t trials = 20000;
  std::uint64_t counted = 0;
  for (std::uint64_t i = 0; i < trials; ++i) {
    const token_id context = static_cast<token_id>(rng() % 1000000);
    std::vector<float> row{0.0f, 0.0f};
    const std::vector<token_id> ctx{context};
    scheme.reweight_dense(ctx, row);
    const double p0 = std::exp(static_cast<double>(row[0]));
    const token_id drawn = unif(rng) < p0 ? 0 : 1;
    const std::vector<token_id> ngram{context, drawn};
    std::uint8_t g = 0;
    scheme.g_values(ngram, std::span<std::uint8_t>(&g, 1));
    ones += g;
    ++counted;
  }
  // The table's bias (32,743 / 65,536) moves the expectation by about 1e-3 at most: inside the interval.
  const auto [lo, hi] = binomial_interval(counted, 0.625);
  INFO("ones " << ones << " of " << counted << ", interval [" << lo << ", " << hi << "]");
  CHECK(ones >= lo);
  CHECK(ones <= hi);
}

TEST_CASE("HF SynthID tournament over buckets equals the literal per-token tournament", "[hf_synthid]") {
  // The row path groups tokens by their hash's low 16 bits; here every token is played literally:
  // its m g-values from its n-gram, each layer's green mass, and the product of the updates.
  const hf_synthid scheme(params_with({654, 400, 836, 123, 340, 443, 597, 160, 57}, 5));
  const std::vector<token_id> ctx = {17, 4242, 99, 3};
  std::mt19937_64 rng(11);
  std::normal_distribution<float> noise(0.0f, 3.0f);
  std::vector<float> row(5000);
  for (auto& x : row) x = noise(rng);
  std::vector<double> p(row.size());
  const float top = *std::max_element(row.begin(), row.end());
  double total = 0.0;
  for (std::size_t v = 0; v < p.size(); ++v) total += p[v] = std::exp(static_cast<double>(row[v] - top));
  for (auto& x : p) x /= total;
  std::vector<std::vector<std::uint8_t>> g(row.size(), std::vector<std::uint8_t>(scheme.depth()));
  for (std::size_t v = 0; v < row.size(); ++v) {
    std::vector<token_id> ngram = ctx;
    ngram.push_back(static_cast<token_id>(v));
    scheme.g_values(ngram, g[v]);
  }
  for (std::uint32_t l = 0; l < scheme.depth(); ++l) {
    double mass = 0.0;
    for (std::size_t v = 0; v < p.size(); ++v) mass += g[v][l] ? p[v] : 0.0;
    for (std::size_t v = 0; v < p.size(); ++v) p[v] *= 1.0 + g[v][l] - mass;
  }
  scheme.reweight_dense(ctx, row);
  double worst = 0.0;
  for (std::size_t v = 0; v < p.size(); ++v) {
    worst = std::max(worst, std::abs(static_cast<double>(row[v]) - std::log(p[v])));
  }
  INFO("worst |difference| of log-probabilities " << worst);
  CHECK(worst < 1e-5);  // float32 output of a double computation
}

TEST_CASE("Every SynthID layer kernel this CPU runs gives the portable loops' bits", "[hf_synthid]") {
  std::mt19937_64 rng(12);
  const auto kernels = detail::available_layer_kernels();
  REQUIRE(std::string(kernels.front().first) == "portable");
  INFO("kernels available: " << kernels.size());
  for (const std::uint32_t n : {1u, 3u, 4u, 7u, 8u, 9u, 17u, 64u, 65536u}) {
    std::vector<double> b(n), lf(n);
    std::vector<std::uint8_t> g(n);
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    for (std::uint32_t y = 0; y < n; ++y) {
      b[y] = unit(rng) / n;
      lf[y] = -unit(rng);
      g[y] = static_cast<std::uint8_t>(rng() & 1);
    }
    double want[8];
    kernels.front().second.partial_mass(b.data(), g.data(), n, want);
    for (int k = 0; k < 8; ++k) {  // lane k: the green b[y] with y ≡ k mod 8, in order
      double sum = 0.0;
      for (std::uint32_t y = static_cast<std::uint32_t>(k); y < n; y += 8) sum += g[y] != 0 ? b[y] : 0.0;
      CHECK(std::memcmp(&sum, &want[k], sizeof sum) == 0);
    }
    // An ordinary layer, and one whose mass is 1 (down = 0, ln_down = −inf).
    for (const double down : {0.37, 0.0}) {
      const double up = 1.0 + 1.0 - (1.0 - down), ln_up = std::log(up);
      const double ln_down = down > 0.0 ? std::log(down) : -std::numeric_limits<double>::infinity();
      std::vector<double> b_want = b, lf_want = lf;
      kernels.front().second.update(b_want.data(), lf_want.data(), g.data(), n, up, down, ln_up, ln_down);
      for (const auto& [name, k] : kernels) {
        INFO(name << " n " << n << " down " << down);
        double got[8];
        k.partial_mass(b.data(), g.data(), n, got);
        CHECK(std::memcmp(got, want, sizeof got) == 0);
        std::vector<double> b_got = b, lf_got = lf;
        k.update(b_got.data(), lf_got.data(), g.data(), n, up, down, ln_up, ln_down);
        CHECK(std::memcmp(b_got.data(), b_want.data(), n * sizeof(double)) == 0);
        CHECK(std::memcmp(lf_got.data(), lf_want.data(), n * sizeof(double)) == 0);
      }
      for (std::uint32_t y = 0; y < n; ++y) {
        const double b_expected = b[y] * (g[y] != 0 ? up : down), lf_expected = lf[y] + (g[y] != 0 ? ln_up : ln_down);
        if (std::memcmp(&b_want[y], &b_expected, 8) != 0 || std::memcmp(&lf_want[y], &lf_expected, 8) != 0) {
          FAIL("portable update at " << y);
        }
      }
    }
  }
}
