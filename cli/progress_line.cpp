#include "progress_line.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <sstream>
#include <unistd.h>

namespace tritium::cli {

progress_line::progress_line(std::string label, std::ostream& out, bool enabled, clock_function seconds, double delay)
    : label_(std::move(label)), out_(out), enabled_(enabled), seconds_(std::move(seconds)), delay_(delay) {
  if (!seconds_) {
    const auto start = std::chrono::steady_clock::now();
    seconds_ = [start] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
  }
}

progress_line::~progress_line() { finish(); }

void progress_line::show(const progress_update& u) {
  if (!enabled_) return;
  if (u.finished) return finish();
  const double elapsed = seconds_();
  if (elapsed < delay_) return;
  std::ostringstream line;
  line.setf(std::ios::fixed);
  line.precision(1);
  line << "\r" << label_ << ": " << u.done;
  if (u.total != 0) line << "/" << u.total;
  line << " " << u.unit << ", " << elapsed << " s";
  if (u.total != 0 && u.done != 0 && u.done < u.total) {
    // The rate so far, carried to the rest: a rough guide (model queries vary little in cost).
    const double left = elapsed / static_cast<double>(u.done) * static_cast<double>(u.total - u.done);
    line.precision(0);
    line << ", ~" << left << " s left";
  }
  line << "\x1b[K";  // erase what a longer previous line left to the right
  out_ << line.str() << std::flush;
  drawn_ = true;
}

void progress_line::finish() {
  if (!drawn_) return;
  out_ << "\r\x1b[K" << std::flush;
  drawn_ = false;
}

terminals terminals::of_this_process() {
  terminals t;
  t.stderr_is_terminal = isatty(STDERR_FILENO) == 1;
  t.stdout_is_terminal = isatty(STDOUT_FILENO) == 1;
  return t;
}

bool progress_wanted(const terminals& t, bool quiet, bool streams_to_stdout) {
  return !quiet && t.stderr_is_terminal && !(streams_to_stdout && t.stdout_is_terminal);
}

progress_line stderr_progress(std::string label, bool quiet, bool streams_to_stdout) {
  double delay = progress_line::delay_seconds;
  if (const char* v = std::getenv("TRITIUM_PROGRESS_DELAY"); v != nullptr && *v != '\0') {
    char* end = nullptr;
    const double d = std::strtod(v, &end);
    if (*end == '\0' && d >= 0.0 && d <= 3600.0) delay = d;  // anything else: the default (a display setting)
  }
  return progress_line(std::move(label), std::cerr, progress_wanted(terminals::of_this_process(), quiet, streams_to_stdout), {},
                       delay);
}

void add_quiet_flag(CLI::App& app, bool& quiet) {
  app.add_flag("--quiet", quiet, "No progress line (drawn on stderr only when it is a terminal, after 2 s)");
}

}  // namespace tritium::cli
