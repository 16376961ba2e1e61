// `nodeimg` as an operator runs it, on a copy of a platform fixture under --root: exit
// codes, JSON, global options anywhere, apply/apply/revert, and refusals that leave every
// byte in place.
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include "support/process.hpp"

namespace nodeimg::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class CliOnRoot : public ::testing::Test {
 protected:
  void use_platform(const std::string& name) {
    char tmpl[] = "/tmp/nodeimg-e2e-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    fs::copy(fs::path(NODEIMG_FIXTURES) / "platforms" / name / "root", root_,
             fs::copy_options::recursive | fs::copy_options::copy_symlinks);
    expected_ = fs::path(NODEIMG_FIXTURES) / "platforms" / name / "expected";
  }
  void TearDown() override {
    if (!root_.empty()) fs::remove_all(root_);
  }
  ProcessResult nodeimg(std::vector<std::string> args) {
    args.insert(args.begin(), NODEIMG_BINARY);
    return run(args);
  }
  std::string read(const std::string& path) const {
    std::ifstream in(root_ / path.substr(1), std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
  }
  std::string read_expected(const std::string& path) const {
    std::ifstream in(expected_ / path.substr(1), std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
  }
  void write(const std::string& path, const std::string& content) const {
    fs::create_directories((root_ / path.substr(1)).parent_path());
    std::ofstream(root_ / path.substr(1), std::ios::binary | std::ios::trunc) << content;
  }
  fs::path root_;
  fs::path expected_;
};

TEST_F(CliOnRoot, ApplyThenApplyThenRevert) {
  use_platform("kubeadm");
  const std::string original = read("/var/lib/kubelet/config.yaml");
  auto first = nodeimg({"--root", root_.string(), "kubelet", "apply", "--defaults", "--json"});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  auto j = json::parse(first.out);
  EXPECT_EQ(j["changed"], true);
  EXPECT_EQ(j["restarted"], false);  // under --root nothing is restarted
  EXPECT_EQ(j["files"][0]["action"], "modified");
  EXPECT_EQ(read("/var/lib/kubelet/config.yaml"), read_expected("/var/lib/kubelet/config.yaml"));
  EXPECT_TRUE(fs::exists(root_ / "var/lib/nodeimg/kubelet/last-apply.json"));

  auto second = nodeimg({"kubelet", "apply", "--defaults", "--json", "--root", root_.string()});
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_EQ(json::parse(second.out)["changed"], false);

  auto revert = nodeimg({"--root", root_.string(), "kubelet", "revert"});
  ASSERT_EQ(revert.exit_code, 0) << revert.err;
  EXPECT_EQ(read("/var/lib/kubelet/config.yaml"), original);
}

TEST_F(CliOnRoot, GlobalOptionsWorkBeforeAndAfterTheCommand) {
  use_platform("gke");
  auto before = nodeimg({"--json", "--root", root_.string(), "kubelet", "status"});
  auto after = nodeimg({"kubelet", "status", "--root", root_.string(), "--json"});
  auto middle = nodeimg({"kubelet", "--json", "status", "--root=" + root_.string()});
  ASSERT_EQ(before.exit_code, 0) << before.err;
  EXPECT_EQ(before.out, after.out);
  EXPECT_EQ(before.out, middle.out);
  auto j = json::parse(before.out);
  EXPECT_EQ(j["settings"][0]["effective"], 25);
  EXPECT_EQ(j["settings"][0]["source"], "flag");
  EXPECT_EQ(j["inSync"], false);
  EXPECT_EQ(j["apply"]["changes"][0]["path"], "/etc/default/kubelet");
}

TEST_F(CliOnRoot, HumanStatusNamesEverySource) {
  use_platform("kubeadm");
  auto r = nodeimg({"--root", root_.string(), "kubelet", "status"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* part : {"kubelet.service", "/etc/systemd/system/kubelet.service.d/10-kubeadm.conf (drop-in)",
                           "/var/lib/kubelet/kubeadm-flags.env (EnvironmentFile)", "config file:  /var/lib/kubelet/config.yaml (YAML",
                           "nodeStatusMaxImages", "-> apply sets nodeStatusMaxImages in /var/lib/kubelet/config.yaml",
                           "apply: would write 1 file(s)"})
    EXPECT_NE(r.out.find(part), std::string::npos) << part << "\n" << r.out;
}

TEST_F(CliOnRoot, DryRunWritesNothingAtAll) {
  use_platform("eks-al2023-dropin");
  auto r = nodeimg({"--root", root_.string(), "kubelet", "apply", "--defaults", "--dry-run"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("--- /dev/null\n+++ b/etc/kubernetes/kubelet/config.json.d/99-nodeimg.conf"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(root_ / "etc/kubernetes/kubelet/config.json.d/99-nodeimg.conf"));
  EXPECT_FALSE(fs::exists(root_ / "var/lib/nodeimg"));
}

TEST_F(CliOnRoot, MalformedConfigFileIsRefusedAndLeftByteIdentical) {
  use_platform("kubeadm");
  const std::string broken = "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nfoo: [1,\n";
  write("/var/lib/kubelet/config.yaml", broken);
  auto r = nodeimg({"--root", root_.string(), "kubelet", "apply", "--defaults"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("/var/lib/kubelet/config.yaml: not valid YAML: line"), std::string::npos) << r.err;
  EXPECT_EQ(read("/var/lib/kubelet/config.yaml"), broken);
  EXPECT_FALSE(fs::exists(root_ / "var/lib/nodeimg"));
}

TEST_F(CliOnRoot, SymlinkedConfigFileIsRefused) {
  use_platform("kubeadm");
  fs::rename(root_ / "var/lib/kubelet/config.yaml", root_ / "var/lib/kubelet/real.yaml");
  fs::create_symlink("real.yaml", root_ / "var/lib/kubelet/config.yaml");
  const std::string original = read("/var/lib/kubelet/real.yaml");
  auto r = nodeimg({"--root", root_.string(), "kubelet", "apply", "--defaults"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("is a symlink"), std::string::npos) << r.err;
  EXPECT_EQ(read("/var/lib/kubelet/real.yaml"), original);
  EXPECT_TRUE(fs::is_symlink(root_ / "var/lib/kubelet/config.yaml"));
}

TEST_F(CliOnRoot, ConfigMapInsteadOfKubeletConfigurationIsRefused) {
  use_platform("kubeadm");
  const std::string other = "apiVersion: v1\nkind: ConfigMap\ndata: {}\n";
  write("/var/lib/kubelet/config.yaml", other);
  auto r = nodeimg({"--root", root_.string(), "kubelet", "apply", "--defaults"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("not a KubeletConfiguration"), std::string::npos) << r.err;
  EXPECT_EQ(read("/var/lib/kubelet/config.yaml"), other);
}

TEST_F(CliOnRoot, ConfigurationErrorsExitTwoAndNameFileLineKey) {
  use_platform("kubeadm");
  write("/etc/nodeimg/config.yaml", "kubelet:\n  nodeStatusMaxImages: -5\n");
  auto r = nodeimg({"--root", root_.string(), "kubelet", "status"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find((root_ / "etc/nodeimg/config.yaml").string() + ":2: kubelet.nodeStatusMaxImages: must be >= -1"),
            std::string::npos)
      << r.err;
  auto missing = nodeimg({"--config", "/nonexistent/config.yaml", "kubelet", "status"});
  EXPECT_EQ(missing.exit_code, 2);
  auto usage = nodeimg({"kubelet", "apply", "--defaults", "--frobnicate"});
  EXPECT_EQ(usage.exit_code, 2);
}

TEST_F(CliOnRoot, ConfiguredSettingsAndAutoCap) {
  use_platform("phalanx");
  write("/etc/nodeimg/config.yaml",
        "kubelet:\n  nodeStatusMaxImages: auto\n  settings:\n    imageGCHighThresholdPercent: 90\n    imageGCLowThresholdPercent: 70\n");
  auto r = nodeimg({"--root", root_.string(), "--json", "kubelet", "apply", "--defaults"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = json::parse(r.out);
  EXPECT_GE(j["effective"]["nodeStatusMaxImages"].get<long long>(), 1);  // a third of this disk in GB
  EXPECT_EQ(j["effective"]["imageGCHighThresholdPercent"], 90);
  const std::string text = read("/var/lib/kubelet/config");
  EXPECT_NE(text.find("imageGCLowThresholdPercent: 70\n"), std::string::npos) << text;
  EXPECT_NE(text.find("# default cap; Nublado needs more"), std::string::npos) << text;
}

TEST_F(CliOnRoot, RevertRefusesFilesChangedSinceTheApply) {
  use_platform("aks");
  ASSERT_EQ(nodeimg({"--root", root_.string(), "kubelet", "apply", "--defaults"}).exit_code, 0);
  write("/etc/default/kubeletconfig.json", "{\"kind\": \"KubeletConfiguration\", \"apiVersion\": \"kubelet.config.k8s.io/v1beta1\"}\n");
  auto r = nodeimg({"--root", root_.string(), "kubelet", "revert"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("was changed since nodeimg wrote it"), std::string::npos) << r.err;
  auto forced = nodeimg({"--root", root_.string(), "kubelet", "revert", "--force"});
  EXPECT_EQ(forced.exit_code, 0) << forced.err;
  EXPECT_NE(read("/etc/default/kubeletconfig.json").find("\"nodeStatusMaxImages\": 50"), std::string::npos);
}

TEST_F(CliOnRoot, StatusShowsEverySourceWhenApplyWouldRefuse) {
  use_platform("k3s");
  write("/etc/rancher/k3s/config.yaml", "kubelet-arg:\n  - node-status-max-images=5\n");
  const std::string dir = "/var/lib/rancher/k3s/agent/etc/kubelet.conf.d";
  auto status = nodeimg({"--root", root_.string(), "kubelet", "status"});
  EXPECT_EQ(status.exit_code, 1);
  for (const char* part : {"k3s.service", "/etc/rancher/k3s/config.yaml (kubelet-arg)", "--node-status-max-images=5",
                           "00-k3s-defaults.conf", "nodeStatusMaxImages"})
    EXPECT_NE(status.out.find(part), std::string::npos) << part << "\n" << status.out;
  EXPECT_NE(status.err.find("/etc/rancher/k3s/config.yaml:2"), std::string::npos) << status.err;
  auto json_status = nodeimg({"--root", root_.string(), "--json", "kubelet", "status"});
  auto j = json::parse(json_status.out);
  EXPECT_EQ(j["settings"][0]["effective"], 5);
  EXPECT_EQ(j["inSync"], false);
  EXPECT_FALSE(j["apply"]["refused"].is_null());
  auto apply = nodeimg({"--root", root_.string(), "kubelet", "apply", "--defaults"});
  EXPECT_EQ(apply.exit_code, 1);
  EXPECT_NE(apply.err.find("nothing was written"), std::string::npos) << apply.err;
  EXPECT_FALSE(fs::exists(root_ / (dir.substr(1) + "/99-nodeimg.conf")));
  EXPECT_FALSE(fs::exists(root_ / "var/lib/nodeimg"));
}

TEST_F(CliOnRoot, NewFilesAreRootOwned0644WhateverTheirNeighbours) {
  use_platform("k3s");
  const std::string dir = "var/lib/rancher/k3s/agent/etc/kubelet.conf.d";
  ::chmod((root_ / dir / "00-k3s-defaults.conf").c_str(), 0600);
  ASSERT_EQ(::chown((root_ / dir / "00-k3s-defaults.conf").c_str(), 1234, 1234), 0);
  ::umask(0);
  auto r = nodeimg({"--root", root_.string(), "kubelet", "apply", "--defaults"});
  ::umask(022);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  struct stat st {};
  ASSERT_EQ(::stat((root_ / dir / "99-nodeimg.conf").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0644u);
  EXPECT_EQ(st.st_uid, 0u);
  EXPECT_EQ(st.st_gid, 0u);
}

TEST_F(CliOnRoot, AConfigFileOthersCanWriteIsRefused) {
  use_platform("kubeadm");
  const std::string original = read("/var/lib/kubelet/config.yaml");
  ::chmod((root_ / "var/lib/kubelet/config.yaml").c_str(), 0666);
  auto r = nodeimg({"--root", root_.string(), "kubelet", "apply", "--defaults"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("world-writable, mode 0666 (world-writable rule; fix: chmod o-w)"), std::string::npos) << r.err;
  EXPECT_EQ(read("/var/lib/kubelet/config.yaml"), original);
  EXPECT_FALSE(fs::exists(root_ / "var/lib/nodeimg/kubelet/last-apply.json"));
}

TEST_F(CliOnRoot, AStickyWorldWritableDirectoryOnTheWayIsRefused) {
  use_platform("kubeadm");
  const std::string original = read("/var/lib/kubelet/config.yaml");
  ::chmod((root_ / "var/lib").c_str(), 01777);
  auto r = nodeimg({"--root", root_.string(), "kubelet", "apply", "--defaults"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("directory /var/lib"), std::string::npos) << r.err;
  EXPECT_EQ(read("/var/lib/kubelet/config.yaml"), original);
}

TEST_F(CliOnRoot, HelpAndVersionEverywhere) {
  for (std::vector<std::string> args : {std::vector<std::string>{"--help"}, {"kubelet", "--help"}, {"kubelet", "apply", "--defaults", "--help"},
                                        {"--version"}, {"kubelet", "status", "--version"}}) {
    auto r = nodeimg(args);
    EXPECT_EQ(r.exit_code, 0) << args.back();
    EXPECT_FALSE(r.out.empty());
  }
  EXPECT_NE(nodeimg({"kubelet", "apply", "--defaults", "--help"}).out.find("--dry-run"), std::string::npos);
}

}  // namespace
}  // namespace nodeimg::testing
