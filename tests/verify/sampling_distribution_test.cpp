// Distribution tests of the samplers: every draw path must follow the distribution it promises,
// checked by a chi-square goodness-of-fit test whose p-value is uniform under a correct sampler
// (a fixed seed; the 1e-4 threshold fails a correct sampler for 1 seed in 10,000).
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <memory>
#include <numeric>
#include <random>
#include <vector>

#include "tritium/sampler.hpp"
#include "tritium/kgw.hpp"
#include "tritium/kgw_stream.hpp"
#include "tritium/language_model.hpp"
#include "tritium/uniformity.hpp"

using namespace tritium;

namespace {

constexpr std::uint32_t vocab = 40;

// p = 0 cells must never be drawn; the others go into Pearson's statistic.
double goodness_of_fit_p(const std::vector<double>& counts, const std::vector<double>& expected_share,
                         double draws) {
  double chi2 = 0;
  int cells = 0;
  for (std::size_t v = 0; v < counts.size(); ++v) {
    if (expected_share[v] == 0) {
      CHECK(counts[v] == 0);
      continue;
    }
    const double e = draws * expected_share[v];
    REQUIRE(e >= 5);
    chi2 += (counts[v] - e) * (counts[v] - e) / e;
    ++cells;
  }
  REQUIRE(cells >= 2);
  return chi_square_upper_tail(chi2, cells - 1);
}

std::vector<double> skewed_probabilities() {
  std::vector<double> p(vocab);
  for (std::uint32_t v = 0; v < vocab; ++v) p[v] = 1.0 / (1.0 + v) + 0.02;
  const double total = std::accumulate(p.begin(), p.end(), 0.0);
  for (double& x : p) x /= total;
  return p;
}

key test_key(std::uint32_t h) {
  std::array<std::uint8_t, key::secret_size> secret{};
  secret[3] = 9;
  kgw_params params;
  params.set_gamma(0.25);
  params.delta = 2.0;
  params.context_width = h;
  params.vocab_size = vocab;
  return key::from_secret(secret, params);
}

// A model whose next-token distribution is the same fixed vector after any context.
class fixed_model final : public language_model {
 public:
  explicit fixed_model(std::vector<double> p) : p_(std::move(p)) {}
  std::uint32_t vocab_size() const noexcept override { return static_cast<std::uint32_t>(p_.size()); }
  std::uint32_t context_length() const noexcept override { return 1; }
  void distribution(std::span<const token_id>, std::span<double> probs) const override {
    std::copy(p_.begin(), p_.end(), probs.begin());
  }
  double probability(std::span<const token_id>, token_id token) const override {
    return p_[static_cast<std::size_t>(token)];
  }

 private:
  std::vector<double> p_;
};

}  // namespace

TEST_CASE("sample_plain draws from softmax(logits)", "[sampling][statistics]") {
  std::vector<float> logits(vocab);
  for (std::uint32_t v = 0; v < vocab; ++v) logits[v] = -0.1f * static_cast<float>(v);
  std::vector<double> share(vocab);
  double total = 0;
  for (std::uint32_t v = 0; v < vocab; ++v) total += share[v] = std::exp(static_cast<double>(logits[v]));
  for (double& s : share) s /= total;
  const int draws = 200000;
  std::vector<double> counts(vocab, 0);
  sampling_rng rng(99);
  sampling_scratch scratch;
  for (int i = 0; i < draws; ++i) counts[static_cast<std::size_t>(kgw::sample_plain(logits, rng, scratch))] += 1;
  const double p = goodness_of_fit_p(counts, share, draws);
  INFO("chi-square p = " << p);
  CHECK(p > 1e-4);
}

TEST_CASE("sample_probabilities draws from p * exp(delta * green), and from p where unwatermarked",
          "[sampling][statistics]") {
  const auto probs = skewed_probabilities();
  auto scheme = std::make_shared<const kgw>(test_key(1));
  const int draws = 200000;
  const token_id context[1] = {7};
  std::vector<double> watermarked(vocab), plain(probs);
  double total = 0;
  for (std::uint32_t v = 0; v < vocab; ++v) {
    watermarked[v] = probs[v] * (scheme->is_green(context, static_cast<token_id>(v)) ? std::exp(2.0) : 1.0);
    total += watermarked[v];
  }
  for (double& w : watermarked) w /= total;

  std::vector<double> counts(vocab, 0), counts_plain(vocab, 0);
  stream_options o;
  o.seed = 4;
  kgw_stream stream(scheme, o);
  int active_without_context = 0;
  for (int i = 0; i < draws; ++i) {
    stream.begin(context);  // the same context every time: one distribution to test
    counts[static_cast<std::size_t>(stream.sample_probabilities(probs))] += 1;
    stream.begin({});  // no context: the step is not watermarked
    active_without_context += stream.active();
    counts_plain[static_cast<std::size_t>(stream.sample_probabilities(probs))] += 1;
  }
  const double p = goodness_of_fit_p(counts, watermarked, draws);
  const double p_plain = goodness_of_fit_p(counts_plain, plain, draws);
  INFO("watermarked p = " << p << ", plain p = " << p_plain);
  CHECK(active_without_context == 0);
  CHECK(p > 1e-4);
  CHECK(p_plain > 1e-4);
}

TEST_CASE("Generation with temperature and top-p draws from the shaped distribution",
          "[sampling][statistics]") {
  // The shaped distribution written out from its definition: p^(1/T) renormalised, then the
  // nucleus, the fewest most probable tokens whose mass reaches top-p (Holtzman et al. 2020),
  // renormalised; the watermark then multiplies green entries by e^delta.
  const auto probs = skewed_probabilities();
  const fixed_model model(probs);
  for (const auto& [temperature, top_p, watermark] :
       {std::tuple{0.7, 0.8, false}, std::tuple{1.6, 0.95, true}, std::tuple{1.0, 0.5, true}}) {
    std::vector<double> shaped(vocab);
    double total = 0;
    for (std::uint32_t v = 0; v < vocab; ++v) total += shaped[v] = std::pow(probs[v], 1.0 / temperature);
    for (double& s : shaped) s /= total;
    std::vector<std::uint32_t> order(vocab);
    std::iota(order.begin(), order.end(), 0u);
    std::sort(order.begin(), order.end(), [&](auto a, auto b) { return shaped[a] > shaped[b]; });
    double mass = 0;
    std::vector<double> nucleus(vocab, 0.0);
    for (std::uint32_t v : order) {
      if (mass >= top_p) break;
      mass += nucleus[v] = shaped[v];
    }
    const token_id prompt[1] = {3};
    auto scheme = std::make_shared<const kgw>(test_key(1));
    total = 0;
    for (std::uint32_t v = 0; v < vocab; ++v) {
      if (watermark && scheme->is_green(prompt, static_cast<token_id>(v))) nucleus[v] *= std::exp(2.0);
      total += nucleus[v];
    }
    for (double& s : nucleus) s /= total;

    next_token_sampler sampler(model, scheme, !watermark, temperature, top_p);
    const int draws = 100000;
    std::vector<double> counts(vocab, 0);
    for (int i = 0; i < draws; ++i) {
      counts[static_cast<std::size_t>(sampler.generate(prompt, 1, 1000 + static_cast<std::uint64_t>(i))[0])] += 1;
    }
    const double p = goodness_of_fit_p(counts, nucleus, draws);
    INFO("T " << temperature << " top-p " << top_p << " watermark " << watermark << ": p = " << p);
    CHECK(p > 1e-4);
  }
}
