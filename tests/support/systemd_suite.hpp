#pragma once
// A gtest suite on one booted systemd container (CRTP: each suite gets its own container),
// with nodeimg's build bound at /opt/nodeimg and the test harness at /opt/harness.
// Requires NODEIMG_BINARY_DIR and NODEIMG_HARNESS_DIR (tests/integration/CMakeLists.txt).
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "support/systemd_container.hpp"

namespace nodeimg::testing {

template <typename Suite>
class SystemdSuite : public ::testing::Test {
 protected:
  static SystemdContainer& boot() {
    container_ = SystemdContainer::boot({std::string(NODEIMG_BINARY_DIR) + ":/opt/nodeimg",
                                         std::string(NODEIMG_HARNESS_DIR) + ":/opt/harness"});
    return *container_;
  }
  static void SetUpTestSuite() { boot(); }
  static void TearDownTestSuite() {
    // The harness compares /proc/1/cgroup before and after: 3 means the host's PID 1 moved.
    EXPECT_EQ(container_->stop(), 0) << "the systemd container was not cleaned up safely";
    container_.reset();
  }

  ProcessResult nodeimg(std::vector<std::string> args) {
    args.insert(args.begin(), "/opt/nodeimg/nodeimg");
    return container_->exec(args);
  }

  // Waits (up to ~10 s) until the stand-in kubelet of `unit` answers /healthz on 10248.
  void wait_healthy(const std::string& unit) {
    for (int i = 0; i < 100; ++i) {
      auto r = container_->exec({"python3", "-c",
                                 "import urllib.request;print(urllib.request.urlopen('http://127.0.0.1:10248/healthz',"
                                 "timeout=1).read().decode())"});
      if (r.exit_code == 0 && r.out == "ok\n") return;
      container_->exec({"sleep", "0.1"});
    }
    FAIL() << "the stand-in kubelet never became healthy: "
           << container_->exec({"journalctl", "-u", unit, "--no-pager", "-n", "20"}).out;
  }

  static inline std::unique_ptr<SystemdContainer> container_;
};

}  // namespace nodeimg::testing
