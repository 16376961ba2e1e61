// `nodeimg doctor` on a real node: systemd with a real system bus in a container, a
// stand-in kubelet laid out like a kubeadm node, and a real containerd (on the host, its
// socket and image filesystem bind-mounted at the same paths). First a node with the
// prepuller trap and nodeimg's units not enabled: doctor names each problem and exits 1.
// Then the fixes doctor gives, applied: doctor exits 0.
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include "support/containerd.hpp"
#include "support/containerd_beside_systemd.hpp"

namespace nodeimg::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const fs::path kNode = fs::path(NODEIMG_FIXTURES) / "standin-node/root";
const fs::path kUnits = fs::path(NODEIMG_FIXTURES).parent_path().parent_path() / "systemd";

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

class DoctorOnSystemd : public ContainerdBesideSystemd {
 protected:
  void SetUp() override {
    boot_node({"reg.test/d:1", "reg.test/d:2", "reg.test/d:3", "reg.test/d:4"},
              {std::string(NODEIMG_HARNESS_DIR) + ":/opt/harness"});
    install_node();
  }

  // The stand-in kubelet node with kubelet capped at 3 images, nodeimg configured for the
  // same (so kubelet is in sync) and its units installed but not enabled.
  void install_node() {
    auto& c = *container_;
    c.write("/usr/bin/kubelet", c.read("/opt/harness/standin-kubelet"), 0755);
    for (const auto& e : fs::recursive_directory_iterator(kNode))
      if (e.is_regular_file()) {
        const std::string path = "/" + fs::relative(e.path(), kNode).generic_string();
        c.write(path, slurp(e.path()));
      }
    c.write("/var/lib/kubelet/config.yaml", slurp(kNode / "var/lib/kubelet/config.yaml") + "nodeStatusMaxImages: 3\n");
    set_config("3");
    for (const auto* unit : {"nodeimg-gc.service", "nodeimg-gc.timer", "nodeimg-kubelet.service"})
      c.write(std::string("/etc/systemd/system/") + unit, slurp(kUnits / unit));
    c.exec({"ln", "-sf", "/opt/nodeimg/nodeimg", "/usr/bin/nodeimg"});
    c.systemctl({"daemon-reload"});
    c.systemctl({"start", "kubelet.service"});
    for (int i = 0; i < 100; ++i) {
      auto r = c.exec({"python3", "-c", "import urllib.request;urllib.request.urlopen('http://127.0.0.1:10248/healthz',timeout=1)"});
      if (r.exit_code == 0) return;
      c.exec({"sleep", "0.1"});
    }
    FAIL() << "the stand-in kubelet never became healthy";
  }
  void set_config(const std::string& max_images) {
    container_->write("/etc/nodeimg/config.yaml", "kubelet:\n  nodeStatusMaxImages: " + max_images +
                                                      "\n  restartTimeout: 20s\n  settle: 2s\nruntime:\n  endpoint: " +
                                                      containerd_->endpoint() + "\n");
  }
  json doctor(int expected_exit) {
    auto r = container_->exec({"/usr/bin/nodeimg", "doctor", "--json"});
    EXPECT_EQ(r.exit_code, expected_exit) << r.out << r.err;
    auto j = json::parse(r.out, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << r.out << r.err;
    return j;
  }
  static json finding(const json& report, const std::string& id) {
    for (const auto& f : report["findings"])
      if (f["id"] == id) return f;
    return json{{"severity", "absent"}, {"seen", ""}};
  }
};

TEST_F(DoctorOnSystemd, NamesEveryProblemOfANodeThenPassesOnceItsFixesAreApplied) {
  auto& c = *container_;
  auto j = doctor(1);
  EXPECT_TRUE(j["skipped"].empty()) << j["skipped"].dump();
  auto trap = finding(j, "prepuller-trap");
  EXPECT_EQ(trap["severity"], "warning") << j.dump(2);
  EXPECT_NE(trap["seen"].get<std::string>().find("5 images on this node, kubelet reports only 3"), std::string::npos)
      << trap.dump();
  auto runtime = finding(j, "runtime-unreachable");
  EXPECT_EQ(runtime["severity"], "ok");
  EXPECT_NE(runtime["seen"].get<std::string>().find(containerd_->endpoint()), std::string::npos) << runtime.dump();
  EXPECT_NE(finding(j, "sandbox-image")["seen"].get<std::string>().find("registry.k8s.io/pause:3.6"), std::string::npos);
  EXPECT_EQ(finding(j, "kubelet-in-sync")["severity"], "ok");
  EXPECT_EQ(finding(j, "gc-timer")["severity"], "warning");
  EXPECT_EQ(finding(j, "gc-timer")["fix"], "systemctl enable --now nodeimg-gc.timer");
  EXPECT_EQ(finding(j, "kubelet-unit")["severity"], "warning");
  EXPECT_EQ(finding(j, "gc-last-run")["severity"], "warning");
  EXPECT_EQ(finding(j, "disk-above-high")["severity"], "ok");

  // The fixes doctor gave.
  set_config("-1");
  auto apply = c.exec({"/usr/bin/nodeimg", "kubelet", "apply"});
  ASSERT_EQ(apply.exit_code, 0) << apply.err;
  c.systemctl({"enable", "--now", "nodeimg-gc.timer"});
  c.systemctl({"enable", "nodeimg-kubelet.service"});
  auto start = c.exec({"systemctl", "start", "nodeimg-gc.service"});
  ASSERT_EQ(start.exit_code, 0) << start.err << c.exec({"journalctl", "-u", "nodeimg-gc.service", "--no-pager"}).out;

  j = doctor(0);
  for (const auto& f : j["findings"])
    EXPECT_TRUE(f["severity"] == "ok" || f["severity"] == "info") << f.dump();
  EXPECT_EQ(finding(j, "prepuller-trap")["severity"], "ok");
  EXPECT_NE(finding(j, "gc-timer")["seen"].get<std::string>().find("fires next at"), std::string::npos)
      << finding(j, "gc-timer").dump();
  EXPECT_NE(finding(j, "gc-last-run")["seen"].get<std::string>().find("succeeded"), std::string::npos)
      << finding(j, "gc-last-run").dump();
  EXPECT_EQ(finding(j, "history")["severity"], "ok");
  // doctor wrote kubelet's effective settings for node_exporter beside the gc metrics.
  c.exec({"mkdir", "-p", "/var/lib/prometheus/node-exporter"});
  doctor(0);
  EXPECT_NE(c.read("/var/lib/prometheus/node-exporter/nodeimg-kubelet.prom").find("nodeimg_kubelet_node_status_max_images -1\n"),
            std::string::npos);
}

}  // namespace
}  // namespace nodeimg::testing
