// `nodeimg kubelet apply` against real systemd: a stand-in kubelet (it reads its config
// like kubelet and serves /healthz) runs as kubelet.service in a container laid out like a
// kubeadm node; nodeimg runs inside the container and restarts it over the real system bus.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include "support/systemd_suite.hpp"

namespace nodeimg::testing {
namespace {

using nlohmann::json;

// A kubeadm-like node (unit, kubeadm drop-in, /etc/default/kubelet, config.yaml) shared
// with scripts/demo.
const std::filesystem::path kNode = std::filesystem::path(NODEIMG_FIXTURES) / "standin-node/root";

std::string fixture(const std::string& path) {
  std::ifstream in(kNode / path.substr(1), std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

const std::string kConfigYaml = fixture("/var/lib/kubelet/config.yaml");

class KubeletOnSystemd : public SystemdSuite<KubeletOnSystemd> {
 protected:
  // A kubeadm-like node with a healthy kubelet, fresh for every test.
  void SetUp() override {
    auto& c = *container_;
    c.exec({"systemctl", "stop", "kubelet.service", "k3s.service"});
    c.exec({"systemctl", "unmask", "kubelet.service"});
    c.remove("/etc/systemd/system/k3s.service");
    c.remove("/var/lib/rancher");
    c.remove("/var/lib/nodeimg");
    c.remove("/etc/standin-kubelet");
    c.remove("/etc/systemd/system/kubelet.service.d");
    c.write("/usr/bin/kubelet", c.read("/opt/harness/standin-kubelet"), 0755);
    for (const auto& e : std::filesystem::recursive_directory_iterator(kNode))
      if (e.is_regular_file()) {
        const std::string path = "/" + std::filesystem::relative(e.path(), kNode).generic_string();
        c.write(path, fixture(path));
      }
    c.systemctl({"daemon-reload"});
    c.exec({"systemctl", "reset-failed", "kubelet.service"});
    c.systemctl({"start", "kubelet.service"});
    wait_healthy();
  }

  void set_nodeimg_config(const std::string& max_images) {
    container_->write("/etc/nodeimg/config.yaml", "kubelet:\n  nodeStatusMaxImages: " + max_images +
                                                      "\n  restartTimeout: 20s\n  settle: 2s\n");
  }

  void wait_healthy() { SystemdSuite::wait_healthy("kubelet.service"); }

  std::map<std::string, std::string> kubelet_state() {
    return container_->show("kubelet.service", {"NRestarts", "InvocationID", "MainPID", "ActiveState"});
  }

  json effective() { return json::parse(container_->read("/run/standin-kubelet/effective.json")); }

};

TEST_F(KubeletOnSystemd, ApplyEditsRestartsOverDbusAndVerifies) {
  const auto before = kubelet_state();
  ASSERT_EQ(effective()["nodeStatusMaxImages"], 50);
  auto r = nodeimg({"kubelet", "apply", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = json::parse(r.out);
  EXPECT_EQ(j["changed"], true);
  EXPECT_EQ(j["restarted"], true);
  EXPECT_EQ(j["verified"], true);
  EXPECT_EQ(j["effective"]["nodeStatusMaxImages"], -1);
  ASSERT_EQ(j["files"].size(), 1u);
  EXPECT_EQ(j["files"][0]["path"], "/var/lib/kubelet/config.yaml");

  const auto after = kubelet_state();
  EXPECT_NE(after.at("InvocationID"), before.at("InvocationID"));
  EXPECT_EQ(after.at("ActiveState"), "active");
  EXPECT_EQ(effective()["nodeStatusMaxImages"], -1);  // the new kubelet read the new value
  std::string expected = kConfigYaml;
  expected.replace(expected.find("kind: KubeletConfiguration\n"), 27,
                   "kind: KubeletConfiguration\nnodeStatusMaxImages: -1\n");
  EXPECT_EQ(container_->read("/var/lib/kubelet/config.yaml"), expected);
}

TEST_F(KubeletOnSystemd, SecondApplyChangesNothingAndDoesNotRestart) {
  ASSERT_EQ(nodeimg({"kubelet", "apply"}).exit_code, 0);
  const auto before = kubelet_state();
  const auto file = container_->read("/var/lib/kubelet/config.yaml");
  auto r = nodeimg({"--json", "kubelet", "apply"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = json::parse(r.out);
  EXPECT_EQ(j["changed"], false);
  EXPECT_EQ(j["restarted"], false);
  EXPECT_TRUE(j["files"].empty());
  const auto after = kubelet_state();
  EXPECT_EQ(after.at("InvocationID"), before.at("InvocationID"));
  EXPECT_EQ(after.at("NRestarts"), before.at("NRestarts"));
  EXPECT_EQ(after.at("MainPID"), before.at("MainPID"));
  EXPECT_EQ(container_->read("/var/lib/kubelet/config.yaml"), file);
}

TEST_F(KubeletOnSystemd, DryRunShowsTheDiffAndChangesNothing) {
  const auto before = kubelet_state();
  auto r = nodeimg({"kubelet", "apply", "--dry-run"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("+nodeStatusMaxImages: -1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("would restart kubelet.service"), std::string::npos) << r.out;
  EXPECT_EQ(container_->read("/var/lib/kubelet/config.yaml"), kConfigYaml);
  EXPECT_FALSE(container_->exists("/var/lib/nodeimg/kubelet/last-apply.json"));
  EXPECT_EQ(kubelet_state().at("InvocationID"), before.at("InvocationID"));
}

TEST_F(KubeletOnSystemd, KubeletThatFailsWithTheNewValueIsRolledBack) {
  container_->write("/etc/standin-kubelet/reject", "13\n");
  set_nodeimg_config("13");
  auto r = nodeimg({"kubelet", "apply", "--json"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  auto j = json::parse(r.out);
  EXPECT_EQ(j["rolledBack"], true);
  EXPECT_EQ(j["changed"], false);
  EXPECT_NE(j["error"].get<std::string>().find("journalctl -u kubelet.service"), std::string::npos) << j["error"];
  EXPECT_NE(j["error"].get<std::string>().find("healthy again"), std::string::npos) << j["error"] << r.err;
  // Byte-identical file, a healthy kubelet running the old value, no record to revert.
  EXPECT_EQ(container_->read("/var/lib/kubelet/config.yaml"), kConfigYaml);
  EXPECT_EQ(kubelet_state().at("ActiveState"), "active");
  wait_healthy();
  EXPECT_EQ(effective()["nodeStatusMaxImages"], 50);
  EXPECT_FALSE(container_->exists("/var/lib/nodeimg/kubelet/last-apply.json"));
}

TEST_F(KubeletOnSystemd, FlagDefinedValueIsFixedInItsEnvironmentFile) {
  container_->write("/etc/default/kubelet", "# site flags\nKUBELET_EXTRA_ARGS=\"--v=2 --node-status-max-images=25\"\n");
  container_->systemctl({"restart", "kubelet.service"});
  wait_healthy();
  ASSERT_EQ(effective()["nodeStatusMaxImages"], 25);
  auto status = nodeimg({"kubelet", "status", "--json"});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  auto s = json::parse(status.out);
  EXPECT_EQ(s["settings"][0]["source"], "flag");
  EXPECT_EQ(s["process"].is_number(), true);  // found the running kubelet in /proc

  auto r = nodeimg({"kubelet", "apply"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(container_->read("/etc/default/kubelet"), "# site flags\nKUBELET_EXTRA_ARGS=\"--v=2 --node-status-max-images=-1\"\n");
  EXPECT_EQ(container_->read("/var/lib/kubelet/config.yaml"), kConfigYaml);  // editing the file would do nothing
  EXPECT_EQ(effective()["nodeStatusMaxImages"], -1);
}

TEST_F(KubeletOnSystemd, RevertPutsBackTheFilesAndRestarts) {
  ASSERT_EQ(nodeimg({"kubelet", "apply"}).exit_code, 0);
  ASSERT_EQ(effective()["nodeStatusMaxImages"], -1);
  auto r = nodeimg({"kubelet", "revert", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = json::parse(r.out);
  EXPECT_EQ(j["changed"], true);
  EXPECT_EQ(j["verified"], true);
  EXPECT_EQ(container_->read("/var/lib/kubelet/config.yaml"), kConfigYaml);
  EXPECT_EQ(effective()["nodeStatusMaxImages"], 50);
  auto again = nodeimg({"kubelet", "revert"});
  EXPECT_EQ(again.exit_code, 0);
  EXPECT_NE(again.out.find("nothing to revert"), std::string::npos);
}

TEST_F(KubeletOnSystemd, DropInDirectoryGetsNodeimgsOwnFile) {
  container_->write("/etc/default/kubelet", "KUBELET_EXTRA_ARGS=--config-dir=/etc/kubernetes/kubelet.conf.d\n");
  container_->write("/etc/kubernetes/kubelet.conf.d/10-site.conf",
                    "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nnodeStatusMaxImages: 60\n");
  container_->systemctl({"daemon-reload"});
  container_->systemctl({"restart", "kubelet.service"});
  wait_healthy();
  ASSERT_EQ(effective()["nodeStatusMaxImages"], 60);
  auto r = nodeimg({"kubelet", "apply"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(container_->exists("/etc/kubernetes/kubelet.conf.d/99-nodeimg.conf"));
  EXPECT_EQ(container_->read("/var/lib/kubelet/config.yaml"), kConfigYaml);
  EXPECT_EQ(effective()["nodeStatusMaxImages"], -1);
}

// Issue 8: a masked kubelet.service does not exist for systemd; the k3s-like unit beside
// it runs kubelet, and nodeimg's drop-in in k3s's directory is what the new kubelet reads.
TEST_F(KubeletOnSystemd, MaskedKubeletServiceBesideAK3sLikeUnit) {
  auto& c = *container_;
  c.systemctl({"stop", "kubelet.service"});
  c.systemctl({"mask", "kubelet.service"});
  const std::string dir = "/var/lib/rancher/k3s/agent/etc/kubelet.conf.d";
  c.write(dir + "/00-k3s-defaults.conf", "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n"
                                         "nodeStatusMaxImages: 40\n");
  c.write("/etc/systemd/system/k3s.service",
          "[Service]\nExecStart=/usr/bin/kubelet --config-dir=" + dir + "\nRestart=always\nRestartSec=1\n");
  c.systemctl({"daemon-reload"});
  c.systemctl({"start", "k3s.service"});
  wait_healthy();
  ASSERT_EQ(effective()["nodeStatusMaxImages"], 40);
  auto r = nodeimg({"kubelet", "apply", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  auto j = json::parse(r.out);
  EXPECT_EQ(j["unit"], "k3s.service");
  EXPECT_EQ(j["verified"], true);
  ASSERT_EQ(j["files"].size(), 1u);
  EXPECT_EQ(j["files"][0]["path"], dir + "/99-nodeimg.conf");
  EXPECT_EQ(effective()["nodeStatusMaxImages"], -1);
  EXPECT_EQ(c.read("/var/lib/kubelet/config.yaml"), kConfigYaml);  // the masked unit's file is untouched
  auto status = json::parse(nodeimg({"kubelet", "status", "--json"}).out);
  ASSERT_EQ(status["maskedUnits"].size(), 1u);
  EXPECT_EQ(status["inSync"], true);
}

// Issue 8: a flag in a vendor unit is never edited in place; an override drop-in under
// /etc fixes it, takes effect after daemon-reload and the restart, and revert removes it.
TEST_F(KubeletOnSystemd, FlagInAVendorUnitIsFixedByAnOverrideDropIn) {
  auto& c = *container_;
  const std::string vendor = "[Unit]\nDescription=kubelet (vendor)\nStartLimitIntervalSec=0\n[Service]\n"
                             "ExecStart=/usr/bin/kubelet --config=/var/lib/kubelet/config.yaml --node-status-max-images=25\n"
                             "Restart=always\nRestartSec=1\n";
  c.write("/lib/systemd/system/kubelet.service", vendor);
  c.remove("/etc/systemd/system/kubelet.service.d");
  c.systemctl({"daemon-reload"});
  c.systemctl({"restart", "kubelet.service"});
  wait_healthy();
  ASSERT_EQ(effective()["nodeStatusMaxImages"], 25);
  auto r = nodeimg({"kubelet", "apply", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  auto j = json::parse(r.out);
  EXPECT_EQ(j["daemonReload"], true);
  EXPECT_EQ(j["verified"], true);
  EXPECT_EQ(j["files"][0]["path"], "/etc/systemd/system/kubelet.service.d/99-nodeimg-override.conf");
  EXPECT_EQ(c.read("/lib/systemd/system/kubelet.service"), vendor);
  EXPECT_EQ(effective()["nodeStatusMaxImages"], -1);
  auto again = json::parse(nodeimg({"kubelet", "apply", "--json"}).out);
  EXPECT_EQ(again["changed"], false);
  auto revert = nodeimg({"kubelet", "revert", "--json"});
  ASSERT_EQ(revert.exit_code, 0) << revert.out << revert.err;
  EXPECT_EQ(json::parse(revert.out)["verified"], true);
  EXPECT_FALSE(c.exists("/etc/systemd/system/kubelet.service.d/99-nodeimg-override.conf"));
  EXPECT_EQ(effective()["nodeStatusMaxImages"], 25);
}

// Issue 8: the bus is checked before anything is written.
TEST_F(KubeletOnSystemd, UnreachableBusWritesNothing) {
  const auto before = kubelet_state();
  auto r = container_->exec({"env", "DBUS_SYSTEM_BUS_ADDRESS=unix:path=/run/nodeimg-no-such-bus", "/opt/nodeimg/nodeimg",
                             "kubelet", "apply", "--json"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(json::parse(r.out)["error"].get<std::string>().find("nothing was written"), std::string::npos) << r.out;
  EXPECT_EQ(container_->read("/var/lib/kubelet/config.yaml"), kConfigYaml);
  EXPECT_FALSE(container_->exists("/var/lib/nodeimg/kubelet/last-apply.json"));
  EXPECT_EQ(kubelet_state().at("InvocationID"), before.at("InvocationID"));
}

}  // namespace
}  // namespace nodeimg::testing

namespace nodeimg::testing {
namespace {

// Under systemd (stderr connected to the journal) nodeimg logs structured fields.
TEST_F(KubeletOnSystemd, UnderSystemdLogsCarryJournalFields) {
  auto run = container_->exec({"systemd-run", "--wait", "--quiet", "--unit=nodeimg-journal-test", "-p",
                               "StandardError=journal", "/opt/nodeimg/nodeimg", "kubelet", "apply", "--no-restart"});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  container_->exec({"journalctl", "--sync"});
  auto j = container_->exec({"journalctl", "-t", "nodeimg", "NODEIMG_COMMAND=kubelet-apply", "-o", "json", "--no-pager"});
  ASSERT_EQ(j.exit_code, 0) << j.err;
  ASSERT_FALSE(j.out.empty()) << "no nodeimg journal entry with NODEIMG_COMMAND";
  bool changed_field = false;
  std::istringstream lines(j.out);
  std::string line;
  while (std::getline(lines, line)) {
    auto entry = json::parse(line);
    if (entry.contains("NODEIMG_CHANGED") && entry["NODEIMG_CHANGED"] == "1") changed_field = true;
  }
  EXPECT_TRUE(changed_field) << j.out;
}

}  // namespace
}  // namespace nodeimg::testing

// Issue 11: status that can be scripted, revert that really undoes, an audit trail.
namespace nodeimg::testing {
namespace {

// The journal entries nodeimg's audit sent (after `cursor`, when given), one JSON object each.
std::vector<json> audit_entries(SystemdContainer& c, const std::string& cursor) {
  c.exec({"journalctl", "--sync"});
  std::vector<std::string> args{"journalctl", "-t", "nodeimg", "NODEIMG_AUDIT=1", "-o", "json", "--no-pager"};
  if (!cursor.empty()) args.push_back("--after-cursor=" + cursor);
  auto r = c.exec(args);
  std::vector<json> out;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);)
    if (!line.empty()) out.push_back(json::parse(line));
  return out;
}

// Every value of a journal field (journald gives a repeated field as an array).
std::vector<std::string> field(const json& entry, const std::string& name) {
  if (!entry.contains(name)) return {};
  if (entry[name].is_array()) return entry[name].get<std::vector<std::string>>();
  return {entry[name].get<std::string>()};
}

bool has(const std::vector<std::string>& values, const std::string& v) {
  return std::find(values.begin(), values.end(), v) != values.end();
}

TEST_F(KubeletOnSystemd, CheckSaysRestartPendingUntilKubeletIsRestarted) {
  set_nodeimg_config("-1");
  auto drift = nodeimg({"kubelet", "status", "--check"});
  EXPECT_EQ(drift.exit_code, 3) << drift.out << drift.err;
  ASSERT_EQ(nodeimg({"kubelet", "apply", "--no-restart"}).exit_code, 0);
  ASSERT_EQ(effective()["nodeStatusMaxImages"], 50);  // written, not live
  auto pending = nodeimg({"kubelet", "status", "--check", "--json"});
  EXPECT_EQ(pending.exit_code, 3) << pending.out << pending.err;
  auto j = json::parse(pending.out);
  EXPECT_EQ(j["check"], "restart-pending");
  EXPECT_EQ(j["restartPending"], true);
  EXPECT_EQ(j["inSync"], true);
  EXPECT_FALSE(j["kubeletStartedAt"].is_null());
  EXPECT_EQ(j["settings"][0]["restartPending"]["file"], "/var/lib/kubelet/config.yaml") << j["settings"];
  auto text = nodeimg({"kubelet", "status"});
  EXPECT_EQ(text.exit_code, 0);
  EXPECT_NE(text.out.find("restart pending: nodeStatusMaxImages: /var/lib/kubelet/config.yaml was written"),
            std::string::npos)
      << text.out;

  container_->systemctl({"restart", "kubelet.service"});
  wait_healthy();
  ASSERT_EQ(effective()["nodeStatusMaxImages"], -1);
  auto live = nodeimg({"kubelet", "status", "--check"});
  EXPECT_EQ(live.exit_code, 0) << live.out << live.err;
  EXPECT_NE(live.out.find("kubelet: in effect: nodeStatusMaxImages -1"), std::string::npos) << live.out;
}

TEST_F(KubeletOnSystemd, RevertUndoesEveryApplyAndTheJournalKeepsTheAuditTrail) {
  auto& c = *container_;
  set_nodeimg_config("200");
  // As a unit (systemd sets INVOCATION_ID), restarting kubelet over D-Bus.
  auto unit_run = c.exec({"systemd-run", "--wait", "--quiet", "--unit=nodeimg-audit-apply", "-p", "StandardError=journal",
                          "/opt/nodeimg/nodeimg", "kubelet", "apply"});
  ASSERT_EQ(unit_run.exit_code, 0) << unit_run.err;
  ASSERT_EQ(effective()["nodeStatusMaxImages"], 200);
  const std::string kubelet_after_first = kubelet_state().at("InvocationID");
  set_nodeimg_config("300");
  ASSERT_EQ(nodeimg({"kubelet", "apply"}).exit_code, 0);  // from a terminal
  ASSERT_EQ(effective()["nodeStatusMaxImages"], 300);

  auto revert = nodeimg({"kubelet", "revert", "--json"});
  ASSERT_EQ(revert.exit_code, 0) << revert.out << revert.err;
  EXPECT_EQ(json::parse(revert.out)["verified"], true);
  EXPECT_EQ(c.read("/var/lib/kubelet/config.yaml"), kConfigYaml);  // the original, not 200
  EXPECT_EQ(effective()["nodeStatusMaxImages"], 50);
  auto leftovers = c.exec({"find", "/var/lib/nodeimg/kubelet", "-type", "f"});
  EXPECT_EQ(leftovers.out, "") << "backups left behind";

  // The last audit entry of each kind (earlier tests in the same container may have left others).
  const auto entries = audit_entries(c, "");
  auto last_with = [&](const std::string& command, const std::string& after) -> const json* {
    const json* found = nullptr;
    for (const auto& e : entries)
      if (e.value("NODEIMG_COMMAND", std::string()) == command && has(field(e, "NODEIMG_AFTER"), after)) found = &e;
    return found;
  };
  const json* first_entry = last_with("kubelet-apply", "nodeStatusMaxImages=200");
  const json* second_entry = last_with("kubelet-apply", "nodeStatusMaxImages=300");
  const json* undo_entry = last_with("kubelet-revert", "nodeStatusMaxImages=50");
  std::string seen;
  for (const auto& e : entries) seen += e.value("MESSAGE", std::string("?")) + "\n";
  ASSERT_TRUE(first_entry && second_entry && undo_entry) << seen;
  const json& first = *first_entry;
  EXPECT_EQ(first["NODEIMG_COMMAND"], "kubelet-apply");
  EXPECT_EQ(first["NODEIMG_RESULT"], "applied");
  EXPECT_TRUE(has(field(first, "NODEIMG_FILE"), "/var/lib/kubelet/config.yaml"));
  EXPECT_TRUE(has(field(first, "NODEIMG_BEFORE"), "nodeStatusMaxImages=50"));
  EXPECT_TRUE(has(field(first, "NODEIMG_AFTER"), "nodeStatusMaxImages=200"));
  // nodeimg's own invocation, as systemd gave it, and the kubelet it restarted.
  ASSERT_TRUE(first.contains("NODEIMG_INVOCATION_ID")) << first.dump();
  EXPECT_EQ(first["NODEIMG_INVOCATION_ID"], first["_SYSTEMD_INVOCATION_ID"]);
  EXPECT_EQ(first["NODEIMG_KUBELET_INVOCATION_ID"], kubelet_after_first);
  EXPECT_TRUE(has(field(*second_entry, "NODEIMG_BEFORE"), "nodeStatusMaxImages=200"));
  const json& undo = *undo_entry;
  EXPECT_EQ(undo["NODEIMG_COMMAND"], "kubelet-revert");
  EXPECT_EQ(undo["NODEIMG_RESULT"], "reverted");
  EXPECT_TRUE(has(field(undo, "NODEIMG_FILE_ACTION"), "modified /var/lib/kubelet/config.yaml"));
  EXPECT_TRUE(has(field(undo, "NODEIMG_BEFORE"), "nodeStatusMaxImages=300"));
  EXPECT_TRUE(has(field(undo, "NODEIMG_AFTER"), "nodeStatusMaxImages=50"));
  // The query the docs give.
  auto q = c.exec({"journalctl", "-t", "nodeimg", "NODEIMG_COMMAND=kubelet-apply", "NODEIMG_AUDIT=1", "--no-pager",
                   "-o", "cat"});
  EXPECT_NE(q.out.find("kubelet-apply applied: nodeStatusMaxImages 50 -> 200"), std::string::npos) << q.out;
}

TEST_F(KubeletOnSystemd, RevertOfADropInNodeimgCreatedRemovesItAndRestarts) {
  auto& c = *container_;
  c.write("/etc/default/kubelet", "KUBELET_EXTRA_ARGS=--config-dir=/etc/kubernetes/kubelet.conf.d\n");
  c.write("/etc/kubernetes/kubelet.conf.d/10-site.conf",
          "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nnodeStatusMaxImages: 60\n");
  c.systemctl({"daemon-reload"});
  c.systemctl({"restart", "kubelet.service"});
  wait_healthy();
  set_nodeimg_config("200");
  ASSERT_EQ(nodeimg({"kubelet", "apply"}).exit_code, 0);
  set_nodeimg_config("300");
  ASSERT_EQ(nodeimg({"kubelet", "apply"}).exit_code, 0);
  ASSERT_EQ(effective()["nodeStatusMaxImages"], 300);
  auto r = nodeimg({"kubelet", "revert"});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("+++ /dev/null"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("kubelet revert: removed /etc/kubernetes/kubelet.conf.d/99-nodeimg.conf"), std::string::npos) << r.out;
  EXPECT_FALSE(c.exists("/etc/kubernetes/kubelet.conf.d/99-nodeimg.conf"));
  EXPECT_EQ(effective()["nodeStatusMaxImages"], 60);
  EXPECT_EQ(nodeimg({"kubelet", "status", "--check"}).exit_code, 3);  // 60 is not what is asked
}

}  // namespace
}  // namespace nodeimg::testing
