#include "tritium/private_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "tritium/error.hpp"

namespace tritium::detail {

void write_private_file(const std::filesystem::path& path, std::string_view text, bool overwrite,
                        const char* what) {
  const std::filesystem::path dir =
      path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  // The temporary is named as every tritium output's is (".NAME.tritium-tmp.PID.XXXXXX", see
  // tritium/atomic_output.hpp), so that one killed before the rename is easy to find and a later run to
  // the same target removes it.
  std::string tmpl = (dir / ("." + path.filename().string() + ".tritium-tmp." + std::to_string(::getpid()) +
                             ".XXXXXX")).string();
  // mkstemp creates the file with mode 0600 before any byte of the secret is written.
  const int fd = ::mkstemp(tmpl.data());
  if (fd < 0) {
    throw error(errc::io, "cannot create a temporary file in " + dir.string() + ": " +
                              std::strerror(errno));
  }
  std::size_t written = 0;
  bool ok = ::fchmod(fd, S_IRUSR | S_IWUSR) == 0;
  while (ok && written < text.size()) {
    const ssize_t n = ::write(fd, text.data() + written, text.size() - written);
    if (n <= 0) ok = false; else written += static_cast<std::size_t>(n);
  }
  ok = ok && ::fsync(fd) == 0;
  const int saved_errno = errno;
  ::close(fd);
  if (!ok) {
    ::unlink(tmpl.c_str());
    throw error(errc::io, "cannot write " + path.string() + ": " + std::strerror(saved_errno));
  }
  int rc = 0;
  if (overwrite) {
    rc = ::rename(tmpl.c_str(), path.c_str());
  } else {
    // link() fails when the target exists, which makes "never replace a key" atomic.
    rc = ::link(tmpl.c_str(), path.c_str());
    if (rc == 0) ::unlink(tmpl.c_str());
  }
  if (rc != 0) {
    const int err = errno;
    ::unlink(tmpl.c_str());
    if (err == EEXIST) {
      throw error(errc::io, std::string("refusing to overwrite the existing ") + what + " " + path.string());
    }
    throw error(errc::io, "cannot create " + path.string() + ": " + std::strerror(err));
  }
}

}  // namespace tritium::detail
