// Discovery, effective values and the planned edit on nodes laid out like each platform
// of kubelet.md: the cases beyond the fixture table.
#include <filesystem>

#include <gtest/gtest.h>

#include "core/kubelet/plan.hpp"
#include "support/memory_tree.hpp"

namespace nodeimg::kubelet {
namespace {

using testing::MemoryTree;

// The table over every fixture (expected.json) is kubelet_platform_table_test.cpp; these
// are the details that need more than a table row.
const Values kDesired = {{"nodeStatusMaxImages", -1}};

// The GKE trap: the file says one thing, the flag another, and the flag wins.
TEST(PlatformDetails, GkeFlagOverridesFileAndIsEditedInItsEnvironmentFile) {
  auto tree = MemoryTree::from_directory(std::filesystem::path(NODEIMG_FIXTURES) / "platforms/gke/root");
  tree.files["/home/kubernetes/kubelet-config.yaml"] += "nodeStatusMaxImages: -1\n";
  auto sources = discover(tree, {});
  ASSERT_TRUE(sources);
  auto p = plan(tree, {}, *sources, kDesired);
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->settings[0].effective, 25);
  EXPECT_EQ(p->settings[0].source_detail, "--node-status-max-images (/etc/default/kubelet:1)");
  ASSERT_EQ(p->changes.size(), 1u);
  EXPECT_EQ(p->changes[0].path, "/etc/default/kubelet");
  EXPECT_FALSE(p->changes[0].unit_file);  // an EnvironmentFile needs no daemon-reload
  EXPECT_FALSE(p->daemon_reload);
}

TEST(PlatformDetails, KubeadmFlagsTraceToTheirDefinitions) {
  auto tree = MemoryTree::from_directory(std::filesystem::path(NODEIMG_FIXTURES) / "platforms/kubeadm/root");
  auto sources = discover(tree, {});
  ASSERT_TRUE(sources);
  const Flag* config = sources->flag("config");
  ASSERT_NE(config, nullptr);
  EXPECT_EQ(systemd::to_string(*config->origin), "/etc/systemd/system/kubelet.service.d/10-kubeadm.conf:4");
  EXPECT_EQ(config->variable, "KUBELET_CONFIG_ARGS");
  const Flag* endpoint = sources->flag("container-runtime-endpoint");
  ASSERT_NE(endpoint, nullptr);
  EXPECT_EQ(systemd::to_string(*endpoint->origin), "/var/lib/kubelet/kubeadm-flags.env:1");
  EXPECT_EQ(sources->argv.front(), "/usr/bin/kubelet");
}

TEST(PlatformDetails, RunningKubeletDifferentFromUnitIsReported) {
  auto tree = MemoryTree::from_directory(std::filesystem::path(NODEIMG_FIXTURES) / "platforms/kubeadm/root");
  DiscoveryOptions options;
  options.running_argv = std::vector<std::string>{"/usr/bin/kubelet", "--config=/var/lib/kubelet/config.yaml"};
  options.running_pid = 4242;
  auto sources = discover(tree, options);
  ASSERT_TRUE(sources);
  ASSERT_EQ(sources->warnings.size(), 1u);
  EXPECT_NE(sources->warnings[0].find("pid 4242"), std::string::npos);
}

TEST(PlatformDetails, RunningKubeletWithoutUnitGivesTheCommandLine) {
  MemoryTree tree;
  tree.files["/srv/kubelet.yaml"] = "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n";
  DiscoveryOptions options;
  options.running_argv = std::vector<std::string>{"kubelet", "--config", "/srv/kubelet.yaml", "--node-status-max-images=7"};
  options.running_pid = 99;
  auto sources = discover(tree, options);
  ASSERT_TRUE(sources) << sources.error().message;
  EXPECT_EQ(sources->config_file.value_or(""), "/srv/kubelet.yaml");
  auto p = plan(tree, options, *sources, kDesired);
  // The flag cannot be traced to any file: a clear refusal, nothing to write.
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_TRUE(p->changes.empty());
  EXPECT_NE(p->refusal.find("cannot trace"), std::string::npos) << p->refusal;
}

TEST(PlatformDetails, OwnDropInSortsAfterEveryOtherConf) {
  EXPECT_EQ(own_dropin_name({"00-k3s-defaults.conf", "40-nodeadm.conf"}), "99-nodeimg.conf");
  EXPECT_EQ(own_dropin_name({"99-zeta.conf"}), "z99-nodeimg.conf");
  EXPECT_EQ(own_dropin_name({"zz-last.conf"}), "zz99-nodeimg.conf");
}

TEST(PlatformDetails, OwnDropInIsRenamedWhenAnotherSortsAfterIt) {
  auto tree = MemoryTree::from_directory(std::filesystem::path(NODEIMG_FIXTURES) / "platforms/k3s/root");
  const std::string dir = "/var/lib/rancher/k3s/agent/etc/kubelet.conf.d";
  auto sources = discover(tree, {});
  ASSERT_TRUE(sources);
  auto first = plan(tree, {}, *sources, kDesired);
  ASSERT_TRUE(first);
  for (const auto& c : first->changes) tree.files[c.path] = *c.after;
  // nodeimg's state records the drop-in it wrote: it may move it.
  DiscoveryOptions options;
  options.owned_files = {{first->changes[0].path, *first->changes[0].after}};
  tree.files[dir + "/99-site.conf"] =
      "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nnodeStatusMaxImages: 10\n";
  sources = discover(tree, options);
  ASSERT_TRUE(sources);
  auto second = plan(tree, options, *sources, kDesired);
  ASSERT_TRUE(second) << second.error().message;
  ASSERT_EQ(second->changes.size(), 2u);
  EXPECT_EQ(second->changes[0].path, dir + "/99-nodeimg.conf");
  EXPECT_FALSE(second->changes[0].after);  // removed
  EXPECT_EQ(second->changes[1].path, dir + "/z99-nodeimg.conf");
}

TEST(PlatformDetails, DropInWithoutKindIsRefused) {
  auto tree = MemoryTree::from_directory(std::filesystem::path(NODEIMG_FIXTURES) / "platforms/k3s/root");
  tree.files["/var/lib/rancher/k3s/agent/etc/kubelet.conf.d/50-bad.conf"] = "nodeStatusMaxImages: 10\n";
  auto sources = discover(tree, {});
  ASSERT_TRUE(sources);
  auto p = plan(tree, {}, *sources, kDesired);
  ASSERT_FALSE(p);
  EXPECT_NE(p.error().message.find("50-bad.conf"), std::string::npos);
  EXPECT_NE(p.error().message.find("kubelet refuses"), std::string::npos);
}

TEST(PlatformDetails, SettingsThatWouldMakeKubeletInvalidAreRefused) {
  auto tree = MemoryTree::from_directory(std::filesystem::path(NODEIMG_FIXTURES) / "platforms/phalanx/root");
  auto sources = discover(tree, {});
  ASSERT_TRUE(sources);
  // The file has high = 85; a low threshold of 90 would be above it.
  auto p = plan(tree, {}, *sources, {{"imageGCLowThresholdPercent", 90}});
  ASSERT_FALSE(p);
  EXPECT_NE(p.error().message.find("must be less than imageGCHighThresholdPercent (85)"), std::string::npos)
      << p.error().message;
}

TEST(PlatformDetails, SeveralSettingsLandInOneEdit) {
  auto tree = MemoryTree::from_directory(std::filesystem::path(NODEIMG_FIXTURES) / "platforms/phalanx/root");
  auto sources = discover(tree, {});
  ASSERT_TRUE(sources);
  auto p = plan(tree, {}, *sources,
                {{"nodeStatusMaxImages", 300}, {"imageGCHighThresholdPercent", 90}, {"imageMinimumGCAge", "5m"}});
  ASSERT_TRUE(p) << p.error().message;
  ASSERT_EQ(p->changes.size(), 1u);
  EXPECT_EQ(*p->changes[0].after,
            "# Kubelet configuration for a Rubin Science Platform node.\n"
            "apiVersion: kubelet.config.k8s.io/v1beta1\n"
            "kind: KubeletConfiguration\n"
            "imageMinimumGCAge: 5m\n"
            "cgroupDriver: systemd\n"
            "nodeStatusMaxImages: 300   # default cap; Nublado needs more\n"
            "imageGCHighThresholdPercent: 90\n");
}

TEST(PlatformDetails, NoConfigNoDropInNoFlagIsAClearError) {
  MemoryTree tree;
  tree.files["/etc/systemd/system/kubelet.service"] = "[Service]\nExecStart=/usr/bin/kubelet --v=2\n";
  auto sources = discover(tree, {});
  ASSERT_TRUE(sources);
  auto p = plan(tree, {}, *sources, kDesired);
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_TRUE(p->changes.empty());
  EXPECT_NE(p->refusal.find("nowhere to set it"), std::string::npos);
}

}  // namespace
}  // namespace nodeimg::kubelet

namespace nodeimg::kubelet {
namespace {

TEST(PlatformDetails, NoKubeletAtAllSaysSo) {
  testing::MemoryTree tree;
  auto sources = discover(tree, {});
  ASSERT_TRUE(sources);
  auto p = plan(tree, {}, *sources, {{"nodeStatusMaxImages", -1}});
  ASSERT_FALSE(p);
  EXPECT_NE(p.error().message.find("no kubelet found on this node"), std::string::npos) << p.error().message;
}

}  // namespace
}  // namespace nodeimg::kubelet
