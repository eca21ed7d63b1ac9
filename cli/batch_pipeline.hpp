// Runs a per-document job over a stream of documents on several threads while keeping input order
// and bounded memory: the input is read in batches (a few MB), the next batch is read by its own
// thread while the current one is processed, and results are emitted in input order.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <exception>
#include <functional>
#include <thread>
#include <vector>

namespace tritium::cli {

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
  auto read_batch = [&](std::vector<Doc>& batch) {
    batch.clear();
    std::size_t bytes = 0;
    Doc d;
    while (batch.size() < limits.max_documents && bytes < limits.max_bytes && read(d)) {
      bytes += bytes_of(d);
      batch.push_back(std::move(d));
    }
  };
  std::vector<Doc> current, next;
  read_batch(current);
  std::vector<Result> results;
  while (!current.empty()) {
    std::exception_ptr read_error;
    std::thread reader([&] {
      try {
        read_batch(next);
      } catch (...) {
        read_error = std::current_exception();
      }
    });
    results.resize(current.size());  // slots are kept from batch to batch (see the worker below)
    std::atomic<std::size_t> cursor{0};
    std::vector<std::exception_ptr> errors(threads);
    auto worker = [&](unsigned w) {
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
            work(current[i], local, w);
            results[i] = local;
          }
        }
      } catch (...) {
        errors[w] = std::current_exception();
        cursor = current.size();
      }
    };
    std::vector<std::thread> pool;
    for (unsigned w = 1; w < threads; ++w) pool.emplace_back(worker, w);
    worker(0);
    for (auto& t : pool) t.join();
    reader.join();
    for (auto& e : errors) {
      if (e) std::rethrow_exception(e);
    }
    for (std::size_t i = 0; i < current.size(); ++i) emit(current[i], results[i]);
    if (read_error) std::rethrow_exception(read_error);
    std::swap(current, next);
  }
}

}  // namespace tritium::cli
