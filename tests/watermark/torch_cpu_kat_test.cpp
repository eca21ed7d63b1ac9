// Known answers from real torch (Debian python3-torch 1.13.1, CPU), fixtures/kat/make_torch_kat.py:
// PyTorch's CPU generator and KGW as transformers and TGI seed it.
#include <catch2/catch.hpp>
#include <random>
#include <cstring>
#include <fstream>
#include <algorithm>
#include <nlohmann/json.hpp>
#include <numeric>
#include <set>
#include <string>
#include <vector>

#include "tritium/digest.hpp"
#include "tritium/hf_kgw.hpp"
#include "tritium/torch_cpu_rng.hpp"
#include "torch_cpu_kernels.hpp"

using namespace tritium;
using json = nlohmann::json;

namespace {

const json& kat() {
  static const json doc = [] {
    std::ifstream in(TRITIUM_FIXTURES_DIR "/kat/torch_cpu_v1.json");
    REQUIRE(in);
    return json::parse(in);
  }();
  return doc;
}

std::uint64_t u64(const json& v) { return std::stoull(v.get<std::string>()); }

std::string sha256_le_int32(const std::vector<std::int32_t>& values) {
  std::string bytes(values.size() * 4, '\0');
  for (std::size_t i = 0; i < values.size(); ++i) {
    const auto u = static_cast<std::uint32_t>(values[i]);
    for (std::size_t b = 0; b < 4; ++b) bytes[4 * i + b] = static_cast<char>((u >> (8 * b)) & 0xFF);
  }
  return sha256_digest(bytes).substr(7);  // drop "sha256:"
}

std::vector<std::int32_t> ints(const json& v) { return v.get<std::vector<std::int32_t>>(); }

}  // namespace

TEST_CASE("torch CPU randperm matches torch for every size and seed and its prefix is the same",
          "[torch][kat]") {
  const auto& cases = kat()["generator"]["randperm"];
  REQUIRE(cases.size() >= 30);
  for (const auto& c : cases) {
    const std::uint32_t n = c["n"];
    INFO("n = " << n << ", seed " << c["seed"].get<std::string>());
    std::vector<std::int32_t> perm(n);
    torch_cpu::generator gen(u64(c["seed"]));
    torch_cpu::randperm(gen, perm);
    const auto first = ints(c["first"]);
    CHECK(std::vector<std::int32_t>(perm.begin(), perm.begin() + static_cast<std::ptrdiff_t>(first.size())) == first);
    const auto last = ints(c["last"]);
    CHECK(std::vector<std::int32_t>(perm.end() - static_cast<std::ptrdiff_t>(last.size()), perm.end()) == last);
    CHECK(sha256_le_int32(perm) == c["sha256_le_int32"].get<std::string>());
    // The first k entries alone, in k draws, for a few k including n.
    for (const std::uint32_t k : {std::uint32_t{1}, n / 4, n / 2, n}) {
      if (k == 0) continue;
      torch_cpu::generator again(u64(c["seed"]));
      std::vector<std::int32_t> scratch(n, -7), prefix(k);
      torch_cpu::randperm_prefix(again, n, scratch, prefix);
      CHECK(std::equal(prefix.begin(), prefix.end(), perm.begin()));
    }
  }
}

TEST_CASE("torch CPU randint and rand match torch bit for bit", "[torch][kat]") {
  for (const auto& c : kat()["generator"]["randint"]) {
    const std::int64_t low = c["low"], high = c["high"];
    const std::size_t count = c["count"];
    torch_cpu::generator gen(u64(c["seed"]));
    std::vector<std::int32_t> values(count);
    std::int64_t sum = 0;
    for (auto& v : values) {
      v = static_cast<std::int32_t>(torch_cpu::randint(gen, low, high));
      sum += v;
    }
    const auto first = ints(c["first"]);
    CHECK(std::vector<std::int32_t>(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(first.size())) == first);
    CHECK(sum == c["sum"].get<std::int64_t>());
    CHECK(sha256_le_int32(values) == c["sha256_le_int32"].get<std::string>());
  }
  for (const auto& c : kat()["generator"]["rand_float32"]) {
    torch_cpu::generator gen(u64(c["seed"]));
    for (const auto& bits : c["bits"]) {
      const float f = torch_cpu::rand_float(gen);
      std::uint32_t u;
      std::memcpy(&u, &f, 4);
      CHECK(u == bits.get<std::uint32_t>());
    }
  }
  for (const auto& c : kat()["generator"]["rand_float64"]) {
    torch_cpu::generator gen(u64(c["seed"]));
    for (const auto& bits : c["bits"]) {
      const double d = torch_cpu::rand_double(gen);
      std::uint64_t u;
      std::memcpy(&u, &d, 8);
      CHECK(u == u64(bits));
    }
  }
}

TEST_CASE("HF and TGI KGW: seeds and green lists equal transformers' recipe run on torch", "[hf_kgw][kat]") {
  const auto& cases = kat()["kgw"];
  REQUIRE(cases.size() >= 9);
  for (const auto& c : cases) {
    INFO(c["name"].get<std::string>());
    hf_kgw_params p;
    p.vocab_size = c["vocab_size"];
    p.hashing_key = u64(c["hashing_key"]);
    p.seeding = c["seeding_scheme"] == "selfhash" ? hf_seeding::selfhash : hf_seeding::lefthash;
    p.context_width = c["context_width"];
    // The ratio is not stored; G is. Any ratio with int(V * ratio) = G gives the same scheme.
    p.greenlist_ratio = (c["greenlist_size"].get<double>() + 0.5) / p.vocab_size;
    const hf_kgw scheme(p);
    REQUIRE(scheme.greenlist_size() == c["greenlist_size"].get<std::uint32_t>());
    std::vector<std::int32_t> scratch(p.vocab_size), green(scheme.greenlist_size());
    for (const auto& w : c["windows"]) {
      const auto window = ints(w["tokens"]);
      INFO("window " << w["tokens"].dump());
      const std::uint64_t s = scheme.seed(window);
      CHECK(s == u64(w["manual_seed"]));
      scheme.green_list(hf_kgw::seed32(s), scratch, green);
      const auto first = ints(w["first"]);
      CHECK(std::vector<std::int32_t>(green.begin(), green.begin() + static_cast<std::ptrdiff_t>(first.size())) == first);
      CHECK(sha256_le_int32(green) == w["sha256_le_int32"].get<std::string>());
      for (const auto& probe : w["probes"]) {
        CHECK(scheme.is_green(hf_kgw::seed32(s), probe[0].get<token_id>()) == probe[1].get<bool>());
      }
      // Membership without the permutation agrees with the list on every token of a stretch.
      const std::set<std::int32_t> green_set(green.begin(), green.end());
      for (token_id v = 0; v < static_cast<token_id>(std::min<std::uint32_t>(p.vocab_size, 400)); ++v) {
        if (scheme.is_green(hf_kgw::seed32(s), v) != (green_set.count(v) == 1)) FAIL("is_green differs at " << v);
      }
    }
    for (const auto& r : c["rejection"]) {
      // transformers' selfhash processor on a row C++ regenerates exactly (torch.rand float32 · 8).
      torch_cpu::generator gen(r["logits_seed"].get<std::uint64_t>());
      std::vector<float> logits(p.vocab_size);
      for (auto& l : logits) l = torch_cpu::rand_float(gen) * r["scale"].get<float>();
      const auto before = logits;
      const auto history = ints(r["tokens"]);
      REQUIRE(scheme.bias_dense(history, logits, scratch));
      std::set<std::int32_t> changed;
      for (std::size_t v = 0; v < logits.size(); ++v) {
        if (logits[v] != before[v]) {
          changed.insert(static_cast<std::int32_t>(v));
          CHECK(logits[v] == before[v] + p.bias);
        }
      }
      const auto kept = ints(r["kept"]);
      CHECK(changed == std::set<std::int32_t>(kept.begin(), kept.end()));
    }
  }
}

TEST_CASE("HF KGW refuses parameters transformers would not accept", "[hf_kgw]") {
  hf_kgw_params p;
  p.vocab_size = 1000;
  p.greenlist_ratio = 1.0;
  CHECK_THROWS_WITH(hf_kgw(p), Catch::Contains("greenlist_ratio"));
  p.greenlist_ratio = 0.0005;
  CHECK_THROWS_WITH(hf_kgw(p), Catch::Contains("is 0"));
  p.greenlist_ratio = 0.25;
  p.hashing_key = std::uint64_t{1} << 63;
  CHECK_THROWS_WITH(hf_kgw(p), Catch::Contains("hashing_key"));
  p.hashing_key = 15485863;
  p.context_width = 0;
  CHECK_THROWS_WITH(hf_kgw(p), Catch::Contains("context_width"));
  p.context_width = 3;
  const hf_kgw scheme(p);
  std::vector<float> row(1000, 0.0f);
  std::vector<std::int32_t> scratch(1000);
  const std::vector<token_id> short_history{1, 2};
  CHECK_FALSE(scheme.bias_dense(short_history, row, scratch));  // transformers skips the step
  CHECK(std::all_of(row.begin(), row.end(), [](float x) { return x == 0.0f; }));
}

TEST_CASE("The block MT19937 is std::mt19937 and the fast modulo is the remainder", "[torch]") {
  // The generator's buffered engine against the standard one, across several refills.
  for (const std::uint64_t seed : {std::uint64_t{0}, std::uint64_t{5}, std::uint64_t{15485863},
                                   std::uint64_t{0xFFFFFFFFu}, std::uint64_t{0x1234567890ABCDEFull}}) {
    torch_cpu::generator block(seed);
    std::mt19937 reference(static_cast<std::uint32_t>(seed));
    bool same = true;
    for (int i = 0; i < 624 * 5 + 17; ++i) same = same && block.random() == static_cast<std::uint32_t>(reference());
    CHECK(same);
  }
  // Lemire's remainder against %, on random numerators and the divisors randperm meets, and the extremes.
  std::mt19937_64 rng(3);
  std::uint64_t wrong = 0;
  for (int i = 0; i < 1'000'000; ++i) {
    const auto x = static_cast<std::uint32_t>(rng());
    const auto d = static_cast<std::uint32_t>(1 + rng() % (0xFFFFFFFFu / 20));
    wrong += torch_cpu::fast_mod(x, torch_cpu::fast_mod_magic(d), d) != x % d;
  }
  for (const std::uint32_t d : {1u, 2u, 3u, 151936u, 0xFFFFFFFFu / 20 - 1, 0xFFFFFFFFu}) {
    for (const std::uint32_t x : {0u, 1u, d - 1, d, 0x7FFFFFFFu, 0xFFFFFFFEu, 0xFFFFFFFFu}) {
      wrong += torch_cpu::fast_mod(x, torch_cpu::fast_mod_magic(d), d) != x % d;
    }
  }
  CHECK(wrong == 0);
}

TEST_CASE("Every torch generator kernel this CPU runs equals the portable loops", "[torch]") {
  const auto kernels = detail::available_torch_cpu_kernels();
  REQUIRE(std::string(kernels.front().name) == "portable");
  INFO("kernels available: " << kernels.size());
  std::mt19937_64 rng(17);
  for (const auto& k : kernels) {
    INFO(k.name);
    // Refill: the same state words and outputs from a random state, over several rounds.
    std::vector<std::uint32_t> state(624), out(624), state_ref(624), out_ref(624);
    for (auto& w : state) w = static_cast<std::uint32_t>(rng());
    state_ref = state;
    for (int round = 0; round < 4; ++round) {
      k.refill(state.data(), out.data());
      kernels.front().refill(state_ref.data(), out_ref.data());
      CHECK(state == state_ref);
      CHECK(out == out_ref);
    }
    // Targets: every count up to 40 (the vector tails), divisors from 1 to randperm's largest.
    for (const std::uint32_t d : {40u, 41u, 1000u, 151936u, 0xFFFFFFFFu / 20 - 1}) {
      for (std::size_t count = 0; count <= 40 && count <= d; ++count) {
        std::vector<std::uint32_t> x(count), t(count), t_ref(count);
        std::vector<std::uint64_t> magic(count);
        for (std::size_t j = 0; j < count; ++j) {
          x[j] = j % 3 == 0 ? 0xFFFFFFFFu - static_cast<std::uint32_t>(j) : static_cast<std::uint32_t>(rng());
          magic[j] = torch_cpu::fast_mod_magic(d - static_cast<std::uint32_t>(j));
        }
        const std::uint32_t first = static_cast<std::uint32_t>(rng() % 1000);
        k.targets(x.data(), magic.data(), d, first, t.data(), count);
        kernels.front().targets(x.data(), magic.data(), d, first, t_ref.data(), count);
        CHECK(t == t_ref);
        for (std::size_t j = 0; j < count; ++j) {
          if (t_ref[j] != first + j + x[j] % (d - j)) FAIL("portable target " << j << " is not the remainder");
        }
      }
    }
    // Identity and search, at lengths around the vector widths.
    for (std::size_t n : {0u, 1u, 7u, 8u, 15u, 16u, 17u, 33u, 1000u}) {
      std::vector<std::int32_t> a(n, -1);
      k.iota(a.data(), n);
      for (std::size_t i = 0; i < n; ++i) {
        if (a[i] != static_cast<std::int32_t>(i)) FAIL("iota " << i);
      }
      std::vector<std::uint32_t> b(n);
      for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<std::uint32_t>(2 * i + 1);
      for (std::size_t i = 0; i < n; ++i) {
        if (!k.contains(b.data(), n, b[i])) FAIL("contains misses " << i << " of " << n);
        if (k.contains(b.data(), n, static_cast<std::uint32_t>(2 * i))) FAIL("contains finds an absent value at " << i);
        if (i > 0 && k.contains(b.data(), i, b[i])) FAIL("contains reads past " << i);
      }
    }
  }
}

TEST_CASE("HF KGW membership walks agree with the green list on every token", "[hf_kgw]") {
  // G = 1,851 spans several blocks of drawn steps and ends inside one.
  hf_kgw_params p;
  p.vocab_size = 5003;
  p.greenlist_ratio = 0.37;
  const hf_kgw scheme(p);
  REQUIRE(scheme.greenlist_size() == 1851);
  std::vector<std::int32_t> scratch(p.vocab_size), green(scheme.greenlist_size());
  std::vector<token_id> all(p.vocab_size);
  std::iota(all.begin(), all.end(), 0);
  std::vector<std::uint8_t> verdict(all.size());
  for (const std::uint32_t seed : {0u, 1u, 15485863u, 0xFFFFFFFFu}) {
    INFO("seed " << seed);
    scheme.green_list(seed, scratch, green);
    std::vector<std::uint8_t> member(p.vocab_size, 0);
    for (const std::int32_t v : green) member[static_cast<std::size_t>(v)] = 1;
    REQUIRE(std::count(member.begin(), member.end(), std::uint8_t{1}) == 1851);  // a permutation's prefix
    scheme.are_green(seed, all, verdict);
    CHECK(verdict == member);
    std::size_t wrong = 0;
    for (const token_id v : all) wrong += scheme.is_green(seed, v) != (member[static_cast<std::size_t>(v)] == 1);
    CHECK(wrong == 0);
    // A few tokens, one of them twice, in any order.
    const std::vector<token_id> some{green.back(), 5002, green.front(), 0, green.back(), green[256], green[255]};
    std::vector<std::uint8_t> some_verdict(some.size());
    scheme.are_green(seed, some, some_verdict);
    for (std::size_t j = 0; j < some.size(); ++j) CHECK(some_verdict[j] == member[static_cast<std::size_t>(some[j])]);
  }
  // Eight tokens or more are screened block by block with a bitmap of their positions, which skips
  // the blocks that move none of them. Sets of several sizes, each with a repeated token and the list's
  // edges, in any order, under 100 seeds: a screen that missed a token's own step (it is swapped out of
  // a position below G) gets 80 of these verdicts wrong (0.23%).
  std::mt19937_64 rng(3);
  std::size_t differ = 0, verdicts = 0;
  for (std::uint32_t seed = 100; seed < 200; ++seed) {
    scheme.green_list(seed, scratch, green);
    std::vector<std::uint8_t> member(p.vocab_size, 0);
    for (const std::int32_t v : green) member[static_cast<std::size_t>(v)] = 1;
    for (const std::size_t n : {8u, 40u, 300u}) {
      std::vector<token_id> tokens{green.front(), green.back(), green[1850 / 2]};
      while (tokens.size() < n - 1) tokens.push_back(static_cast<token_id>(rng() % p.vocab_size));
      tokens.push_back(tokens[3]);
      std::shuffle(tokens.begin(), tokens.end(), rng);
      std::vector<std::uint8_t> screened(tokens.size());
      scheme.are_green(seed, tokens, screened);
      for (std::size_t j = 0; j < tokens.size(); ++j) differ += screened[j] != member[static_cast<std::size_t>(tokens[j])];
      verdicts += tokens.size();
    }
  }
  CHECK(verdicts == 34'800);
  CHECK(differ == 0);
  // A token outside [0, V) is named, screened or not (the screen's bitmap has V bits).
  for (const std::size_t n : {2u, 9u}) {
    std::vector<token_id> tokens(n, 17);
    tokens[n - 1] = static_cast<token_id>(p.vocab_size);
    std::vector<std::uint8_t> verdict_n(n);
    CHECK_THROWS_WITH(scheme.are_green(7, tokens, verdict_n), Catch::Contains("tokens[" + std::to_string(n - 1) + "] = 5003"));
  }
}
