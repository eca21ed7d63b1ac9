#include <catch2/catch.hpp>
#include <cmath>
#include <memory>
#include <cstring>
#include <random>
#include <vector>

#include "tritium/binomial_tail.hpp"
#include "tritium/error.hpp"
#include "tritium/kgw.hpp"
#include "tritium/kgw_stream.hpp"
#include "tritium/uniformity.hpp"

using namespace tritium;

namespace {

key make_key(std::uint32_t vocab, double gamma, std::uint32_t h, seeding s, double delta = 2.0,
             std::uint8_t fill = 3) {
  std::array<std::uint8_t, key::secret_size> secret{};
  for (std::size_t i = 0; i < secret.size(); ++i) secret[i] = static_cast<std::uint8_t>(fill + 5 * i);
  kgw_params p;
  p.set_gamma(gamma);
  p.delta = delta;
  p.context_width = h;
  p.seeding_scheme = s;
  p.vocab_size = vocab;
  return key::from_secret(secret, p);
}

}  // namespace

TEST_CASE("Dense, sparse, mask and single-token paths agree on the green list", "[kgw]") {
  for (seeding s : {seeding::lefthash, seeding::selfhash}) {
    for (double gamma : {0.25, 0.5, 0.1, 0.375}) {
      for (std::uint32_t h : {1u, 2u, 4u}) {
        const std::uint32_t vocab = 5003;  // not a multiple of any chunk size
        const key k = make_key(vocab, gamma, h, s);
        const kgw scheme(k);
        std::vector<token_id> window(h);
        for (std::uint32_t i = 0; i < h; ++i) window[i] = static_cast<token_id>(17 * i + 3);
        std::vector<std::uint8_t> mask(vocab);
        scheme.green_mask(window, mask);
        std::vector<float> dense(vocab, 0.0f);
        scheme.bias_dense(window, dense);
        std::vector<token_id> ids(vocab);
        for (std::uint32_t v = 0; v < vocab; ++v) ids[v] = static_cast<token_id>(vocab - 1 - v);
        std::vector<float> sparse(vocab, 0.0f);
        scheme.bias_sparse(window, ids, sparse);
        std::size_t green = 0;
        bool agree = true;
        for (std::uint32_t v = 0; v < vocab; ++v) {
          const bool g = scheme.is_green(window, static_cast<token_id>(v));
          green += g;
          agree = agree && (mask[v] == g) && ((dense[v] == 2.0f) == g) && (dense[v] == 0.0f || g) &&
                  ((sparse[vocab - 1 - v] == 2.0f) == g);
        }
        INFO("seeding " << seeding_name(s) << " gamma " << gamma << " h " << h);
        CHECK(agree);
        // The green count is Binomial(V, γ): it lies in the 99.99% interval (|z| < 3.9).
        const double sd = std::sqrt(vocab * gamma * (1 - gamma));
        CHECK(std::abs(static_cast<double>(green) - vocab * gamma) < 3.9 * sd);
      }
    }
  }
}

TEST_CASE("Batched self-hash lanes equal the single-candidate lanes", "[kgw]") {
  // The dense row and candidate lists take the batched PRF; is_green and the KAT take one AES block
  // at a time. Windows with repeated tokens, offsets and lengths off the 32-block kernel stride.
  const std::vector<std::vector<token_id>> windows = {
      {5}, {5, 9}, {9, 5}, {7, 7, 7}, {7, 3, 7}, {3, 7, 7, 1}, {100, 200, 300, 400, 500, 600, 700, 800}};
  for (double gamma : {0.25, 0.1}) {
    for (const auto& window : windows) {
      const auto h = static_cast<std::uint32_t>(window.size());
      const key k = make_key(70001, gamma, h, seeding::selfhash);
      const kgw scheme(k);
      const kgw_prf& prf = scheme.prf();
      const std::size_t first = 40961, n = 1013;
      std::vector<std::uint16_t> row(n), listed(n);
      prf.selfhash_lanes(window, static_cast<token_id>(first), n, row.data());
      std::vector<token_id> ids(n);
      for (std::size_t j = 0; j < n; ++j) ids[j] = static_cast<token_id>((first + 7919 * j) % 70001);
      prf.selfhash_lanes(window, ids, listed.data());
      std::size_t wrong_row = 0, wrong_listed = 0;
      for (std::size_t j = 0; j < n; ++j) {
        const auto v = static_cast<token_id>(first + j);
        wrong_row += row[j] != prf.selfhash_lane(prf.selfhash_anchor(window, v), v);
        wrong_listed += listed[j] != prf.selfhash_lane(prf.selfhash_anchor(window, ids[j]), ids[j]);
      }
      INFO("h " << h << " gamma " << gamma);
      CHECK(wrong_row == 0);
      CHECK(wrong_listed == 0);
    }
  }
}

TEST_CASE("Green lists change with the context and with the key", "[kgw]") {
  const std::uint32_t vocab = 4096;
  const kgw a(make_key(vocab, 0.25, 1, seeding::lefthash, 2.0, 1));
  const kgw b(make_key(vocab, 0.25, 1, seeding::lefthash, 2.0, 2));
  std::vector<std::uint8_t> m1(vocab), m2(vocab), m3(vocab);
  const token_id w1[1] = {10};
  const token_id w2[1] = {11};
  a.green_mask(w1, m1);
  a.green_mask(w2, m2);
  b.green_mask(w1, m3);
  // Independent lists overlap on γ² of the vocabulary; identical lists would overlap on γ.
  auto overlap = [&](const auto& x, const auto& y) {
    std::size_t n = 0;
    for (std::size_t i = 0; i < vocab; ++i) n += x[i] && y[i];
    return static_cast<double>(n) / vocab;
  };
  CHECK(overlap(m1, m2) < 0.1);
  CHECK(overlap(m1, m3) < 0.1);
}

TEST_CASE("The watermarked sampler draws from softmax(logits + delta * green)", "[kgw][statistics]") {
  // Chi-square goodness of fit on a small vocabulary. With a fixed seed the test is deterministic; the
  // threshold p > 1e-4 fails a correct sampler with probability 1e-4 over seeds.
  for (double delta : {2.0, 12.0}) {
    const std::uint32_t vocab = 24;
    const key k = make_key(vocab, 0.25, 1, seeding::lefthash, delta);
    const kgw scheme(k);
    const token_id window[1] = {5};
    std::vector<float> logits(vocab);
    for (std::uint32_t v = 0; v < vocab; ++v) logits[v] = static_cast<float>(-0.25 * v);
    // δ = 12 with the first token red and dominant pushes most draws through the dense fallback.
    std::vector<std::uint8_t> mask(vocab);
    scheme.green_mask(window, mask);
    if (delta > 10) {
      for (std::uint32_t v = 0; v < vocab; ++v) logits[v] = mask[v] ? -14.0f : (v == 0 ? 0.0f : -3.0f);
    }
    std::vector<double> expected(vocab);
    double total = 0;
    for (std::uint32_t v = 0; v < vocab; ++v) {
      expected[v] = std::exp(static_cast<double>(logits[v]) + (mask[v] ? delta : 0.0));
      total += expected[v];
    }
    const int draws = 400000;
    std::vector<double> counts(vocab, 0);
    sampling_rng rng(12345);
    sampling_scratch scratch;
    // Half the draws through `sample`, half through one `prepare` and repeated `draw_prepared`, which
    // must stay valid across dense fallbacks.
    for (int i = 0; i < draws / 2; ++i) counts[static_cast<std::size_t>(scheme.sample(window, logits, rng, scratch))] += 1;
    kgw::prepare(logits, scratch);
    for (int i = draws / 2; i < draws; ++i) {
      counts[static_cast<std::size_t>(scheme.draw_prepared(window, rng, scratch))] += 1;
    }
    if (delta > 10) CHECK(scratch.fallbacks > 0);
    double chi2 = 0;
    int cells = 0;
    for (std::uint32_t v = 0; v < vocab; ++v) {
      const double e = draws * expected[v] / total;
      if (e < 5) continue;  // pool nothing: cells with tiny expectations are skipped
      chi2 += (counts[v] - e) * (counts[v] - e) / e;
      ++cells;
    }
    INFO("delta " << delta << " chi2 " << chi2 << " cells " << cells);
    REQUIRE(cells >= 5);
    CHECK(chi_square_upper_tail(chi2, cells - 1) > 1e-4);
  }
}

TEST_CASE("Streams prime from the prompt, accept, clone and mask repeated contexts", "[kgw]") {
  const std::uint32_t vocab = 1000;
  auto scheme = std::make_shared<const kgw>(make_key(vocab, 0.25, 2, seeding::lefthash));
  stream_options options;
  options.mask_repeated_contexts = true;
  options.seed = 9;
  kgw_stream s(scheme, options);
  const token_id one[1] = {4};
  s.begin(one);
  CHECK_FALSE(s.active());  // h = 2 needs two tokens of context
  const token_id prompt[3] = {1, 2, 3};
  s.begin(prompt);
  CHECK(s.active());
  CHECK(s.window().size() == 2);
  CHECK(s.window()[0] == 2);
  std::vector<float> a(vocab, 0.0f), b(vocab, 0.0f);
  s.bias_dense(a);
  const token_id w23[2] = {2, 3};
  scheme->bias_dense(w23, b);
  CHECK(a == b);

  // Context (2,3) is used by the token accepted now; when (2,3) comes back it is masked.
  s.accept(2);
  s.accept(3);
  CHECK_FALSE(s.active());
  std::vector<float> c(vocab, 0.0f);
  s.bias_dense(c);
  CHECK(c == std::vector<float>(vocab, 0.0f));
  s.accept(7);
  CHECK(s.active());

  // A clone continues identically, including its sampling random source.
  kgw_stream copy = s;
  std::vector<float> logits(vocab);
  for (std::uint32_t v = 0; v < vocab; ++v) logits[v] = static_cast<float>(std::sin(v));
  for (int i = 0; i < 20; ++i) {
    const token_id x = s.sample(logits);
    const token_id y = copy.sample(logits);
    REQUIRE(x == y);
    s.accept(x);
    copy.accept(y);
  }
  CHECK_THROWS_AS(s.accept(static_cast<token_id>(vocab)), error);
  CHECK_THROWS_AS(s.accept(-1), error);
}

TEST_CASE("Embedding rejects rows of the wrong size and non-finite logits", "[kgw]") {
  const kgw scheme(make_key(100, 0.25, 1, seeding::lefthash));
  const token_id window[1] = {1};
  std::vector<float> row(99, 0.0f);
  CHECK_THROWS_AS(scheme.bias_dense(window, row), error);
  std::vector<float> bad(100, 0.0f);
  bad[3] = std::nanf("");
  sampling_rng rng(1);
  sampling_scratch scratch;
  CHECK_THROWS_AS(scheme.sample(window, bad, rng, scratch), error);
  const token_id ids[1] = {100};
  float l[1] = {0};
  CHECK_THROWS_AS(scheme.bias_sparse(window, ids, l), error);
}

#include "bias_kernels.hpp"

TEST_CASE("Every available dense kernel equals the portable loop", "[kgw]") {
  std::mt19937_64 rng(8);
  const auto kernels = detail::available_bias_kernels();
  INFO("kernels available: " << kernels.size());
  for (std::uint32_t bits : {1u, 2u, 4u, 8u, 16u}) {
    for (std::uint32_t threshold : {1u, (1u << bits) / 2, (1u << bits) - 1}) {
      if (threshold == 0) continue;
      for (std::size_t n : {1u, 15u, 16u, 31u, 33u, 1000u, 8192u}) {
        std::vector<std::uint8_t> keystream(n * bits / 8 + 2 + 64);
        for (auto& b : keystream) b = static_cast<std::uint8_t>(rng());
        std::vector<float> reference(n);
        for (auto& x : reference) x = static_cast<float>(rng() % 1000) * 0.01f;
        const std::vector<float> original = reference;
        kernels.front().kernel(reference.data(), keystream.data(), n, bits, threshold, 2.5f);
        for (const auto& k : kernels) {
          std::vector<float> got = original;
          k.kernel(got.data(), keystream.data(), n, bits, threshold, 2.5f);
          INFO("kernel " << k.name << " bits " << bits << " T " << threshold << " n " << n);
          CHECK(got == reference);
        }
      }
    }
  }
}

TEST_CASE("Every available self-hash row kernel equals the portable loop bit for bit", "[kgw]") {
  // Lanes of 16 bits against thresholds at both ends; logits including −0.0, which only the green
  // ones may change.
  std::mt19937_64 rng(9);
  const auto kernels = detail::available_below_kernels();
  INFO("kernels available: " << kernels.size());
  for (const std::uint32_t threshold : {1u, 0x4000u, 0xffffu}) {
    for (const std::size_t n : {0u, 1u, 7u, 8u, 15u, 16u, 17u, 31u, 2048u}) {
      // One entry more than the kernels see, so that n = 0 still passes real pointers (memcmp's too).
      std::vector<std::uint16_t> lanes(n + 1);
      for (auto& l : lanes) l = static_cast<std::uint16_t>(rng() % 4 == 0 ? 0 : rng());
      std::vector<float> original(n + 1);
      for (auto& x : original) x = rng() % 5 == 0 ? -0.0f : static_cast<float>(static_cast<int>(rng() % 2000) - 1000) * 0.01f;
      std::vector<float> reference = original;
      kernels.front().kernel(reference.data(), lanes.data(), n, threshold, 2.5f);
      for (std::size_t i = 0; i < n; ++i) {
        const float want = lanes[i] < threshold ? original[i] + 2.5f : original[i];
        if (std::memcmp(&reference[i], &want, sizeof want) != 0) FAIL("portable kernel at " << i);
      }
      for (const auto& k : kernels) {
        std::vector<float> got = original;
        k.kernel(got.data(), lanes.data(), n, threshold, 2.5f);
        INFO("kernel " << k.name << " T " << threshold << " n " << n);
        CHECK(std::memcmp(got.data(), reference.data(), (n + 1) * sizeof(float)) == 0);  // nothing past n
      }
    }
  }
}

#include <filesystem>
#include <unistd.h>

#include "tritium/tritium.h"

TEST_CASE("Dense bias equals is_green over whole server-sized rows in C++ and through the C ABI",
          "[kgw][c_abi]") {
  // Servers call bias_dense with rows of 32k-262k logits, many 8,192-token keystream chunks; every
  // chunk, and the tail after the last whole one, must mark exactly the tokens is_green names.
  const auto dir = std::filesystem::temp_directory_path() /
                   ("tritium-kgw-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  for (std::uint32_t vocab : {32000u, 151936u, 262144u}) {
    for (seeding s : {seeding::lefthash, seeding::selfhash}) {
      for (double gamma : {0.25, 0.1}) {
        const std::uint32_t h = 2;
        const key k = make_key(vocab, gamma, h, s);
        const kgw scheme(k);
        const std::vector<token_id> window = {static_cast<token_id>(vocab - 1), 12345};
        std::vector<float> dense(vocab, 0.0f);
        scheme.bias_dense(window, dense);

        const auto path = dir / ("k" + std::to_string(vocab) + seeding_name(s) + std::to_string(gamma));
        k.save(path);
        tritium_key* ck = nullptr;
        REQUIRE(tritium_key_load(path.c_str(), &ck) == TRITIUM_OK);
        tritium_stream* stream = nullptr;
        REQUIRE(tritium_stream_create(ck, vocab, nullptr, &stream) == TRITIUM_OK);
        REQUIRE(tritium_stream_begin(stream, window.data(), window.size()) == TRITIUM_OK);
        REQUIRE(tritium_stream_active(stream) == 1);
        std::vector<float> through_abi(vocab, 0.0f);
        REQUIRE(tritium_stream_bias_dense(stream, through_abi.data(), vocab) == TRITIUM_OK);
        tritium_stream_free(stream);
        tritium_key_free(ck);

        std::size_t wrong = 0, wrong_abi = 0, green = 0;
        std::size_t first_wrong = vocab;
        for (std::uint32_t v = 0; v < vocab; ++v) {
          const bool g = scheme.is_green(window, static_cast<token_id>(v));
          green += g;
          const float expected = g ? static_cast<float>(k.params().delta) : 0.0f;
          if (dense[v] != expected) {
            ++wrong;
            first_wrong = std::min<std::size_t>(first_wrong, v);
          }
          wrong_abi += through_abi[v] != expected;
        }
        INFO("V " << vocab << " seeding " << seeding_name(s) << " gamma " << gamma
                  << " first disagreement at " << first_wrong);
        CHECK(wrong == 0);
        CHECK(wrong_abi == 0);
        // The green count is Binomial(V, γ) (self-hash: V independent draws too): within the
        // 99.99% interval, |z| < 3.9, so a kernel that wrote nothing past a chunk would fail here.
        const double sd = std::sqrt(vocab * gamma * (1 - gamma));
        CHECK(std::abs(static_cast<double>(green) - vocab * gamma) < 3.9 * sd);
      }
    }
  }
  std::filesystem::remove_all(dir);
}
