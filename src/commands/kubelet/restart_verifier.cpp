#include "commands/kubelet/restart_verifier.hpp"

#include <algorithm>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "adapters/host/http_probe.hpp"
#include "core/common/text.hpp"

namespace nodeimg {

RestartVerifier RestartVerifier::with_system_clock(ServiceManager& manager) {
  return RestartVerifier(
      manager, [](const std::string& url) { return http_get(url, std::chrono::seconds(2)); },
      [] { return std::chrono::steady_clock::now(); }, [](Duration d) { std::this_thread::sleep_for(d); });
}

namespace {
std::string describe(const UnitStatus& s) {
  return fmt::format("ActiveState={} SubState={} MainPID={} NRestarts={}", s.active_state, s.sub_state, s.main_pid,
                     s.n_restarts);
}
}  // namespace

// Empty when healthy.
std::string RestartVerifier::health_error(const VerifyOptions& options) {
  if (!options.healthz_url) return {};
  auto body = probe_(*options.healthz_url);
  if (!body) return body.error().message;
  if (text::trim(*body) != "ok") return fmt::format("GET {} answered \"{}\", not \"ok\"", *options.healthz_url, text::trim(*body));
  return {};
}

Result<UnitStatus> RestartVerifier::restart_and_verify(const VerifyOptions& options) {
  const auto start = clock_();
  auto job = manager_.restart(options.unit, options.timeout);
  if (!job) return std::unexpected(job.error());
  spdlog::debug("restart job of {} ended: {}", options.unit, *job);
  if (*job != "done") {
    auto st = manager_.status(options.unit);
    return fail(fmt::format("the restart job of {} ended with result \"{}\"{}", options.unit, *job,
                            st ? " (" + describe(*st) + ")" : ""));
  }
  return verify(options, start + options.timeout);
}

Result<UnitStatus> RestartVerifier::verify(const VerifyOptions& options, std::chrono::steady_clock::time_point deadline) {
  UnitStatus st;
  std::string why;
  std::optional<std::uint32_t> first_restarts;
  Duration wait = std::min(options.first_poll, options.poll);
  while (true) {
    auto s = manager_.status(options.unit);
    if (!s) return std::unexpected(s.error());
    st = *s;
    // NRestarts counts systemd's automatic restarts only: a rise means the new process
    // died, and a crash loop need not be waited out to the timeout.
    if (!first_restarts) first_restarts = st.n_restarts;
    if (st.n_restarts > *first_restarts)
      return fail(fmt::format("{} crashed after the restart and systemd restarted it (NRestarts {} -> {}, {})",
                              options.unit, *first_restarts, st.n_restarts, describe(st)));
    why = st.active_state != "active" ? fmt::format("{} is {}", options.unit, st.active_state) : health_error(options);
    if (why.empty()) break;
    if (clock_() >= deadline)
      return fail(fmt::format("{} did not become healthy in time: {} ({})", options.unit, why, describe(st)));
    sleep_(wait);
    wait = std::min<Duration>(wait * 2, options.poll);
  }
  spdlog::debug("{} healthy ({}); settling for {}", options.unit, describe(st), format_duration(options.settle));
  const UnitStatus baseline = st;
  const auto settle_end = clock_() + options.settle;
  while (clock_() < settle_end) {
    sleep_(std::min<Duration>(options.poll, settle_end - clock_()));
    auto s = manager_.status(options.unit);
    if (!s) return std::unexpected(s.error());
    st = *s;
    if (st.invocation_id != baseline.invocation_id || st.main_pid != baseline.main_pid ||
        st.n_restarts > baseline.n_restarts)
      return fail(fmt::format("{} restarted during the {} settle period (MainPID {} -> {}, NRestarts {} -> {}, "
                              "ActiveState={})",
                              options.unit, format_duration(options.settle), baseline.main_pid, st.main_pid,
                              baseline.n_restarts, st.n_restarts, st.active_state));
    if (auto e = health_error(options); !e.empty())
      return fail(fmt::format("{} became unhealthy during the settle period: {}", options.unit, e));
  }
  return st;
}

}  // namespace nodeimg
