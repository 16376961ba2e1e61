#include "adapters/host/run_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <thread>

#include <fmt/format.h>

namespace nodeimg {

Result<RunLock> RunLock::acquire(const std::string& host_path, std::chrono::milliseconds wait) {
  std::error_code ec;
  const auto dir = std::filesystem::path(host_path).parent_path();
  if (!dir.empty()) std::filesystem::create_directories(dir, ec);
  if (ec) return fail(fmt::format("lock {}: create {}: {}", host_path, dir.string(), ec.message()));
  UniqueFd fd(::open(host_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd) return fail(fmt::format("lock {}: open: {}", host_path, std::strerror(errno)));
  const auto deadline = std::chrono::steady_clock::now() + wait;
  while (true) {
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) == 0) return RunLock(std::move(fd));
    if (errno != EWOULDBLOCK && errno != EINTR) return fail(fmt::format("lock {}: {}", host_path, std::strerror(errno)));
    if (std::chrono::steady_clock::now() >= deadline)
      return fail(fmt::format("lock {}: another nodeimg run holds it (waited {} s); try again when it has finished",
                              host_path, std::chrono::duration_cast<std::chrono::seconds>(wait).count()));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

}  // namespace nodeimg
