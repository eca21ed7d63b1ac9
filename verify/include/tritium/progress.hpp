// tritium/progress.hpp — how a long operation tells its caller how far it has come, without printing
// anything: it counts units of work (prompts, documents, texts) and calls a callback the caller gave,
// at a bounded rate. A front end draws the line (the CLI: a self-overwriting line on a terminal).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>

namespace tritium {

struct progress_update {
  std::uint64_t done = 0;   ///< units finished so far
  std::uint64_t total = 0;  ///< units in all; 0 while not known (an input not yet read to its end)
  const char* unit = "";    ///< what is counted, plural: "prompts", "documents"
  bool finished = false;    ///< the last update of the operation
};

/// Called on the thread that runs the operation (never concurrently), at most every
/// progress_meter::interval and once more when the operation ends. Must not throw.
using progress_callback = std::function<void(const progress_update&)>;

/// Counts one operation's units and passes them to a callback at a bounded rate, so that an operation
/// may count every unit without its caller redrawing a line a million times. An empty callback makes
/// every call a no-op. Not thread-safe: the operation counts on one thread.
class progress_meter {
 public:
  /// The least time between two updates (the last one always goes out).
  static constexpr std::chrono::milliseconds interval{100};

  progress_meter(progress_callback callback, const char* unit, std::uint64_t total = 0);

  /// Names what is counted, before the first unit.
  void set_unit(const char* unit) noexcept { update_.unit = unit; }
  /// Sets the total once it is known (0: unknown).
  void set_total(std::uint64_t total) noexcept { update_.total = total; }
  /// `units` more are finished.
  void advance(std::uint64_t units = 1) { reach(update_.done + units); }
  /// `done` units in all are finished (never fewer than before).
  void reach(std::uint64_t done);
  /// The operation ended: one last update with `finished` set (once; later calls do nothing).
  void finish();

 private:
  progress_callback callback_;
  progress_update update_;
  std::chrono::steady_clock::time_point last_{};
};

}  // namespace tritium
