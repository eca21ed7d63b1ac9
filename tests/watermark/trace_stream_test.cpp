// Account marks in generation (papers/attribution.md §6.1): with δ_a the global test keeps KGW's
// green rate, and the account's symbol is chosen at the rate design (b) predicts. Fixed seeds;
// tolerances from exact binomial and hypergeometric laws at 99.9%.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <memory>
#include <vector>

#include "tritium/binomial_tail.hpp"
#include "tritium/key.hpp"
#include "tritium/kgw.hpp"
#include "tritium/kgw_stream.hpp"
#include "tritium/synthetic_lm.hpp"
#include "tritium/trace.hpp"

using namespace tritium;

namespace {

constexpr double two_sided_level = 1e-3;  // a 99.9% interval: 0.05% in each tail

// The central 99.9% interval [lo, hi] of Binomial(n, p): P(X < lo) ≤ 0.0005 and P(X > hi) ≤ 0.0005.
std::pair<std::uint64_t, std::uint64_t> binomial_interval(std::uint64_t n, double p) {
  std::vector<double> pmf(n + 1);
  for (std::uint64_t k = 0; k <= n; ++k) pmf[k] = std::exp(binomial_log_pmf(n, k, p));
  std::uint64_t lo = 0;
  for (double below = 0.0; lo < n && below + pmf[lo] <= two_sided_level / 2; ++lo) below += pmf[lo];
  std::uint64_t hi = n;
  for (double above = 0.0; hi > 0 && above + pmf[hi] <= two_sided_level / 2; --hi) above += pmf[hi];
  return {lo, hi};
}

// The same for the hypergeometric law of the first sample's successes given m successes in two
// samples of n draws each: what Fisher's exact test compares when both have one rate.
std::pair<std::uint64_t, std::uint64_t> equal_rate_interval(std::uint64_t n, std::uint64_t m) {
  auto log_choose = [](double a, double b) {
    return std::lgamma(a + 1) - std::lgamma(b + 1) - std::lgamma(a - b + 1);
  };
  const std::uint64_t k_min = m > n ? m - n : 0;
  const std::uint64_t k_max = std::min(n, m);
  const double total = log_choose(2.0 * static_cast<double>(n), static_cast<double>(m));
  std::vector<double> pmf(k_max + 1, 0.0);
  for (std::uint64_t k = k_min; k <= k_max; ++k) {
    pmf[k] = std::exp(log_choose(static_cast<double>(n), static_cast<double>(k)) +
                      log_choose(static_cast<double>(n), static_cast<double>(m - k)) - total);
  }
  std::uint64_t lo = k_min;
  for (double below = 0.0; lo < k_max && below + pmf[lo] <= two_sided_level / 2; ++lo) {
    below += pmf[lo];
  }
  std::uint64_t hi = k_max;
  for (double above = 0.0; hi > k_min && above + pmf[hi] <= two_sided_level / 2; --hi) {
    above += pmf[hi];
  }
  return {lo, hi};
}

kgw_params params_for(std::uint32_t vocab) {
  kgw_params p;
  p.set_gamma(0.25);
  p.delta = 2.0;
  p.context_width = 1;
  p.vocab_size = vocab;
  return p;
}

key test_key(std::uint32_t vocab, std::uint8_t fill) {
  std::array<std::uint8_t, key::secret_size> secret{};
  secret.fill(fill);
  return key::from_secret(secret, params_for(vocab), trace_params{});
}

// Green tokens among `n` sampled from the synthetic LM through a stream (account or not).
std::uint64_t green_count(const key& k, const account_code* account, std::uint64_t seed,
                          std::uint64_t n) {
  const auto scheme = std::make_shared<const kgw>(k);
  const synthetic_lm lm(k.params().vocab_size, 7, 1.6);
  stream_options o;
  o.seed = seed;
  kgw_stream stream(scheme, o);
  stream.set_account(account);
  const std::vector<token_id> prompt = {1, 2, 3};
  stream.begin(prompt);
  std::vector<float> logits(k.params().vocab_size);
  std::uint64_t green = 0;
  for (std::uint64_t i = 0; i < n; ++i) {
    REQUIRE(stream.active());
    REQUIRE(stream.account_active() == (account != nullptr));
    lm.logits(stream.window().back(), logits);
    const token_id t = stream.sample(logits);
    if (scheme->is_green(stream.window(), t)) ++green;
    stream.accept(t);
  }
  return green;
}

}  // namespace

TEST_CASE("With an account the green rate on the synthetic LM stays KGW's", "[trace][stream]") {
  // V = 4096 keeps the test fast; the synthetic LM at s = 1.6 is a peaked law, where the
  // factorisation of design (b) is only approximate (papers/attribution.md §3.2, §5.1).
  const key k = test_key(4096, 0x5a);
  const account_code code = derive_account_code(k, "acct-000042", *k.trace());
  constexpr std::uint64_t n = 8000;
  const std::uint64_t with_account = green_count(k, &code, 11, n);
  const std::uint64_t kgw_only = green_count(k, nullptr, 12, n);
  const auto [lo, hi] = equal_rate_interval(n, with_account + kgw_only);
  INFO("green with account " << with_account << ", KGW only " << kgw_only << " of " << n
                             << " each; 99.9% interval given the total [" << lo << ", " << hi << "]");
  CHECK(with_account >= lo);
  CHECK(with_account <= hi);
  // And both are watermarked: far above γ = 1/4 (the exact binomial tail at 1e-10).
  CHECK(binomial_upper_tail_log10(n, kgw_only, 0.25) < -10.0);
}

TEST_CASE("On a flat row the account symbol is chosen at e^da / (e^da + 3)", "[trace][stream]") {
  // Flat law: green and match factorise, so the match rate is exactly q_1 = e^{δ_a}/(e^{δ_a} + r − 1)
  // and the green rate exactly ρ_KGW = γe^δ/(γe^δ + 1 − γ) (papers/attribution.md §3.2).
  constexpr std::uint32_t vocab = 32000;
  const key k = test_key(vocab, 0xa5);
  const auto scheme = std::make_shared<const kgw>(k);
  const account_code code = derive_account_code(k, "acct-flat", *k.trace());
  const double account_delta = k.trace()->account_delta;
  const double q1 = std::exp(account_delta) / (std::exp(account_delta) + 3.0);
  const double gamma = k.params().gamma();
  const double rho = gamma * std::exp(2.0) / (gamma * std::exp(2.0) + 1.0 - gamma);

  // The stream keeps the last max(h, h_p) = 3 tokens; each step's position window is its last 3.
  stream_options o;
  o.seed = 2026;
  kgw_stream stream(scheme, o);
  stream.set_account(&code);
  const std::vector<token_id> prompt = {5, 6, 7};
  stream.begin(prompt);
  const std::vector<double> flat(vocab, 1.0);
  const trace_prf& trace = *scheme->trace();
  constexpr std::uint64_t n = 20000;
  std::uint64_t matches = 0;
  std::uint64_t greens = 0;
  std::vector<token_id> history = prompt;
  for (std::uint64_t i = 0; i < n; ++i) {
    const std::span<const token_id> position_window(history.data() + history.size() - 3, 3);
    const prf_context g = trace.context(position_window);
    const std::uint32_t symbol = code.symbols[trace.position(g)];
    const token_id t = stream.sample_probabilities(flat);
    if (trace.account_lane(g, t) == symbol) ++matches;
    if (scheme->is_green(stream.window(), t)) ++greens;
    stream.accept(t);
    history.push_back(t);
  }
  const auto [m_lo, m_hi] = binomial_interval(n, q1);
  INFO("matches " << matches << " of " << n << ", expected q1 = " << q1 << ", 99.9% interval ["
                  << m_lo << ", " << m_hi << "]");
  CHECK(matches >= m_lo);
  CHECK(matches <= m_hi);
  const auto [g_lo, g_hi] = binomial_interval(n, rho);
  INFO("greens " << greens << ", expected rho = " << rho << ", interval [" << g_lo << ", " << g_hi << "]");
  CHECK(greens >= g_lo);
  CHECK(greens <= g_hi);
}

TEST_CASE("The account symbol needs h_p tokens of context and a watermarked step", "[trace][stream]") {
  const key k = test_key(1000, 0x11);  // h = 1, h_p = 3
  const auto scheme = std::make_shared<const kgw>(k);
  const account_code code = derive_account_code(k, "acct-1", *k.trace());
  kgw_stream stream(scheme);
  stream.set_account(&code);
  const std::vector<token_id> one = {4};
  stream.begin(one);
  CHECK(stream.active());
  CHECK_FALSE(stream.account_active());  // KGW runs, the account waits for 3 tokens
  std::vector<float> row(1000, 0.0f), kgw_row(1000, 0.0f);
  stream.bias_dense(row);
  scheme->bias_dense(stream.window(), kgw_row);
  CHECK(row == kgw_row);
  stream.accept(5);
  stream.accept(6);
  REQUIRE(stream.account_active());
  CHECK(stream.window().size() == 1);
  CHECK(stream.window()[0] == 6);
  std::fill(row.begin(), row.end(), 0.0f);
  stream.bias_dense(row);
  const std::vector<token_id> window = {4, 5, 6};
  const account_step step = scheme->account_step_at(window, code);
  std::fill(kgw_row.begin(), kgw_row.end(), 0.0f);
  scheme->bias_dense(stream.window(), kgw_row, step);
  CHECK(row == kgw_row);
  // The setting survives begin and reset; nullptr goes back to KGW alone.
  stream.reset();
  CHECK(stream.account() == &code);
  stream.set_account(nullptr);
  const std::vector<token_id> three = {4, 5, 6};
  stream.begin(three);
  CHECK_FALSE(stream.account_active());
}

TEST_CASE("Self-hash keys add the account bias on top of their green lists", "[trace][stream]") {
  // Self-hash green lists are not a keystream, so the account pass runs after the green one; every
  // candidate must still end at δ·green + δ_a·match, dense and sparse alike.
  kgw_params p = params_for(1000);
  p.seeding_scheme = seeding::selfhash;
  p.context_width = 2;
  std::array<std::uint8_t, key::secret_size> secret{};
  secret.fill(0x33);
  trace_params t;
  t.position_width = 4;  // h_p > h: the stream keeps 4 tokens
  const key k = key::from_secret(secret, p, t);
  const auto scheme = std::make_shared<const kgw>(k);
  const account_code code = derive_account_code(k, "acct-self", *k.trace());
  kgw_stream stream(scheme);
  stream.set_account(&code);
  const std::vector<token_id> prompt = {10, 20, 30, 40};
  stream.begin(prompt);
  REQUIRE(stream.account_active());
  std::vector<float> row(1000, 0.0f);
  stream.bias_dense(row);
  const trace_prf& trace = *scheme->trace();
  const prf_context g = trace.context(prompt);
  const std::uint32_t symbol = code.symbols[trace.position(g)];
  const std::vector<token_id> window = {30, 40};
  std::vector<token_id> ids(1000);
  std::size_t greens = 0, matches = 0;
  for (token_id v = 0; v < 1000; ++v) {
    const bool green = scheme->is_green(window, v);
    const bool match = trace.account_lane(g, v) == symbol;
    greens += green;
    matches += match;
    float expected = 0.0f;
    if (green) expected += static_cast<float>(p.delta);
    if (match) expected += static_cast<float>(t.account_delta);
    if (row[static_cast<std::size_t>(v)] != expected) FAIL("candidate " << v);
    ids[static_cast<std::size_t>(v)] = v;
  }
  CHECK(greens > 0);
  CHECK(matches > 0);
  std::vector<float> sparse(1000, 0.0f);
  stream.bias_sparse(ids, sparse);
  CHECK(sparse == row);
}

TEST_CASE("Account sampling draws from the biased law exactly and so does its dense fallback",
          "[trace][stream]") {
  // δ = 12 and δ_a = 8 on a flat row: a proposal that is neither green nor a match is accepted
  // with e^-20, so many draws exhaust their proposals and take the exact dense draw. Whatever the
  // path, P(green and match) = n_both·e^20 / Σ_class n_class·w_class exactly, for this one step.
  constexpr std::uint32_t vocab = 1000;
  kgw_params p = params_for(vocab);
  p.delta = 12.0;
  std::array<std::uint8_t, key::secret_size> secret{};
  secret.fill(0x77);
  trace_params t;
  t.account_delta = 8.0;
  const key k = key::from_secret(secret, p, t);
  const kgw scheme(k);
  const account_code code = derive_account_code(k, "acct-fallback", *k.trace());
  const std::vector<token_id> window = {9};
  const std::vector<token_id> position_window = {7, 8, 9};
  const account_step step = scheme.account_step_at(position_window, code);
  std::array<double, 4> class_size{};
  std::vector<int> class_of(vocab);
  for (token_id v = 0; v < static_cast<token_id>(vocab); ++v) {
    const int c = (scheme.is_green(window, v) ? 1 : 0) +
                  (scheme.trace()->account_lane(step.g, v) == step.symbol ? 2 : 0);
    class_of[static_cast<std::size_t>(v)] = c;
    class_size[static_cast<std::size_t>(c)] += 1.0;
  }
  const std::array<double, 4> weight = {1.0, std::exp(12.0), std::exp(8.0), std::exp(20.0)};
  double total = 0.0;
  for (std::size_t c = 0; c < 4; ++c) total += class_size[c] * weight[c];
  const double p_match_only = class_size[2] * weight[2] / total;
  const double p_green_only = class_size[1] * weight[1] / total;

  sampling_scratch scratch;
  const std::vector<double> flat(vocab, 1.0);
  kgw::prepare_probabilities(flat, scratch);
  sampling_rng rng(99);
  constexpr std::uint64_t n = 4000;
  std::array<std::uint64_t, 4> drawn{};
  for (std::uint64_t i = 0; i < n; ++i) {
    ++drawn[static_cast<std::size_t>(
        class_of[static_cast<std::size_t>(scheme.draw_prepared(window, rng, scratch, &step))])];
  }
  CHECK(scratch.fallbacks > 0);
  INFO("classes drawn " << drawn[0] << " " << drawn[1] << " " << drawn[2] << " " << drawn[3]
                        << "; fallbacks " << scratch.fallbacks);
  // Green-only draws (P ≈ 1e-3 here) and match-only draws: each within its 99.9% binomial interval.
  const auto [g_lo, g_hi] = binomial_interval(n, p_green_only);
  CHECK(drawn[1] >= g_lo);
  CHECK(drawn[1] <= g_hi);
  const auto [m_lo, m_hi] = binomial_interval(n, p_match_only);
  CHECK(drawn[2] >= m_lo);
  CHECK(drawn[2] <= m_hi);
}
