#pragma once
// Restarts a unit and proves it healthy: the restart job must end "done", the unit must
// become active with /healthz answering "ok" before the timeout, and then stay so for the
// settle period with the same MainPID and InvocationID and no new NRestarts (a Type=simple
// kubelet with a bad configuration "starts" fine and then crash-loops).
#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "adapters/host/service_manager.hpp"

namespace nodeimg {

struct VerifyOptions {
  std::string unit{};
  std::optional<std::string> healthz_url{};  // nullopt: kubelet serves no healthz
  Duration timeout = std::chrono::minutes(2);
  Duration settle = std::chrono::seconds(10);
  Duration poll = std::chrono::milliseconds(250);
  // The wait before the first health check after the restart, doubled after each miss up to
  // `poll`: a kubelet that is healthy within a few tens of milliseconds is seen then, not a
  // whole poll interval later (bench/kubelet-apply-overhead), and a slow one costs at most a
  // handful of extra checks.
  Duration first_poll = std::chrono::milliseconds(10);
};

class RestartVerifier {
 public:
  using Probe = std::function<Result<std::string>(const std::string& url)>;
  using Clock = std::function<std::chrono::steady_clock::time_point()>;
  using Sleep = std::function<void(Duration)>;

  RestartVerifier(ServiceManager& manager, Probe probe, Clock clock, Sleep sleep)
      : manager_(manager), probe_(std::move(probe)), clock_(std::move(clock)), sleep_(std::move(sleep)) {}

  // The real clock, sleep and libcurl probe.
  static RestartVerifier with_system_clock(ServiceManager& manager);

  // The error says what failed (job result, health, stability) with the unit's state.
  Result<UnitStatus> restart_and_verify(const VerifyOptions& options);
  Result<UnitStatus> verify(const VerifyOptions& options, std::chrono::steady_clock::time_point deadline);

 private:
  std::string health_error(const VerifyOptions& options);
  ServiceManager& manager_;
  Probe probe_;
  Clock clock_;
  Sleep sleep_;
};

}  // namespace nodeimg
