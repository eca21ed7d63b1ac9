#include "atomic_output.hpp"

#include <unistd.h>

#include <cstdlib>
#include <iostream>

#include "tritium/error.hpp"

namespace tritium::cli {

atomic_output::atomic_output(const std::string& path) {
  if (path.empty() || path == "-") {
    to_stdout_ = true;
    return;
  }
  target_ = path;
  const auto dir = target_.has_parent_path() ? target_.parent_path() : std::filesystem::path(".");
  std::string tmpl = (dir / ("." + target_.filename().string() + ".tmpXXXXXX")).string();
  const int fd = ::mkstemp(tmpl.data());
  if (fd < 0) throw error(errc::io, "cannot create a temporary file next to " + path);
  ::close(fd);
  temporary_ = tmpl;
  file_.open(temporary_, std::ios::binary | std::ios::trunc);
  if (!file_) {
    std::filesystem::remove(temporary_);
    throw error(errc::io, "cannot write " + temporary_.string());
  }
}

atomic_output::~atomic_output() {
  if (!to_stdout_ && !committed_) {
    file_.close();
    std::error_code ec;
    std::filesystem::remove(temporary_, ec);
  }
}

std::ostream& atomic_output::stream() noexcept {
  if (to_stdout_) return std::cout;
  return file_;
}

void atomic_output::commit() {
  if (to_stdout_) {
    std::cout.flush();
    if (!std::cout) throw error(errc::io, "cannot write to standard output");
    committed_ = true;
    return;
  }
  file_.flush();
  if (!file_) throw error(errc::io, "cannot write " + target_.string());
  file_.close();
  std::error_code ec;
  std::filesystem::rename(temporary_, target_, ec);
  if (ec) throw error(errc::io, "cannot rename the output into " + target_.string() + ": " + ec.message());
  committed_ = true;
}

}  // namespace tritium::cli
