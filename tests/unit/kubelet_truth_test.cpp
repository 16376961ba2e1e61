// Issue 8's rule: after apply, the value kubelet uses at its next start is the desired
// one, by kubelet's precedence and parsing; when nodeimg cannot make that true safely it
// refuses, names what decides the value, and changes nothing. One test per member of
// each class (k3s/RKE2 kubelet-args, unit semantics, flag syntax, paths, ownership).
#include <gtest/gtest.h>

#include "core/kubelet/apply_record.hpp"
#include "core/kubelet/plan.hpp"
#include "support/memory_tree.hpp"

namespace nodeimg::kubelet {
namespace {

using testing::MemoryTree;

const std::string kHead = "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n";
const Values kMinusOne = {{"nodeStatusMaxImages", -1}};

struct Outcome {
  Sources sources;
  Plan plan;
};

// Discovery + plan, both required to succeed (a refusal is a successful plan).
Outcome survey(const MemoryTree& tree, const Values& desired = kMinusOne, DiscoveryOptions options = {}) {
  auto sources = discover(tree, options);
  EXPECT_TRUE(sources) << sources.error().message;
  if (!sources) return {};
  auto p = plan(tree, options, *sources, desired);
  EXPECT_TRUE(p) << p.error().message;
  if (!p) return {.sources = *sources, .plan = {}};
  return {.sources = *sources, .plan = *p};
}

// Writes a plan into the tree (what apply does) and returns the options a second run
// would have (nodeimg's owned files recorded).
DiscoveryOptions write(MemoryTree& tree, const Plan& p, DiscoveryOptions options = {}) {
  for (const auto& c : p.changes) {
    if (c.after) tree.files[c.path] = *c.after;
    else tree.files.erase(c.path);
  }
  options.owned_files = owned_after(options.owned_files, p.changes);
  return options;
}

// Apply, then apply again: the second run must find nothing to change.
void expect_idempotent(MemoryTree tree, const Plan& first, const Values& desired = kMinusOne) {
  auto options = write(tree, first);
  auto again = survey(tree, desired, options);
  EXPECT_TRUE(again.plan.refusal.empty()) << again.plan.refusal;
  EXPECT_TRUE(again.plan.changes.empty()) << again.plan.changes.size() << " change(s), first " << again.plan.changes[0].path;
  EXPECT_EQ(again.plan.settings[0].effective, desired[0].value);
}

const FileChange* change_of(const Plan& p, const std::string& path) {
  for (const auto& c : p.changes)
    if (c.path == path) return &c;
  return nullptr;
}

// ---- 1. k3s and RKE2 kubelet arguments -------------------------------------------------

MemoryTree k3s_node(const std::string& exec_start) {
  MemoryTree t;
  t.files["/etc/systemd/system/k3s.service"] = "[Unit]\nDescription=k3s\n[Service]\nExecStart=" + exec_start + "\n";
  t.files["/var/lib/rancher/k3s/agent/etc/kubelet.conf.d/00-k3s-defaults.conf"] = kHead + "maxPods: 110\n";
  return t;
}

TEST(K3sKubeletArgs, OnTheUnitCommandLineDecideAndAreRefusedWithTheirLocation) {
  auto tree = k3s_node("/usr/local/bin/k3s server --kubelet-arg=node-status-max-images=5");
  auto o = survey(tree);
  EXPECT_EQ(o.plan.settings[0].effective, 5);
  EXPECT_EQ(o.plan.settings[0].source, Source::Flag);
  EXPECT_TRUE(o.plan.changes.empty());
  EXPECT_NE(o.plan.refusal.find("/etc/systemd/system/k3s.service:4"), std::string::npos) << o.plan.refusal;
  EXPECT_NE(o.plan.refusal.find("--kubelet-arg"), std::string::npos) << o.plan.refusal;
}

TEST(K3sKubeletArgs, FromAnEnvironmentFileNamedWithASpecifier) {
  auto tree = k3s_node("/usr/local/bin/k3s agent $K3S_ARGS");
  tree.files["/etc/systemd/system/k3s.service"] =
      "[Service]\nEnvironmentFile=-/etc/default/%N\nExecStart=/usr/local/bin/k3s agent $K3S_ARGS\n";
  tree.files["/etc/default/k3s"] = "K3S_ARGS=\"--node-ip=10.0.0.1 --kubelet-arg node-status-max-images=7\"\n";
  auto o = survey(tree);
  EXPECT_EQ(o.plan.settings[0].effective, 7);
  EXPECT_NE(o.plan.refusal.find("/etc/default/k3s:1"), std::string::npos) << o.plan.refusal;
}

TEST(K3sKubeletArgs, InConfigYamlAsAList) {
  auto tree = k3s_node("/usr/local/bin/k3s server");
  tree.files["/etc/rancher/k3s/config.yaml"] = "write-kubeconfig-mode: \"0644\"\nkubelet-arg:\n  - \"v=2\"\n  - \"node-status-max-images=9\"\n";
  auto o = survey(tree);
  EXPECT_EQ(o.plan.settings[0].effective, 9);
  EXPECT_NE(o.plan.refusal.find("/etc/rancher/k3s/config.yaml:4"), std::string::npos) << o.plan.refusal;
  ASSERT_EQ(o.sources.rancher_configs.size(), 1u);
}

TEST(K3sKubeletArgs, Rke2ConfigDirectoryAddsLaterValuesAndTheLastWins) {
  MemoryTree tree;
  tree.files["/usr/local/lib/systemd/system/rke2-agent.service"] = "[Service]\nExecStart=/usr/local/bin/rke2 agent\n";
  tree.files["/var/lib/rancher/rke2/agent/etc/kubelet.conf.d/00-rke2-defaults.conf"] = kHead;
  tree.files["/etc/rancher/rke2/config.yaml"] = "kubelet-arg: node-status-max-images=3\n";
  tree.files["/etc/rancher/rke2/config.yaml.d/50-site.yaml"] = "kubelet-arg+: [\"node_status_max_images=4\"]\n";
  auto o = survey(tree);
  EXPECT_EQ(o.plan.settings[0].effective, 4);
  EXPECT_NE(o.plan.refusal.find("50-site.yaml:1"), std::string::npos) << o.plan.refusal;
}

// k3s's config files merge key by key: a later `kubelet-arg:` replaces the list, a
// `kubelet-arg+:` adds to it (and starts it when nothing came before).
TEST(K3sKubeletArgs, ALaterFileWithoutPlusReplacesTheList) {
  auto tree = k3s_node("/usr/local/bin/k3s server");
  tree.files["/etc/rancher/k3s/config.yaml"] = "kubelet-arg: [\"node-status-max-images=3\", \"v=2\"]\n";
  tree.files["/etc/rancher/k3s/config.yaml.d/50-site.yaml"] = "kubelet-arg:\n  - \"v=4\"\n";
  auto o = survey(tree);
  EXPECT_EQ(o.plan.settings[0].effective, 50);  // config.yaml's flag never reaches kubelet
  EXPECT_EQ(o.sources.flag("node-status-max-images"), nullptr);
  EXPECT_TRUE(o.plan.refusal.empty()) << o.plan.refusal;
  ASSERT_EQ(o.plan.changes.size(), 1u);
  expect_idempotent(tree, o.plan);
}

TEST(K3sKubeletArgs, APlusAfterAReplacementAddsToTheReplacement) {
  auto tree = k3s_node("/usr/local/bin/k3s server");
  tree.files["/etc/rancher/k3s/config.yaml"] = "kubelet-arg: node-status-max-images=3\n";
  tree.files["/etc/rancher/k3s/config.yaml.d/10-a.yaml"] = "kubelet-arg: [\"v=2\"]\n";
  tree.files["/etc/rancher/k3s/config.yaml.d/20-b.yaml"] = "kubelet-arg+: [\"node-status-max-images=6\"]\n";
  auto o = survey(tree);
  EXPECT_EQ(o.plan.settings[0].effective, 6);
  EXPECT_NE(o.plan.refusal.find("20-b.yaml:1"), std::string::npos) << o.plan.refusal;
  ASSERT_NE(o.sources.flag("v"), nullptr);
}

TEST(K3sKubeletArgs, APlusWithNothingBeforeStartsTheList) {
  auto tree = k3s_node("/usr/local/bin/k3s server");
  tree.files["/etc/rancher/k3s/config.yaml"] = "write-kubeconfig-mode: \"0644\"\n";
  tree.files["/etc/rancher/k3s/config.yaml.d/10-a.yaml"] = "kubelet-arg+: node-status-max-images=2\n";
  auto o = survey(tree);
  EXPECT_EQ(o.plan.settings[0].effective, 2);
  EXPECT_NE(o.plan.refusal.find("10-a.yaml:1"), std::string::npos) << o.plan.refusal;
}

TEST(K3sKubeletArgs, TheCommandLineStillAddsAfterAReplacement) {
  auto tree = k3s_node("/usr/local/bin/k3s server --kubelet-arg=node-status-max-images=8");
  tree.files["/etc/rancher/k3s/config.yaml"] = "kubelet-arg: [\"node-status-max-images=3\"]\n";
  tree.files["/etc/rancher/k3s/config.yaml.d/50-site.yaml"] = "kubelet-arg: [\"v=2\"]\n";
  auto o = survey(tree);
  EXPECT_EQ(o.plan.settings[0].effective, 8);
  EXPECT_NE(o.plan.refusal.find("/etc/systemd/system/k3s.service:4"), std::string::npos) << o.plan.refusal;
}

TEST(K3sKubeletArgs, CommandLineComesAfterTheConfigFiles) {
  auto tree = k3s_node("/usr/local/bin/k3s server --kubelet-arg=node-status-max-images=-1");
  tree.files["/etc/rancher/k3s/config.yaml"] = "kubelet-arg: [\"node-status-max-images=9\"]\n";
  auto o = survey(tree);
  EXPECT_EQ(o.plan.settings[0].effective, -1);
  // The effective value is already right, but config.yaml still says 9: nodeimg does
  // not claim it can keep that true and leaves both alone.
  EXPECT_TRUE(o.plan.changes.empty());
}

// k3s and RKE2 read config.yaml from $K3S_CONFIG_FILE / $RKE2_CONFIG_FILE when it is set
// and not empty (it wins over --config), else from the first --config / -c on their
// command line; its config.yaml.d is beside it. The default path then does not count.
struct MovedConfigCase {
  std::string name;
  std::string unit;         // the [Service] section's lines
  std::string config_path;  // where config.yaml really is
};

class K3sMovedConfig : public ::testing::TestWithParam<MovedConfigCase> {};

TEST_P(K3sMovedConfig, KubeletArgIsReadFromTheFileK3sReads) {
  MemoryTree tree;
  tree.files["/etc/systemd/system/k3s.service"] = "[Service]\n" + GetParam().unit;
  tree.files["/var/lib/rancher/k3s/agent/etc/kubelet.conf.d/00-k3s-defaults.conf"] = kHead;
  tree.files["/etc/default/k3s-env"] = "K3S_CONFIG_FILE=/srv/k3s/env.yaml\n";
  // Decoys: the default path and the paths the other members use.
  for (const std::string decoy : {"/etc/rancher/k3s/config.yaml", "/srv/k3s/env.yaml", "/srv/k3s/flag.yaml",
                                  "/srv/k3s/second.yaml", "/opt/k3s/rel.yaml"})
    if (decoy != GetParam().config_path) tree.files[decoy] = "kubelet-arg: [\"node-status-max-images=1\"]\n";
  tree.files[GetParam().config_path] = "kubelet-arg: [\"node-status-max-images=7\"]\n";
  tree.files[GetParam().config_path + ".d/20-b.YML"] = "kubelet-arg+: node-status-max-images=8\n";
  tree.files[GetParam().config_path + ".d/10-a.yaml"] = "kubelet-arg+: [\"v=2\"]\n";
  tree.files[GetParam().config_path + ".d/30-c.txt"] = "kubelet-arg: node-status-max-images=1\n";
  auto o = survey(tree);
  EXPECT_EQ(o.plan.settings[0].effective, 8);
  EXPECT_NE(o.plan.refusal.find(GetParam().config_path + ".d/20-b.YML:1"), std::string::npos) << o.plan.refusal;
  EXPECT_EQ(o.sources.rancher_configs,
            (std::vector<std::string>{GetParam().config_path, GetParam().config_path + ".d/10-a.yaml",
                                      GetParam().config_path + ".d/20-b.YML"}));
}

INSTANTIATE_TEST_SUITE_P(
    Members, K3sMovedConfig,
    ::testing::Values(
        MovedConfigCase{"environment", "Environment=K3S_CONFIG_FILE=/srv/k3s/env.yaml\nExecStart=/usr/local/bin/k3s server\n",
                        "/srv/k3s/env.yaml"},
        MovedConfigCase{"environment_file", "EnvironmentFile=-/etc/default/k3s-env\nExecStart=/usr/local/bin/k3s server\n",
                        "/srv/k3s/env.yaml"},
        MovedConfigCase{"environment_beats_the_flag",
                        "Environment=K3S_CONFIG_FILE=/srv/k3s/env.yaml\nExecStart=/usr/local/bin/k3s server -c /srv/k3s/flag.yaml\n",
                        "/srv/k3s/env.yaml"},
        MovedConfigCase{"empty_environment_is_unset",
                        "Environment=K3S_CONFIG_FILE=\nExecStart=/usr/local/bin/k3s server --config=/srv/k3s/flag.yaml\n",
                        "/srv/k3s/flag.yaml"},
        MovedConfigCase{"config_equals", "ExecStart=/usr/local/bin/k3s server --config=/srv/k3s/flag.yaml\n", "/srv/k3s/flag.yaml"},
        MovedConfigCase{"config_word", "ExecStart=/usr/local/bin/k3s server --config /srv/k3s/flag.yaml\n", "/srv/k3s/flag.yaml"},
        MovedConfigCase{"short_word", "ExecStart=/usr/local/bin/k3s agent -c /srv/k3s/flag.yaml\n", "/srv/k3s/flag.yaml"},
        MovedConfigCase{"short_equals", "ExecStart=/usr/local/bin/k3s agent -c=/srv/k3s/flag.yaml\n", "/srv/k3s/flag.yaml"},
        MovedConfigCase{"first_flag_wins",
                        "ExecStart=/usr/local/bin/k3s server -c /srv/k3s/flag.yaml --config /srv/k3s/second.yaml\n",
                        "/srv/k3s/flag.yaml"},
        MovedConfigCase{"relative_to_working_directory",
                        "WorkingDirectory=/opt/k3s\nExecStart=/usr/local/bin/k3s server --config=./rel.yaml\n",
                        "/opt/k3s/rel.yaml"},
        MovedConfigCase{"rke2_variable_is_not_k3s",
                        "Environment=RKE2_CONFIG_FILE=/srv/k3s/env.yaml\nExecStart=/usr/local/bin/k3s server\n",
                        "/etc/rancher/k3s/config.yaml"}),
    [](const auto& param_info) { return param_info.param.name; });

TEST(K3sKubeletArgs, Rke2ConfigFileVariableMovesRke2sConfig) {
  MemoryTree tree;
  tree.files["/usr/local/lib/systemd/system/rke2-server.service"] =
      "[Service]\nEnvironmentFile=-/usr/local/lib/systemd/system/rke2-server.env\nExecStart=/usr/local/bin/rke2 server\n";
  tree.files["/usr/local/lib/systemd/system/rke2-server.env"] = "RKE2_CONFIG_FILE=/data/rke2.yaml\n";
  tree.files["/var/lib/rancher/rke2/agent/etc/kubelet.conf.d/00-rke2-defaults.conf"] = kHead;
  tree.files["/etc/rancher/rke2/config.yaml"] = "kubelet-arg: node-status-max-images=3\n";
  tree.files["/data/rke2.yaml.d/50-site.yaml"] = "kubelet-arg: [\"node-status-max-images=-1\"]\n";
  auto o = survey(tree);
  EXPECT_EQ(o.plan.settings[0].effective, -1);  // only the drop-in beside the moved file counts
  EXPECT_TRUE(o.plan.changes.empty());
  EXPECT_EQ(o.sources.rancher_configs, std::vector<std::string>{"/data/rke2.yaml.d/50-site.yaml"});
}

TEST(K3sKubeletArgs, OtherKubeletArgsDoNotBlockTheDropIn) {
  auto tree = k3s_node("/usr/local/bin/k3s server --kubelet-arg=v=2");
  auto o = survey(tree);
  EXPECT_TRUE(o.plan.refusal.empty()) << o.plan.refusal;
  ASSERT_EQ(o.plan.changes.size(), 1u);
  EXPECT_EQ(o.plan.changes[0].path, "/var/lib/rancher/k3s/agent/etc/kubelet.conf.d/99-nodeimg.conf");
  expect_idempotent(tree, o.plan);
}

TEST(K3sKubeletArgs, AKubeletArgSettingTheConfigDirIsFollowed) {
  auto tree = k3s_node("/usr/local/bin/k3s server --kubelet-arg=config-dir=/etc/k3s-kubelet.d/");
  tree.files["/etc/k3s-kubelet.d/10-site.conf"] = kHead + "nodeStatusMaxImages: 12\n";
  auto o = survey(tree);
  EXPECT_EQ(o.sources.dropin_dir.value_or(""), "/etc/k3s-kubelet.d");
  EXPECT_EQ(o.plan.settings[0].effective, 12);
  ASSERT_EQ(o.plan.changes.size(), 1u);
  EXPECT_EQ(o.plan.changes[0].path, "/etc/k3s-kubelet.d/99-nodeimg.conf");
}

// ---- 2. systemd unit semantics ----------------------------------------------------------

MemoryTree kubeadm_like() {
  MemoryTree t;
  t.files["/lib/systemd/system/kubelet.service"] = "[Service]\nExecStart=/usr/bin/kubelet\n";
  t.files["/etc/systemd/system/kubelet.service.d/10-kubeadm.conf"] =
      "[Service]\nEnvironment=\"KUBELET_CONFIG_ARGS=--config=/var/lib/kubelet/config.yaml\"\n"
      "ExecStart=\nExecStart=/usr/bin/kubelet $KUBELET_CONFIG_ARGS\n";
  t.files["/var/lib/kubelet/config.yaml"] = kHead + "maxPods: 110\n";
  return t;
}

TEST(UnitSemantics, AMaskedKubeletServiceDoesNotExistAndK3sIsFound) {
  auto tree = k3s_node("/usr/local/bin/k3s server");
  tree.files["/lib/systemd/system/kubelet.service"] = "[Service]\nExecStart=/usr/bin/kubelet --node-status-max-images=5\n";
  tree.links["/etc/systemd/system/kubelet.service"] = "/dev/null";
  auto o = survey(tree);
  ASSERT_TRUE(o.sources.unit);
  EXPECT_EQ(o.sources.unit->name, "k3s.service");
  ASSERT_EQ(o.sources.masked.size(), 1u);
  EXPECT_NE(o.sources.masked[0].find("/etc/systemd/system/kubelet.service -> /dev/null"), std::string::npos);
  EXPECT_EQ(o.plan.settings[0].effective, 50);  // the vendor unit's flag never runs
}

TEST(UnitSemantics, AnEmptyUnitFileMasksToo) {
  auto tree = k3s_node("/usr/local/bin/k3s server");
  tree.files["/etc/systemd/system/kubelet.service"] = "";
  tree.files["/lib/systemd/system/kubelet.service"] = "[Service]\nExecStart=/usr/bin/kubelet\n";
  auto o = survey(tree);
  ASSERT_TRUE(o.sources.unit);
  EXPECT_EQ(o.sources.unit->name, "k3s.service");
}

TEST(UnitSemantics, ANamedMaskedUnitIsAClearError) {
  MemoryTree tree;
  tree.links["/etc/systemd/system/kubelet.service"] = "/dev/null";
  DiscoveryOptions options;
  options.unit = "kubelet.service";
  auto sources = discover(tree, options);
  ASSERT_FALSE(sources);
  EXPECT_NE(sources.error().message.find("masked"), std::string::npos) << sources.error().message;
}

TEST(UnitSemantics, AMaskedDropInIsIgnored) {
  auto tree = kubeadm_like();
  tree.files["/lib/systemd/system/kubelet.service.d/20-flags.conf"] =
      "[Service]\nEnvironment=\"KUBELET_CONFIG_ARGS=--config=/elsewhere.yaml\"\n";
  tree.links["/etc/systemd/system/kubelet.service.d/20-flags.conf"] = "/dev/null";
  auto o = survey(tree);
  EXPECT_EQ(o.sources.config_file.value_or(""), "/var/lib/kubelet/config.yaml");
}

TEST(UnitSemantics, SpecifiersExpandAsSystemdDoes) {
  MemoryTree tree;
  tree.files["/etc/systemd/system/kubelet.service"] =
      "[Service]\nEnvironment=\"CFG=%S/%p/config.yaml\"\nEnvironmentFile=-%E/default/%N\n"
      "ExecStart=/usr/bin/kubelet --config=${CFG} $EXTRA --hostname-override=%H --literal=100%%\n";
  tree.files["/etc/default/kubelet"] = "EXTRA=--node-status-max-images=33\n";
  tree.files["/var/lib/kubelet/config.yaml"] = kHead;
  DiscoveryOptions options;
  options.hostname = "node-1.example";
  auto o = survey(tree, kMinusOne, options);
  EXPECT_EQ(o.sources.config_file.value_or(""), "/var/lib/kubelet/config.yaml");
  EXPECT_EQ(o.plan.settings[0].effective, 33);
  ASSERT_NE(o.sources.flag("hostname-override"), nullptr);
  EXPECT_EQ(*o.sources.flag("hostname-override")->value, "node-1.example");
  EXPECT_EQ(*o.sources.flag("literal")->value, "100%");
  ASSERT_EQ(o.plan.changes.size(), 1u);
  EXPECT_EQ(*o.plan.changes[0].after, "EXTRA=--node-status-max-images=-1\n");
}

TEST(UnitSemantics, TemplateInstanceSpecifiers) {
  systemd::SpecifierContext ctx{.unit = "kubelet@worker-a.service", .fragment = "/etc/systemd/system/kubelet@.service"};
  auto v = systemd::expand_specifiers("%n %N %p %i %I %f %Y", ctx, {"/u", 1});
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_EQ(*v, "kubelet@worker-a.service kubelet@worker-a kubelet worker-a worker-a /worker/a /etc/systemd/system");
}

TEST(UnitSemantics, AnUnknownSpecifierIsAnErrorNamingTheLine) {
  MemoryTree tree;
  tree.files["/etc/systemd/system/kubelet.service"] = "[Service]\nExecStart=/usr/bin/kubelet --node-labels=id=%m\n";
  auto sources = discover(tree, {});
  ASSERT_FALSE(sources);
  EXPECT_NE(sources.error().message.find("/etc/systemd/system/kubelet.service:2"), std::string::npos);
  EXPECT_NE(sources.error().message.find("%m"), std::string::npos);
}

TEST(UnitSemantics, MissingEnvironmentFileWarningNamesTheFileThatHoldsTheDirective) {
  auto tree = kubeadm_like();
  tree.files["/etc/systemd/system/kubelet.service.d/10-kubeadm.conf"] += "EnvironmentFile=/etc/sysconfig/kubelet\n";
  auto o = survey(tree);
  ASSERT_EQ(o.sources.warnings.size(), 1u);
  EXPECT_NE(o.sources.warnings[0].find("/etc/systemd/system/kubelet.service.d/10-kubeadm.conf:5"), std::string::npos)
      << o.sources.warnings[0];
}

TEST(UnitSemantics, AFlagInAVendorUnitGetsAnOverrideDropIn) {
  MemoryTree tree;
  const std::string vendor =
      "[Unit]\nDescription=kubelet\n[Service]\nExecStart=/usr/bin/kubelet --config=/var/lib/kubelet/config.yaml \\\n"
      "  --node-status-max-images=5 --v=2\nRestart=always\n";
  tree.files["/lib/systemd/system/kubelet.service"] = vendor;
  tree.files["/var/lib/kubelet/config.yaml"] = kHead;
  auto o = survey(tree);
  EXPECT_EQ(o.plan.settings[0].effective, 5);
  ASSERT_EQ(o.plan.changes.size(), 1u) << o.plan.refusal;
  const auto& c = o.plan.changes[0];
  EXPECT_EQ(c.path, "/etc/systemd/system/kubelet.service.d/99-nodeimg-override.conf");
  EXPECT_FALSE(c.before);
  EXPECT_TRUE(c.own);
  EXPECT_TRUE(c.unit_file);
  EXPECT_TRUE(o.plan.daemon_reload);
  EXPECT_EQ(*c.after,
            "# Written by nodeimg (nodeimg kubelet apply): overrides /lib/systemd/system/kubelet.service\n"
            "[Service]\nExecStart=\nExecStart=/usr/bin/kubelet --config=/var/lib/kubelet/config.yaml \\\n"
            "  --node-status-max-images=-1 --v=2\n");
  expect_idempotent(tree, o.plan);
  EXPECT_EQ(tree.files.at("/lib/systemd/system/kubelet.service"), vendor);  // never edited
}

TEST(UnitSemantics, AFlagInAVendorDropInGetsAnEditedCopyOfTheSameName) {
  auto tree = kubeadm_like();
  const std::string vendor_dropin = "[Service]\nEnvironment=\"KUBELET_EXTRA_ARGS=--node-status-max-images=5\"\n"
                                    "ExecStart=\nExecStart=/usr/bin/kubelet $KUBELET_EXTRA_ARGS\n";
  tree.files.erase("/etc/systemd/system/kubelet.service.d/10-kubeadm.conf");
  tree.files["/usr/lib/systemd/system/kubelet.service.d/10-kubeadm.conf"] = vendor_dropin;
  auto o = survey(tree);
  ASSERT_EQ(o.plan.changes.size(), 1u) << o.plan.refusal;
  EXPECT_EQ(o.plan.changes[0].path, "/etc/systemd/system/kubelet.service.d/10-kubeadm.conf");
  EXPECT_NE(o.plan.changes[0].after->find("--node-status-max-images=-1"), std::string::npos);
  expect_idempotent(tree, o.plan);
}

TEST(UnitSemantics, AForeignFileWhereTheOverrideGoesIsARefusal) {
  MemoryTree tree;
  tree.files["/lib/systemd/system/kubelet.service"] = "[Service]\nExecStart=/usr/bin/kubelet --node-status-max-images=5\n";
  tree.files["/etc/systemd/system/kubelet.service.d/99-nodeimg-override.conf"] = "[Service]\nNice=5\n";
  auto o = survey(tree);
  EXPECT_TRUE(o.plan.changes.empty());
  EXPECT_NE(o.plan.refusal.find("nodeimg did not write it"), std::string::npos) << o.plan.refusal;
}

// systemd reads drop-ins also from the dash prefixes' directories (k3s-.service.d/ for
// k3s-agent.service) and from the unit type's own (service.d/), merged with the unit's own
// by file name; a name in an earlier directory hides the same name later.
struct DropinNamesCase {
  std::string name;
  std::string unit;
  std::vector<std::string> names;
};

void PrintTo(const DropinNamesCase& c, std::ostream* os) { *os << c.name << ": " << c.unit; }

class DropinUnitNames : public ::testing::TestWithParam<DropinNamesCase> {};

TEST_P(DropinUnitNames, AreTheOnesSystemdReads) { EXPECT_EQ(dropin_unit_names(GetParam().unit), GetParam().names); }

INSTANTIATE_TEST_SUITE_P(
    Members, DropinUnitNames,
    ::testing::Values(DropinNamesCase{"no_dash", "kubelet.service", {"kubelet.service"}},
                      DropinNamesCase{"k3s_agent", "k3s-agent.service", {"k3s-agent.service", "k3s-.service"}},
                      DropinNamesCase{"two_dashes", "foo-bar-baz.service",
                                      {"foo-bar-baz.service", "foo-bar-.service", "foo-.service"}},
                      DropinNamesCase{"microk8s", "snap.microk8s.daemon-kubelite.service",
                                      {"snap.microk8s.daemon-kubelite.service", "snap.microk8s.daemon-.service"}},
                      DropinNamesCase{"leading_dash_ends_the_walk", "-foo.service", {"-foo.service"}},
                      DropinNamesCase{"instance", "foo@x.service", {"foo@x.service", "foo@.service"}},
                      DropinNamesCase{"instance_with_dash",
                                      "foo-bar@x.service",
                                      {"foo-bar@x.service", "foo-bar@.service", "foo-.service", "foo-@x.service",
                                       "foo-@.service"}}),
    [](const auto& param_info) { return param_info.param.name; });

TEST(UnitDropins, TheDirectoriesAreReadInSystemdsOrderTypeLevelLast) {
  const auto dirs = unit_dropin_dirs("k3s-agent.service");
  ASSERT_EQ(dirs.size(), 3 * unit_search_path().size());
  EXPECT_EQ(dirs[0], "/etc/systemd/system/k3s-agent.service.d");
  EXPECT_EQ(dirs[1], "/etc/systemd/system/k3s-.service.d");
  EXPECT_EQ(dirs[2], "/run/systemd/system/k3s-agent.service.d");
  EXPECT_EQ(dirs[2 * unit_search_path().size()], "/etc/systemd/system/service.d");
  EXPECT_EQ(dirs.back(), "/lib/systemd/system/service.d");
}

const std::string kExtraArgsUnit = "[Service]\nExecStart=/usr/bin/kubelet --config=/var/lib/kubelet/config.yaml $KUBELET_EXTRA_ARGS\n";

TEST(UnitDropins, ATypeLevelDropInDecidesAndGetsACopyForKubeletOnly) {
  MemoryTree tree;
  tree.files["/lib/systemd/system/kubelet.service"] = kExtraArgsUnit;
  tree.files["/var/lib/kubelet/config.yaml"] = kHead;
  const std::string shared = "[Service]\nEnvironment=KUBELET_EXTRA_ARGS=--node-status-max-images=5\n";
  tree.files["/etc/systemd/system/service.d/50-site.conf"] = shared;
  auto o = survey(tree);
  EXPECT_EQ(o.plan.settings[0].effective, 5);
  ASSERT_EQ(o.plan.changes.size(), 1u) << o.plan.refusal;
  const auto& c = o.plan.changes[0];
  EXPECT_EQ(c.path, "/etc/systemd/system/kubelet.service.d/50-site.conf");
  EXPECT_TRUE(c.own);
  EXPECT_NE(c.reason.find("shared with other units"), std::string::npos) << c.reason;
  EXPECT_NE(c.after->find("KUBELET_EXTRA_ARGS=--node-status-max-images=-1"), std::string::npos) << *c.after;
  expect_idempotent(tree, o.plan);
  EXPECT_EQ(tree.files.at("/etc/systemd/system/service.d/50-site.conf"), shared);  // other services keep it
}

TEST(UnitDropins, APrefixDropInOfK3sAgentDecides) {
  MemoryTree tree;
  tree.files["/etc/systemd/system/k3s-agent.service"] = "[Service]\nExecStart=/usr/local/bin/k3s agent\n";
  tree.files["/var/lib/rancher/k3s/agent/etc/kubelet.conf.d/00-k3s-defaults.conf"] = kHead;
  tree.files["/etc/systemd/system/k3s-.service.d/10-args.conf"] =
      "[Service]\nExecStart=\nExecStart=/usr/local/bin/k3s agent --kubelet-arg=node-status-max-images=4\n";
  auto o = survey(tree);
  EXPECT_EQ(o.plan.settings[0].effective, 4);
  EXPECT_TRUE(o.plan.changes.empty());
  EXPECT_NE(o.plan.refusal.find("/etc/systemd/system/k3s-.service.d/10-args.conf:3"), std::string::npos)
      << o.plan.refusal;
}

TEST(UnitDropins, ALaterNameInServiceDOverridesTheUnitsOwnDropIn) {
  auto tree = kubeadm_like();
  tree.files["/etc/systemd/system/kubelet.service.d/10-kubeadm.conf"] =
      "[Service]\nEnvironment=KUBELET_EXTRA_ARGS=--node-status-max-images=3\n"
      "ExecStart=\nExecStart=/usr/bin/kubelet --config=/var/lib/kubelet/config.yaml $KUBELET_EXTRA_ARGS\n";
  tree.files["/lib/systemd/system/service.d/90-late.conf"] = "[Service]\nEnvironment=KUBELET_EXTRA_ARGS=--node-status-max-images=6\n";
  auto o = survey(tree);
  EXPECT_EQ(o.plan.settings[0].effective, 6);
  ASSERT_NE(change_of(o.plan, "/etc/systemd/system/kubelet.service.d/90-late.conf"), nullptr) << o.plan.refusal;
  expect_idempotent(tree, o.plan);
}

TEST(UnitDropins, TheUnitsOwnNameInAnyDirectoryHidesTheTypeLevelOneOfTheSameName) {
  MemoryTree tree;
  tree.files["/lib/systemd/system/kubelet.service"] = kExtraArgsUnit;
  tree.files["/var/lib/kubelet/config.yaml"] = kHead;
  tree.files["/etc/systemd/system/service.d/50-x.conf"] = "[Service]\nEnvironment=KUBELET_EXTRA_ARGS=--node-status-max-images=5\n";
  tree.files["/lib/systemd/system/kubelet.service.d/50-x.conf"] = "[Service]\nEnvironment=KUBELET_EXTRA_ARGS=--node-status-max-images=7\n";
  auto o = survey(tree);
  EXPECT_EQ(o.plan.settings[0].effective, 7);
  EXPECT_EQ(o.sources.unit->drop_ins, (std::vector<std::string>{"/lib/systemd/system/kubelet.service.d/50-x.conf"}));
}

TEST(UnitDropins, AMaskOfTheSameNameHidesATypeLevelDropIn) {
  MemoryTree tree;
  tree.files["/lib/systemd/system/kubelet.service"] = kExtraArgsUnit;
  tree.files["/var/lib/kubelet/config.yaml"] = kHead;
  tree.files["/etc/systemd/system/service.d/50-x.conf"] = "[Service]\nEnvironment=KUBELET_EXTRA_ARGS=--node-status-max-images=5\n";
  tree.links["/etc/systemd/system/kubelet.service.d/50-x.conf"] = "/dev/null";
  auto o = survey(tree);
  EXPECT_EQ(o.plan.settings[0].effective, 50);
  EXPECT_TRUE(o.sources.unit->drop_ins.empty());
}

// ---- 3. kubelet flag syntax -------------------------------------------------------------

MemoryTree with_extra_args(const std::string& env_file) {
  auto t = kubeadm_like();
  t.files["/etc/systemd/system/kubelet.service.d/10-kubeadm.conf"] =
      "[Service]\nEnvironment=\"KUBELET_CONFIG_ARGS=--config=/var/lib/kubelet/config.yaml\"\n"
      "EnvironmentFile=-/etc/default/kubelet\nExecStart=\nExecStart=/usr/bin/kubelet $KUBELET_CONFIG_ARGS $KUBELET_EXTRA_ARGS\n";
  t.files["/etc/default/kubelet"] = env_file;
  return t;
}

struct FlagCase {
  std::string name;
  std::string env_file;
  long long effective;
  std::string after;  // the env file after apply; "" = refused
};
std::ostream& operator<<(std::ostream& os, const FlagCase& c) { return os << c.name; }

class FlagSyntax : public ::testing::TestWithParam<FlagCase> {};

TEST_P(FlagSyntax, EffectiveValueAndEdit) {
  const auto& c = GetParam();
  auto tree = with_extra_args(c.env_file);
  const std::string config = tree.files.at("/var/lib/kubelet/config.yaml");
  auto o = survey(tree);
  EXPECT_EQ(o.plan.settings[0].effective, c.effective);
  if (c.after.empty()) {
    EXPECT_TRUE(o.plan.changes.empty());
    EXPECT_NE(o.plan.refusal.find("/etc/default/kubelet"), std::string::npos) << o.plan.refusal;
    return;
  }
  ASSERT_EQ(o.plan.changes.size(), 1u) << o.plan.refusal;
  EXPECT_EQ(o.plan.changes[0].path, "/etc/default/kubelet");
  EXPECT_EQ(*o.plan.changes[0].after, c.after);
  expect_idempotent(tree, o.plan);
  EXPECT_EQ(tree.files.at("/var/lib/kubelet/config.yaml"), config);
}

INSTANTIATE_TEST_SUITE_P(
    Pflag, FlagSyntax,
    ::testing::Values(
        FlagCase{"underscores", "KUBELET_EXTRA_ARGS=--node_status_max_images=30\n", 30,
                 "KUBELET_EXTRA_ARGS=--node_status_max_images=-1\n"},
        FlagCase{"quoted_value_in_variable", "KUBELET_EXTRA_ARGS='--v=2 --node-status-max-images=\"30\"'\n", 30,
                 "KUBELET_EXTRA_ARGS='--v=2 --node-status-max-images=\"-1\"'\n"},
        FlagCase{"quoted_next_word", "KUBELET_EXTRA_ARGS=\"--node-status-max-images '30' --v=2\"\n", 30,
                 "KUBELET_EXTRA_ARGS=\"--node-status-max-images '-1' --v=2\"\n"},
        FlagCase{"space_form", "KUBELET_EXTRA_ARGS=\"--node-status-max-images 30\"\n", 30,
                 "KUBELET_EXTRA_ARGS=\"--node-status-max-images -1\"\n"},
        FlagCase{"hex_as_pflag_reads_it", "KUBELET_EXTRA_ARGS=--node-status-max-images=0x1e\n", 30,
                 "KUBELET_EXTRA_ARGS=--node-status-max-images=-1\n"},
        FlagCase{"octal_as_pflag_reads_it", "KUBELET_EXTRA_ARGS=--node-status-max-images=010\n", 8,
                 "KUBELET_EXTRA_ARGS=--node-status-max-images=-1\n"},
        FlagCase{"glued_text_refused", "KUBELET_EXTRA_ARGS=--node-status-max-images=3\"0\"\n", 30, ""}),
    [](const auto& param_info) { return param_info.param.name; });

TEST(FlagSyntaxDetails, BracedVariableFromEnvironmentIsEditedAtItsDefinition) {
  auto tree = kubeadm_like();
  tree.files["/etc/systemd/system/kubelet.service.d/10-kubeadm.conf"] =
      "[Service]\nEnvironment=\"KUBELET_CONFIG_ARGS=--config=/var/lib/kubelet/config.yaml\" MAXIMG=30\n"
      "ExecStart=\nExecStart=/usr/bin/kubelet $KUBELET_CONFIG_ARGS --node-status-max-images=${MAXIMG}\n";
  auto o = survey(tree);
  EXPECT_EQ(o.plan.settings[0].effective, 30);
  ASSERT_EQ(o.plan.changes.size(), 1u) << o.plan.refusal;
  EXPECT_EQ(*o.plan.changes[0].after,
            "[Service]\nEnvironment=\"KUBELET_CONFIG_ARGS=--config=/var/lib/kubelet/config.yaml\" MAXIMG=-1\n"
            "ExecStart=\nExecStart=/usr/bin/kubelet $KUBELET_CONFIG_ARGS --node-status-max-images=${MAXIMG}\n");
  expect_idempotent(tree, o.plan);
}

TEST(FlagSyntaxDetails, AnEnvironmentFileDoesNotExpandVariablesSoKubeletWouldRefuse) {
  auto tree = with_extra_args("MAXIMG=30\nKUBELET_EXTRA_ARGS=--node-status-max-images=${MAXIMG}\n");
  auto sources = discover(tree, {});
  ASSERT_TRUE(sources);
  auto p = plan(tree, {}, *sources, kMinusOne);
  ASSERT_FALSE(p);
  EXPECT_NE(p.error().message.find("/etc/default/kubelet:2"), std::string::npos) << p.error().message;
  EXPECT_NE(p.error().message.find("kubelet would refuse to start"), std::string::npos) << p.error().message;
}

TEST(FlagSyntaxDetails, EscapedQuotesAreNeverRewrittenIntoGarbage) {
  auto tree = kubeadm_like();
  tree.files["/etc/systemd/system/kubelet.service.d/10-kubeadm.conf"] =
      "[Service]\nEnvironment=\"KUBELET_CONFIG_ARGS=--config=/var/lib/kubelet/config.yaml --node-status-max-images=\\\"30\\\"\"\n"
      "ExecStart=\nExecStart=/usr/bin/kubelet $KUBELET_CONFIG_ARGS\n";
  auto o = survey(tree);
  EXPECT_EQ(o.plan.settings[0].effective, 30);
  EXPECT_TRUE(o.plan.changes.empty());
  EXPECT_NE(o.plan.refusal.find("edit it by hand"), std::string::npos) << o.plan.refusal;
}

// ---- 4. paths ---------------------------------------------------------------------------

TEST(Paths, NormalizedBeforeComparing) {
  EXPECT_EQ(normalize_path("/etc/kubernetes/kubelet.conf.d/"), "/etc/kubernetes/kubelet.conf.d");
  EXPECT_EQ(normalize_path("/var//lib/./kubelet/../kubelet/config.yaml"), "/var/lib/kubelet/config.yaml");
  EXPECT_EQ(normalize_path("config.yaml", "/var/lib/kubelet"), "/var/lib/kubelet/config.yaml");
  EXPECT_EQ(normalize_path("../etc/k.yaml", "/"), "/etc/k.yaml");
}

TEST(Paths, TrailingSlashConfigDirAndOddConfigPath) {
  MemoryTree tree;
  tree.files["/etc/systemd/system/kubelet.service"] =
      "[Service]\nExecStart=/usr/bin/kubelet --config=/var//lib/./kubelet/config.yaml --config-dir=/etc/kubernetes/kubelet.conf.d/\n";
  tree.files["/var/lib/kubelet/config.yaml"] = kHead;
  tree.files["/etc/kubernetes/kubelet.conf.d/10-a.conf"] = kHead + "nodeStatusMaxImages: 20\n";
  auto o = survey(tree);
  EXPECT_EQ(o.sources.config_file.value_or(""), "/var/lib/kubelet/config.yaml");
  EXPECT_EQ(o.plan.settings[0].effective, 20);
  ASSERT_EQ(o.plan.changes.size(), 1u);
  EXPECT_EQ(o.plan.changes[0].path, "/etc/kubernetes/kubelet.conf.d/99-nodeimg.conf");
  expect_idempotent(tree, o.plan);
}

TEST(Paths, RelativeConfigIsReadAgainstTheWorkingDirectory) {
  MemoryTree tree;
  tree.files["/etc/systemd/system/kubelet.service"] =
      "[Service]\nWorkingDirectory=/var/lib/kubelet\nExecStart=/usr/bin/kubelet --config=config.yaml\n";
  tree.files["/var/lib/kubelet/config.yaml"] = kHead + "nodeStatusMaxImages: 7\n";
  auto o = survey(tree);
  EXPECT_EQ(o.sources.config_file.value_or(""), "/var/lib/kubelet/config.yaml");
  EXPECT_EQ(o.plan.settings[0].effective, 7);
}

// ---- 5. ownership of drop-ins -----------------------------------------------------------

MemoryTree dropin_node() {
  MemoryTree t;
  t.files["/etc/systemd/system/kubelet.service"] =
      "[Service]\nExecStart=/usr/bin/kubelet --config-dir=/etc/kubernetes/kubelet.conf.d\n";
  t.files["/etc/kubernetes/kubelet.conf.d/10-site.conf"] = kHead + "nodeStatusMaxImages: 60\n";
  return t;
}

TEST(Ownership, AnOperatorsFileNamedLikeNodeimgsIsNeverDeletedOrRewritten) {
  auto tree = dropin_node();
  const std::string operators = kHead + "nodeStatusMaxImages: 70\nmaxPods: 200\n";
  tree.files["/etc/kubernetes/kubelet.conf.d/99-nodeimg.conf"] = operators;
  auto o = survey(tree);
  EXPECT_EQ(o.plan.settings[0].effective, 70);
  ASSERT_EQ(o.plan.changes.size(), 1u);
  EXPECT_EQ(o.plan.changes[0].path, "/etc/kubernetes/kubelet.conf.d/z99-nodeimg.conf");
  EXPECT_FALSE(o.plan.changes[0].before);
  expect_idempotent(tree, o.plan);
}

TEST(Ownership, AMarkedFileWithoutARecordIsNotNodeimgs) {
  auto tree = dropin_node();
  const std::string copied = render_dropin("kubelet.config.k8s.io/v1beta1", {{"nodeStatusMaxImages", 5}});
  tree.files["/etc/kubernetes/kubelet.conf.d/99-nodeimg.conf"] = copied;
  auto o = survey(tree);
  EXPECT_EQ(change_of(o.plan, "/etc/kubernetes/kubelet.conf.d/99-nodeimg.conf"), nullptr);
  ASSERT_NE(change_of(o.plan, "/etc/kubernetes/kubelet.conf.d/z99-nodeimg.conf"), nullptr);
}

TEST(Ownership, ItsOwnRecordedFileIsUpdatedInPlace) {
  auto tree = dropin_node();
  auto first = survey(tree);
  auto options = write(tree, first.plan);
  auto second = survey(tree, {{"nodeStatusMaxImages", 300}}, options);
  ASSERT_EQ(second.plan.changes.size(), 1u);
  EXPECT_EQ(second.plan.changes[0].path, "/etc/kubernetes/kubelet.conf.d/99-nodeimg.conf");
  EXPECT_TRUE(second.plan.changes[0].before);
}

TEST(Ownership, AHandEditedOwnFileKeepsTheOperatorsSettings) {
  auto tree = dropin_node();
  auto first = survey(tree);
  auto options = write(tree, first.plan);
  tree.files["/etc/kubernetes/kubelet.conf.d/99-nodeimg.conf"] += "maxPods: 250\n";
  auto second = survey(tree, {{"nodeStatusMaxImages", 300}}, options);
  EXPECT_EQ(change_of(second.plan, "/etc/kubernetes/kubelet.conf.d/99-nodeimg.conf"), nullptr);
  ASSERT_NE(change_of(second.plan, "/etc/kubernetes/kubelet.conf.d/z99-nodeimg.conf"), nullptr);
}

TEST(Ownership, ItsNameSortsAfterEveryNameAsKubeletSortsThem) {
  EXPECT_EQ(own_dropin_name({"00-a.conf", "Z-upper.conf", "a1-digits.conf"}), "z99-nodeimg.conf");
  EXPECT_EQ(own_dropin_name({"~override.conf"}), "~~99-nodeimg.conf");
  EXPECT_EQ(own_dropin_name({"zzzzzzzzzz.conf", "~~x.conf"}), "~~~99-nodeimg.conf");
  EXPECT_EQ(own_dropin_name({"zzz-last.conf"}), "zzz99-nodeimg.conf");
  EXPECT_EQ(own_dropin_name({"\xC3\xA9t\xC3\xA9.conf"}), std::nullopt);
}

TEST(Ownership, ASubdirectoryThatSortsLastPushesTheNameFurther) {
  auto tree = dropin_node();
  tree.files["/etc/kubernetes/kubelet.conf.d/zz/10-deep.conf"] = kHead + "nodeStatusMaxImages: 3\n";
  auto o = survey(tree);
  EXPECT_EQ(o.plan.settings[0].effective, 3);
  ASSERT_EQ(o.plan.changes.size(), 1u);
  // kubelet's walk visits zz/ before zz99-nodeimg.conf: "zz" < "zz99...".
  EXPECT_EQ(o.plan.changes[0].path, "/etc/kubernetes/kubelet.conf.d/zz99-nodeimg.conf");
  expect_idempotent(tree, o.plan);
}

TEST(Ownership, ANameAfterANonAsciiEntryIsARefusal) {
  auto tree = dropin_node();
  tree.files["/etc/kubernetes/kubelet.conf.d/\xC3\xA9.conf"] = kHead;
  auto o = survey(tree);
  EXPECT_TRUE(o.plan.changes.empty());
  EXPECT_NE(o.plan.refusal.find("non-ASCII"), std::string::npos) << o.plan.refusal;
}

// ---- 6. YAML and JSON as kubelet reads them -------------------------------------------

struct ReadCase {
  std::string name;
  std::string file;      // /etc/k/config.yaml (or .json)
  std::string text;
  Json effective;        // nodeStatusMaxImages kubelet uses; null when refused
  std::string refusal;   // a fragment of the error when nodeimg refuses to claim a value
};
std::ostream& operator<<(std::ostream& os, const ReadCase& c) { return os << c.name; }

class AsKubeletReads : public ::testing::TestWithParam<ReadCase> {};

TEST_P(AsKubeletReads, EffectiveValueOrRefusal) {
  const auto& c = GetParam();
  MemoryTree tree;
  tree.files["/etc/systemd/system/kubelet.service"] = "[Service]\nExecStart=/usr/bin/kubelet --config=" + c.file + "\n";
  tree.files[c.file] = c.text;
  auto sources = discover(tree, {});
  ASSERT_TRUE(sources) << sources.error().message;
  auto p = plan(tree, {}, *sources, kMinusOne);
  if (!c.refusal.empty()) {
    ASSERT_FALSE(p) << "claimed " << p->settings[0].effective;
    EXPECT_NE(p.error().message.find(c.refusal), std::string::npos) << p.error().message;
    EXPECT_NE(p.error().message.find(c.file), std::string::npos) << p.error().message;
    return;
  }
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->settings[0].effective, c.effective);
  ASSERT_EQ(p->changes.size(), 1u);
  // The edit keeps every other byte: the rest of the file reads the same afterwards.
  auto options = write(tree, *p);
  auto again = survey(tree, kMinusOne, options);
  EXPECT_TRUE(again.plan.changes.empty());
  EXPECT_EQ(again.plan.settings[0].effective, -1);
}

const std::string kYamlHead = "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n";

INSTANTIATE_TEST_SUITE_P(
    Yaml11, AsKubeletReads,
    ::testing::Values(
        ReadCase{"octal", "/etc/k/c.yaml", kYamlHead + "nodeStatusMaxImages: 010\n", 8, ""},
        ReadCase{"octal_that_is_not", "/etc/k/c.yaml", kYamlHead + "nodeStatusMaxImages: 08\n", 8, ""},
        ReadCase{"hex", "/etc/k/c.yaml", kYamlHead + "nodeStatusMaxImages: 0x10\n", 16, ""},
        ReadCase{"underscores", "/etc/k/c.yaml", kYamlHead + "nodeStatusMaxImages: 1_000\n", 1000, ""},
        ReadCase{"plus_sign", "/etc/k/c.yaml", kYamlHead + "nodeStatusMaxImages: +5\n", 5, ""},
        ReadCase{"float_with_zero_fraction", "/etc/k/c.yaml", kYamlHead + "nodeStatusMaxImages: 5.0\n", 5, ""},
        ReadCase{"exponent", "/etc/k/c.yaml", kYamlHead + "nodeStatusMaxImages: 1e2\n", 100, ""},
        ReadCase{"null_is_unset", "/etc/k/c.yaml", kYamlHead + "nodeStatusMaxImages: null\n", 50, ""},
        ReadCase{"tilde_is_unset", "/etc/k/c.yaml", kYamlHead + "nodeStatusMaxImages: ~\n", 50, ""},
        ReadCase{"empty_is_unset", "/etc/k/c.yaml", kYamlHead + "nodeStatusMaxImages:\n", 50, ""},
        ReadCase{"bom", "/etc/k/c.yaml", "\xEF\xBB\xBF" + kYamlHead + "nodeStatusMaxImages: 7\n", 7, ""},
        ReadCase{"json", "/etc/k/c.json",
                 "{\"apiVersion\": \"kubelet.config.k8s.io/v1beta1\", \"kind\": \"KubeletConfiguration\", \"nodeStatusMaxImages\": 5}", 5, ""},
        ReadCase{"json_float_is_not_an_int32", "/etc/k/c.json",
                 "{\"apiVersion\": \"kubelet.config.k8s.io/v1beta1\", \"kind\": \"KubeletConfiguration\", \"nodeStatusMaxImages\": 5.0}",
                 nullptr, "JSON decoder does not accept"},
        ReadCase{"yaml_flow_is_read_as_json", "/etc/k/c.yaml",
                 "{apiVersion: kubelet.config.k8s.io/v1beta1, kind: KubeletConfiguration}\n", nullptr, "as JSON"},
        ReadCase{"fraction", "/etc/k/c.yaml", kYamlHead + "nodeStatusMaxImages: 5.5\n", nullptr, "must be an integer"},
        ReadCase{"quoted_number", "/etc/k/c.yaml", kYamlHead + "nodeStatusMaxImages: \"5\"\n", nullptr, "must be an integer"},
        ReadCase{"merge_key", "/etc/k/c.yaml",
                 kYamlHead + "base: &b {nodeStatusMaxImages: 5}\n<<: *b\n", nullptr, "anchor"},
        ReadCase{"merge_key_alone", "/etc/k/c.yaml", kYamlHead + "<<: {nodeStatusMaxImages: 5}\n", nullptr, "merge key"},
        ReadCase{"alias", "/etc/k/c.yaml", kYamlHead + "x: &n 5\nnodeStatusMaxImages: *n\n", nullptr, "anchor"},
        ReadCase{"tag", "/etc/k/c.yaml", kYamlHead + "nodeStatusMaxImages: !!int 5\n", nullptr, "explicit tag"},
        ReadCase{"multi_document", "/etc/k/c.yaml", kYamlHead + "---\n" + kYamlHead, nullptr, "more than one YAML document"}),
    [](const auto& param_info) { return param_info.param.name; });

}  // namespace
}  // namespace nodeimg::kubelet
