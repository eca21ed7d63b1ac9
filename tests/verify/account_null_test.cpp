// The exact null of the account score (papers/attribution.md §4.2–§4.4), the byte-sliced scoring,
// the Šidák correction, bulk code-word derivation, and the registry reader.
#include <algorithm>
#include <array>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "support/binomial_interval.hpp"
#include "support/test_keys.hpp"
#include "tritium/account_null.hpp"
#include "tritium/account_registry.hpp"
#include "tritium/binomial_tail.hpp"
#include "tritium/error.hpp"
#include "tritium/key.hpp"
#include "tritium/trace.hpp"
#include "tritium/trace_counts.hpp"
#include "tritium/trace_scan.hpp"
#include "tritium/uniformity.hpp"

using namespace tritium;
namespace fs = std::filesystem;

namespace {

key test_key(std::uint64_t seed) { return test::seeded_key(1000, seed); }

trace_counts random_counts(std::uint32_t L, std::uint32_t r, std::uint64_t max, std::mt19937_64& rng) {
  trace_counts c(L, r);
  std::uniform_int_distribution<std::uint64_t> count(0, max);
  for (auto& v : c.c) {
    v = count(rng);
    c.tuples += v;
  }
  return c;
}

// Symbol j of a packed code word (trace-v1: b bits at bit j·b, least significant first).
std::uint32_t symbol_of(const std::vector<std::uint8_t>& packed, std::uint32_t j, std::uint32_t b) {
  const std::uint32_t bit = j * b;
  return (packed[bit >> 3] >> (bit & 7)) & ((1u << b) - 1);
}

fs::path write_file(const std::string& name, const std::string& text) {
  const fs::path p = fs::temp_directory_path() / ("tritium-account-null-test-" + name);
  std::ofstream(p, std::ios::binary) << text;
  return p;
}

std::string error_of(const std::string& text) {
  const fs::path p = write_file("registry.jsonl", text);
  try {
    read_account_registry(p.string());
  } catch (const error& e) {
    fs::remove(p);
    return e.what();
  }
  fs::remove(p);
  return "no error";
}

key kat_key(const nlohmann::json& kat) {
  const std::string hex = kat["secret_hex"];
  std::array<std::uint8_t, key::secret_size> secret{};
  REQUIRE(hex.size() == 2 * secret.size());
  for (std::size_t i = 0; i < secret.size(); ++i) {
    secret[i] = static_cast<std::uint8_t>(std::stoi(hex.substr(2 * i, 2), nullptr, 16));
  }
  kgw_params p;
  p.vocab_size = 151936;
  return key::from_secret(secret, p);
}

std::string hex_of(const account_field& f) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  for (std::uint8_t b : f) {
    out += digits[b >> 4];
    out += digits[b & 15];
  }
  return out;
}

}  // namespace

TEST_CASE("Known answers for decoys and counts under the account tape and the exact null",
          "[trace][null][kat]") {
  // fixtures/kat/trace_scan_v1.json, from the independent fixtures/kat/make_trace_scan_kat.py (exact
  // integer null).
  std::ifstream in(TRITIUM_FIXTURES_DIR "/kat/trace_scan_v1.json");
  REQUIRE(in);
  const nlohmann::json kat = nlohmann::json::parse(in);
  const key k = kat_key(kat);
  SECTION("decoys") {
    trace_params b2, b1;
    b1.code_length = 64;
    b1.symbol_bits = 1;
    const account_codebook book2(k, b2), book1(k, b1);
    for (const auto& d : kat["decoys"]) {
      const account_code c2 = book2.decoy(d["index"].get<std::uint32_t>());
      const account_code c1 = book1.decoy(d["index"].get<std::uint32_t>());
      REQUIRE(hex_of(c2.field) == d["field_hex"].get<std::string>());
      const auto first = d["symbols_b2_first32"].get<std::vector<int>>();
      for (std::size_t j = 0; j < first.size(); ++j) REQUIRE(c2.symbols[j] == first[j]);
      REQUIRE(std::vector<int>(c1.symbols.begin(), c1.symbols.end()) == d["symbols_b1_l64"].get<std::vector<int>>());
    }
  }
  SECTION("counts and null") {
    const auto& corpus = kat["corpus"];
    trace_params params;
    params.code_length = corpus["code_length"];
    params.symbol_bits = corpus["symbol_bits"];
    params.position_width = corpus["position_width"];
    trace_counter counter(k, params, 1);
    for (const auto& text : corpus["texts"]) counter.count_text(text.get<std::vector<token_id>>());
    REQUIRE(counter.tuples_read() == corpus["tuples_read"].get<std::uint64_t>());
    REQUIRE(counter.counts().tuples == corpus["tuples_counted"].get<std::uint64_t>());
    const auto expected = corpus["counts"].get<std::vector<std::vector<std::uint64_t>>>();
    for (std::uint32_t j = 0; j < params.code_length; ++j) {
      for (std::uint32_t s = 0; s < 4; ++s) REQUIRE(counter.counts().at(j, s) == expected[j][s]);
    }
    const account_score_table table = count_table(counter.counts());
    const account_null_law law = account_null(table);
    const auto& null = kat["null"];
    REQUIRE(law.min_score() == null["min_score"].get<std::uint64_t>());
    REQUIRE(law.max_score() == null["max_score"].get<std::uint64_t>());
    REQUIRE(law.mean() == Approx(null["mean"].get<double>()).epsilon(1e-12));
    REQUIRE(law.sd() == Approx(null["sd"].get<double>()).epsilon(1e-12));
    const auto tails = null["log10_tail"].get<std::vector<double>>();
    REQUIRE(tails.size() == law.support());
    for (std::size_t i = 0; i < tails.size(); ++i) {
      INFO("score " << law.min_score() + i);
      REQUIRE(law.log10_p(law.min_score() + i) == Approx(tails[i]).epsilon(1e-12).margin(1e-15));
    }
    const account_codebook book(k, params);
    std::vector<std::uint8_t> packed(book.packed_size());
    for (const auto& row : kat["scores"]) {
      const std::string name = row["code_word"];
      if (name.rfind("account ", 0) == 0) {
        book.packed(name.substr(8), packed);
      } else {
        book.packed_decoy(0, packed);
      }
      INFO(name);
      REQUIRE(table.score(packed) == row["score"].get<std::uint64_t>());
      REQUIRE(law.log10_p(table.score(packed)) == Approx(row["log10_p"].get<double>()).epsilon(1e-12));
    }
  }
}

TEST_CASE("The null law equals brute-force enumeration of every code word", "[trace][null]") {
  // L = 64 is the smallest code length tracing allows, too many code words to enumerate; the law
  // only depends on the table, so the enumeration runs on tables whose positions beyond the first
  // few all score the same (spread 0). 4^7 = 16,384 code words (b = 2) and 2^14 (b = 1), with
  // integer counts: the law times r^k must be integers, and equal the enumeration's exactly.
  std::mt19937_64 rng(20261203);
  for (const std::uint32_t b : {2u, 1u}) {
    const std::uint32_t r = 1u << b, L = 64, free_positions = b == 2 ? 7 : 14;
    for (int round = 0; round < 5; ++round) {
      trace_counts c = random_counts(L, r, 9, rng);
      for (std::uint32_t j = free_positions; j < L; ++j) {
        const std::uint64_t same = c.c[j * r];
        for (std::uint32_t s = 1; s < r; ++s) c.c[j * r + s] = same;
      }
      const account_score_table table = count_table(c);
      const account_null_law law = account_null(table);
      std::uint64_t base = 0;
      for (std::uint32_t j = free_positions; j < L; ++j) base += c.c[j * r];
      // Enumerate the free positions; count the code words reaching each score.
      std::vector<std::uint64_t> reaching(law.max_score() + 2, 0);
      const std::uint64_t words = std::uint64_t{1} << (b * free_positions);
      for (std::uint64_t w = 0; w < words; ++w) {
        std::uint64_t s = base;
        for (std::uint32_t j = 0; j < free_positions; ++j) s += c.c[j * r + ((w >> (j * b)) & (r - 1))];
        REQUIRE(s >= law.min_score());
        REQUIRE(s <= law.max_score());
        ++reaching[s];
      }
      std::uint64_t at_least = 0;
      for (std::uint64_t s = law.max_score() + 1; s-- > law.min_score();) {
        at_least += reaching[s];
        const double exact = std::log10(static_cast<double>(at_least) / static_cast<double>(words));
        INFO("b = " << b << ", round " << round << ", score " << s);
        REQUIRE(law.log10_p(s) == Approx(exact).margin(1e-12));
      }
      REQUIRE(law.log10_p(law.max_score() + 1) == -std::numeric_limits<double>::infinity());
      REQUIRE(law.log10_p(0) == 0.0);
    }
  }
}

TEST_CASE("Byte-sliced scores equal the definition for every byte", "[trace][null]") {
  std::mt19937_64 rng(7);
  for (const std::uint32_t b : {2u, 1u}) {
    const std::uint32_t r = 1u << b, L = 128;
    const account_score_table table = count_table(random_counts(L, r, 1000, rng));
    std::vector<std::uint8_t> packed(L * b / 8), symbols(L);
    for (int round = 0; round < 200; ++round) {
      for (auto& byte : packed) byte = static_cast<std::uint8_t>(rng());
      for (std::uint32_t j = 0; j < L; ++j) symbols[j] = static_cast<std::uint8_t>(symbol_of(packed, j, b));
      REQUIRE(table.score(packed) == table.score_symbols(symbols));
    }
  }
}

TEST_CASE("The far tail is exact where a double would underflow", "[trace][null]") {
  // Beyond 10^-280 the law tilts (account_null_law::tilted_log10_p); compared here with the exact
  // binomial tail, computed in log space by binomial_tail.hpp.
  // Every position holds 1 on one symbol: S ~ Binomial(L, 1/4), so P(S = L) = 4^−L, 10^−616.5 at
  // L = 1024, far below the smallest double.
  trace_counts c(1024, 4);
  for (std::uint32_t j = 0; j < 1024; ++j) c.add(j, j % 4);
  const account_null_law law = account_null(count_table(c));
  REQUIRE(law.min_score() == 0);
  REQUIRE(law.max_score() == 1024);
  REQUIRE(law.log10_p(1024) == Approx(-1024 * std::log10(4.0)).epsilon(1e-12));
  for (std::uint64_t k : {300u, 500u, 700u, 800u, 1000u, 1023u}) {
    INFO("k = " << k);
    REQUIRE(law.log10_p(k) == Approx(binomial_upper_tail_log10(1024, k, 0.25)).epsilon(1e-9));
  }
  REQUIRE(law.mean() == Approx(256.0));
  REQUIRE(law.sd() == Approx(std::sqrt(1024 * 0.25 * 0.75)));
}

TEST_CASE("Šidák's correction in log space", "[trace][null]") {
  for (double p : {0.5, 0.01, 1e-6, 1e-9}) {
    for (std::uint64_t n : {1u, 10u, 10000u}) {
      const double direct = 1.0 - std::pow(1.0 - p, static_cast<double>(n));
      REQUIRE(sidak_log10(std::log10(p), n) == Approx(std::log10(direct)).epsilon(1e-6));
    }
  }
  REQUIRE(sidak_log10(-500.0, 1000000) == Approx(-494.0).epsilon(1e-12));
  REQUIRE(sidak_log10(-0.0001, 1000000) == 0.0);
}

TEST_CASE("Innocent accounts get exactly uniform p-values while the naive binomial over-accuses",
          "[trace][null]") {
  // Counts from a corpus marked for one guilty account: every counted tuple at position j carries
  // the guilty symbol with probability 0.6 (a strong mark), and positions are loaded unevenly as
  // Zipf contexts load them. 10,000 decoys (never issued, independent of the counts) are the
  // innocents; their code words come from the real derivation, so this tests the derivation's
  // independence and the convolution together (papers/attribution.md §4.3).
  const key k = test_key(42);
  const trace_params params;
  const account_codebook book(k, params);
  const account_code guilty = book.code("guilty account");
  std::mt19937_64 rng(20261203);
  trace_counts c(params.code_length, 4);
  std::vector<double> load(params.code_length);
  for (std::size_t j = 0; j < load.size(); ++j) load[j] = 1.0 / (1.0 + static_cast<double>(j % 97));
  std::discrete_distribution<std::uint32_t> position(load.begin(), load.end());
  std::uniform_real_distribution<double> unif(0.0, 1.0);
  std::uniform_int_distribution<std::uint32_t> other(1, 3);
  for (int t = 0; t < 20000; ++t) {
    const std::uint32_t j = position(rng);
    const std::uint32_t s = unif(rng) < 0.6 ? guilty.symbols[j] : (guilty.symbols[j] + other(rng)) % 4;
    c.add(j, s);
  }
  const account_score_table table = count_table(c);
  const account_null_law law = account_null(table);
  const std::uint32_t innocents = 10000;
  const std::vector<std::uint64_t> scores = score_decoys(book, table, innocents, 2);
  std::mt19937_64 u_rng(99);
  std::vector<double> randomised(innocents);
  std::uint64_t conservative_hits = 0, naive_hits = 0;
  for (std::uint32_t i = 0; i < innocents; ++i) {
    randomised[i] = law.randomised_p(scores[i], unif(u_rng));
    if (law.log10_p(scores[i]) <= -2.0) ++conservative_hits;
    if (binomial_upper_tail_log10(c.tuples, scores[i], 0.25) <= -2.0) ++naive_hits;
  }
  const ks_result ks = ks_uniform(randomised);
  INFO("KS D = " << ks.statistic << ", p = " << ks.p_value);
  REQUIRE(ks.p_value >= 0.01);
  // The conservative p-value is discrete: only its upper side is tested.
  const auto [lo, hi] = test::binomial_interval(innocents, 0.01);
  INFO("conservative p <= 0.01: " << conservative_hits << " (99.9% interval of Bin(10000, 0.01): [" << lo << ", " << hi << "])");
  REQUIRE(conservative_hits <= hi);
  // The naive Binomial(n, 1/4) null ignores that tuples sharing a position share an innocent's
  // symbol: far more than 1% of innocents fall below 0.01.
  INFO("naive binomial p <= 0.01: " << naive_hits);
  REQUIRE(naive_hits > 5 * hi);
  // The guilty account scores far out in the tail.
  REQUIRE(law.log10_p(table.score_symbols(guilty.symbols)) < -100.0);
}

TEST_CASE("Bulk code words equal the KAT-pinned derivation and decoys are not accounts",
          "[trace][null]") {
  const key k = test_key(5);
  for (const std::uint32_t b : {2u, 1u}) {
    trace_params params;
    params.symbol_bits = b;
    params.code_length = 256;
    const account_codebook book(k, params);
    std::vector<std::uint8_t> packed(book.packed_size());
    REQUIRE(packed.size() == 256 * b / 8);
    for (const char* id : {"a", "acct-0001", "\xc3\xa9t\xc3\xa9"}) {
      const account_code expected = derive_account_code(k, id, params);
      const account_field f = book.packed(id, packed);
      REQUIRE(f == expected.field);
      for (std::uint32_t j = 0; j < params.code_length; ++j) REQUIRE(symbol_of(packed, j, b) == expected.symbols[j]);
    }
    const account_code d0 = book.decoy(0), d1 = book.decoy(1);
    REQUIRE(d0.symbols != d1.symbols);
    REQUIRE(d0.field != derive_account_field(k, "tritium/v1/trace/decoy"));
  }
  const account_codebook book(k, trace_params{});
  std::vector<std::uint8_t> wrong(10);
  REQUIRE_THROWS_WITH(book.packed("x", wrong), "packed code word: expected a buffer of 256 bytes, got 10");
  std::vector<std::uint8_t> right(256);
  REQUIRE_THROWS_WITH(book.packed("bad\xff", right),
                      "account id: expected valid UTF-8, got byte 0xff at byte offset 3");
}

TEST_CASE("A registry is read strictly and every refusal names its line", "[trace][registry]") {
  const fs::path p = write_file("ok.jsonl", "\xEF\xBB\xBF{\"account\": \"a\"}\n\n{\"account\": \"b\"}\r\n{\"account\":\"\xc3\xa9\"}");
  const account_registry r = read_account_registry(p.string());
  REQUIRE(r.ids == std::vector<std::string>{"a", "b", "\xc3\xa9"});
  REQUIRE(r.digest.rfind("sha256:", 0) == 0);
  fs::remove(p);
  const std::string name = (fs::temp_directory_path() / "tritium-account-null-test-registry.jsonl").string();
  REQUIRE(error_of("{\"account\": \"a\"}\n{\"account\": \"a\"}\n") == name + ":2: account listed twice (first at " + name + ":1)");
  REQUIRE(error_of("{\"account\": \"a\", \"tier\": 1}\n") == name + ":1: expected {\"account\": \"<id>\"} and no other field");
  REQUIRE(error_of("{\"account\": 7}\n") == name + ":1: field \"account\": expected a string");
  REQUIRE(error_of("{\"account\": \"\"}\n") == name + ":1: field \"account\": expected 1 to 1024 bytes, got 0");
  REQUIRE(error_of("\n  \n") == "registry " + name + ": holds no account");
  REQUIRE(error_of("{\"account\": \"a\"}\nnot json\n").rfind(name + ":2:", 0) == 0);
}
