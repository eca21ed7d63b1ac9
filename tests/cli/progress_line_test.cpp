// The progress line of long commands (cli/progress_line.hpp) and the library's meter
// (tritium/progress.hpp): nothing off a terminal or with --quiet, nothing for work under two seconds,
// one self-overwriting line otherwise, erased at the end.
#include <catch2/catch.hpp>
#include <algorithm>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "progress_line.hpp"
#include "tritium/progress.hpp"

namespace {

using tritium::progress_update;
using tritium::cli::progress_line;

progress_update update(std::uint64_t done, std::uint64_t total, bool finished = false) {
  progress_update u;
  u.done = done;
  u.total = total;
  u.unit = "prompts";
  u.finished = finished;
  return u;
}

}  // namespace

TEST_CASE("Progress line: drawn after two seconds, with the rate carried to the rest, erased at the end", "[progress]") {
  std::ostringstream err;
  double now = 0.5;
  {
    progress_line line("generate", err, true, [&] { return now; });
    line.show(update(10, 600));
    CHECK(err.str().empty());  // under two seconds: nothing
    now = 12.3;
    line.show(update(240, 600));
    CHECK(err.str() == "\rgenerate: 240/600 prompts, 12.3 s, ~18 s left\x1b[K");
    now = 13.0;
    line.show(update(250, 0));  // total not known: no estimate
    CHECK(err.str().ends_with("\rgenerate: 250 prompts, 13.0 s\x1b[K"));
    line.show(update(600, 600, true));
    CHECK(err.str().ends_with("\r\x1b[K"));
  }
  // Erased once: the destructor after a finished update adds nothing.
  CHECK(err.str().ends_with("s\x1b[K\r\x1b[K"));
}

TEST_CASE("Progress line: off a terminal or with --quiet nothing is written, however long the work", "[progress]") {
  std::ostringstream err;
  {
    progress_line line("radioactivity closed", err, false, [] { return 100.0; });
    line.show(update(1, 2));
    line.show(update(2, 2, true));
  }
  CHECK(err.str().empty());
  using tritium::cli::progress_wanted;
  using tritium::cli::terminals;
  const terminals neither{false, false}, only_stderr{true, false}, both{true, true};
  CHECK_FALSE(progress_wanted(neither, false, false));  // stderr redirected: never
  CHECK_FALSE(progress_wanted(terminals{false, true}, false, true));
  CHECK(progress_wanted(only_stderr, false, false));
  CHECK(progress_wanted(only_stderr, false, true));     // the output goes to a file or a pipe
  CHECK_FALSE(progress_wanted(only_stderr, true, false));  // --quiet
  CHECK_FALSE(progress_wanted(both, true, false));
  CHECK(progress_wanted(both, false, false));           // the output is written at the end
  CHECK_FALSE(progress_wanted(both, false, true));      // rows on the same terminal as they come
}

TEST_CASE("Progress line: a failing command's line is erased before its error message", "[progress]") {
  std::ostringstream err;
  try {
    progress_line line("read", err, true, [] { return 5.0; });
    line.show(update(3, 9));
    throw std::runtime_error("failure");
  } catch (const std::runtime_error&) {
    err << "tritium: error: failure\n";
  }
  CHECK(err.str() == "\rread: 3/9 prompts, 5.0 s, ~10 s left\x1b[K\r\x1b[Ktritium: error: failure\n");
}

TEST_CASE("Progress meter: counts every unit, calls at a bounded rate, and always sends the last update", "[progress]") {
  std::vector<progress_update> seen;
  tritium::progress_meter meter([&](const progress_update& u) { seen.push_back(u); }, "documents");
  for (int i = 0; i < 100000; ++i) meter.advance();
  meter.finish();
  meter.finish();  // once
  REQUIRE(!seen.empty());
  CHECK(seen.size() < 1000);  // far fewer than the units: a call per interval, not per unit
  CHECK(seen.back().finished);
  CHECK(seen.back().done == 100000);
  CHECK(seen.back().total == 100000);  // the total becomes known at the end
  CHECK(std::string(seen.back().unit) == "documents");
  CHECK(std::count_if(seen.begin(), seen.end(), [](const progress_update& u) { return u.finished; }) == 1);
  // An empty callback: every call is a no-op.
  tritium::progress_meter silent({}, "documents");
  silent.advance(5);
  silent.finish();
}
