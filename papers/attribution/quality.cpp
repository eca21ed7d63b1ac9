// The per-step quality of watermark designs on common contexts (papers/attribution.md §7.1).
//
//   attribution_quality MODEL CONTEXTS KEY@ACCOUNT... -- DELTA:ACCOUNT_DELTA...
//
// CONTEXTS: one document per line, "n t_1 t_2 ... t_m": m token ids of which the first n are the
// prompt. KEY@ACCOUNT: a key made with `keygen --trace` and an account id; document i uses the
// (i mod K)-th of them. DELTA:ACCOUNT_DELTA: a design, KGW with bias δ plus δ_a on the account's
// quarter (δ_a = 0: single-key KGW); the first design is the reference.
//
// For every answer step (context = the tokens before it), with p the reference model's next-token law,
// g(v) the green bit and m(v) the account-match bit of the key's lanes, a design samples from
// q ∝ p · e^{δ g + δ_a m}. The program adds H(q, p) = Σ_v q(v) (−ln p(v)), the expected negative
// log-likelihood of the step, and the green share Σ_{g(v) = 1} q(v). All designs see the same
// contexts AND the same lanes, so their differences carry neither the tokens' sampling noise nor the
// luck of one key's green list; the standard errors come from the documents (paired). Per step only
// four class sums are needed (of p and of p·(−ln p) over the four (g, m) classes), so any number of
// designs costs one pass over the row. Output: one line per design, tab-separated: exp(mean H) (the
// step perplexity), the green and account-match shares, and the paired difference from the first
// design in percent with its standard error.
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "tritium/key.hpp"
#include "tritium/kgw.hpp"
#include "tritium/ngram_lm.hpp"
#include "tritium/trace.hpp"

namespace {

struct trace_key {
  std::unique_ptr<tritium::key> key;
  std::shared_ptr<const tritium::kgw> scheme;
  tritium::account_code account;
};

struct design {
  double delta = 0.0, account_delta = 0.0;
  std::vector<double> doc_h, doc_green, doc_match;  // per document, mean over its steps
};

}  // namespace

int main(int argc, char** argv) try {
  if (argc < 6) {
    std::cerr << "usage: attribution_quality MODEL CONTEXTS KEY@ACCOUNT... -- DELTA:ACCOUNT_DELTA...\n";
    return 2;
  }
  const tritium::ngram_lm model = tritium::ngram_lm::load(argv[1]);
  const std::size_t V = model.vocab_size();
  std::vector<trace_key> keys;
  std::vector<design> designs;
  bool after = false;
  for (int i = 3; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--") {
      after = true;
      continue;
    }
    if (after) {
      design d;
      if (std::sscanf(arg.c_str(), "%lf:%lf", &d.delta, &d.account_delta) != 2) {
        throw std::runtime_error("design '" + arg + "': expected DELTA:ACCOUNT_DELTA");
      }
      designs.push_back(std::move(d));
      continue;
    }
    const auto at = arg.find('@');
    if (at == std::string::npos) throw std::runtime_error("'" + arg + "': expected KEY@ACCOUNT");
    trace_key k;
    k.key = std::make_unique<tritium::key>(tritium::key::load(arg.substr(0, at)));
    k.key->require_logits_width(static_cast<std::uint32_t>(V), argv[1]);
    k.key->require_trace("attribution_quality");
    k.scheme = std::make_shared<const tritium::kgw>(*k.key);
    k.account = tritium::derive_account_code(*k.key, arg.substr(at + 1), *k.key->trace());
    if (!(k.key->trace()->account_delta < k.key->params().delta)) {
      throw std::runtime_error("'" + arg + "': expected the key's account delta below its delta (the classes are told apart by them)");
    }
    keys.push_back(std::move(k));
  }
  if (keys.empty() || designs.empty()) throw std::runtime_error("expected keys, then -- and designs");
  std::ifstream in(argv[2]);
  if (!in) throw std::runtime_error(std::string("cannot read ") + argv[2]);
  std::vector<double> p(V);
  std::vector<float> bias(V);
  std::string line;
  std::size_t steps = 0, docs = 0;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::size_t n = 0;
    ls >> n;
    std::vector<tritium::token_id> ids;
    for (tritium::token_id t; ls >> t;) ids.push_back(t);
    const trace_key& k = keys[docs % keys.size()];
    const tritium::kgw& s = *k.scheme;
    const std::size_t hw = s.context_width(), hp = k.key->trace()->position_width;
    if (n < std::max(hw, hp) || n >= ids.size()) continue;
    // A step's classes are read off one fused bias row under the key's own weights: 0, δ_a (match),
    // δ (green), δ + δ_a (both); δ_a < δ (checked at load) keeps them apart.
    const float d = static_cast<float>(s.params().delta), da = static_cast<float>(k.key->trace()->account_delta);
    std::vector<double> h(designs.size(), 0.0), green(designs.size(), 0.0), match(designs.size(), 0.0);
    for (std::size_t t = n; t < ids.size(); ++t) {
      const std::size_t from = t > model.context_length() ? t - model.context_length() : 0;
      model.distribution(std::span<const tritium::token_id>(ids).subspan(from, t - from), p);
      const auto step = s.account_step_at(std::span<const tritium::token_id>(ids.data() + t - hp, hp), k.account);
      std::fill(bias.begin(), bias.end(), 0.0f);
      s.bias_dense(std::span<const tritium::token_id>(ids.data() + t - hw, hw), bias, step);
      double mass[4] = {0, 0, 0, 0}, nll[4] = {0, 0, 0, 0};
      for (std::size_t v = 0; v < V; ++v) {
        if (!(p[v] > 0.0)) continue;
        const float b = bias[v];
        const int g = b >= d - 1e-4f ? 2 : 0;
        const int m = std::fabs(b - (g ? d : 0.0f) - da) < 1e-4f ? 1 : 0;
        mass[g | m] += p[v];
        nll[g | m] -= p[v] * std::log(p[v]);
      }
      for (std::size_t j = 0; j < designs.size(); ++j) {
        const design& e = designs[j];
        double z = 0.0, hz = 0.0, gz = 0.0, mz = 0.0;
        for (int c = 0; c < 4; ++c) {
          const double w = std::exp(((c & 2) ? e.delta : 0.0) + ((c & 1) ? e.account_delta : 0.0));
          z += w * mass[c];
          hz += w * nll[c];
          if (c & 2) gz += w * mass[c];
          if (c & 1) mz += w * mass[c];
        }
        h[j] += hz / z;
        green[j] += gz / z;
        match[j] += mz / z;
      }
    }
    const double count = static_cast<double>(ids.size() - n);
    for (std::size_t j = 0; j < designs.size(); ++j) {
      designs[j].doc_h.push_back(h[j] / count);
      designs[j].doc_green.push_back(green[j] / count);
      designs[j].doc_match.push_back(match[j] / count);
    }
    steps += ids.size() - n;
    ++docs;
  }
  if (docs < 2) throw std::runtime_error("fewer than two documents with an answer");
  std::cout << "delta\taccount_delta\tsteps\tstep_perplexity\tgreen_share\tmatch_share\tvs_first_percent\tpaired_se_percent\n";
  for (const design& e : designs) {
    double mean = 0.0, g = 0.0, m = 0.0, diff = 0.0, diff2 = 0.0;
    for (std::size_t i = 0; i < docs; ++i) {
      mean += e.doc_h[i];
      g += e.doc_green[i];
      m += e.doc_match[i];
      const double x = e.doc_h[i] - designs.front().doc_h[i];
      diff += x;
      diff2 += x * x;
    }
    const double n = static_cast<double>(docs);
    mean /= n;
    diff /= n;
    const double se = std::sqrt(std::max(0.0, diff2 / n - diff * diff) / (n - 1));
    std::printf("%g\t%g\t%zu\t%.4f\t%.4f\t%.4f\t%+.3f\t%.3f\n", e.delta, e.account_delta, steps, std::exp(mean), g / n,
                m / n, 100.0 * std::expm1(diff), 100.0 * se);
  }
  return 0;
} catch (const std::exception& e) {
  std::cerr << "attribution_quality: " << e.what() << "\n";
  return 1;
}
