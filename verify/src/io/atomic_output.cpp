#include "tritium/atomic_output.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <limits>

#include "tritium/error.hpp"

namespace tritium {
namespace {

bool discard_all = false;

class null_buffer : public std::streambuf {
 protected:
  int_type overflow(int_type c) override { return traits_type::not_eof(c); }
  std::streamsize xsputn(const char*, std::streamsize n) override { return n; }
};

}  // namespace

void atomic_output::set_discard(bool discard) noexcept { discard_all = discard; }

long atomic_output::temporary_owner(std::string_view name, std::string_view target_name) noexcept {
  constexpr std::string_view marker = ".tritium-tmp.";
  if (name.size() < 1 + target_name.size() + marker.size() || name[0] != '.' ||
      name.substr(1, target_name.size()) != target_name ||
      name.substr(1 + target_name.size(), marker.size()) != marker) {
    return 0;
  }
  std::string_view rest = name.substr(1 + target_name.size() + marker.size());
  const std::size_t dot = rest.find('.');
  if (dot == 0 || dot == std::string_view::npos || dot > 9 || rest.size() != dot + 7) return 0;
  long pid = 0;
  for (std::size_t i = 0; i < dot; ++i) {
    if (rest[i] < '0' || rest[i] > '9') return 0;
    pid = pid * 10 + (rest[i] - '0');
  }
  for (const char c : rest.substr(dot + 1)) {
    if (!std::isalnum(static_cast<unsigned char>(c))) return 0;
  }
  return pid;
}

namespace {

// Temporaries of `target` left by processes that no longer run (killed before they could remove
// them). Only names temporary_owner() recognises for this very target, only regular files, and only
// when the owner is certainly gone (ESRCH): a temporary of a live run, of another user's run or of
// another target is never touched.
void remove_stale_temporaries(const std::filesystem::path& dir, const std::string& target_name) {
  std::error_code ec;
  const long self = static_cast<long>(::getpid());
  for (auto it = std::filesystem::directory_iterator(dir, ec); !ec && it != std::filesystem::directory_iterator();
       it.increment(ec)) {
    const long owner = atomic_output::temporary_owner(it->path().filename().string(), target_name);
    if (owner <= 0 || owner == self || owner > std::numeric_limits<pid_t>::max()) continue;
    if (::kill(static_cast<pid_t>(owner), 0) == 0 || errno != ESRCH) continue;
    std::error_code status_ec;
    if (!it->is_symlink(status_ec) && it->is_regular_file(status_ec)) {
      std::error_code remove_ec;
      std::filesystem::remove(it->path(), remove_ec);
    }
  }
}

}  // namespace

void atomic_output::remove_stale_temporaries(const std::filesystem::path& target) noexcept {
  const auto dir = target.has_parent_path() ? target.parent_path() : std::filesystem::path(".");
  try {
    tritium::remove_stale_temporaries(dir, target.filename().string());
  } catch (...) {
    // Best effort: a temporary left in place is only clutter, never a wrong output.
  }
}

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
  const std::string name = target_.filename().string();
  tritium::remove_stale_temporaries(dir, name);
  std::string tmpl = (dir / ("." + name + ".tritium-tmp." + std::to_string(::getpid()) + ".XXXXXX")).string();
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

}  // namespace tritium
