#include "agent/tools/atomic_file.hpp"

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>

namespace baton {
namespace {

std::string SystemError(const std::string& what, int err) {
  return what + ": " + strerrordesc_np(err);
}

Status WriteAll(int fd, std::string_view content) {
  while (!content.empty()) {
    const ssize_t n = ::write(fd, content.data(), content.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::Unavailable(SystemError("write", errno));
    }
    content.remove_prefix(static_cast<std::size_t>(n));
  }
  return {};
}

}  // namespace

Status WriteFileAtomically(const std::filesystem::path& path, std::string_view content,
                           mode_t mode) {
  const std::filesystem::path dir = path.parent_path();
  std::string temp = (dir / ("." + path.filename().string() + ".tmp-XXXXXX")).string();
  // Close-on-exec: other threads may be starting processes meanwhile.
  const int fd = ::mkostemp(temp.data(), O_CLOEXEC);
  if (fd < 0)
    return Error::Unavailable(SystemError("cannot create a file in " + dir.string(), errno));
  Status status = WriteAll(fd, content);
  if (status && ::fchmod(fd, mode) != 0) status = Error::Unavailable(SystemError("fchmod", errno));
  if (status && ::fsync(fd) != 0) status = Error::Unavailable(SystemError("fsync", errno));
  if (::close(fd) != 0 && status) status = Error::Unavailable(SystemError("close", errno));
  if (status && ::rename(temp.c_str(), path.c_str()) != 0) {
    status = Error::Unavailable(SystemError("cannot replace " + path.string(), errno));
  }
  if (!status) {
    ::unlink(temp.c_str());
    return status;
  }
  // The rename itself is durable only once the directory is synced.
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
  return {};
}

}  // namespace baton
