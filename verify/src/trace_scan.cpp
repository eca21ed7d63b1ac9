#include "tritium/trace_scan.hpp"

#include <algorithm>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>
#include <cmath>
#include <limits>
#include <numeric>

#include "tritium/batch_pipeline.hpp"
#include "tritium/error.hpp"
#include "tritium/inputs.hpp"
#include "tritium/key.hpp"
#include "tritium/sampling_rng.hpp"

namespace tritium {

namespace {

// Accounts are scored in blocks, so that workers share out the registry without contention.
constexpr std::size_t rank_block = 4096;

template <class Packed>
std::vector<std::uint64_t> score_all(const account_codebook& book, const account_score_table& table,
                                     std::size_t n, unsigned threads, Packed&& packed) {
  std::vector<std::uint64_t> scores(n);
  const std::size_t blocks = (n + rank_block - 1) / rank_block;
  const unsigned workers = static_cast<unsigned>(std::min<std::size_t>(default_threads(threads), std::max<std::size_t>(blocks, 1)));
  std::vector<std::vector<std::uint8_t>> buffers(workers, std::vector<std::uint8_t>(book.packed_size()));
  parallel_for(workers, blocks, [&](std::size_t b, unsigned w) {
    std::vector<std::uint8_t>& code = buffers[w];
    const std::size_t end = std::min(n, (b + 1) * rank_block);
    for (std::size_t i = b * rank_block; i < end; ++i) {
      packed(i, code);
      scores[i] = table.score(code);
    }
  });
  return scores;
}

// The scan's texts, counted for tracing as the global test scores them: on a thread of their own
// when the scan may use two, so that the counting (a second tape, two AES blocks per tuple) overlaps
// the global test instead of adding to it. The texts reach the counter in the scan's order, in
// batches handed over whole, so the counts are those of counting on the scan's thread.
class counting_listener final : public scan_listener {
 public:
  counting_listener(trace_counter& counter, bool concurrent) : counter_(counter), concurrent_(concurrent) {}
  ~counting_listener() override {
    if (worker_.joinable()) {
      {
        std::lock_guard<std::mutex> lock(mutex_);
        stop_ = true;
      }
      wake_.notify_all();
      worker_.join();
    }
  }

  void exclude_windows(std::span<const token_id> prompt) override { add(kind::exclude, prompt, {}); }
  void text(std::span<const token_id> tokens) override { add(kind::text, tokens, {}); }
  void predictions(std::span<const token_id> input, std::span<const token_id> p) override {
    add(kind::predictions, input, p);
  }

  /// Counts what is left and waits for the worker; rethrows its error.
  void finish() {
    if (concurrent_) hand_over();
    wait_idle();
    if (error_) std::rethrow_exception(error_);
  }

 private:
  enum class kind : std::uint8_t { exclude, text, predictions };
  struct item {
    kind what;
    std::size_t a_begin, a_size, b_begin, b_size;
  };
  struct batch {
    std::vector<item> items;
    std::vector<token_id> tokens;
    void clear() {
      items.clear();
      tokens.clear();
    }
  };
  static constexpr std::size_t batch_tokens = std::size_t{1} << 18;

  void add(kind what, std::span<const token_id> a, std::span<const token_id> b) {
    if (!concurrent_) {
      count(what, a, b);
      return;
    }
    item it{what, filling_.tokens.size(), a.size(), 0, b.size()};
    filling_.tokens.insert(filling_.tokens.end(), a.begin(), a.end());
    it.b_begin = filling_.tokens.size();
    filling_.tokens.insert(filling_.tokens.end(), b.begin(), b.end());
    filling_.items.push_back(it);
    if (filling_.tokens.size() >= batch_tokens) hand_over();
  }

  void count(kind what, std::span<const token_id> a, std::span<const token_id> b) {
    switch (what) {
      case kind::exclude: counter_.exclude_windows(a); break;
      case kind::text: counter_.count_text(a); break;
      case kind::predictions: counter_.count_predictions(a, b); break;
    }
  }

  void hand_over() {
    if (filling_.items.empty()) return;
    wait_idle();
    if (error_) std::rethrow_exception(error_);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      std::swap(filling_, working_);
      busy_ = true;
    }
    filling_.clear();
    if (!worker_.joinable()) worker_ = std::thread([this] { work(); });
    wake_.notify_all();
  }

  void wait_idle() {
    std::unique_lock<std::mutex> lock(mutex_);
    idle_.wait(lock, [&] { return !busy_; });
  }

  void work() {
    for (;;) {
      {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [&] { return busy_ || stop_; });
        if (!busy_) return;
      }
      try {
        const token_id* base = working_.tokens.data();
        for (const item& it : working_.items) {
          count(it.what, {base + it.a_begin, it.a_size}, {base + it.b_begin, it.b_size});
        }
      } catch (...) {
        error_ = std::current_exception();
      }
      {
        std::lock_guard<std::mutex> lock(mutex_);
        busy_ = false;
      }
      idle_.notify_all();
    }
  }

  trace_counter& counter_;
  const bool concurrent_;
  batch filling_, working_;
  std::thread worker_;
  std::mutex mutex_;
  std::condition_variable wake_, idle_;
  bool busy_ = false, stop_ = false;
  std::exception_ptr error_;
};

// Fixed, so that a report's decoy check is reproducible: the randomisation of the decoys'
// p-values (which makes them exactly uniform under the null) is not a choice made after the fact.
constexpr std::uint64_t decoy_randomisation_seed = 0x7472616365646563ULL;  // "tracedec"

}  // namespace

std::vector<std::uint64_t> score_accounts(const account_codebook& book,
                                          const account_score_table& table,
                                          std::span<const std::string> ids, unsigned threads) {
  return score_all(book, table, ids.size(), threads,
                   [&](std::size_t i, std::vector<std::uint8_t>& out) { book.packed(ids[i], out); });
}

std::vector<std::uint64_t> score_decoys(const account_codebook& book,
                                        const account_score_table& table, std::uint32_t count,
                                        unsigned threads) {
  return score_all(book, table, count, threads, [&](std::size_t i, std::vector<std::uint8_t>& out) {
    book.packed_decoy(static_cast<std::uint32_t>(i), out);
  });
}

trace_scan::trace_scan(trace_spec spec, const key& k, const trace_params& params,
                       scan_environment env)
    : spec_(std::move(spec)), key_(k), params_(params), env_(std::move(env)) {
  params_.validate();
  if (spec_.registry.empty()) throw error(errc::usage, "trace: give --registry (the accounts to rank)");
  if (!(spec_.alpha > 0.0 && spec_.alpha < 1.0)) {
    throw error(errc::usage, "trace: --alpha: expected a value in (0, 1), got " + std::to_string(spec_.alpha));
  }
  try {
    reading_ = std::make_unique<radioactivity_scan>(spec_.scan, k, env_);
  } catch (const error& e) {
    // The reading's refusals name the command that runs it.
    const std::string what = e.what();
    const std::string prefix = "radioactivity ";
    if (e.code() == errc::usage && what.rfind(prefix, 0) == 0) throw error(errc::usage, "trace " + what.substr(prefix.size()));
    throw;
  }
}

trace_scan::~trace_scan() = default;

std::vector<std::string> trace_scan::files() const {
  std::vector<std::string> out = reading_->files();
  out.push_back(spec_.registry);
  return out;
}

trace_outcome trace_scan::run() {
  // The registry is read first: a bad registry fails before a long scan, and N is fixed before
  // any count exists (papers/attribution.md §7.5).
  const account_registry registry = read_account_registry(env_.resolve(spec_.registry).string());
  trace_counter counter(key_, params_, key_.params().context_width);
  if (reading_->filter() != nullptr) counter.set_filter(&reading_->filter()->windows);
  counting_listener listener(counter, default_threads(env_.threads) > 1);
  trace_outcome o;
  o.global = reading_->run(&listener);
  listener.finish();
  o.counts = counter.counts();
  o.tuples_read = counter.tuples_read();
  o.registry_digest = registry.digest;
  o.accounts = registry.ids.size();

  const account_score_table table = count_table(o.counts);
  const account_null_law law = account_null(table);
  o.null_mean = law.mean();
  o.null_sd = law.sd();
  o.null_support = law.support();
  const account_codebook book(key_, params_);
  o.scores = score_accounts(book, table, registry.ids, env_.threads);
  const double log10_alpha = std::log10(spec_.alpha);
  o.best_possible_log10_p_fw = sidak_log10(law.log10_p(law.max_score()), o.accounts);

  // Every accused account, then the best others: by score (the same law for all, so by p), ties in
  // registry order.
  std::vector<std::size_t> order(o.accounts);
  std::iota(order.begin(), order.end(), std::size_t{0});
  auto better = [&](std::size_t a, std::size_t b) {
    return o.scores[a] != o.scores[b] ? o.scores[a] > o.scores[b] : a < b;
  };
  // The smallest accused score: the p-value falls with the score, so the accused are a top set.
  // p_fw ≥ p, so it is at least the smallest score with p ≤ α.
  std::uint64_t accuse_from = law.max_score() + 1;
  for (std::uint64_t s = law.threshold(log10_alpha);
       s <= law.max_score(); ++s) {
    if (sidak_log10(law.log10_p(s), o.accounts) <= log10_alpha) {
      accuse_from = s;
      break;
    }
  }
  const auto accused = static_cast<std::size_t>(std::count_if(
      o.scores.begin(), o.scores.end(), [&](std::uint64_t s) { return s >= accuse_from; }));
  const std::size_t keep = std::min(o.accounts, accused + spec_.listed);
  std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(keep), order.end(), better);
  for (std::size_t r = 0; r < keep; ++r) {
    ranked_account a;
    a.index = order[r];
    a.id = registry.ids[a.index];
    a.score = o.scores[a.index];
    a.log10_p = law.log10_p(a.score);
    a.log10_p_fw = sidak_log10(a.log10_p, o.accounts);
    a.accused = a.log10_p_fw <= log10_alpha;
    o.listed.push_back(std::move(a));
  }

  o.decoys.count = spec_.decoys;
  if (spec_.decoys > 0) {
    const std::vector<std::uint64_t> decoy_scores = score_decoys(book, table, spec_.decoys, env_.threads);
    sampling_rng rng(decoy_randomisation_seed);
    std::vector<double> p(decoy_scores.size());
    o.decoys.min_log10_p = 0.0;
    for (std::size_t i = 0; i < p.size(); ++i) {
      p[i] = law.randomised_p(decoy_scores[i], rng.uniform());
      o.decoys.min_log10_p = std::min(o.decoys.min_log10_p, law.log10_p(decoy_scores[i]));
    }
    if (o.counts.tuples > 0) {
      o.decoys.ks = ks_uniform(p);
      o.decoys.passed = o.decoys.ks.p_value >= 0.01;
    }
    o.decoys.ks.n = p.size();
  }

  const bool any_accused = !o.listed.empty() && o.listed.front().accused;
  const bool no_verdict = o.global.outcome == "no verdict" || !o.decoys.passed;
  // Without a valid test nobody is accused, whatever the p-values say.
  if (no_verdict) {
    for (ranked_account& a : o.listed) a.accused = false;
  }
  o.outcome = no_verdict ? "no verdict"
              : any_accused                                        ? "accounts accused"
              : o.counts.tuples == 0 || o.best_possible_log10_p_fw > log10_alpha
                  ? "insufficient evidence"
                  : "no account accused";
  return o;
}

}  // namespace tritium
