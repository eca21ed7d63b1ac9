// The progress line of a long command: one self-overwriting line on stderr ("generate: 240/600
// prompts, 12.3 s, ~18 s left"), drawn from the updates a library operation sends
// (tritium/progress.hpp). Drawn only on a terminal, only once the work has run for a while, never
// with --quiet; erased when the work ends, so that what the command prints next starts on a clean line.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <iosfwd>
#include <string>

#include "tritium/progress.hpp"

namespace tritium::cli {

class progress_line {
 public:
  /// Work that ends sooner than this draws nothing (stderr_progress: TRITIUM_PROGRESS_DELAY seconds
  /// instead when that is set to a number >= 0, so that a test on a fast machine sees a line).
  static constexpr double delay_seconds = 2.0;

  /// Seconds since the work began.
  using clock_function = std::function<double()>;

  /// Draws on `out` when `enabled` (the caller decides: a terminal, no --quiet); `seconds` is the
  /// clock (default: a steady clock started now).
  progress_line(std::string label, std::ostream& out, bool enabled, clock_function seconds = {},
                double delay = delay_seconds);
  /// Erases the line if one was drawn (also when the work failed: the error message follows).
  ~progress_line();
  progress_line(const progress_line&) = delete;
  progress_line& operator=(const progress_line&) = delete;

  /// Redraws the line for `u` once delay_seconds have passed; erases it when `u.finished`.
  void show(const progress_update& u);
  /// Erases the line if one was drawn.
  void finish();
  /// A callback for a library operation; the line must outlive the operation.
  progress_callback callback() {
    return [this](const progress_update& u) { show(u); };
  }

 private:
  std::string label_;
  std::ostream& out_;
  bool enabled_;
  clock_function seconds_;
  double delay_;
  bool drawn_ = false;
};

/// Which of the standard streams are terminals.
struct terminals {
  bool stderr_is_terminal = false;
  bool stdout_is_terminal = false;
  static terminals of_this_process();
};

/// Whether a command draws its progress line: when stderr is a terminal and `quiet` is false, but
/// not when the command writes its output to standard output as it goes and that is a terminal too
/// (the two would interleave; the output's own lines show how far the work has come).
bool progress_wanted(const terminals& t, bool quiet, bool streams_to_stdout);

/// The progress line of a command on stderr, drawn when progress_wanted for this process.
progress_line stderr_progress(std::string label, bool quiet, bool streams_to_stdout = false);
/// Registers --quiet ("no progress line") on a long-running command.
void add_quiet_flag(CLI::App& app, bool& quiet);

}  // namespace tritium::cli
