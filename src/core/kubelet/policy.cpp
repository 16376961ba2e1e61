#include "core/kubelet/policy.hpp"

#include <fmt/format.h>

namespace nodeimg::kubelet {

std::string no_restart_reason(const RestartInputs& in) {
  if (in.rooted) return "under --root nothing is restarted";
  if (!in.has_unit) return "no kubelet unit was found; restart kubelet yourself";
  if (!in.enabled || in.no_restart) return "restart is disabled; the new values take effect at kubelet's next restart";
  return {};
}

std::optional<std::string> healthz_url(std::string_view configured, const Endpoint& endpoint) {
  if (configured != "auto") return std::string(configured);
  if (endpoint.port == 0) return std::nullopt;
  std::string host = endpoint.address;
  if (host.empty() || host == "0.0.0.0") host = "127.0.0.1";
  if (host == "::") host = "::1";
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  return fmt::format("http://{}:{}/healthz", host, endpoint.port);
}

}  // namespace nodeimg::kubelet
