// papers/attribution/simulate.cpp — the synthetic simulation behind papers/attribution.md.
//
// Build and run (one core, about a minute; prints every table of the paper's §5):
//   g++ -O2 -std=c++20 -o /tmp/attribution_sim papers/attribution/simulate.cpp
//   nice -n 10 /tmp/attribution_sim > papers/attribution/results.txt
// An optional argument runs one part: check, global, trace, null or rank (a second argument after
// `trace` sets the clusters per row, default 10).
//
// Standalone on purpose: it links nothing from tritium, so it cannot be mistaken for the
// implementation, and the implementation's tests can be checked against its tables. Keyed
// functions here are splitmix64's 64-bit finaliser over a seed, not tritium-prf-v1: the statistics
// only need lanes that are independent and uniform, which both give. Every random choice comes
// from a fixed seed, so two runs print the same numbers (the timings aside).
//
// The model (papers/attribution.md §5): KGW context width h = 1; the context of a step is an id
// drawn from a Zipf law over V ids (s = 1, like unigram frequencies), independently from step to
// step; the next token is drawn from the context's own next-token law, a Zipf law over ranks whose
// rank → token map is a keyed bijection per context (so lanes and probabilities are independent).
// The account position window is the last three context ids. Watermarked sampling is exact:
// rejection from the model's law with acceptance w(token)/w_max.
//
// Parts: 0. the exact null against enumeration; 1. the global test (green rate, tokens for
// log10 p = −10, perplexity) per design; 2. tracing (tokens per colluder until every member of a
// cluster is accused at family-wise 1e-6 among 10,000 accounts); 3. 1,000 null runs with 10,000
// innocent accounts each; 4. the cost of ranking 10^6 accounts.
#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

// ---------------------------------------------------------------- randomness and keyed lanes
std::uint64_t mix64(std::uint64_t z) {
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
std::uint64_t keyed(std::uint64_t k, std::uint64_t a, std::uint64_t b) {
  return mix64(k ^ mix64(a ^ mix64(b + 0x632be59bd9b4e019ULL)));
}

struct rng {
  std::uint64_t s;
  explicit rng(std::uint64_t seed) : s(seed) {}
  std::uint64_t next() { return mix64(s += 0x9e3779b97f4a7c15ULL); }
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
};

// ---------------------------------------------------------------- Zipf law with an alias table
struct zipf_law {
  std::uint32_t V = 0;
  double s = 0;
  std::vector<double> neglogp;  // −ln p(rank)
  std::vector<double> prob;     // alias table
  std::vector<std::uint32_t> alias;
  double entropy = 0;  // nats

  zipf_law(std::uint32_t v, double exponent) : V(v), s(exponent), neglogp(v), prob(v), alias(v) {
    std::vector<double> p(v);
    double z = 0;
    for (std::uint32_t i = 0; i < v; ++i) z += p[i] = std::pow(i + 1.0, -exponent);
    entropy = 0;
    for (std::uint32_t i = 0; i < v; ++i) {
      p[i] /= z;
      neglogp[i] = -std::log(p[i]);
      entropy += p[i] * neglogp[i];
    }
    // Vose's alias method.
    std::vector<double> q(v);
    std::vector<std::uint32_t> small, large;
    for (std::uint32_t i = 0; i < v; ++i) {
      q[i] = p[i] * v;
      (q[i] < 1 ? small : large).push_back(i);
    }
    while (!small.empty() && !large.empty()) {
      std::uint32_t a = small.back(), b = large.back();
      small.pop_back();
      prob[a] = q[a];
      alias[a] = b;
      q[b] -= 1 - q[a];
      if (q[b] < 1) {
        large.pop_back();
        small.push_back(b);
      }
    }
    for (auto i : large) prob[i] = 1, alias[i] = i;
    for (auto i : small) prob[i] = 1, alias[i] = i;
  }
  std::uint32_t sample(rng& r) const {
    std::uint64_t x = r.next();
    std::uint32_t i = static_cast<std::uint32_t>((x >> 32) * V >> 32);
    double u = static_cast<double>(x & 0xffffffffULL) * 0x1.0p-32;
    return u < prob[i] ? i : alias[i];
  }
};

// Exponent of a Zipf law over V ranks with the given entropy (bisection; entropy falls with s).
double zipf_exponent_for_entropy(std::uint32_t V, double target) {
  double lo = 0, hi = 6;
  for (int it = 0; it < 40; ++it) {
    double mid = (lo + hi) / 2;
    zipf_law z(V, mid);
    (z.entropy > target ? lo : hi) = mid;
  }
  return (lo + hi) / 2;
}

// ---------------------------------------------------------------- exact binomial tails
double log_binom_pmf(int n, int k, double lp, double lq) {
  return std::lgamma(n + 1.0) - std::lgamma(k + 1.0) - std::lgamma(n - k + 1.0) + k * lp + (n - k) * lq;
}
// ln P(Binomial(n, g) ≥ k), summed in log space.
double log_binom_tail(int n, int k, double g) {
  if (k <= 0) return 0;
  if (k > n) return -INFINITY;
  const double lp = std::log(g), lq = std::log1p(-g);
  double m = log_binom_pmf(n, k, lp, lq), acc = 0;
  for (int i = k; i <= n; ++i) acc += std::exp(log_binom_pmf(n, i, lp, lq) - m);
  return m + std::log(acc);
}

// ---------------------------------------------------------------- designs (weights per class)
// A token's class is (g, m): g = green under the master list (probability γ = 1/4, lane bits 0–1),
// m = its account lane equals the symbol the context's position carries (probability 1/r, lane
// bits 2–3, independent of g). The logit of the token gets ln w[g][m].
constexpr double gamma_ = 0.25;  // KGW γ (Kirchenbauer et al. 2023 defaults, papers/kgw.md)

struct design {
  std::string name;
  double w[2][2];
  int r;  // account-lane radix (1: the design carries no account symbol)
  double wmax() const { return std::max({w[0][0], w[0][1], w[1][0], w[1][1]}); }
};

design kgw(double delta) { return {"KGW d=" + std::to_string(delta).substr(0, 4), {{1, 1}, {std::exp(delta), std::exp(delta)}}, 1}; }
design half_green(double delta) {
  // (a): only the account's half of the master green list (m = 1, r = 2) gets +δ.
  return {"(a) half-green d=" + std::to_string(delta).substr(0, 4), {{1, 1}, {1, std::exp(delta)}}, 2};
}
design orthogonal(double delta, double da, int r) {
  // (b): +δ on the master green list, +δa on the account sub-list of the whole vocabulary.
  return {"(b) d=" + std::to_string(delta).substr(0, 4) + " da=" + std::to_string(da).substr(0, 4) +
              " r=" + std::to_string(r),
          {{1, std::exp(da)}, {std::exp(delta), std::exp(delta + da)}}, r};
}
design split_green(double delta, double e1, int r) {
  // (b'): the green list keeps its total weight on flat laws; the account sub-list of the green
  // list gets e^{δ+e1}, the rest of it e^{δ}·(r − e^{e1})/(r − 1).
  double rest = (r - std::exp(e1)) / (r - 1.0);
  return {"(b') split d=" + std::to_string(delta).substr(0, 4) + " e=" + std::to_string(e1).substr(0, 4) +
              " r=" + std::to_string(r),
          {{1, 1}, {std::exp(delta) * rest, std::exp(delta + e1)}}, r};
}

// Flat (uniform) next-token law: green and match rates in closed form.
void flat_rates(const design& d, double& green, double& match) {
  double pm = d.r > 1 ? 1.0 / d.r : 1.0;
  double z = 0, zg = 0, zm = 0;
  for (int g = 0; g < 2; ++g)
    for (int m = 0; m < 2; ++m) {
      double pr = (g ? gamma_ : 1 - gamma_) * (m ? pm : 1 - pm) * d.w[g][m];
      z += pr;
      if (g) zg += pr;
      if (m) zm += pr;
    }
  green = zg / z;
  match = zm / z;
}

// Smallest n with log10 P(Binomial(n, γ) ≥ ⌈ρn⌉) ≤ target: tokens needed at green rate ρ.
int tokens_needed_at_rate(double rho, double target_log10) {
  if (rho <= gamma_ + 1e-9) return -1;
  for (int n = 1; n < 100000; ++n) {
    int k = static_cast<int>(std::ceil(rho * n - 1e-9));
    if (log_binom_tail(n, k, gamma_) / std::log(10.0) <= target_log10) return n;
  }
  return -1;
}

// ---------------------------------------------------------------- the generator
struct token_draw {
  std::uint32_t ctx, rank;
  bool green;
  std::uint32_t lane;  // account lane
  double nlp;          // −ln p(token) under the unwatermarked law
};

struct world {
  const zipf_law* ctx_law;  // law of contexts (ids in [0, V))
  const zipf_law* tok_law;  // next-token law over ranks
  std::uint64_t k_lane, k_pos;
  std::uint32_t L;
  int pos_width = 3;  // tokens in the position window (the KGW window stays h = 1)
  // Position of the code word a step carries: a keyed hash of the last pos_width context ids. A
  // wider window than KGW's spreads the load over positions (one frequent token would otherwise
  // hold ~9% of all tokens at one position: papers/attribution.md §3.5).
  int position(std::uint32_t ctx, const std::array<std::uint32_t, 2>& prev) const {
    std::uint64_t x = ctx * 0x9E3779B1ULL;
    if (pos_width >= 2) x = mix64(x ^ prev[0]) + 0x51;
    if (pos_width >= 3) x = mix64(x ^ prev[1]) + 0x77;
    return static_cast<int>(mix64(k_pos ^ x) & (L - 1));
  }
  // One token for an account whose symbol at this context's position is `sym`.
  // `envelope` ≥ every weight (default: the design's largest); a common envelope couples designs.
  token_draw draw(const design& d, int sym, rng& r, std::uint32_t ctx, double envelope = 0) const {
    const double wmax = envelope > 0 ? envelope : d.wmax();
    for (;;) {
      std::uint32_t rank = tok_law->sample(r);
      std::uint64_t h = keyed(k_lane, ctx, rank);
      bool g = (h & 3) == 0;
      std::uint32_t lane = static_cast<std::uint32_t>((h >> 2) & 3);
      bool m = d.r > 1 && static_cast<int>(lane % d.r) == sym;
      if (r.uniform() * wmax < d.w[g][m]) return {ctx, rank, g, lane % std::max(d.r, 1), tok_law->neglogp[rank]};
    }
  }
};

// ---------------------------------------------------------------- the global tape
struct tape {
  std::vector<std::uint64_t> slots;
  std::size_t used = 0;
  explicit tape(std::size_t cap_log2 = 16) : slots(std::size_t{1} << cap_log2, 0) {}
  // true if (ctx, rank) is new (then it is recorded)
  bool insert(std::uint32_t ctx, std::uint32_t rank) {
    return insert_key(((static_cast<std::uint64_t>(ctx) << 32) | rank) + 1);
  }
  // A 64-bit tuple key (0 is reserved); wider tuples are hashed to 64 bits first.
  bool insert_key(std::uint64_t key) {
    if (key == 0) key = 1;
    if ((used + 1) * 2 > slots.size()) grow();
    std::size_t mask = slots.size() - 1, i = mix64(key) & mask;
    while (slots[i] != 0) {
      if (slots[i] == key) return false;
      i = (i + 1) & mask;
    }
    slots[i] = key;
    ++used;
    return true;
  }
  void grow() {
    std::vector<std::uint64_t> old(slots.size() * 2, 0);
    old.swap(slots);
    std::size_t mask = slots.size() - 1;
    for (auto key : old)
      if (key) {
        std::size_t i = mix64(key) & mask;
        while (slots[i] != 0) i = (i + 1) & mask;
        slots[i] = key;
      }
  }
};

// ---------------------------------------------------------------- the exact conditional null
// Given per-(position, symbol) counts C[j][s] of the scored tuples, an innocent account's score
// S = Σ_j C[j][U_j] with U_j iid uniform on the r symbols (its code word is independent of the
// data). The law of S is the convolution of L discrete uniforms; computed exactly (papers/
// attribution.md §3.3). Stored as base + pmf over [0, support).
struct null_law {
  long base = 0;
  std::vector<double> pmf, tail;  // tail[x] = P(S − base ≥ x)
  double p_value(long s) const {
    long x = s - base;
    if (x <= 0) return 1;
    if (x >= static_cast<long>(tail.size())) return 0;
    return tail[x];
  }
  double p_randomised(long s, double u) const {
    long x = s - base;
    double above = (x + 1 >= static_cast<long>(tail.size())) ? 0 : (x + 1 <= 0 ? 1 : tail[x + 1]);
    double at = (x < 0 || x >= static_cast<long>(pmf.size())) ? 0 : pmf[x];
    return above + u * at;
  }
};

null_law exact_null(const std::vector<std::array<long, 4>>& C, int r) {
  null_law n;
  n.pmf.assign(1, 1.0);
  std::vector<double> next;
  const double each = 1.0 / r;
  for (const auto& c : C) {
    long mn = *std::min_element(c.begin(), c.begin() + r), mx = *std::max_element(c.begin(), c.begin() + r);
    n.base += mn;
    next.assign(n.pmf.size() + (mx - mn), 0.0);
    for (int s = 0; s < r; ++s) {
      long off = c[s] - mn;
      double* dst = next.data() + off;
      for (std::size_t x = 0; x < n.pmf.size(); ++x) dst[x] += n.pmf[x] * each;
    }
    n.pmf.swap(next);
  }
  n.tail.assign(n.pmf.size() + 1, 0.0);
  for (long x = static_cast<long>(n.pmf.size()) - 1; x >= 0; --x) n.tail[x] = n.tail[x + 1] + n.pmf[x];
  return n;
}

// The per-(position, symbol) score table h[j][s] an account's score sums over its code word.
// count: h = C (the plain match count). studentised: h = round(Q·(C[j][s] − mean_j)/sd_j), mean and
// sd over the r symbols of position j, so that every position has null variance ≈ Q² whatever its
// load and whatever other accounts wrote there (papers/attribution.md §3.3). Any table computed
// from the counts alone keeps the conditional null exact; rounding to integers keeps it computable.
enum class score_kind { count, studentised };
using table = std::vector<std::array<long, 4>>;
table score_table(const table& C, int r, score_kind kind) {
  if (kind == score_kind::count) return C;
  const double Q = std::max(4.0, 8192.0 / static_cast<double>(C.size()));
  table h(C.size(), std::array<long, 4>{0, 0, 0, 0});
  for (std::size_t j = 0; j < C.size(); ++j) {
    double m = 0, m2 = 0;
    for (int s = 0; s < r; ++s) m += C[j][s], m2 += static_cast<double>(C[j][s]) * C[j][s];
    m /= r;
    double var = m2 / r - m * m;
    if (var <= 1e-12) continue;
    for (int s = 0; s < r; ++s) h[j][s] = std::lround(Q * (C[j][s] - m) / std::sqrt(var));
  }
  return h;
}

struct code_word {
  std::vector<std::uint8_t> sym;
};
code_word random_code(std::uint64_t seed, std::uint32_t L, int r) {
  code_word c;
  c.sym.resize(L);
  std::uint64_t bits = 0;
  for (std::uint32_t j = 0; j < L; ++j) {
    if (j % 32 == 0) bits = mix64(seed + j);
    c.sym[j] = static_cast<std::uint8_t>(bits & (r - 1));
    bits >>= 2;
  }
  return c;
}
long score(const code_word& w, const std::vector<std::array<long, 4>>& C) {
  long s = 0;
  for (std::size_t j = 0; j < C.size(); ++j) s += C[j][w.sym[j]];
  return s;
}

// Šidák per-account threshold for family-wise α over N accounts (exact here: given the counts,
// innocent scores are iid — papers/attribution.md §3.4).
double sidak(double alpha, double N) { return -std::expm1(std::log1p(-alpha) / N); }

// KS statistic and asymptotic p-value of a sample against U(0, 1).
void ks_uniform(std::vector<double> v, double& D, double& p, double& d_plus) {
  std::sort(v.begin(), v.end());
  const double n = static_cast<double>(v.size());
  D = 0;
  d_plus = 0;  // sup (F_n(x) − x): positive when small p-values are too frequent
  for (std::size_t i = 0; i < v.size(); ++i) {
    double a = (i + 1) / n - v[i], b = v[i] - i / n;
    d_plus = std::max(d_plus, a);
    D = std::max({D, a, b});
  }
  double t = (std::sqrt(n) + 0.12 + 0.11 / std::sqrt(n)) * D;
  p = 0;
  for (int k = 1; k < 100; ++k) p += 2 * ((k % 2) ? 1 : -1) * std::exp(-2.0 * k * k * t * t);
  p = std::clamp(p, 0.0, 1.0);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? NAN : v[v.size() / 2];
}
double quantile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  return v.empty() ? NAN : v[static_cast<std::size_t>(std::ceil(q * (v.size() - 1)))];
}

// ================================================================ experiment 1: the global test
struct dist_case {
  std::string name;
  std::uint32_t V;
  double s;
};

void global_power(const std::vector<dist_case>& cases, const std::vector<design>& designs) {
  constexpr int quality_tokens = 600000, power_runs = 300;
  constexpr double target = -10;
  std::printf("\n== 1. Global test: green rate, tokens for log10 p = %.0f, perplexity ==\n", target);
  std::printf("(green/match: share of generated tokens; tokens: scored tuples at the first crossing, mean"
              " over %d keys; ratio to KGW d=2; ppl: exp(mean -ln p) under the unwatermarked law over"
              " %d tokens, relative to KGW d=2 (+- 1 s.e. of the paired difference))\n",
              power_runs, quality_tokens);
  for (const auto& dc : cases) {
    zipf_law tok(dc.V, dc.s), ctx(dc.V, 1.0);
    std::printf("\n-- next-token law: %s, V = %u, Zipf s = %.3f, entropy %.3f nats; contexts Zipf s = 1"
                " (entropy %.2f nats) --\n",
                dc.name.c_str(), dc.V, dc.s, tok.entropy, ctx.entropy);
    std::printf("%-30s %8s %8s %8s %8s | %8s %8s %7s | %9s %9s\n", "design", "green", "match", "flat g",
                "flat m", "tokens", "median", "ratio", "ppl", "vs KGW");
    // Quality on one coupled stream: every design draws each step from the same context
    // and the same proposals and uniforms under a common envelope, so differences between designs
    // are not buried in the sampling noise of −ln p (common random numbers).
    const std::size_t nd = designs.size();
    std::vector<double> q_nlp(nd, 0), q_d2(nd, 0);
    std::vector<long> q_green(nd, 0), q_match(nd, 0);
    {
      double W = 1;
      for (const auto& d : designs) W = std::max(W, d.wmax());
      world w{&ctx, &tok, 0x1111, 0x2222, 256};
      code_word cw = random_code(0x3333, w.L, 4);
      std::vector<double> step(nd);
      for (int t = 0; t < quality_tokens; ++t) {
        // a fresh key every 2,000 tokens: the figure averages over keys, not over one key's lanes
        // for the few contexts that dominate a Zipf law
        if (t % 2000 == 0) w.k_lane = mix64(0x1111 + t), w.k_pos = mix64(0x2222 + t);
        rng r(mix64(0x9000000ULL + t));
        std::uint32_t c = ctx.sample(r);
        const int sym4 = cw.sym[w.position(c, {static_cast<std::uint32_t>(t), 0})];
        for (std::size_t di = 0; di < nd; ++di) {
          const design& d = designs[di];
          rng rd = r;
          int sym = sym4 % std::max(d.r, 1);
          token_draw td = w.draw(d, sym, rd, c, W);
          step[di] = td.nlp;
          q_nlp[di] += td.nlp;
          q_green[di] += td.green;
          q_match[di] += (d.r > 1 && static_cast<int>(td.lane) == sym);
        }
        for (std::size_t di = 0; di < nd; ++di) q_d2[di] += (step[di] - step[0]) * (step[di] - step[0]);
      }
    }
    double kgw_tokens = 0, kgw_nlp = 0;
    for (std::size_t di = 0; di < designs.size(); ++di) {
      const design& d = designs[di];
      const double mean = q_nlp[di] / quality_tokens;
      const double dm = (q_nlp[di] - q_nlp[0]) / quality_tokens;
      const double se = std::sqrt(std::max(0.0, q_d2[di] / quality_tokens - dm * dm) / quality_tokens);
      const long green = q_green[di], match = q_match[di];
      // Power: scored tuples until log10 p ≤ target, fresh key per run.
      std::vector<double> need;
      const bool marks = d.wmax() > 1;  // an unwatermarked law never reaches the target
      for (int run = 0; marks && run < power_runs; ++run) {
        rng rr(0xABC000 + run);
        world wr{&ctx, &tok, mix64(run * 7 + 1), mix64(run * 7 + 2), 256};
        code_word cr = random_code(mix64(run * 7 + 3), wr.L, std::max(d.r, 2));
        tape tp(12);
        std::array<std::uint32_t, 2> prev{0, 0};
        int n = 0, g = 0;
        for (int t = 0; t < 200000; ++t) {
          std::uint32_t c = ctx.sample(rr);
          int sym = cr.sym[wr.position(c, prev)] % std::max(d.r, 1);
          prev = {c, prev[0]};
          token_draw td = wr.draw(d, sym, rr, c);
          if (!tp.insert(td.ctx, td.rank)) continue;
          ++n;
          g += td.green;
          if (g > n * gamma_ && log_binom_tail(n, g, gamma_) / std::log(10.0) <= target) break;
        }
        need.push_back(n);
      }
      double mean_need = NAN;
      if (!need.empty()) {
        mean_need = 0;
        for (double x : need) mean_need += x;
        mean_need /= need.size();
      }
      if (di == 0) kgw_tokens = mean_need, kgw_nlp = mean;
      double fg, fm;
      flat_rates(d, fg, fm);
      std::printf("%-30s %8.4f %8.4f %8.4f %8.4f | %8.1f %8.0f %7.3f | %9.3f %+8.2f%% (+-%.2f)\n", d.name.c_str(),
                  static_cast<double>(green) / quality_tokens,
                  d.r > 1 ? static_cast<double>(match) / quality_tokens : NAN, fg, d.r > 1 ? fm : NAN, mean_need,
                  median(need), mean_need / kgw_tokens, std::exp(mean), 100 * std::expm1(mean - kgw_nlp),
                  100 * se);
    }
  }
}

void global_analytic(const std::vector<design>& designs) {
  std::printf("\n== 1a. Flat next-token laws, analytic: green rate and tokens for log10 p = -10 ==\n");
  std::printf("(tokens = smallest n with log10 P(Bin(n, 1/4) >= ceil(rho n)) <= -10; KL ratio = KL(rho_KGW||g)/KL(rho||g))\n");
  std::printf("%-30s %8s %8s %8s %8s\n", "design", "green", "tokens", "ratio", "KL ratio");
  double base_n = 0, base_kl = 0;
  for (std::size_t i = 0; i < designs.size(); ++i) {
    double g, m;
    flat_rates(designs[i], g, m);
    int n = tokens_needed_at_rate(g, -10);
    double kl = g * std::log(g / gamma_) + (1 - g) * std::log((1 - g) / (1 - gamma_));
    if (i == 0) base_n = n, base_kl = kl;
    std::printf("%-30s %8.4f %8d %8.3f %8.3f\n", designs[i].name.c_str(), g, n, n / base_n, base_kl / kl);
  }
}

// ================================================================ experiment 2: tracing
struct trace_config {
  design d;
  bool green_only;  // count only green scored tuples in C (the split design's statistic)
  score_kind kind;
  bool window_tape;  // account counts deduplicated on (position window, token) instead of the KGW tuple
  std::uint32_t L;
  int c;
  bool equal;
  int runs;
  std::uint64_t seed;
  int pos_width;
  double cap;  // largest checkpoint, tokens per colluder (mean)
};

std::vector<double> shares_of(int c, bool equal) {
  std::vector<double> s(c);
  for (int i = 0; i < c; ++i) s[i] = equal ? 1.0 : (i + 1.0);  // unequal: 1 : 2 : … : c
  double z = 0;
  for (double x : s) z += x;
  for (double& x : s) x /= z;
  return s;
}

// Runs one cluster; returns, per member, its own generated tokens when first accused (−1 if never
// within the cap). Checkpoints on a √2 grid of tokens per colluder (mean).
std::vector<double> trace_run(const trace_config& tc, const zipf_law& ctx, const zipf_law& tok, int run,
                              double threshold, std::vector<double>* best_curve) {
  const int r = 4;
  const design& d = tc.d;
  world w{&ctx, &tok, mix64(tc.seed + run * 11 + 1), mix64(tc.seed + run * 11 + 2), tc.L};
  w.pos_width = tc.pos_width;
  std::vector<code_word> members;
  for (int i = 0; i < tc.c; ++i) members.push_back(random_code(mix64(tc.seed + run * 11 + 3 + i * 977), tc.L, r));
  std::vector<double> share = shares_of(tc.c, tc.equal);
  std::vector<long> own(tc.c, 0);
  std::vector<double> accused_at(tc.c, -1);
  std::vector<std::array<long, 4>> C(tc.L, std::array<long, 4>{0, 0, 0, 0});
  tape tp(16);
  std::array<std::uint32_t, 2> prev{0, 0};
  rng rr(tc.seed * 31 + run);
  static const double grid[] = {100, 141, 200, 283, 400, 566, 800, 1131, 1600, 2263, 3200, 4525, 6400,
                                9051, 12800, 18102, 25600, 36204, 51200};
  long total = 0;
  int left = tc.c;
  for (double per : grid) {
    if (per > tc.cap) break;
    long until = static_cast<long>(per * tc.c);
    for (; total < until; ++total) {
      // weighted round robin: the member furthest below its share writes the next token
      int who = 0;
      double worst = 1e300;
      for (int i = 0; i < tc.c; ++i) {
        double lag = own[i] - share[i] * (total + 1);
        if (lag < worst) worst = lag, who = i;
      }
      ++own[who];
      std::uint32_t cx = ctx.sample(rr);
      int j = w.position(cx, prev);
      const std::uint64_t wkey = keyed(cx, prev[0], prev[1]);
      prev = {cx, prev[0]};
      token_draw td = w.draw(d, members[who].sym[j], rr, cx);
      const bool fresh = tc.window_tape ? tp.insert_key(mix64(wkey ^ td.rank)) : tp.insert(td.ctx, td.rank);
      if (fresh && (td.green || !tc.green_only)) ++C[j][td.lane];
    }
    const table h = score_table(C, r, tc.kind);
    // The exact law is computed only once some not-yet-accused member is ≥ 5 null standard
    // deviations above the null mean: below that no member is near p = 1e-10, and skipping saves
    // most of the run time. This can only delay an accusation by a checkpoint; the innocent-account
    // experiment (§3 of the output) always uses the exact law.
    double mean = 0, var = 0;
    for (const auto& row : h) {
      double m = 0, m2 = 0;
      for (int s2 = 0; s2 < r; ++s2) m += row[s2], m2 += static_cast<double>(row[s2]) * row[s2];
      m /= r;
      mean += m;
      var += m2 / r - m * m;
    }
    bool near = best_curve != nullptr;
    for (int i = 0; i < tc.c && !near; ++i)
      near = accused_at[i] < 0 && (score(members[i], h) - mean) >= 5 * std::sqrt(var);
    if (!near) continue;
    null_law nl = exact_null(h, r);
    double best = 1;
    for (int i = 0; i < tc.c; ++i) {
      double p = nl.p_value(score(members[i], h));
      best = std::min(best, p);
      if (accused_at[i] < 0 && p <= threshold) accused_at[i] = static_cast<double>(own[i]), --left;
    }
    if (best_curve) best_curve->push_back(std::log10(std::max(best, 1e-300)));
    if (left == 0 && !best_curve) break;
  }
  return accused_at;
}

void tracing_table(const zipf_law& ctx, const zipf_law& tok, const std::string& law_name, const design& d,
                   bool green_only, std::uint32_t L, int runs, double threshold, const std::vector<int>& cs,
                   score_kind kind = score_kind::count, int pos_width = 3, bool window_tape = true,
                   double cap = 51200) {
  std::printf("\n-- %s; %s%s, L = %u, %s score, position window %d, account tape %s; %d clusters per row --\n",
              law_name.c_str(), d.name.c_str(), green_only ? ", green tuples only" : "", L,
              kind == score_kind::count ? "count" : "studentised", pos_width,
              window_tape ? "(position window, token)" : "(KGW window, token)", runs);
  std::printf("%3s %-8s | %-44s | %-36s | %s\n", "c", "shares", "tokens per colluder when the LAST member is accused",
              "member 1's own tokens when accused", "never");
  std::printf("%3s %-8s | %s\n", "", "", "(median = upper median over clusters; 1:2:..:c means member i writes a share ~ i;"
              " member 1 is the smallest)");
  std::printf("%3s %-8s | %14s %14s %14s | %11s %11s %11s |\n", "", "", "median", "90th pct", "max", "median",
              "90th pct", "max");
  for (int c : cs)
    for (int eq = 1; eq >= 0; --eq) {
      if (c == 1 && !eq) continue;
          if (cs.size() <= 2 && !eq) continue;  // ablations: equal shares only
      trace_config tc{d, green_only, kind, window_tape, L, c, eq == 1, runs, 0x5EED0000ULL + c * 101 + eq * 7 + L,
                      pos_width, cap};
      std::vector<double> last_mean, smallest;
      int never = 0;
      for (int run = 0; run < runs; ++run) {
        std::vector<double> at = trace_run(tc, ctx, tok, run, threshold, nullptr);
        bool all = std::all_of(at.begin(), at.end(), [](double x) { return x >= 0; });
        if (!all) {  // counted as +inf: quantiles are over all clusters, "> cap" when not reached
          ++never;
          last_mean.push_back(INFINITY);
          smallest.push_back(at[0] >= 0 ? at[0] : INFINITY);
          continue;
        }
        // tokens per colluder (mean share) at the moment the last member is accused: the
        // members' own counts scale with their shares, so report the mean own count then.
        double last_total = 0;
        for (int i = 0; i < c; ++i) last_total = std::max(last_total, at[i] / shares_of(c, eq == 1)[i]);
        last_mean.push_back(last_total / c);
        smallest.push_back(at[0]);
      }
      auto cell = [](double x, int width) {
        char buf[32];
        if (std::isinf(x)) std::snprintf(buf, sizeof buf, "%*s", width, "> cap");
        else std::snprintf(buf, sizeof buf, "%*.0f", width, x);
        return std::string(buf);
      };
      std::printf("%3d %-8s | %s %s %s | %s %s %s | %d\n", c, eq ? "equal" : "1:2:..:c", cell(median(last_mean), 14).c_str(),
                  cell(quantile(last_mean, 0.9), 14).c_str(), cell(quantile(last_mean, 1.0), 14).c_str(),
                  cell(median(smallest), 11).c_str(), cell(quantile(smallest, 0.9), 11).c_str(),
                  cell(quantile(smallest, 1.0), 11).c_str(), never);
    }
}

// ================================================================ experiment 3: the null
void null_runs(const zipf_law& ctx, const zipf_law& tok, const design& dg, std::uint32_t L, int runs, int N,
               int per_colluder) {
  const int r = 4;
  const int cs[] = {0, 1, 2, 4, 8};
  const double alphas[] = {1e-6, 1e-2, 1e-1};
  std::printf("\n== 3. Innocent accounts: %d null runs x %d innocents (never used), %s, L = %u, position window 3 ==\n",
              runs, N, dg.name.c_str(), L);
  std::printf("(run i: c = {0,1,2,4,8}[i mod 5] guilty accounts write %d tokens each; c = 0: %d unwatermarked tokens,"
              " 'human text'; innocents get fresh random code words)\n",
              per_colluder, 4 * per_colluder);
  std::vector<double> ks_sample, ks_cons;
  long fw_exact[3] = {0, 0, 0}, fw_naive[3] = {0, 0, 0};
  long per_exact[3] = {0, 0, 0}, per_naive[3] = {0, 0, 0};
  const double per_alpha[] = {1e-2, 1e-3, 1e-4};
  long total_innocent = 0;
  double guilty_detect = 0;
  int guilty_runs = 0;
  for (int run = 0; run < runs; ++run) {
    int c = cs[run % 5];
    design d = c == 0 ? kgw(0.0) : dg;
    if (c == 0) d.r = r;  // lanes still read; weights all 1
    std::uint64_t seed = 0xD00D0000ULL + run;
    world w{&ctx, &tok, mix64(seed * 13 + 1), mix64(seed * 13 + 2), L};
    std::vector<code_word> guilty;
    for (int i = 0; i < c; ++i) guilty.push_back(random_code(mix64(seed * 13 + 3 + i), L, r));
    std::vector<std::array<long, 4>> C(L, std::array<long, 4>{0, 0, 0, 0});
    tape tp(15);
    std::array<std::uint32_t, 2> prev{0, 0};
    rng rr(seed);
    long n_tok = c == 0 ? 4L * per_colluder : static_cast<long>(c) * per_colluder, scored = 0;
    code_word zero;
    zero.sym.assign(L, 0);
    for (long t = 0; t < n_tok; ++t) {
      const code_word& cw = c == 0 ? zero : guilty[t % c];
      std::uint32_t cx = ctx.sample(rr);
      int j = w.position(cx, prev);
      const std::uint64_t wkey = keyed(cx, prev[0], prev[1]);
      prev = {cx, prev[0]};
      token_draw td = w.draw(d, cw.sym[j], rr, cx);
      if (tp.insert_key(mix64(wkey ^ td.rank))) ++C[j][td.lane], ++scored;
    }
    const table& h = C;  // the chosen statistic: the count score (papers/attribution.md §4.2)
    null_law nl = exact_null(h, r);
    // naive null: S ~ Binomial(scored, 1/r), as if every tuple were an independent trial
    std::vector<double> naive_tail(scored + 2, 0.0);
    {
      const double lp = std::log(0.25), lq = std::log(0.75);
      for (long k = scored; k >= 0; --k)
        naive_tail[k] = naive_tail[k + 1] + std::exp(log_binom_pmf(static_cast<int>(scored), static_cast<int>(k), lp, lq));
    }
    double min_exact = 1, min_naive = 1;
    rng ru(seed ^ 0xFEEDULL);
    for (int a = 0; a < N; ++a) {
      // the innocent's code word (same generator as random_code), scored on both tables in one pass
      const std::uint64_t cseed = mix64(seed * 1000003ULL + a + 0x1234567ULL);
      // the naive binomial comparison uses the count score of the first 1,000 innocents of a run
      const bool naive = a < 1000;
      long s = 0, sh = 0;
      std::uint64_t bits = 0;
      for (std::uint32_t j = 0; j < L; ++j) {
        if (j % 32 == 0) bits = mix64(cseed + j);
        const int sym = static_cast<int>(bits & 3);
        if (naive) s += C[j][sym];
        sh += h[j][sym];
        bits >>= 2;
      }
      double p = nl.p_value(sh), pn = !naive ? 1.0 : (s <= scored ? naive_tail[std::max(0L, s)] : 0);
      double pr = nl.p_randomised(sh, ru.uniform());
      if (a < 1000) ks_sample.push_back(pr), ks_cons.push_back(p);
      min_exact = std::min(min_exact, p);
      min_naive = std::min(min_naive, pn);
      for (int k = 0; k < 3; ++k) per_exact[k] += p <= per_alpha[k], per_naive[k] += pn <= per_alpha[k];
    }
    total_innocent += N;
    for (int k = 0; k < 3; ++k) {
      fw_exact[k] += min_exact <= sidak(alphas[k], N);
      fw_naive[k] += min_naive <= sidak(alphas[k], 1000);
    }
    if (c > 0) {
      ++guilty_runs;
      int acc = 0;
      for (auto& g : guilty) acc += nl.p_value(score(g, h)) <= sidak(1e-6, N);
      guilty_detect += static_cast<double>(acc) / c;
    }
  }
  std::printf("runs with at least one innocent accused (family-wise, Sidak over N = %d; naive: over the first 1,000"
              " innocents, Sidak over 1,000):\n", N);
  for (int k = 0; k < 3; ++k)
    std::printf("  alpha = %-6g  count score, exact conditional null: %ld of %d (expected <= %.1f)"
                "   count score, naive binomial null: %ld\n",
                alphas[k], fw_exact[k], runs, alphas[k] * runs, fw_naive[k]);
  std::printf("innocent account-tests with p <= a (of %ld):\n", total_innocent);
  for (int k = 0; k < 3; ++k)
    std::printf("  a = %-6g  count, exact: %ld (rate %.3g, nominal %.0g)   count, naive binomial: %ld of %d"
                " (rate %.3g)\n",
                per_alpha[k], per_exact[k], static_cast<double>(per_exact[k]) / total_innocent, per_alpha[k],
                per_naive[k], runs * 1000, static_cast<double>(per_naive[k]) / (runs * 1000.0));
  double D, p, dp;
  ks_uniform(ks_sample, D, p, dp);
  std::printf("KS of randomised innocent p-values (%zu: the first 1,000 innocents of every run) vs U(0,1): D = %.5f,"
              " p = %.3f\n",
              ks_sample.size(), D, p);
  ks_uniform(ks_cons, D, p, dp);
  std::printf("conservative p = P(S >= s) on the same innocents: D+ = %.5f (sup F_n(x) - x; <= 0 means conservative"
              " everywhere up to noise), D = %.4f\n",
              dp, D);
  std::printf("guilty members accused at family-wise 1e-6 in the guilty runs (c >= 1, %d tokens each): %.1f%%\n",
              per_colluder, 100 * guilty_detect / guilty_runs);
}

// ================================================================ check: convolution vs enumeration
// The exact null against brute force: all r^L code words of a small L, on random count tables and on
// studentised tables; prints the largest difference of the tail P(S ≥ s) over all s.
void null_self_check() {
  const int r = 4, L = 6;
  double worst = 0;
  rng g(4242);
  for (int trial = 0; trial < 20; ++trial) {
    table C(L, std::array<long, 4>{0, 0, 0, 0});
    for (auto& row : C)
      for (int s = 0; s < r; ++s) row[s] = static_cast<long>(g.next() % (trial < 10 ? 5 : 400));
    for (int kind = 0; kind < 2; ++kind) {
      const table h = score_table(C, r, kind ? score_kind::studentised : score_kind::count);
      null_law nl = exact_null(h, r);
      std::vector<long> all;
      for (int w = 0; w < (1 << (2 * L)); ++w) {
        long s = 0;
        for (int j = 0; j < L; ++j) s += h[j][(w >> (2 * j)) & 3];
        all.push_back(s);
      }
      std::sort(all.begin(), all.end());
      const double total = static_cast<double>(all.size());
      for (long s = all.front() - 1; s <= all.back() + 1; ++s) {
        double brute = static_cast<double>(all.end() - std::lower_bound(all.begin(), all.end(), s)) / total;
        worst = std::max(worst, std::fabs(brute - nl.p_value(s)));
      }
    }
  }
  std::printf("\n== 0. Exact null vs enumeration of all 4^6 code words, 20 tables x 2 scores: max |tail difference| ="
              " %.2g ==\n", worst);
}

// ================================================================ experiment 4: ranking cost
void ranking_cost(std::uint32_t L, long n_accounts) {
  std::vector<std::array<long, 4>> C(L);
  rng r(77);
  for (auto& c : C)
    for (auto& x : c) x = static_cast<long>(r.next() % 1000);
  null_law nl = exact_null(C, 4);
  auto t0 = std::chrono::steady_clock::now();
  double sink = 0;
  code_word w;
  w.sym.resize(L);
  for (long a = 0; a < n_accounts; ++a) {
    std::uint64_t bits = 0;
    long s = 0;
    for (std::uint32_t j = 0; j < L; ++j) {
      if (j % 32 == 0) bits = mix64(a * 0x9E3779B97F4A7C15ULL + j);
      s += C[j][bits & 3];
      bits >>= 2;
    }
    sink += nl.p_value(s);
  }
  auto t1 = std::chrono::steady_clock::now();
  std::printf("\n== 4. Ranking cost: %ld accounts, L = %u, one core: %.3f s (code word from a 64-bit mixer, score,"
              " p-value lookup; checksum %.3g) ==\n",
              n_accounts, L, std::chrono::duration<double>(t1 - t0).count(), sink);
}

}  // namespace

int main(int argc, char** argv) {
  // Optional argument: one part only (check, global, trace, null, rank); default all.
  const std::string only = argc > 1 ? argv[1] : "all";
  auto want = [&](const char* part) { return only == "all" || only == part; };
  auto t0 = std::chrono::steady_clock::now();
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  std::printf("attribution simulation (papers/attribution.md); gamma = 1/4, h = 1; synthetic laws, not a language model\n");

  const double s32 = zipf_exponent_for_entropy(32768, 3.0);
  const double s152 = zipf_exponent_for_entropy(151936, 2.0);
  std::vector<dist_case> cases = {{"flat", 151936, 0.0}, {"Zipf, H = 3 nats", 32768, s32}, {"Zipf, H = 2 nats", 151936, s152}};

  std::vector<design> designs = {kgw(2.0),
                                 half_green(2.0),
                                 orthogonal(2.0, 0.25, 4),
                                 orthogonal(2.0, 0.5, 4),
                                 orthogonal(2.0, 1.0, 4),
                                 orthogonal(1.9, 0.6, 4),
                                 orthogonal(1.9, 0.75, 4),
                                 orthogonal(1.8, 0.75, 4),
                                 split_green(2.0, 0.5, 4),
                                 kgw(1.9),
                                 kgw(1.8),
                                 kgw(0.0)};
  if (want("check")) null_self_check();
  if (want("global")) {
    global_analytic(designs);
    global_power(cases, designs);
  }

  zipf_law tok(32768, s32), ctx(32768, 1.0);
  const int N = 10000;
  const double thr = sidak(1e-6, N);
  if (want("trace") || only == "trace-ablation") {
  std::printf("\n== 2. Tracing, design (b): tokens per colluder to accuse every member at family-wise alpha = 1e-6,"
              " N = %d (per-account p <= %.4g) ==\n",
              N, thr);
  std::printf("(corpus mode: the cluster's tokens interleaved; counts C[j][s] of tuples new on the account tape; default count score,"
              " scored tuples; exact conditional null; checkpoints on a sqrt(2) grid, so figures are grid points)\n");
  const std::string law = "Zipf H = 3 nats, V = 32,768";
  const int runs = argc > 2 ? std::atoi(argv[2]) : 10;
  const std::vector<int> all_c = {1, 2, 4, 8};
  const int few = std::max(1, runs / 2);
  const design chosen = orthogonal(1.9, 0.75, 4);  // the operating point of papers/attribution.md §0
  using sk = score_kind;
  tracing_table(ctx, tok, law, chosen, false, 1024, runs, thr, all_c);
  std::printf("\n-- other operating points (fewer clusters, cap 25,600 tokens per colluder) --\n");
  tracing_table(ctx, tok, law, orthogonal(2.0, 0.25, 4), false, 1024, few, thr, {1, 2}, sk::count, 3, true, 25600);
  tracing_table(ctx, tok, law, orthogonal(1.9, 0.6, 4), false, 1024, few, thr, all_c, sk::count, 3, true, 25600);
  tracing_table(ctx, tok, law, orthogonal(1.8, 0.75, 4), false, 1024, few, thr, all_c, sk::count, 3, true, 25600);
  tracing_table(ctx, tok, law, split_green(2.0, 0.5, 4), true, 1024, few, thr, all_c, sk::count, 3, true, 25600);
  std::printf("\n-- ablations of the chosen design (fewer clusters; equal shares) --\n");
  tracing_table(ctx, tok, law, chosen, false, 1024, few, thr, {1, 8}, sk::studentised, 3, true);
  tracing_table(ctx, tok, law, chosen, false, 1024, few, thr, {1, 8}, sk::count, 3, false);
  tracing_table(ctx, tok, law, chosen, false, 1024, few, thr, {1, 8}, sk::count, 1, false);
  tracing_table(ctx, tok, law, chosen, false, 1024, few, thr, {1, 8}, sk::studentised, 1, false);
  tracing_table(ctx, tok, law, chosen, false, 256, few, thr, {1, 8});
  tracing_table(ctx, tok, law, chosen, false, 64, few, thr, {1, 8}, sk::count, 3, true, 25600);
  zipf_law flat(32768, 0.0);
  tracing_table(ctx, flat, "flat, V = 32,768", chosen, false, 1024, few, thr, {1, 8});
  }

  if (want("null")) null_runs(ctx, tok, orthogonal(1.9, 0.75, 4), 1024, 1000, N, 2000);
  if (want("rank")) {
    ranking_cost(256, 1000000);
    ranking_cost(1024, 1000000);
  }

  auto t1 = std::chrono::steady_clock::now();
  std::printf("\ntotal run time %.1f s\n", std::chrono::duration<double>(t1 - t0).count());
  return 0;
}
