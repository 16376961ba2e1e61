#pragma once
// The running kubelet, from /proc.
#include <map>
#include <optional>
#include <string_view>
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

// The systemd unit a process runs in, from one /proc/PID/cgroup text: the last `*.service`
// component of its systemd path (the name=systemd hierarchy, else the unified one); empty
// when it runs in no service (a scope, a slice, outside systemd).
std::string unit_of_cgroup(std::string_view cgroup_text);

// Command names of processes that run kubelet: kubelet itself, k3s (which names its
// process k3s-server/k3s-agent), rke2 (kubelet is its child, in its cgroup) and MicroK8s's
// kubelite.
const std::vector<std::string>& kubelet_bearing_commands();

// Units in whose cgroup a process with one of `commands` runs: unit -> its lowest pid.
Result<std::map<std::string, int>> units_running(const std::vector<std::string>& commands,
                                                 const std::string& proc = "/proc");

}  // namespace nodeimg
