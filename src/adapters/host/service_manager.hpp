#pragma once
// What nodeimg needs from the service manager, as an interface: the D-Bus implementation
// talks to systemd; tests of the restart/verify logic can use a recording fake.
#include <cstdint>
#include <string>

#include "core/common/duration.hpp"
#include "core/common/error.hpp"

namespace nodeimg {

struct UnitStatus {
  std::string load_state;    // "loaded", "not-found", ...
  std::string active_state;  // "active", "activating", "failed", ...
  std::string sub_state;
  std::string invocation_id;  // hex; new on every start
  std::uint32_t main_pid = 0;
  std::uint32_t n_restarts = 0;
};

class ServiceManager {
 public:
  virtual ~ServiceManager() = default;
  virtual Result<UnitStatus> status(const std::string& unit) = 0;
  // Restarts `unit` (mode "replace") and waits for its job; returns the job's result
  // ("done", "failed", "timeout", ...), or an error when the wait timed out.
  virtual Result<std::string> restart(const std::string& unit, Duration timeout) = 0;
  // systemctl daemon-reload.
  virtual Result<void> reload() = 0;
};

}  // namespace nodeimg
