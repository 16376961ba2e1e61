// Issue 12 at its edges: which of several kubelet units runs kubelet (running, enabled,
// aliases, masks), environment files however they are spelt, MicroK8s's args file (its
// `current` link, comments, duplicates, both flag spellings, line endings) and a kubelet
// in a container.
#include <filesystem>

#include <gtest/gtest.h>

#include "adapters/host/proc.hpp"
#include "core/kubelet/plan.hpp"
#include "support/memory_tree.hpp"

namespace nodeimg::kubelet {
namespace {

using testing::MemoryTree;

const Values kDesired = {{"nodeStatusMaxImages", -1}};
const std::string kWants = "/etc/systemd/system/multi-user.target.wants/";

MemoryTree fixture(const std::string& name) {
  return MemoryTree::from_directory(std::filesystem::path(NODEIMG_FIXTURES) / "platforms" / name / "root");
}

// --- which unit ---------------------------------------------------------------------

TEST(UnitChoice, TheUnitAKubeletProcessRunsInWinsOverTheEnabledOne) {
  auto tree = fixture("rke2");  // rke2-agent enabled
  DiscoveryOptions options;
  options.running_units = std::map<std::string, int>{{"rke2-server.service", 4242}};
  auto s = discover(tree, options);
  ASSERT_TRUE(s) << s.error().message;
  ASSERT_TRUE(s->unit);
  EXPECT_EQ(s->unit->name, "rke2-server.service");
  EXPECT_EQ(s->unit_reason, "a kubelet-bearing process (pid 4242) runs in its cgroup (/proc/4242/cgroup)");
}

TEST(UnitChoice, OnALiveNodeWithNoKubeletRunningTheEnabledUnitIsChosenAndSaysSo) {
  auto tree = fixture("rke2");
  DiscoveryOptions options;
  options.running_units = std::map<std::string, int>{};
  auto s = discover(tree, options);
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->unit->name, "rke2-agent.service");
  EXPECT_EQ(s->unit_reason, "no kubelet process runs; the one enabled candidate (" + kWants + "rke2-agent.service)");
}

TEST(UnitChoice, TwoEnabledAndNoneRunningIsRefusedNamingEveryCandidateAndTheKey) {
  auto tree = fixture("rke2");
  tree.links[kWants + "rke2-server.service"] = "/usr/local/lib/systemd/system/rke2-server.service";
  auto s = discover(tree, {});
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_FALSE(s->unit);
  for (const char* part : {"2 kubelet units and 2 of them enabled", "rke2-server.service (", "rke2-agent.service (",
                           "set kubelet.unit"})
    EXPECT_NE(s->unit_refusal.find(part), std::string::npos) << part << "\n" << s->unit_refusal;
  // No config file or drop-in directory is guessed without the unit, and apply refuses.
  EXPECT_FALSE(s->dropin_dir);
  auto p = plan(tree, {}, *s, kDesired);
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_TRUE(p->changes.empty());
  EXPECT_EQ(p->refusal, s->unit_refusal);
}

TEST(UnitChoice, NoneEnabledAmongSeveralIsRefused) {
  auto tree = fixture("rke2");
  tree.links.erase(kWants + "rke2-agent.service");
  auto s = discover(tree, {});
  ASSERT_TRUE(s);
  EXPECT_NE(s->unit_refusal.find("2 kubelet units and 0 of them enabled"), std::string::npos) << s->unit_refusal;
}

TEST(UnitChoice, TwoUnitsRunningKubeletIsRefused) {
  auto tree = fixture("rke2");
  DiscoveryOptions options;
  options.running_units = std::map<std::string, int>{{"rke2-server.service", 10}, {"rke2-agent.service", 20}};
  auto s = discover(tree, options);
  ASSERT_TRUE(s);
  EXPECT_NE(s->unit_refusal.find("kubelet runs in several units"), std::string::npos) << s->unit_refusal;
}

TEST(UnitChoice, AMaskedDuplicateIsNotACandidate) {
  auto tree = fixture("rke2");
  tree.links.erase(kWants + "rke2-agent.service");
  tree.links["/etc/systemd/system/rke2-server.service"] = "/dev/null";
  auto s = discover(tree, {});
  ASSERT_TRUE(s) << s.error().message;
  ASSERT_TRUE(s->unit);
  EXPECT_EQ(s->unit->name, "rke2-agent.service");
  EXPECT_EQ(s->unit_reason, "the only kubelet unit on this node (not enabled)");
  ASSERT_EQ(s->masked.size(), 1u);
  EXPECT_EQ(s->candidates.size(), 1u);
}

TEST(UnitChoice, AnEnabledButMaskedUnitLosesToTheOtherOne) {
  auto tree = fixture("rke2");  // the agent is enabled...
  tree.links["/etc/systemd/system/rke2-agent.service"] = "/dev/null";  // ...and masked
  auto s = discover(tree, {});
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->unit->name, "rke2-server.service");
}

TEST(UnitChoice, AnAliasLinkIsTheSameUnitNotASecondCandidate) {
  auto tree = fixture("rke2");
  tree.links["/etc/systemd/system/kubelet.service"] = "/usr/local/lib/systemd/system/rke2-agent.service";
  auto s = discover(tree, {});
  ASSERT_TRUE(s) << s.error().message;
  ASSERT_EQ(s->candidates.size(), 2u);
  EXPECT_EQ(s->candidates[0].name, "rke2-agent.service");  // found first under its alias kubelet.service
  EXPECT_EQ(s->candidates[0].aliases, std::vector<std::string>{"kubelet.service"});
  EXPECT_EQ(s->unit->name, "rke2-agent.service");
  EXPECT_EQ(s->unit->fragment, "/usr/local/lib/systemd/system/rke2-agent.service");
}

TEST(UnitChoice, EnabledThroughAWantsLinkNamedByAnAlias) {
  auto tree = fixture("rke2");
  tree.links.erase(kWants + "rke2-agent.service");
  tree.links[kWants + "kube-node.service"] = "/usr/local/lib/systemd/system/rke2-agent.service";
  auto s = discover(tree, {});
  ASSERT_TRUE(s) << s.error().message;
  ASSERT_TRUE(s->unit) << s->unit_refusal;
  EXPECT_EQ(s->unit->name, "rke2-agent.service");
}

TEST(UnitChoice, EnabledThroughAnInstallAliasLink) {
  auto tree = fixture("rke2");
  tree.links.erase(kWants + "rke2-agent.service");
  tree.files["/usr/local/lib/systemd/system/rke2-agent.service"] += "[Install]\nAlias=rke2-node.service\n";
  tree.links["/etc/systemd/system/rke2-node.service"] = "/usr/local/lib/systemd/system/rke2-agent.service";
  auto s = discover(tree, {});
  ASSERT_TRUE(s) << s.error().message;
  ASSERT_TRUE(s->unit) << s->unit_refusal;
  EXPECT_EQ(s->unit->name, "rke2-agent.service");
  EXPECT_EQ(s->candidates[1].enabled_by, "/etc/systemd/system/rke2-node.service");
}

TEST(UnitChoice, AWantsLinkToDevNullEnablesNothing) {
  auto tree = fixture("rke2");
  tree.links[kWants + "rke2-agent.service"] = "/dev/null";
  auto s = discover(tree, {});
  ASSERT_TRUE(s);
  EXPECT_NE(s->unit_refusal.find("0 of them enabled"), std::string::npos) << s->unit_refusal;
}

TEST(UnitChoice, AKubeletRunningInAUnitOfAnotherNameMakesItACandidate) {
  auto tree = fixture("kubeadm");
  tree.files["/etc/systemd/system/kubelet-custom.service"] =
      "[Service]\nExecStart=/usr/bin/kubelet --config=/var/lib/kubelet/config.yaml\n";
  DiscoveryOptions options;
  options.running_units = std::map<std::string, int>{{"kubelet-custom.service", 77}};
  auto s = discover(tree, options);
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->unit->name, "kubelet-custom.service");
}

TEST(UnitChoice, TheConfiguredUnitIsTakenAsGiven) {
  auto tree = fixture("rke2");
  DiscoveryOptions options;
  options.unit = "rke2-server.service";
  auto s = discover(tree, options);
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->unit->name, "rke2-server.service");
  EXPECT_EQ(s->unit_reason, "kubelet.unit in nodeimg's configuration");
}

TEST(UnitChoice, CgroupFilesNameTheUnit) {
  EXPECT_EQ(unit_of_cgroup("0::/system.slice/kubelet.service\n"), "kubelet.service");
  EXPECT_EQ(unit_of_cgroup("12:cpu,cpuacct:/system.slice/k3s.service\n1:name=systemd:/system.slice/k3s.service\n"
                           "0::/system.slice/k3s.service\n"),
            "k3s.service");
  EXPECT_EQ(unit_of_cgroup("0::/machine.slice/nodeimg-test.service/payload/system.slice/rke2-agent.service\n"),
            "rke2-agent.service");
  EXPECT_EQ(unit_of_cgroup("0::/user.slice/user-0.slice/session-3.scope\n"), "");
  EXPECT_EQ(unit_of_cgroup("0::/system.slice/snap.microk8s.daemon-kubelite.service/kubelite\n"),
            "snap.microk8s.daemon-kubelite.service");
  EXPECT_EQ(unit_of_cgroup("garbage\n"), "");
}

// --- environment files ------------------------------------------------------------------

TEST(EnvironmentFiles, WildcardsAndAbsentOptionalFilesAreListed) {
  MemoryTree tree;
  tree.files["/etc/systemd/system/kubelet.service"] =
      "[Service]\nEnvironmentFile=-/etc/kubelet.d/*.env\nEnvironmentFile=-/etc/default/%N\n"
      "ExecStart=/usr/bin/kubelet $A $B\n";
  tree.files["/etc/kubelet.d/20-b.env"] = "B=--config=/srv/k.yaml\n";
  tree.files["/etc/kubelet.d/10-a.env"] = "A=--v=2\nB=--config=/nope\n";
  tree.files["/etc/kubelet.d/30-c.conf"] = "B=--config=/never\n";
  tree.files["/srv/k.yaml"] = "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n";
  auto s = discover(tree, {});
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->unit->environment_files, (std::vector<std::string>{"/etc/kubelet.d/10-a.env", "/etc/kubelet.d/20-b.env"}));
  EXPECT_EQ(s->unit->absent_environment_files, std::vector<std::string>{"/etc/default/kubelet"});
  EXPECT_EQ(s->config_file.value_or(""), "/srv/k.yaml");  // the later file wins
}

// --- MicroK8s ---------------------------------------------------------------------------

const std::string kArgs = "/var/snap/microk8s/7001/args/kubelet";

Result<Plan> plan_of(const MemoryTree& tree, Sources* out = nullptr) {
  auto s = discover(tree, {});
  if (!s) return std::unexpected(s.error());
  if (out) *out = *s;
  return plan(tree, {}, *s, kDesired);
}

TEST(Microk8s, CurrentLinkingOutOfTheSnapDataDirectoryIsRefused) {
  for (const char* target : {"/etc", "../../../etc", "7001/../../..", "current"}) {
    auto tree = fixture("microk8s");
    tree.links["/var/snap/microk8s/current"] = target;
    tree.files["/etc/args/kubelet"] = "--node-status-max-images=3\n";
    auto s = discover(tree, {});
    ASSERT_FALSE(s) << target;
    EXPECT_NE(s.error().message.find("nodeimg does not follow it"), std::string::npos) << s.error().message;
  }
}

TEST(Microk8s, AnAbsoluteCurrentInsideTheSnapDirectoryIsFollowed) {
  auto tree = fixture("microk8s");
  tree.links["/var/snap/microk8s/current"] = "/var/snap/microk8s/7001";
  auto s = discover(tree, {});
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->args_file->path, kArgs);
}

TEST(Microk8s, ARevisionOrArgsDirectoryThatIsALinkIsRefused) {
  auto tree = fixture("microk8s");
  tree.links["/var/snap/microk8s/current"] = "7002";
  tree.links["/var/snap/microk8s/7002"] = "/opt/elsewhere";
  tree.files["/opt/elsewhere/args/kubelet"] = "--v=2\n";
  auto s = discover(tree, {});
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("/var/snap/microk8s/7002 is a link"), std::string::npos) << s.error().message;
}

TEST(Microk8s, CommentsBlankLinesBothSpellingsAndADuplicateFlag) {
  auto tree = fixture("microk8s");
  tree.files[kArgs] = "# site settings\n--node-status-max-images 10\n\n   \n--v=2 # trailing comment\n"
                      "--node-status-max-images=20\n--root-dir=${SNAP_COMMON}/var/lib/kubelet\n";
  Sources s;
  auto p = plan_of(tree, &s);
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->settings[0].effective, 20);  // pflag keeps the last
  EXPECT_EQ(p->settings[0].source_detail, "--node-status-max-images (" + kArgs + ":6)");
  EXPECT_EQ(p->root_dir, "/var/snap/microk8s/common/var/lib/kubelet");
  ASSERT_EQ(p->changes.size(), 1u);
  EXPECT_EQ(*p->changes[0].after, "# site settings\n--node-status-max-images -1\n\n   \n--v=2 # trailing comment\n"
                                  "--node-status-max-images=-1\n--root-dir=${SNAP_COMMON}/var/lib/kubelet\n");
  EXPECT_FALSE(p->daemon_reload);
}

TEST(Microk8s, AFlagInACommentIsNotAFlag) {
  auto tree = fixture("microk8s");
  tree.files[kArgs] = "--v=2\n# --node-status-max-images=5\n";
  auto p = plan_of(tree);
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->settings[0].effective, 50);
  EXPECT_EQ(*p->changes[0].after, "--v=2\n# --node-status-max-images=5\n--node-status-max-images=-1\n");
}

TEST(Microk8s, NoFinalNewlineAndCrlfAreKept) {
  auto tree = fixture("microk8s");
  tree.files[kArgs] = "--v=2\r\n--read-only-port=0";
  auto p = plan_of(tree);
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(*p->changes[0].after, "--v=2\r\n--read-only-port=0\r\n--node-status-max-images=-1");
}

TEST(Microk8s, AValueWrittenWithAVariableIsNotRewritten) {
  auto tree = fixture("microk8s");
  tree.files[kArgs] = "--node-status-max-images=${MAX}0\n";
  auto p = plan_of(tree);
  ASSERT_TRUE(p) << p.error().message;  // the shell makes it "0"
  EXPECT_EQ(p->settings[0].effective, 0);
  EXPECT_TRUE(p->changes.empty());
  EXPECT_NE(p->refusal.find("does not rewrite escaped, variable or glued values"), std::string::npos) << p->refusal;
}

TEST(Microk8s, ASettingWithoutAFlagHasNowhereToGo) {
  auto tree = fixture("microk8s");
  auto s = discover(tree, {});
  ASSERT_TRUE(s);
  auto p = plan(tree, {}, *s, {{"imageMaximumGCAge", "1h"}});
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_NE(p->refusal.find("imageMaximumGCAge has no kubelet flag"), std::string::npos) << p->refusal;
}

TEST(Microk8s, SeveralSettingsInOneEditOfTheArgsFile) {
  auto tree = fixture("microk8s");
  auto s = discover(tree, {});
  ASSERT_TRUE(s);
  auto p = plan(tree, {}, *s, {{"nodeStatusMaxImages", 300}, {"serializeImagePulls", true}, {"imageGCHighThresholdPercent", 90}});
  ASSERT_TRUE(p) << p.error().message;
  ASSERT_EQ(p->changes.size(), 1u);
  const std::string& after = *p->changes[0].after;
  EXPECT_NE(after.find("--serialize-image-pulls=true\n"), std::string::npos) << after;  // edited in place
  EXPECT_EQ(after.find("--serialize-image-pulls=false"), std::string::npos) << after;
  EXPECT_TRUE(after.ends_with("--node-status-max-images=300\n--image-gc-high-threshold=90\n")) << after;
}

// --- a kubelet in a container -------------------------------------------------------------

TEST(ContainerisedKubelet, AFlagInThePodmanCommandLineIsRefusedNotEdited) {
  auto tree = fixture("typhoon-fcos");
  auto& unit = tree.files["/etc/systemd/system/kubelet.service"];
  unit.replace(unit.find("  --rotate-certificates"), 23, "  --rotate-certificates \\\n  --node-status-max-images=25");
  auto s = discover(tree, {});
  ASSERT_TRUE(s) << s.error().message;
  ASSERT_TRUE(s->container);
  EXPECT_EQ(s->container->image, "quay.io/poseidon/kubelet:v1.31.3");
  auto p = plan(tree, {}, *s, kDesired);
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->settings[0].effective, 25);
  EXPECT_TRUE(p->changes.empty());
  EXPECT_NE(p->refusal.find("podman run command line of a containerised kubelet"), std::string::npos) << p->refusal;
}

TEST(ContainerisedKubelet, AConfigFileThatIsNotAHostVolumeIsRefused) {
  auto tree = fixture("typhoon-fcos");
  auto& unit = tree.files["/etc/systemd/system/kubelet.service"];
  unit.replace(unit.find("--config=/etc/kubernetes/kubelet.yaml"), 37, "--config=/opt/kubelet/kubelet.yaml");
  auto s = discover(tree, {});
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("is not a volume from the host"), std::string::npos) << s.error().message;
}

TEST(ContainerisedKubelet, PathsMapThroughTheLongestVolume) {
  ContainerRun run{.runtime = "podman",
                   .volumes = {{.host = "/etc/kubernetes", .container = "/etc/kubernetes"},
                               {.host = "/srv/kcfg", .container = "/etc/kubernetes/kubelet"}}};
  EXPECT_EQ(host_path_in(run, "/etc/kubernetes/kubelet.yaml").value_or(""), "/etc/kubernetes/kubelet.yaml");
  EXPECT_EQ(host_path_in(run, "/etc/kubernetes/kubelet/config.yaml").value_or(""), "/srv/kcfg/config.yaml");
  EXPECT_FALSE(host_path_in(run, "/etc/kubernetesx/a"));
}

}  // namespace
}  // namespace nodeimg::kubelet
