#pragma once
// Rules the kubelet commands apply, stated once: when kubelet is restarted, and which
// health endpoint proves it healthy.
#include <optional>
#include <string>
#include <string_view>

#include "core/kubelet/plan.hpp"

namespace nodeimg::kubelet {

struct RestartInputs {
  bool enabled = true;      // kubelet.restart in nodeimg's configuration
  bool no_restart = false;  // --no-restart
  bool rooted = false;      // --root: another system's files, nothing to restart
  bool has_unit = false;    // a unit to restart was found
};

// Empty when kubelet is restarted after a change; else why not, as an operator reads it.
std::string no_restart_reason(const RestartInputs& in);
inline bool should_restart(const RestartInputs& in) { return no_restart_reason(in).empty(); }

// The URL that proves kubelet healthy: nodeimg's `kubelet.healthz` when it is not
// "auto", else kubelet's own healthz endpoint (0.0.0.0 and :: probed on loopback);
// nullopt when kubelet serves none (port 0).
std::optional<std::string> healthz_url(std::string_view configured, const Endpoint& endpoint);

}  // namespace nodeimg::kubelet
