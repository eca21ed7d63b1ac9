#include "atomic_output.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iostream>

#include "tritium/error.hpp"

namespace tritium::cli {
namespace {

bool discard_all = false;

class null_buffer : public std::streambuf {
 protected:
  int_type overflow(int_type c) override { return traits_type::not_eof(c); }
  std::streamsize xsputn(const char*, std::streamsize n) override { return n; }
};

}  // namespace

void atomic_output::set_discard(bool discard) noexcept { discard_all = discard; }

atomic_output::atomic_output(const std::string& path) {
  if (discard_all) {
    discard_ = true;
    sink_ = std::make_unique<null_buffer>();
    file_ = std::make_unique<std::ostream>(sink_.get());
    return;
  }
  if (path.empty() || path == "-") {
    to_stdout_ = true;
    return;
  }
  target_ = path;
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
    if (S_ISDIR(st.st_mode)) throw error(errc::io, "cannot write " + path + ": it is a directory");
    fd_ = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd_ < 0) throw error(errc::io, "cannot open " + path + " for writing: " + std::strerror(errno));
    direct_ = true;
    buffer_ = std::make_unique<__gnu_cxx::stdio_filebuf<char>>(fd_, std::ios::out | std::ios::binary, 1 << 16);
    file_ = std::make_unique<std::ostream>(buffer_.get());
    return;
  }
  const auto dir = target_.has_parent_path() ? target_.parent_path() : std::filesystem::path(".");
  std::string tmpl = (dir / ("." + target_.filename().string() + ".tmpXXXXXX")).string();
  fd_ = ::mkstemp(tmpl.data());
  if (fd_ < 0) {
    throw error(errc::io, "cannot create a temporary file next to " + path + ": " + std::strerror(errno));
  }
  temporary_ = tmpl;
  const mode_t mask = ::umask(0);
  ::umask(mask);
  ::fchmod(fd_, 0666 & ~mask);
  // The stream writes through the descriptor mkstemp opened: the file is never reopened by name.
  buffer_ = std::make_unique<__gnu_cxx::stdio_filebuf<char>>(fd_, std::ios::out | std::ios::binary, 1 << 16);
  file_ = std::make_unique<std::ostream>(buffer_.get());
}

atomic_output::~atomic_output() {
  if (!to_stdout_ && !direct_ && !discard_ && !committed_) {
    file_.reset();
    buffer_.reset();  // closes fd_
    std::error_code ec;
    std::filesystem::remove(temporary_, ec);
  }
}

std::ostream& atomic_output::stream() noexcept {
  if (to_stdout_) return std::cout;
  return *file_;
}

void atomic_output::commit() {
  if (discard_) {
    committed_ = true;
    return;
  }
  if (direct_) {
    file_->flush();
    if (!*file_) throw error(errc::io, "cannot write " + target_.string() + ": " + std::strerror(errno));
    committed_ = true;
    return;
  }
  if (to_stdout_) {
    std::cout.flush();
    if (!std::cout) throw error(errc::io, "cannot write to standard output");
    committed_ = true;
    return;
  }
  file_->flush();
  if (!*file_ || ::fsync(fd_) != 0) {
    throw error(errc::io, "cannot write " + target_.string() + ": " + std::strerror(errno));
  }
  file_.reset();
  if (buffer_->close() == nullptr) throw error(errc::io, "cannot close " + target_.string());
  buffer_.reset();
  std::error_code ec;
  std::filesystem::rename(temporary_, target_, ec);
  if (ec) throw error(errc::io, "cannot rename the output into " + target_.string() + ": " + ec.message());
  committed_ = true;
}

}  // namespace tritium::cli
