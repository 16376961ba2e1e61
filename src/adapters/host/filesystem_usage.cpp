#include "adapters/host/filesystem_usage.hpp"

#include <sys/statvfs.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace nodeimg {

Result<FilesystemUsage> filesystem_usage(const std::string& host_path) {
  std::string path = host_path.empty() ? "/" : host_path;
  while (true) {
    struct statvfs s {};
    if (::statvfs(path.c_str(), &s) == 0) {
      return FilesystemUsage{.mountpoint = host_path,
                             .size_bytes = static_cast<std::uint64_t>(s.f_blocks) * s.f_frsize,
                             .available_bytes = static_cast<std::uint64_t>(s.f_bavail) * s.f_frsize,
                             .inodes = s.f_files,
                             .inodes_free = s.f_favail};
    }
    if (errno != ENOENT || path == "/") return fail(fmt::format("statvfs {}: {}", path, std::strerror(errno)));
    auto slash = path.find_last_of('/');
    path = slash == 0 || slash == std::string::npos ? "/" : path.substr(0, slash);
  }
}

}  // namespace nodeimg
