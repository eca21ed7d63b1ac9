// What every fuzz target shares. Bad bytes must be answered with a tritium::error carrying an input
// error code (the CLI's exit 3, 5 or 6); anything else — another exception, errc::internal or
// errc::no_memory (the CLI's exit 70, "a bug"), a crash, a hang or a sanitizer report — is a finding.
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>

#include "tritium/error.hpp"

namespace tritium::fuzz {

[[noreturn]] inline void finding(const char* kind, const std::string& what) {
  std::fprintf(stderr, "FINDING: %s: %s\n", kind, what.c_str());
  std::fflush(stderr);
  std::abort();
}

/// Runs `f`; a tritium::error with an input error code is the expected outcome of bad input.
template <class F>
void expect_clean(F&& f) {
  try {
    f();
  } catch (const tritium::error& e) {
    if (e.code() == errc::internal || e.code() == errc::no_memory) {
      finding((std::string("tritium::error ") + errc_name(e.code())).c_str(), e.what());
    }
  } catch (const std::exception& e) {
    finding("an exception other than tritium::error", e.what());
  } catch (...) {
    finding("an exception of unknown type", "");
  }
}

/// A file holding given bytes, for readers that take only a path: an anonymous memory file reached
/// through /proc/self/fd, so that no fuzzing run leaves files behind.
class memory_file {
 public:
  memory_file() : fd_(::memfd_create("tritium-fuzz", 0)) {
    if (fd_ < 0) finding("setup", "memfd_create failed");
    path_ = "/proc/self/fd/" + std::to_string(fd_);
  }
  memory_file(const memory_file&) = delete;
  memory_file& operator=(const memory_file&) = delete;
  ~memory_file() { ::close(fd_); }

  /// Replaces the content with `bytes`.
  void assign(std::string_view bytes) {
    if (::ftruncate(fd_, 0) != 0) finding("setup", "ftruncate failed");
    std::size_t done = 0;
    while (done < bytes.size()) {
      const ssize_t n = ::pwrite(fd_, bytes.data() + done, bytes.size() - done, static_cast<off_t>(done));
      if (n <= 0) finding("setup", "pwrite failed");
      done += static_cast<std::size_t>(n);
    }
  }
  const std::string& path() const noexcept { return path_; }

 private:
  int fd_;
  std::string path_;
};

inline std::string_view bytes_of(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace tritium::fuzz
