#pragma once
// The running kubelet, from /proc.
#include <optional>
#include <string>
#include <vector>

#include "core/common/error.hpp"

namespace nodeimg {

struct ProcessInfo {
  int pid = 0;
  std::vector<std::string> argv;
};

// The lowest-numbered process whose command name is `name`, or nullopt.
Result<std::optional<ProcessInfo>> find_process(const std::string& name, const std::string& proc = "/proc");

}  // namespace nodeimg
