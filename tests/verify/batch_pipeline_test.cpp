// The multi-threaded document pipeline (tritium/batch_pipeline.hpp) with several workers and many small
// batches, so that the reader thread, the workers and the emitting thread overlap on every batch. The
// sanitizer job runs these under ThreadSanitizer (.ci/sanitizers).
#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "tritium/batch_pipeline.hpp"
#include "tritium/error.hpp"

namespace {

using tritium::batch_limits;
using tritium::run_batches;

struct doc {
  std::uint64_t n = 0;
  std::string payload;  // sized so that the byte limit, not only the count limit, ends batches
};

// Runs the pipeline over `count` documents on `threads` workers; `fail_read_at` / `fail_work_at` throw
// there (past count for never). Appends the ids emitted to `emitted`, in emitted order, checking each
// result on the way.
void run_pipeline(unsigned threads, std::uint64_t count, std::uint64_t fail_read_at, std::uint64_t fail_work_at,
                  std::vector<std::uint64_t>& emitted) {
  std::uint64_t next = 0;
  run_batches<doc, std::vector<std::uint64_t>>(
      threads, batch_limits{7, 300},
      [&](doc& d) {
        if (next == fail_read_at) throw tritium::error(tritium::errc::parse, "read failed at " + std::to_string(next));
        if (next == count) return false;
        d.n = next++;
        d.payload.assign(d.n % 97, 'x');
        return true;
      },
      [](const doc& d) { return d.payload.size(); },
      [&](doc& d, std::vector<std::uint64_t>& r, unsigned worker) {
        if (worker >= threads) throw std::logic_error("worker index out of range");
        if (d.n == fail_work_at || d.n == fail_work_at + 3) {
          throw tritium::error(tritium::errc::parse, "work failed at " + std::to_string(d.n));
        }
        r.assign(d.payload.size() % 5 + 1, d.n * d.n);  // overwrites the reused result completely
      },
      [&](doc& d, std::vector<std::uint64_t>& r) {
        if (r.size() != d.payload.size() % 5 + 1 || r.front() != d.n * d.n || r.back() != d.n * d.n) {
          throw std::logic_error("document " + std::to_string(d.n) + " got another document's result");
        }
        emitted.push_back(d.n);
      });
}

}  // namespace

TEST_CASE("Pipeline: four workers emit every document once, in input order, with its own result", "[pipeline]") {
  const std::uint64_t count = 5000;
  for (unsigned threads : {1u, 2u, 4u}) {
    INFO("threads " << threads);
    std::vector<std::uint64_t> emitted;
    run_pipeline(threads, count, count + 1, count + 1, emitted);
    REQUIRE(emitted.size() == count);
    for (std::uint64_t i = 0; i < count; ++i) REQUIRE(emitted[i] == i);
  }
}

TEST_CASE("Pipeline: a worker's error stops the run and names the earliest failing document", "[pipeline]") {
  // Documents 2000 and 2003 fail, possibly on different workers: 2000 is named, and nothing of the
  // failing batch is emitted, so what was emitted is a prefix ending at a batch boundary before 2000.
  std::vector<std::uint64_t> emitted;
  std::uint64_t next = 0;
  try {
    run_batches<doc, std::vector<std::uint64_t>>(
        4, batch_limits{64, 1u << 20},
        [&](doc& d) {
          if (next == 5000) return false;
          d.n = next++;
          return true;
        },
        [](const doc&) { return std::size_t{1}; },
        [&](doc& d, std::vector<std::uint64_t>& r, unsigned) {
          if (d.n == 2000 || d.n == 2003) throw tritium::error(tritium::errc::parse, "failed at " + std::to_string(d.n));
          r.assign(1, d.n);
        },
        [&](doc& d, std::vector<std::uint64_t>&) { emitted.push_back(d.n); });
    FAIL("the pipeline did not rethrow the worker's error");
  } catch (const tritium::error& e) {
    CHECK(std::string(e.what()) == "failed at 2000");
  }
  CHECK(emitted.size() == 1984);  // batches of 64: 31 complete batches precede document 2000
  for (std::size_t i = 0; i < emitted.size(); ++i) REQUIRE(emitted[i] == i);
}

TEST_CASE("Pipeline: a read error surfaces after the batches read before it are emitted", "[pipeline]") {
  std::vector<std::uint64_t> emitted;
  try {
    run_pipeline(4, 5000, 1234, 5001, emitted);
    FAIL("the pipeline did not rethrow the reader's error");
  } catch (const tritium::error& e) {
    CHECK(std::string(e.what()) == "read failed at 1234");
  }
  // The batch holding document 1234 failed while being read; every document before that batch was
  // emitted, and the batch before it is complete.
  REQUIRE(!emitted.empty());
  CHECK(emitted.size() <= 1234);
  CHECK(emitted.size() + 6 >= 1234);
  for (std::size_t i = 0; i < emitted.size(); ++i) REQUIRE(emitted[i] == i);
  emitted.clear();
  CHECK_THROWS_WITH(run_pipeline(3, 5000, 5001, 777, emitted), "work failed at 777");
}

TEST_CASE("Pipeline: parallel_for runs every index once on its workers and reports progress on the caller", "[pipeline]") {
  const std::size_t count = 3000;
  for (unsigned threads : {1u, 2u, 4u}) {
    INFO("threads " << threads);
    std::vector<std::uint64_t> slots(count, 0);
    std::vector<unsigned> worker_of(count, 99);
    std::vector<std::size_t> reported;
    tritium::parallel_for(
        threads, count,
        [&](std::size_t i, unsigned w) {
          slots[i] += i * i + 1;  // each slot written once: a second visit would double it
          worker_of[i] = w;
        },
        [&](std::size_t done) { reported.push_back(done); });
    for (std::size_t i = 0; i < count; ++i) REQUIRE(slots[i] == i * i + 1);
    CHECK(std::all_of(worker_of.begin(), worker_of.end(), [&](unsigned w) { return w < threads; }));
    REQUIRE(!reported.empty());
    CHECK(std::is_sorted(reported.begin(), reported.end()));
    CHECK(reported.back() == count);
  }
  // Nothing to do: returns at once.
  tritium::parallel_for(4, 0, [](std::size_t, unsigned) { FAIL("no index"); });
}

TEST_CASE("Pipeline: parallel_for rethrows the error of the lowest failing index", "[pipeline]") {
  for (unsigned threads : {1u, 3u}) {
    INFO("threads " << threads);
    CHECK_THROWS_WITH(tritium::parallel_for(threads, 2000,
                                            [](std::size_t i, unsigned) {
                                              if (i == 700 || i == 1500) throw std::runtime_error("failed at " + std::to_string(i));
                                            }),
                      "failed at 700");
  }
}
