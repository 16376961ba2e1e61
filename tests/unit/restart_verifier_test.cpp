// The restart/verify state machine against a recording fake service manager and a fake
// clock: no sleeps, every timing decision deterministic.
#include <deque>
#include <vector>

#include <gtest/gtest.h>

#include "commands/kubelet/restart_verifier.hpp"

namespace nodeimg {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

class FakeManager final : public ServiceManager {
 public:
  std::string job_result = "done";
  std::deque<UnitStatus> statuses;  // served in order; the last one repeats
  std::vector<std::string> calls;

  Result<UnitStatus> status(const std::string& unit) override {
    calls.push_back("status " + unit);
    UnitStatus s = statuses.front();
    if (statuses.size() > 1) statuses.pop_front();
    return s;
  }
  Result<std::string> restart(const std::string& unit, Duration) override {
    calls.push_back("restart " + unit);
    return job_result;
  }
  Result<void> reload() override {
    calls.push_back("reload");
    return {};
  }
};

UnitStatus active(std::uint32_t pid, std::uint32_t restarts = 0, std::string id = "a1") {
  return {"loaded", "active", "running", std::move(id), pid, restarts};
}

struct Harness {
  FakeManager manager;
  Clock::time_point now{};
  std::deque<std::string> health;  // served in order; the last one repeats
  std::vector<Duration> sleeps;
  RestartVerifier verifier{manager,
                           [this](const std::string&) -> Result<std::string> {
                             std::string h = health.front();
                             if (health.size() > 1) health.pop_front();
                             if (h == "down") return fail("connection refused");
                             return h;
                           },
                           [this] { return now; },
                           [this](Duration d) {
                             sleeps.push_back(d);
                             now += d;
                           }};
  VerifyOptions options{"kubelet.service", "http://127.0.0.1:10248/healthz", 10s, 2s, 500ms};
};

TEST(RestartVerifier, HealthyAndStableSucceeds) {
  Harness h;
  h.manager.statuses = {active(10)};
  h.health = {"ok"};
  auto r = h.verifier.restart_and_verify(h.options);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(h.manager.calls.front(), "restart kubelet.service");
  EXPECT_GE(h.now - Clock::time_point{}, 2s);  // it waited out the settle period
}

TEST(RestartVerifier, WaitsUntilHealthzAnswersOk) {
  Harness h;
  h.manager.statuses = {active(10)};
  h.health = {"down", "down", "ok"};
  ASSERT_TRUE(h.verifier.restart_and_verify(h.options));
}

TEST(RestartVerifier, HealthChecksStartQuickAndBackOffToThePollInterval) {
  Harness h;
  h.manager.statuses = {active(10)};
  h.health = {"down", "down", "down", "down", "down", "down", "down", "ok"};
  h.options.first_poll = 10ms;
  ASSERT_TRUE(h.verifier.restart_and_verify(h.options));
  // Seven misses before "ok": 10, 20, 40, ... capped at the 500 ms poll; then the settle
  // period's checks at the poll interval.
  const std::vector<Duration> misses(h.sleeps.begin(), h.sleeps.begin() + 7);
  EXPECT_EQ(misses, (std::vector<Duration>{10ms, 20ms, 40ms, 80ms, 160ms, 320ms, 500ms}));
  EXPECT_EQ(h.sleeps.at(7), 500ms);
}

TEST(RestartVerifier, FailedJobIsAFailure) {
  Harness h;
  h.manager.job_result = "failed";
  h.manager.statuses = {{"loaded", "failed", "failed", "", 0, 1}};
  auto r = h.verifier.restart_and_verify(h.options);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("ended with result \"failed\""), std::string::npos) << r.error().message;
}

TEST(RestartVerifier, NeverHealthyTimesOut) {
  Harness h;
  h.manager.statuses = {{"loaded", "activating", "auto-restart", "", 0, 3}};
  h.health = {"down"};
  auto r = h.verifier.restart_and_verify(h.options);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("did not become healthy in time"), std::string::npos) << r.error().message;
  EXPECT_GE(h.now - Clock::time_point{}, 10s);
}

TEST(RestartVerifier, CrashLoopFailsBeforeTheTimeout) {
  Harness h;
  h.manager.statuses = {{"loaded", "activating", "auto-restart", "", 0, 4}, {"loaded", "activating", "auto-restart", "", 0, 5}};
  h.health = {"down"};
  auto r = h.verifier.restart_and_verify(h.options);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("crashed after the restart"), std::string::npos) << r.error().message;
  EXPECT_LT(h.now - Clock::time_point{}, 2s);
}

TEST(RestartVerifier, CrashDuringSettleIsCaught) {
  Harness h;
  h.manager.statuses = {active(10, 0, "a1"), active(10, 0, "a1"), active(11, 1, "b2")};
  h.health = {"ok"};
  auto r = h.verifier.restart_and_verify(h.options);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("restarted during the 2s settle period"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("NRestarts 0 -> 1"), std::string::npos);
}

TEST(RestartVerifier, UnhealthyDuringSettleIsCaught) {
  Harness h;
  h.manager.statuses = {active(10)};
  h.health = {"ok", "ok", "not ok"};
  auto r = h.verifier.restart_and_verify(h.options);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("became unhealthy during the settle period"), std::string::npos);
}

TEST(RestartVerifier, WithoutHealthzTheUnitStateDecides) {
  Harness h;
  h.options.healthz_url.reset();
  h.manager.statuses = {{"loaded", "activating", "start", "a1", 10, 0}, active(10)};
  ASSERT_TRUE(h.verifier.restart_and_verify(h.options));
}

}  // namespace
}  // namespace nodeimg
