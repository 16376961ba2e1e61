// Issue 12 on real systemd: an RKE2-like node with both rke2-server.service (first in
// nodeimg's candidate order, not enabled, not running) and rke2-agent.service (enabled and
// running the stand-in kubelet). apply must pick the agent from /proc/PID/cgroup, edit
// what it reads and restart it, leaving the server unit stopped.
#include <algorithm>
#include <filesystem>

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include "support/systemd_suite.hpp"

namespace nodeimg::testing {
namespace {

using nlohmann::json;

const std::string kDropins = "/var/lib/rancher/rke2/agent/etc/kubelet.conf.d";

std::string rke2_unit(const std::string& role, const std::string& other) {
  // The stand-in kubelet plays rke2 (which runs kubelet in its own cgroup) and reads
  // RKE2's drop-in directory.
  return "[Unit]\nDescription=RKE2 " + role + " (stand-in)\nConflicts=rke2-" + other +
         ".service\nStartLimitIntervalSec=0\n\n[Service]\nEnvironmentFile=-/usr/local/lib/systemd/system/%N.env\n"
         "ExecStart=/usr/bin/kubelet --config-dir=" + kDropins + "\nRestart=always\nRestartSec=1\n\n"
         "[Install]\nWantedBy=multi-user.target\n";
}

class KubeletUnitsOnSystemd : public SystemdSuite<KubeletUnitsOnSystemd> {
 protected:
  static void SetUpTestSuite() {
    auto& c = boot();
    c.write("/usr/bin/kubelet", c.read("/opt/harness/standin-kubelet"), 0755);
    c.write(kDropins + "/00-rke2-defaults.conf",
            "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nnodeStatusMaxImages: 50\n");
    c.write("/usr/local/lib/systemd/system/rke2-server.service", rke2_unit("server", "agent"));
    c.write("/usr/local/lib/systemd/system/rke2-agent.service", rke2_unit("agent", "server"));
    c.write("/usr/local/lib/systemd/system/rke2-agent.env", "HOME=/root\n");
    c.write("/etc/nodeimg/config.yaml", "kubelet:\n  nodeStatusMaxImages: -1\n  restartTimeout: 20s\n  settle: 2s\n");
    c.systemctl({"daemon-reload"});
    c.systemctl({"enable", "rke2-agent.service"});
    c.systemctl({"start", "rke2-agent.service"});
  }

  void wait_healthy() { SystemdSuite::wait_healthy("rke2-agent.service"); }
};

TEST_F(KubeletUnitsOnSystemd, ApplyRestartsTheUnitThatRunsKubeletNotTheFirstCandidate) {
  auto& c = *container_;
  wait_healthy();
  // The standin-node's kubelet.service is not in this container's tree: only the two
  // rke2 units are candidates.
  auto status = nodeimg({"kubelet", "status", "--json"});
  ASSERT_EQ(status.exit_code, 0) << status.err << status.out;
  auto s = json::parse(status.out);
  EXPECT_EQ(s["unit"]["name"], "rke2-agent.service");
  EXPECT_NE(s["unitChoice"].get<std::string>().find("runs in its cgroup"), std::string::npos) << s["unitChoice"];
  ASSERT_EQ(s["unitCandidates"].size(), 2u);
  EXPECT_EQ(s["unitCandidates"][0]["name"], "rke2-server.service");
  EXPECT_TRUE(s["unitCandidates"][0]["runningPid"].is_null());
  EXPECT_TRUE(s["unitCandidates"][0]["enabledBy"].is_null());
  EXPECT_EQ(s["unitCandidates"][1]["enabledBy"], "/etc/systemd/system/multi-user.target.wants/rke2-agent.service");
  EXPECT_TRUE(s["unitCandidates"][1]["runningPid"].is_number());
  EXPECT_EQ(s["unit"]["environmentFiles"], json::array({"/usr/local/lib/systemd/system/rke2-agent.env"}));

  const auto before = c.show("rke2-agent.service", {"InvocationID"});
  auto r = nodeimg({"kubelet", "apply", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  auto j = json::parse(r.out);
  EXPECT_EQ(j["unit"], "rke2-agent.service");
  EXPECT_EQ(j["verified"], true);
  ASSERT_EQ(j["files"].size(), 1u);
  EXPECT_EQ(j["files"][0]["path"], kDropins + "/99-nodeimg.conf");
  EXPECT_NE(c.show("rke2-agent.service", {"InvocationID"}).at("InvocationID"), before.at("InvocationID"));
  EXPECT_EQ(c.show("rke2-server.service", {"ActiveState"}).at("ActiveState"), "inactive");
  EXPECT_EQ(json::parse(c.read("/run/standin-kubelet/effective.json"))["nodeStatusMaxImages"], -1);

  // With the agent stopped, the enabled unit is still the one (no process decides).
  c.systemctl({"stop", "rke2-agent.service"});
  auto stopped = json::parse(nodeimg({"kubelet", "status", "--json"}).out);
  EXPECT_EQ(stopped["unit"]["name"], "rke2-agent.service");
  EXPECT_NE(stopped["unitChoice"].get<std::string>().find("the one enabled candidate"), std::string::npos)
      << stopped["unitChoice"];
  auto revert = nodeimg({"kubelet", "revert", "--json"});
  ASSERT_EQ(revert.exit_code, 0) << revert.err << revert.out;
  EXPECT_EQ(json::parse(revert.out)["verified"], true);
  EXPECT_EQ(c.show("rke2-agent.service", {"ActiveState"}).at("ActiveState"), "active");
  EXPECT_EQ(c.show("rke2-server.service", {"ActiveState"}).at("ActiveState"), "inactive");
  EXPECT_EQ(json::parse(c.read("/run/standin-kubelet/effective.json"))["nodeStatusMaxImages"], 50);
}

// Two enabled, none running: nodeimg refuses, names both and the configuration key, and
// writes nothing.
TEST_F(KubeletUnitsOnSystemd, TwoEnabledAndNoneRunningIsRefused) {
  auto& c = *container_;
  c.systemctl({"stop", "rke2-agent.service"});
  c.systemctl({"enable", "rke2-server.service"});
  auto r = nodeimg({"kubelet", "apply"});
  c.systemctl({"disable", "rke2-server.service"});
  c.systemctl({"start", "rke2-agent.service"});
  EXPECT_EQ(r.exit_code, 1) << r.out;
  EXPECT_NE(r.err.find("rke2-server.service"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("kubelet.unit"), std::string::npos) << r.err;
  EXPECT_FALSE(c.exists(kDropins + "/99-nodeimg.conf"));
}

// doctor chooses the unit as apply does: with both units enabled and the agent running,
// the agent (from /proc/PID/cgroup), not a refusal for want of a choice.
TEST_F(KubeletUnitsOnSystemd, DoctorChoosesTheRunningUnitAsApplyDoes) {
  auto& c = *container_;
  wait_healthy();
  c.systemctl({"enable", "rke2-server.service"});
  auto r = nodeimg({"doctor", "--json"});
  auto status = nodeimg({"kubelet", "status", "--json"});
  c.systemctl({"disable", "rke2-server.service"});
  const auto j = json::parse(r.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << r.out << r.err;
  std::vector<std::string> kubelet_findings;
  for (const auto& f : j["findings"])
    if (f["area"] == "kubelet") kubelet_findings.push_back(f["id"].get<std::string>());
  EXPECT_EQ(std::count(kubelet_findings.begin(), kubelet_findings.end(), "kubelet-discovery-failed"), 0) << j.dump(2);
  EXPECT_EQ(std::count(kubelet_findings.begin(), kubelet_findings.end(), "kubelet-not-in-sync"), 1) << j.dump(2);
  EXPECT_EQ(json::parse(status.out)["unit"]["name"], "rke2-agent.service") << status.out;
}

// k3s runs kubelet inside its own process: nothing is named kubelet. "restart pending"
// takes kubelet's start time from the process in k3s.service's cgroup (the stand-in
// kubelet installed as /usr/local/bin/k3s).
class K3sOnSystemd : public SystemdSuite<K3sOnSystemd> {
 protected:
  static void SetUpTestSuite() {
    auto& c = boot();
    c.write("/usr/local/bin/k3s", c.read("/opt/harness/standin-kubelet"), 0755);
    c.write("/var/lib/rancher/k3s/agent/etc/kubelet.conf.d/00-k3s-defaults.conf",
            "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nhealthzBindAddress: 127.0.0.1\n");
    c.write("/etc/systemd/system/k3s.service",
            "[Unit]\nDescription=k3s (stand-in)\n\n[Service]\nEnvironmentFile=-/etc/default/%N\n"
            "ExecStart=/usr/local/bin/k3s server\nRestart=always\nRestartSec=1\n\n[Install]\nWantedBy=multi-user.target\n");
    c.write("/etc/nodeimg/config.yaml", "kubelet:\n  nodeStatusMaxImages: -1\n  restartTimeout: 20s\n  settle: 2s\n");
    c.systemctl({"daemon-reload"});
    c.systemctl({"enable", "--now", "k3s.service"});
  }
};

TEST_F(K3sOnSystemd, RestartPendingIsKnownFromTheProcessInTheUnitsCgroup) {
  auto& c = *container_;
  ASSERT_EQ(nodeimg({"kubelet", "apply", "--no-restart"}).exit_code, 0);
  auto pending = nodeimg({"kubelet", "status", "--check", "--json"});
  EXPECT_EQ(pending.exit_code, 3) << pending.out << pending.err;
  auto j = json::parse(pending.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << pending.out << pending.err;
  EXPECT_EQ(j["unit"]["name"], "k3s.service");
  EXPECT_EQ(j["restartPending"], true) << j.dump(2);
  EXPECT_FALSE(j["kubeletStartedAt"].is_null()) << j.dump(2);
  c.systemctl({"restart", "k3s.service"});
  auto live = nodeimg({"kubelet", "status", "--check", "--json"});
  EXPECT_EQ(live.exit_code, 0) << live.out << live.err;
  EXPECT_EQ(json::parse(live.out)["restartPending"], false) << live.out;
}

// Issue 8's drop-in class on real systemd: the drop-ins nodeimg reads for a unit are the
// ones systemd reads (DropInPaths), across the unit's own directories, its dash prefix's
// (rke2-.service.d) and the type's (service.d), with same-name hiding and a /dev/null mask;
// a kubelet-arg in the prefix drop-in is refused naming that file, and nothing is written.
TEST_F(KubeletUnitsOnSystemd, DropInsAreTheOnesSystemdReads) {
  auto& c = *container_;
  const std::string harmless = "[Service]\nEnvironment=NODEIMG_TEST_DROPIN=1\n";
  const std::vector<std::string> written = {
      "/etc/systemd/system/rke2-.service.d/10-args.conf", "/etc/systemd/system/service.d/20-both.conf",
      "/usr/local/lib/systemd/system/rke2-agent.service.d/20-both.conf", "/usr/lib/systemd/system/service.d/30-type.conf",
      "/etc/systemd/system/service.d/40-masked.conf"};
  for (const auto& path : written) c.write(path, harmless);
  // /run is the container's own tmpfs: written from inside.
  const std::string run_dropin = "/run/systemd/system/rke2-.service.d/05-run.conf";
  ASSERT_EQ(c.exec({"sh", "-c", "mkdir -p /run/systemd/system/rke2-.service.d && printf '[Service]\\nEnvironment=A=1\\n' > " +
                                    run_dropin}).exit_code, 0);
  c.write(written[0], "[Service]\nExecStart=\nExecStart=/usr/bin/kubelet --config-dir=" + kDropins +
                          " --kubelet-arg=node-status-max-images=7\n");
  ASSERT_EQ(c.exec({"sh", "-c", "mkdir -p /etc/systemd/system/rke2-agent.service.d && "
                                "ln -sf /dev/null /etc/systemd/system/rke2-agent.service.d/40-masked.conf"}).exit_code, 0);
  c.systemctl({"daemon-reload"});

  const auto shown = c.show("rke2-agent.service", {"DropInPaths"}).at("DropInPaths");
  auto status = nodeimg({"kubelet", "status", "--json"});
  auto apply = nodeimg({"kubelet", "apply"});
  // Clean up before asserting: service.d applies to every service in the container.
  for (const auto& path : written) c.remove(path);
  c.remove("/etc/systemd/system/rke2-agent.service.d/40-masked.conf");
  c.exec({"rm", "-rf", "/run/systemd/system/rke2-.service.d"});
  c.systemctl({"daemon-reload"});

  std::vector<std::string> systemd_reads{};
  for (std::size_t at = 0; at < shown.size();) {
    const auto space = shown.find(' ', at);
    systemd_reads.push_back(shown.substr(at, space == std::string::npos ? std::string::npos : space - at));
    at = space == std::string::npos ? shown.size() : space + 1;
  }
  // systemd lists the mask itself among the drop-ins (reading /dev/null sets nothing);
  // nodeimg leaves it out. What matters is that the masked name's other file is not read.
  const std::string mask = "/etc/systemd/system/rke2-agent.service.d/40-masked.conf";
  EXPECT_NE(std::find(systemd_reads.begin(), systemd_reads.end(), mask), systemd_reads.end()) << shown;
  std::erase(systemd_reads, mask);
  ASSERT_NE(status.out, "") << status.err;
  const auto nodeimg_reads = json::parse(status.out)["unit"]["dropIns"].get<std::vector<std::string>>();
  EXPECT_EQ(nodeimg_reads, systemd_reads) << "systemd: " << shown;
  EXPECT_EQ(nodeimg_reads,
            (std::vector<std::string>{"/run/systemd/system/rke2-.service.d/05-run.conf",
                                      "/etc/systemd/system/rke2-.service.d/10-args.conf",
                                      "/usr/local/lib/systemd/system/rke2-agent.service.d/20-both.conf",
                                      "/usr/lib/systemd/system/service.d/30-type.conf"}));
  EXPECT_EQ(apply.exit_code, 1) << apply.out << apply.err;
  EXPECT_NE(apply.err.find("/etc/systemd/system/rke2-.service.d/10-args.conf:3"), std::string::npos) << apply.err;
  EXPECT_FALSE(c.exists(kDropins + "/99-nodeimg.conf"));
}

}  // namespace
}  // namespace nodeimg::testing
