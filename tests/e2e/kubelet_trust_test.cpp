// Issue 11 on the binary, under --root copies of platform fixtures: `status --check` and its
// exit codes, files rewritten at boot, and `revert` that goes back to the files before
// nodeimg first touched them (`--last` for one step), leaving no backup behind.
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include "support/files.hpp"
#include "support/process.hpp"

namespace nodeimg::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const std::string kConfig = "/var/lib/kubelet/config.yaml";
const std::string kEksDropInDir = "/etc/kubernetes/kubelet/config.json.d";

class KubeletTrust : public ::testing::Test {
 protected:
  void use_platform(const std::string& name) {
    fs::copy(fs::path(NODEIMG_FIXTURES) / "platforms" / name / "root", dir_.path(), fs::copy_options::recursive | fs::copy_options::copy_symlinks);
  }
  ProcessResult nodeimg(std::vector<std::string> args) {
    args.insert(args.begin(), {NODEIMG_BINARY, "--root", dir_.path().string()});
    return run(args);
  }
  // nodeimg's configuration asking for nodeStatusMaxImages `n`.
  void want(int n) { write("/etc/nodeimg/config.yaml", "kubelet:\n  nodeStatusMaxImages: " + std::to_string(n) + "\n"); }
  ProcessResult apply(int n) {
    want(n);
    return nodeimg({"kubelet", "apply"});
  }
  std::string read(const std::string& path) const { return read_file(dir_.path() / path.substr(1)); }
  bool exists(const std::string& path) const { return fs::exists(dir_.path() / path.substr(1)); }
  void write(const std::string& path, const std::string& content) const {
    fs::create_directories((dir_.path() / path.substr(1)).parent_path());
    std::ofstream(dir_.path() / path.substr(1), std::ios::binary | std::ios::trunc) << content;
  }
  // Every file left in nodeimg's kubelet state directory.
  std::vector<std::string> state_files() const {
    std::vector<std::string> out;
    const auto d = dir_.path() / "var/lib/nodeimg/kubelet";
    if (fs::exists(d))
      for (const auto& e : fs::recursive_directory_iterator(d))
        if (e.is_regular_file()) out.push_back(fs::relative(e.path(), d).string());
    return out;
  }
  TempDir dir_{"nodeimg-e2e-trust"};
};

TEST_F(KubeletTrust, RevertAfterTwoAppliesGoesBackToTheOriginalAndLeavesNoBackup) {
  use_platform("kubeadm");
  const std::string original = read(kConfig);
  ASSERT_EQ(apply(200).exit_code, 0);
  ASSERT_EQ(apply(300).exit_code, 0);
  ASSERT_NE(read(kConfig).find("nodeStatusMaxImages: 300"), std::string::npos);
  auto r = nodeimg({"kubelet", "revert"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read(kConfig), original);  // not the 200 of the first apply
  EXPECT_NE(r.out.find("kubelet revert: restored " + kConfig), std::string::npos) << r.out;
  EXPECT_TRUE(state_files().empty()) << ::testing::PrintToString(state_files());
  auto again = nodeimg({"kubelet", "revert"});
  EXPECT_EQ(again.exit_code, 0);
  EXPECT_NE(again.out.find("nothing to revert"), std::string::npos) << again.out;
}

TEST_F(KubeletTrust, ApplyThreeTimesThenLastStepsBackOneAtATime) {
  use_platform("kubeadm");
  const std::string original = read(kConfig);
  for (int n : {200, 300, 400}) ASSERT_EQ(apply(n).exit_code, 0);
  auto last = nodeimg({"kubelet", "revert", "--last", "--json"});
  ASSERT_EQ(last.exit_code, 0) << last.err;
  EXPECT_EQ(json::parse(last.out)["scope"], "last");
  EXPECT_NE(read(kConfig).find("nodeStatusMaxImages: 300"), std::string::npos) << read(kConfig);
  ASSERT_EQ(nodeimg({"kubelet", "revert", "--last"}).exit_code, 0);
  EXPECT_NE(read(kConfig).find("nodeStatusMaxImages: 200"), std::string::npos) << read(kConfig);
  ASSERT_EQ(nodeimg({"kubelet", "revert", "--last"}).exit_code, 0);
  EXPECT_EQ(read(kConfig), original);
  EXPECT_TRUE(state_files().empty()) << ::testing::PrintToString(state_files());
  auto nothing = nodeimg({"kubelet", "revert", "--last"});
  EXPECT_EQ(nothing.exit_code, 0);
  EXPECT_NE(nothing.out.find("nothing to revert"), std::string::npos);
}

TEST_F(KubeletTrust, LastThenFullRevertStillReachesTheOriginal) {
  use_platform("kubeadm");
  const std::string original = read(kConfig);
  for (int n : {200, 300, 400}) ASSERT_EQ(apply(n).exit_code, 0);
  ASSERT_EQ(nodeimg({"kubelet", "revert", "--last"}).exit_code, 0);
  ASSERT_EQ(nodeimg({"kubelet", "revert"}).exit_code, 0);
  EXPECT_EQ(read(kConfig), original);
  EXPECT_TRUE(state_files().empty());
}

TEST_F(KubeletTrust, ADropInNodeimgCreatedIsRemovedAndItsDiffEndsInDevNull) {
  use_platform("eks-al2023-dropin");
  const std::string dropin = kEksDropInDir + "/99-nodeimg.conf";
  ASSERT_EQ(apply(200).exit_code, 0);
  ASSERT_EQ(apply(300).exit_code, 0);
  ASSERT_TRUE(exists(dropin));
  auto dry = nodeimg({"kubelet", "revert", "--dry-run"});
  ASSERT_EQ(dry.exit_code, 0) << dry.err;
  EXPECT_NE(dry.out.find("--- a" + dropin + "\n+++ /dev/null\n"), std::string::npos) << dry.out;
  EXPECT_NE(dry.out.find("would be removed: " + dropin), std::string::npos) << dry.out;
  EXPECT_TRUE(exists(dropin));
  auto r = nodeimg({"kubelet", "revert", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = json::parse(r.out);
  ASSERT_EQ(j["files"].size(), 1u);
  EXPECT_EQ(j["files"][0]["action"], "removed");
  EXPECT_NE(j["files"][0]["diff"].get<std::string>().find("+++ /dev/null"), std::string::npos);
  EXPECT_FALSE(exists(dropin));
  EXPECT_TRUE(state_files().empty()) << ::testing::PrintToString(state_files());  // owned.json too
}

TEST_F(KubeletTrust, RemovedIsSaidOnTheTerminalAndOwnershipSurvivesLast) {
  use_platform("eks-al2023-dropin");
  const std::string dropin = kEksDropInDir + "/99-nodeimg.conf";
  ASSERT_EQ(apply(200).exit_code, 0);
  ASSERT_EQ(apply(300).exit_code, 0);
  ASSERT_EQ(nodeimg({"kubelet", "revert", "--last"}).exit_code, 0);
  ASSERT_NE(read(dropin).find("200"), std::string::npos) << read(dropin);
  // The drop-in at 200 is still nodeimg's: the next apply updates it in place rather than
  // treating it as someone else's and writing a second one after it.
  ASSERT_EQ(apply(500).exit_code, 0);
  EXPECT_NE(read(dropin).find("500"), std::string::npos) << read(dropin);
  EXPECT_FALSE(exists(kEksDropInDir + "/z99-nodeimg.conf"));
  auto r = nodeimg({"kubelet", "revert"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("kubelet revert: removed " + dropin), std::string::npos) << r.out;
  EXPECT_FALSE(exists(dropin));
}

TEST_F(KubeletTrust, AFileChangedBySomeoneElseStopsTheRevertAndNothingIsWritten) {
  use_platform("eks-al2023-dropin");
  const std::string dropin = kEksDropInDir + "/99-nodeimg.conf";
  ASSERT_EQ(apply(200).exit_code, 0);
  const std::string edited = read(dropin) + "# an operator was here\n";
  write(dropin, edited);
  auto r = nodeimg({"kubelet", "revert"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(dropin + " was changed since nodeimg wrote it"), std::string::npos) << r.err;
  EXPECT_EQ(read(dropin), edited);
  EXPECT_FALSE(state_files().empty());  // the record stays for a later revert
  auto forced = nodeimg({"kubelet", "revert", "--force"});
  EXPECT_EQ(forced.exit_code, 0) << forced.err;
  EXPECT_FALSE(exists(dropin));
}

TEST_F(KubeletTrust, AConfigFileDeletedByHandIsNamedAndForceRestoresIt) {
  use_platform("kubeadm");
  const std::string original = read(kConfig);
  ASSERT_EQ(apply(200).exit_code, 0);
  fs::remove(dir_.path() / kConfig.substr(1));
  auto r = nodeimg({"kubelet", "revert"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(kConfig + " was deleted"), std::string::npos) << r.err;
  EXPECT_FALSE(exists(kConfig));
  ASSERT_EQ(nodeimg({"kubelet", "revert", "--force"}).exit_code, 0);
  EXPECT_EQ(read(kConfig), original);
}

TEST_F(KubeletTrust, ARecordOfThePreviousVersionIsStillReverted) {
  use_platform("kubeadm");
  const std::string original = read(kConfig);
  ASSERT_EQ(apply(200).exit_code, 0);
  const std::string applied = read(kConfig);
  // What nodeimg before the history left: version 2, one apply, backups files/N.before.
  for (const auto& f : state_files()) fs::remove(dir_.path() / "var/lib/nodeimg/kubelet" / f);
  write("/var/lib/nodeimg/kubelet/files/0.before", original);
  write("/var/lib/nodeimg/kubelet/files/0.after", applied);
  write("/var/lib/nodeimg/kubelet/last-apply.json",
        R"({"version": 2, "appliedAt": "2026-01-01T00:00:00Z", "unit": "kubelet.service", "unitFilesChanged": false,
            "healthzURL": null, "files": [{"path": "/var/lib/kubelet/config.yaml", "mode": 420, "uid": 0, "gid": 0,
            "before": "files/0.before", "after": "files/0.after", "own": false}]})");
  ASSERT_EQ(apply(300).exit_code, 0);  // a new apply keeps the old record as its first step
  auto r = nodeimg({"kubelet", "revert"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read(kConfig), original);
  EXPECT_TRUE(state_files().empty()) << ::testing::PrintToString(state_files());
}

TEST_F(KubeletTrust, ARevertKilledAfterItRemovedTheIndexIsFinishedByTheNext) {
  // Found by scripts/test-fault: the index is gone, its backups are not.
  use_platform("kubeadm");
  write("/var/lib/nodeimg/kubelet/files/1-0.before", "old");
  write("/var/lib/nodeimg/kubelet/files/2-0.after", "new");
  auto dry = nodeimg({"kubelet", "revert", "--dry-run"});
  EXPECT_EQ(dry.exit_code, 0) << dry.err;
  EXPECT_EQ(state_files().size(), 2u);  // a dry run writes nothing, not even this clean-up
  auto r = nodeimg({"kubelet", "revert"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(state_files().empty()) << ::testing::PrintToString(state_files());
}

TEST_F(KubeletTrust, AnUnreadableRecordStopsApplySoTheOriginalsAreNotLost) {
  use_platform("kubeadm");
  const std::string original = read(kConfig);
  want(-1);
  write("/var/lib/nodeimg/kubelet/last-apply.json", "{not json");
  auto r = nodeimg({"kubelet", "apply"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("last-apply.json"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("nothing was written"), std::string::npos) << r.err;
  EXPECT_EQ(read(kConfig), original);
}

TEST_F(KubeletTrust, CheckExitsThreeOnDriftAndZeroOnceApplied) {
  use_platform("kubeadm");
  want(-1);
  auto drift = nodeimg({"kubelet", "status", "--check"});
  EXPECT_EQ(drift.exit_code, 3) << drift.out << drift.err;
  EXPECT_NE(drift.out.find("kubelet: NOT in effect (drift)"), std::string::npos) << drift.out;
  EXPECT_NE(drift.out.find("nodeStatusMaxImages is 50"), std::string::npos) << drift.out;
  auto drift_json = nodeimg({"kubelet", "status", "--check", "--json"});
  EXPECT_EQ(drift_json.exit_code, 3);
  EXPECT_EQ(json::parse(drift_json.out)["check"], "drift");
  ASSERT_EQ(nodeimg({"kubelet", "apply"}).exit_code, 0);
  auto ok = nodeimg({"kubelet", "status", "--check"});
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  EXPECT_NE(ok.out.find("kubelet: in effect: nodeStatusMaxImages -1"), std::string::npos) << ok.out;
  auto j = json::parse(nodeimg({"kubelet", "status", "--json"}).out);
  EXPECT_EQ(j["inEffect"], true);
  EXPECT_EQ(j["check"], "in-effect");
  EXPECT_TRUE(j["restartPending"].is_null());  // under --root kubelet's process is not read
  EXPECT_TRUE(j["kubeletStartedAt"].is_null());
  // Without --check, status keeps exiting 0 when apply would merely change something.
  EXPECT_EQ(nodeimg({"kubelet", "status"}).exit_code, 0);
}

TEST_F(KubeletTrust, CheckExitsOneWhenApplyWouldRefuse) {
  use_platform("k3s");
  want(-1);
  write("/etc/rancher/k3s/config.yaml", "kubelet-arg:\n  - node-status-max-images=5\n");
  auto r = nodeimg({"kubelet", "status", "--check"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("/etc/rancher/k3s/config.yaml:2"), std::string::npos) << r.err;
}

TEST_F(KubeletTrust, GkesEtcDefaultKubeletIsRewrittenAtBootAndApplyAndStatusSaySo) {
  use_platform("gke");
  want(-1);
  auto apply = nodeimg({"kubelet", "apply", "--json"});
  ASSERT_EQ(apply.exit_code, 0) << apply.err;
  EXPECT_NE(apply.err.find("/etc/default/kubelet is rewritten at boot by GKE"), std::string::npos) << apply.err;
  EXPECT_NE(apply.err.find("nodeimg-kubelet.service re-applies it at each boot before kubelet"), std::string::npos);
  EXPECT_EQ(json::parse(apply.out)["rewrittenAtBoot"][0]["path"], "/etc/default/kubelet");
  // In sync now, and status still warns about the file nodeimg edited.
  auto status = nodeimg({"kubelet", "status"});
  ASSERT_EQ(status.exit_code, 0) << status.err;
  EXPECT_NE(status.out.find("warning: /etc/default/kubelet is rewritten at boot"), std::string::npos) << status.out;
  auto j = json::parse(nodeimg({"kubelet", "status", "--json"}).out);
  ASSERT_EQ(j["rewrittenAtBoot"].size(), 1u);
  EXPECT_NE(j["rewrittenAtBoot"][0]["by"].get<std::string>().find("GKE"), std::string::npos);
}

TEST_F(KubeletTrust, EksNodeadmConfigIsRewrittenAtBoot) {
  use_platform("eks-al2023");
  want(-1);
  auto apply = nodeimg({"kubelet", "apply"});
  ASSERT_EQ(apply.exit_code, 0) << apply.err;
  EXPECT_NE(apply.err.find("/etc/kubernetes/kubelet/config.json is rewritten at boot by EKS nodeadm"),
            std::string::npos)
      << apply.err;
}

TEST_F(KubeletTrust, KubeadmsFilesAreNotCalledRewrittenAtBoot) {
  use_platform("kubeadm");
  want(-1);
  auto apply = nodeimg({"kubelet", "apply", "--json"});
  ASSERT_EQ(apply.exit_code, 0) << apply.err;
  EXPECT_EQ(apply.err.find("rewritten at boot"), std::string::npos) << apply.err;
  EXPECT_TRUE(json::parse(apply.out)["rewrittenAtBoot"].empty());
}

TEST_F(KubeletTrust, HelpDocumentsCheckItsExitCodeAndLast) {
  auto status = run({NODEIMG_BINARY, "kubelet", "status", "--help"});
  EXPECT_NE(status.out.find("--check"), std::string::npos) << status.out;
  EXPECT_NE(status.out.find("3 (--check only)"), std::string::npos) << status.out;
  auto revert = run({NODEIMG_BINARY, "kubelet", "revert", "--help"});
  EXPECT_NE(revert.out.find("--last"), std::string::npos) << revert.out;
  EXPECT_NE(revert.out.find("before nodeimg first touched them"), std::string::npos) << revert.out;
}

}  // namespace
}  // namespace nodeimg::testing
