#pragma once
// An exclusive advisory lock (flock) held for the life of the object, so that a timer run
// and a manual run of the collector never overlap. The lock dies with the process, so a
// crashed run never leaves a stale lock behind.
#include <chrono>
#include <string>

#include "adapters/host/unique_fd.hpp"
#include "core/common/error.hpp"

namespace nodeimg {

class RunLock {
 public:
  // Creates `host_path` (and its directory, mode 0755) if needed and waits up to `wait` for
  // the lock, then writes its PID into the file. The error names the file and, when another
  // process holds it, its PID and what to do.
  static Result<RunLock> acquire(const std::string& host_path, std::chrono::milliseconds wait);

 private:
  explicit RunLock(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
};

}  // namespace nodeimg
