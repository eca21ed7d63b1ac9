// An output file that appears complete or not at all: written to a temporary file beside the
// target, flushed to disk, and renamed over it on commit. Without commit (an error midway) the
// temporary is removed. The file gets the usual mode for new files (0666 minus the umask). A target
// that exists but is not a regular file (/dev/null, /dev/stdout, a pipe) is written directly: it is
// never replaced, and a failed write to it is still an error.
//
// A process killed outright (kill -9, power loss) cannot remove its temporary: it stays beside the
// target as ".NAME.tritium-tmp.PID.XXXXXX" (never a partial NAME). The next atomic_output for the
// same target removes every such temporary whose process no longer runs.
#pragma once

#include <ext/stdio_filebuf.h>

#include <filesystem>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>

namespace tritium {

/// For --help and the README: where an output is written until it is complete.
inline constexpr const char* atomic_output_help =
    "Output files are written to a hidden temporary beside the target (.NAME.tritium-tmp.PID.XXXXXX)\n"
    "and renamed into place when complete: an error leaves no file, a killed run may leave that\n"
    "temporary (never a partial NAME), and the next run writing NAME removes it.";

class atomic_output {
 public:
  /// An empty path or "-" writes to standard output directly. Throws tritium::error (errc::io) when
  /// the target is a directory or its temporary cannot be created.
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

  /// The process id in `name` when it is exactly a temporary of `target_name` (a file name without
  /// directory): "." + target_name + ".tritium-tmp." + decimal pid + "." + 6 letters or digits.
  /// 0 for any other name.
  static long temporary_owner(std::string_view name, std::string_view target_name) noexcept;

  /// Removes the temporaries of `target` left by processes that no longer run, as every
  /// atomic_output does when it opens; for outputs written another way (key files, whose writer
  /// names its temporaries the same way).
  static void remove_stale_temporaries(const std::filesystem::path& target) noexcept;

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

}  // namespace tritium
