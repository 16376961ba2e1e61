// Discovery, effective values and the planned edit on nodes laid out like each platform
// of kubelet.md. Each fixture has root/ (the node) and expected/ (the files apply writes).
#include <filesystem>

#include <gtest/gtest.h>

#include "core/kubelet/plan.hpp"
#include "support/memory_tree.hpp"

namespace nodeimg::kubelet {
namespace {

using testing::MemoryTree;

struct PlatformCase {
  std::string name;
  std::string unit;          // "" = none found
  std::string config_file;   // "" = none
  std::string dropin_dir;    // "" = none
  Json effective;            // nodeStatusMaxImages before apply
  Source source;
  std::string written_file;  // the one file apply writes
};

std::ostream& operator<<(std::ostream& os, const PlatformCase& c) { return os << c.name; }

class Platform : public ::testing::TestWithParam<PlatformCase> {
 protected:
  std::filesystem::path dir() const { return std::filesystem::path(NODEIMG_FIXTURES) / "platforms" / GetParam().name; }
};

const Values kDesired = {{"nodeStatusMaxImages", -1}};

TEST_P(Platform, DiscoversSourcesAndEffectiveValue) {
  const auto& c = GetParam();
  auto tree = MemoryTree::from_directory(dir() / "root");
  DiscoveryOptions options;
  auto sources = discover(tree, options);
  ASSERT_TRUE(sources) << sources.error().message;
  EXPECT_EQ(sources->unit ? sources->unit->name : "", c.unit);
  EXPECT_EQ(sources->config_file.value_or(""), c.config_file);
  EXPECT_EQ(sources->dropin_dir.value_or(""), c.dropin_dir);
  auto p = plan(tree, options, *sources, kDesired);
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->settings[0].name, "nodeStatusMaxImages");
  EXPECT_EQ(p->settings[0].effective, c.effective);
  EXPECT_EQ(p->settings[0].source, c.source) << p->settings[0].source_detail;
}

TEST_P(Platform, ApplyWritesExactlyTheExpectedFile) {
  const auto& c = GetParam();
  auto tree = MemoryTree::from_directory(dir() / "root");
  auto expected = MemoryTree::from_directory(dir() / "expected");
  auto sources = discover(tree, {});
  ASSERT_TRUE(sources) << sources.error().message;
  auto p = plan(tree, {}, *sources, kDesired);
  ASSERT_TRUE(p) << p.error().message;
  ASSERT_EQ(p->changes.size(), 1u);
  EXPECT_EQ(p->changes[0].path, c.written_file);
  ASSERT_TRUE(p->changes[0].after);
  ASSERT_TRUE(expected.files.contains(c.written_file));
  EXPECT_EQ(*p->changes[0].after, expected.files.at(c.written_file));
}

TEST_P(Platform, ApplyTwiceEqualsApplyOnce) {
  auto tree = MemoryTree::from_directory(dir() / "root");
  auto sources = discover(tree, {});
  ASSERT_TRUE(sources);
  auto first = plan(tree, {}, *sources, kDesired);
  ASSERT_TRUE(first) << first.error().message;
  for (const auto& c : first->changes) tree.files[c.path] = *c.after;
  auto again_sources = discover(tree, {});
  ASSERT_TRUE(again_sources) << again_sources.error().message;
  auto second = plan(tree, {}, *again_sources, kDesired);
  ASSERT_TRUE(second) << second.error().message;
  EXPECT_TRUE(second->changes.empty());
  EXPECT_EQ(second->settings[0].effective, -1);
  EXPECT_TRUE(second->settings[0].edit.empty());
}

INSTANTIATE_TEST_SUITE_P(
    KubeletMd, Platform,
    ::testing::Values(
        PlatformCase{"kubeadm", "kubelet.service", "/var/lib/kubelet/config.yaml", "", 50, Source::Default,
                     "/var/lib/kubelet/config.yaml"},
        PlatformCase{"phalanx", "", "/var/lib/kubelet/config", "", 50, Source::ConfigFile, "/var/lib/kubelet/config"},
        PlatformCase{"eks-al2023-dropin", "kubelet.service", "/etc/kubernetes/kubelet/config.json",
                     "/etc/kubernetes/kubelet/config.json.d", 100, Source::DropIn,
                     "/etc/kubernetes/kubelet/config.json.d/99-nodeimg.conf"},
        PlatformCase{"eks-al2023", "kubelet.service", "/etc/kubernetes/kubelet/config.json", "", 50, Source::Default,
                     "/etc/kubernetes/kubelet/config.json"},
        PlatformCase{"eks-al2", "kubelet.service", "/etc/kubernetes/kubelet/kubelet-config.json", "", 50,
                     Source::Default, "/etc/kubernetes/kubelet/kubelet-config.json"},
        PlatformCase{"gke", "kubelet.service", "/home/kubernetes/kubelet-config.yaml", "", 25, Source::Flag,
                     "/etc/default/kubelet"},
        PlatformCase{"aks", "kubelet.service", "/etc/default/kubeletconfig.json", "", 50, Source::ConfigFile,
                     "/etc/default/kubeletconfig.json"},
        PlatformCase{"k3s", "k3s.service", "", "/var/lib/rancher/k3s/agent/etc/kubelet.conf.d", 50, Source::Default,
                     "/var/lib/rancher/k3s/agent/etc/kubelet.conf.d/99-nodeimg.conf"},
        PlatformCase{"rke2", "rke2-agent.service", "", "/var/lib/rancher/rke2/agent/etc/kubelet.conf.d", 50,
                     Source::DropIn, "/var/lib/rancher/rke2/agent/etc/kubelet.conf.d/99-nodeimg.conf"},
        PlatformCase{"kubespray", "kubelet.service", "/etc/kubernetes/kubelet-config.yaml", "", 50, Source::Default,
                     "/etc/kubernetes/kubelet-config.yaml"}),
    [](const auto& param_info) {
      std::string n = param_info.param.name;
      for (auto& ch : n)
        if (ch == '-') ch = '_';
      return n;
    });

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
