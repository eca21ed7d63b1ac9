// Runs a per-document job over a stream of documents on several threads while keeping input order
// and bounded memory: the input is read in batches (a few MB), the next batch is read by its own
// thread while the current one is processed, and results are emitted in input order. For work items
// that are few and heavy (a model answering a prompt), `parallel_for` runs one index at a time.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <exception>
#include <functional>
#include <thread>
#include <vector>

namespace tritium {

struct batch_limits {
  std::size_t max_documents = 4096;
  std::size_t max_bytes = 8u << 20;
};

/// `read(doc)` fills the next document (false at the end) and returns its size through `bytes_of`;
/// `work(doc, result, worker)` runs on worker `worker` ∈ [0, threads) and must overwrite `result`
/// completely: each worker reuses one result object for all its documents; `emit(doc, result)` runs on
/// the calling thread in input order. The first exception of any stage is rethrown after the stages
/// in flight have stopped; nothing of the failing batch is emitted.
template <class Doc, class Result>
void run_batches(unsigned threads, batch_limits limits, const std::function<bool(Doc&)>& read,
                 const std::function<std::size_t(const Doc&)>& bytes_of,
                 const std::function<void(Doc&, Result&, unsigned)>& work,
                 const std::function<void(Doc&, Result&)>& emit) {
  if (threads == 0) threads = 1;
  // The largest document of the batch being read: slots that held one far above the average are
  // released after their batch, so reused buffers cannot pile up to documents × the largest one.
  std::size_t largest_next = 0, largest_current = 0;
  auto read_batch = [&](std::vector<Doc>& batch, std::size_t& largest) {
    batch.clear();
    largest = 0;
    std::size_t bytes = 0;
    Doc d;
    while (batch.size() < limits.max_documents && bytes < limits.max_bytes && read(d)) {
      const std::size_t size = bytes_of(d);
      bytes += size;
      largest = std::max(largest, size);
      batch.push_back(std::move(d));
    }
  };
  std::vector<Doc> current, next;
  read_batch(current, largest_current);
  std::vector<Result> results;
  while (!current.empty()) {
    std::exception_ptr read_error;
    std::thread reader([&] {
      try {
        read_batch(next, largest_next);
      } catch (...) {
        read_error = std::current_exception();
      }
    });
    results.resize(current.size());  // slots are kept from batch to batch (see the worker below)
    std::atomic<std::size_t> cursor{0};
    // A failing worker records the document it failed on; the earliest failing document is reported.
    std::vector<std::exception_ptr> errors(threads);
    std::vector<std::size_t> failed_at(threads, 0);
    auto worker = [&](unsigned w) {
      std::size_t at = 0;  // the document in hand (kept local: the workers' entries share a cache line)
      try {
        // Each result is built in one worker-local object, reused from document to document (its
        // buffers stay allocated and hot), then copied into its slot. Slots are kept from batch to
        // batch, so a copy reuses the slot's buffers: after the first batch nothing is allocated per
        // document. Building results in their slots instead would bounce the cache lines that
        // neighbouring slots share between the cores on every token.
        // Documents are claimed a few at a time: neighbouring documents on one core keep its
        // prefetchers streaming and make the shared cursor a rare write.
        constexpr std::size_t claim = 16;
        Result local{};
        for (std::size_t first = cursor.fetch_add(claim); first < current.size(); first = cursor.fetch_add(claim)) {
          const std::size_t last = std::min(current.size(), first + claim);
          for (std::size_t i = first; i < last; ++i) {
            at = i;
            work(current[i], local, w);
            results[i] = local;
          }
        }
      } catch (...) {
        errors[w] = std::current_exception();
        failed_at[w] = at;
        cursor = current.size();
      }
    };
    std::vector<std::thread> pool;
    for (unsigned w = 1; w < threads; ++w) pool.emplace_back(worker, w);
    worker(0);
    for (auto& t : pool) t.join();
    reader.join();
    std::exception_ptr first_error;
    std::size_t first_failed = current.size();
    for (unsigned w = 0; w < threads; ++w) {
      if (errors[w] && failed_at[w] < first_failed) {
        first_failed = failed_at[w];
        first_error = errors[w];
      }
    }
    if (first_error) std::rethrow_exception(first_error);
    for (std::size_t i = 0; i < current.size(); ++i) emit(current[i], results[i]);
    if (read_error) std::rethrow_exception(read_error);
    if (largest_current > 4 * (limits.max_bytes / limits.max_documents) + 65536) std::vector<Result>().swap(results);
    std::swap(current, next);
    largest_current = largest_next;
  }
}

/// Runs `work(i, worker)` for every i in [0, n) on `threads` workers (worker ∈ [0, threads); 0
/// threads: 1), the calling thread being worker 0, and returns when every index is done. Indexes are
/// claimed one at a time, for items heavy enough that their number, not their size, balances the
/// cores. What an index computes must depend on the index alone (write it to slot i), so that the
/// outcome is the same for any number of workers. `done(count)` runs on the calling thread after each
/// item it finishes, with the number finished by all workers so far (never decreasing), and with n at
/// the end. The exception
/// of the lowest failing index is rethrown after the workers in flight have stopped.
inline void parallel_for(unsigned threads, std::size_t n, const std::function<void(std::size_t, unsigned)>& work,
                         const std::function<void(std::size_t)>& done = {}) {
  if (threads == 0) threads = 1;
  if (threads > n) threads = n == 0 ? 1 : static_cast<unsigned>(n);
  std::atomic<std::size_t> cursor{0}, finished{0};
  std::vector<std::exception_ptr> errors(threads);
  std::vector<std::size_t> failed_at(threads, n);
  auto worker = [&](unsigned w) {
    std::size_t i = 0;
    try {
      for (i = cursor.fetch_add(1); i < n; i = cursor.fetch_add(1)) {
        work(i, w);
        const std::size_t count = finished.fetch_add(1) + 1;
        if (w == 0 && done) done(count);
      }
    } catch (...) {
      errors[w] = std::current_exception();
      failed_at[w] = i;
      cursor = n;
    }
  };
  std::vector<std::thread> pool;
  for (unsigned w = 1; w < threads; ++w) pool.emplace_back(worker, w);
  worker(0);
  for (auto& t : pool) t.join();
  std::exception_ptr first_error;
  std::size_t first_failed = n;
  for (unsigned w = 0; w < threads; ++w) {
    if (errors[w] && failed_at[w] <= first_failed) {
      first_failed = failed_at[w];
      first_error = errors[w];
    }
  }
  if (first_error) std::rethrow_exception(first_error);
  if (done) done(n);  // the calling thread may have finished none of them
}

}  // namespace tritium
