#include "adapters/host/run_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <optional>
#include <thread>

#include <fmt/format.h>

#include "core/common/duration.hpp"

namespace nodeimg {

namespace {

// The holder writes its PID into the lock file once it has the lock (flock locks are not
// visible to F_GETLK, so the file is the only place to learn who holds one).
void record_holder(int fd) {
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) == 0) (void)!::pwrite(fd, pid.data(), pid.size(), 0);
}

// The PID written by the holder; nullopt when none is written yet (it is between taking
// the lock and writing) or the content is not a PID.
std::optional<long> holder_of(int fd) {
  char buf[32] = {};
  const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
  if (n <= 0) return std::nullopt;
  long pid = 0;
  const auto [end, ec] = std::from_chars(buf, buf + n, pid);
  if (ec != std::errc() || pid <= 0 || (end != buf + n && *end != '\n')) return std::nullopt;
  return pid;
}

std::string held_message(const std::string& host_path, int fd, std::chrono::milliseconds wait) {
  const auto pid = holder_of(fd);
  const std::string waited = format_duration(wait);
  if (!pid)
    return fmt::format("lock {}: another nodeimg run holds it (waited --lock-timeout {}); try again when it has "
                       "finished",
                       host_path, waited);
  return fmt::format("lock {}: held by another nodeimg run, PID {} (waited --lock-timeout {}); wait for it to finish "
                     "(`ps -p {}` shows it; the timer's runs are in `journalctl -u nodeimg-gc.service`), or give a "
                     "longer --lock-timeout",
                     host_path, *pid, waited, *pid);
}

}  // namespace

Result<RunLock> RunLock::acquire(const std::string& host_path, std::chrono::milliseconds wait) {
  std::error_code ec;
  const auto dir = std::filesystem::path(host_path).parent_path();
  if (!dir.empty()) std::filesystem::create_directories(dir, ec);
  if (ec) return fail(fmt::format("lock {}: create {}: {}", host_path, dir.string(), ec.message()));
  UniqueFd fd(::open(host_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd) return fail(fmt::format("lock {}: open: {}", host_path, std::strerror(errno)));
  const auto deadline = std::chrono::steady_clock::now() + wait;
  while (true) {
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) == 0) {
      record_holder(fd.get());
      return RunLock(std::move(fd));
    }
    if (errno != EWOULDBLOCK && errno != EINTR) return fail(fmt::format("lock {}: {}", host_path, std::strerror(errno)));
    if (std::chrono::steady_clock::now() >= deadline) return fail(held_message(host_path, fd.get(), wait));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

}  // namespace nodeimg
