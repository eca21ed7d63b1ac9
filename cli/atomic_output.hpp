// An output file that appears complete or not at all: written to a temporary file beside the
// target, flushed to disk, and renamed over it on commit. Without commit (an error midway) the
// temporary is removed. The file gets the usual mode for new files (0666 minus the umask). A target
// that exists but is not a regular file (/dev/null, /dev/stdout, a pipe) is written directly: it is
// never replaced.
#pragma once

#include <ext/stdio_filebuf.h>

#include <filesystem>
#include <memory>
#include <ostream>
#include <string>

namespace tritium::cli {

class atomic_output {
 public:
  /// An empty path or "-" writes to standard output directly.
  explicit atomic_output(const std::string& path);
  ~atomic_output();
  atomic_output(const atomic_output&) = delete;
  atomic_output& operator=(const atomic_output&) = delete;

  std::ostream& stream() noexcept;
  /// Flushes, syncs and renames into place. Throws tritium::error (errc::io).
  void commit();

  /// While set, every atomic_output (including standard output) discards what is written and commits
  /// nothing: a recomputation re-runs a command without touching any file.
  static void set_discard(bool discard) noexcept;

 private:
  std::filesystem::path target_;
  std::filesystem::path temporary_;
  int fd_ = -1;
  std::unique_ptr<__gnu_cxx::stdio_filebuf<char>> buffer_;
  std::unique_ptr<std::ostream> file_;
  std::unique_ptr<std::streambuf> sink_;
  bool to_stdout_ = false;
  bool direct_ = false;  ///< an existing non-regular file, written in place
  bool discard_ = false;
  bool committed_ = false;
};

}  // namespace tritium::cli
