// Status that can be scripted (issue 11): "restart pending" from kubelet's start time and
// the deciding files' mtimes, the files platforms rewrite at boot, the --check verdict.
#include <unistd.h>

#include <fstream>

#include <gtest/gtest.h>

#include "adapters/host/live_facts.hpp"
#include "core/kubelet/live_check.hpp"
#include "support/files.hpp"

namespace nodeimg::kubelet {
namespace {

constexpr std::int64_t kSecond = 1'000'000'000;
const std::string kConfig = "/var/lib/kubelet/config.yaml";

SettingState managed(std::vector<std::string> files, bool desired = true) {
  SettingState s{.name = "nodeStatusMaxImages", .effective = -1, .source = Source::ConfigFile,
                 .source_files = std::move(files)};
  if (desired) s.desired = Json(-1);
  return s;
}

LiveFacts started_at(std::int64_t start, std::vector<FileModified> mtimes) {
  return {.kubelet_started_ns = start, .started_resolution_ns = 10'000'000, .modified = std::move(mtimes)};
}

TEST(RestartPending, AFileWrittenAfterKubeletStartedIsPending) {
  const auto p = pending_restarts({managed({kConfig})}, Sources{}, started_at(100 * kSecond, {{kConfig, 200 * kSecond}}));
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].setting, "nodeStatusMaxImages");
  EXPECT_EQ(p[0].file, kConfig);
}

TEST(RestartPending, AFileWrittenBeforeKubeletStartedIsLive) {
  EXPECT_TRUE(pending_restarts({managed({kConfig})}, Sources{}, started_at(200 * kSecond, {{kConfig, 100 * kSecond}})).empty());
}

TEST(RestartPending, WithinTheStartTimesResolutionIsNotClaimedPending) {
  // /proc gives the start in clock ticks: a file 5 ms after the tick may predate the start.
  EXPECT_TRUE(pending_restarts({managed({kConfig})}, Sources{},
                               started_at(100 * kSecond, {{kConfig, 100 * kSecond + 5'000'000}}))
                  .empty());
  EXPECT_EQ(pending_restarts({managed({kConfig})}, Sources{},
                             started_at(100 * kSecond, {{kConfig, 100 * kSecond + 11'000'000}}))
                .size(),
            1u);
}

TEST(RestartPending, UnknownStartTimeClaimsNothing) {
  LiveFacts facts{.modified = {{kConfig, 200 * kSecond}}};
  EXPECT_TRUE(pending_restarts({managed({kConfig})}, Sources{}, facts).empty());
}

TEST(RestartPending, ASettingNodeimgDoesNotManageIsNotCounted) {
  EXPECT_TRUE(pending_restarts({managed({kConfig}, false)}, Sources{},
                               started_at(100 * kSecond, {{kConfig, 200 * kSecond}}))
                  .empty());
}

TEST(RestartPending, ADropInAddedOrRemovedChangesTheDirectoryAndCounts) {
  // The value comes from kubelet's default after nodeimg's drop-in was removed: no deciding
  // file, but the drop-in directory changed after kubelet started.
  Sources sources{.dropin_dir = "/etc/kubernetes/kubelet.conf.d"};
  const auto p = pending_restarts({managed({})}, sources,
                                  started_at(100 * kSecond, {{"/etc/kubernetes/kubelet.conf.d", 150 * kSecond}}));
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].file, "/etc/kubernetes/kubelet.conf.d");
}

TEST(BootRewrites, EksGeneratedConfigAndK3sDefaultsAreNamedWithWhoRewritesThem) {
  const auto w = boot_rewrite_warnings({"/etc/kubernetes/kubelet/config.json", kConfig,
                                        "/var/lib/rancher/k3s/agent/etc/kubelet.conf.d/00-k3s-defaults.conf",
                                        "/etc/kubernetes/kubelet/config.json"},
                                       Sources{});
  ASSERT_EQ(w.size(), 2u);  // each once; kubeadm's config.yaml is not rewritten at boot
  EXPECT_NE(w[0].message.find("nodeadm"), std::string::npos) << w[0].message;
  EXPECT_NE(w[0].message.find("nodeimg-kubelet.service re-applies it at each boot before kubelet"), std::string::npos);
  EXPECT_NE(w[1].by.find("k3s"), std::string::npos);
}

TEST(BootRewrites, EtcDefaultKubeletIsGkesOnlyWhenKubeletLivesUnderHomeKubernetes) {
  Sources gke{.argv = {"/home/kubernetes/bin/kubelet", "--v=2"}};
  EXPECT_EQ(boot_rewrite_warnings({"/etc/default/kubelet"}, gke).size(), 1u);
  Sources kubeadm{.argv = {"/usr/bin/kubelet"}, .config_file = kConfig};
  EXPECT_TRUE(boot_rewrite_warnings({"/etc/default/kubelet"}, kubeadm).empty());
}

TEST(CheckVerdict, WorstFirst) {
  Plan in_sync{.settings = {managed({kConfig})}, .changes = {}};
  EXPECT_EQ(check_verdict("", &in_sync, {}), CheckVerdict::InEffect);
  EXPECT_EQ(check_verdict("", &in_sync, {PendingRestart{.setting = "x", .file = kConfig}}), CheckVerdict::RestartPending);
  Plan drift = in_sync;
  drift.settings[0].edit = "nodeStatusMaxImages in " + kConfig;
  drift.changes.push_back({.path = kConfig});
  EXPECT_EQ(check_verdict("", &drift, {PendingRestart{}}), CheckVerdict::Drift);
  EXPECT_EQ(check_verdict("a flag decides", &drift, {}), CheckVerdict::Refused);
  EXPECT_EQ(check_verdict("unreadable", nullptr, {}), CheckVerdict::Refused);
}

TEST(LiveFacts, OurOwnStartTimeIsBeforeNowAndAFreshFileIsAfterIt) {
  auto me = process_start(::getpid());
  ASSERT_TRUE(me) << me.error().message;
  ASSERT_TRUE(*me);
  testing::TempDir dir("nodeimg-live");
  std::ofstream(dir / "f") << "x";
  auto m = modified_ns((dir / "f").string());
  ASSERT_TRUE(m && *m);
  // This process started before the file it just wrote (plus the tick it is measured in).
  EXPECT_GT(**m, (*me)->started_ns);
  EXPECT_GT((*me)->resolution_ns, 0);
  auto missing = modified_ns((dir / "absent").string());
  ASSERT_TRUE(missing);
  EXPECT_FALSE(*missing);
}

}  // namespace
}  // namespace nodeimg::kubelet
