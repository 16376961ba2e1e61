#pragma once
// The facts behind "restart pending" (core/kubelet/live_check): when a process started
// and when a file was last modified, as wall-clock nanoseconds since the epoch.
#include <cstdint>
#include <optional>
#include <string>

#include "core/common/error.hpp"

namespace nodeimg {

struct ProcessStart {
  std::int64_t started_ns = 0;     // wall clock
  std::int64_t resolution_ns = 0;  // the true start is in [started_ns, started_ns + resolution_ns)
};

// From /proc/PID/stat (field 22, clock ticks since boot on CLOCK_BOOTTIME), placed on the
// wall clock by the current offset between CLOCK_REALTIME and CLOCK_BOOTTIME (not /proc/stat's
// btime, which is whole seconds). nullopt when the process is gone.
Result<std::optional<ProcessStart>> process_start(int pid, const std::string& proc = "/proc");

// The mtime of `host_path` (not following a final symlink); nullopt when it does not exist.
Result<std::optional<std::int64_t>> modified_ns(const std::string& host_path);

}  // namespace nodeimg
