// What only containerd (CRI) has, against a real containerd (tests/harness/containerd): pod
// sandboxes, inode thresholds on its image filesystem, the plan-to-delete race on real
// containers, and `images` with pods. The scenarios every runtime shares are in
// gc_runtimes_test.cpp.
#include <sys/file.h>
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include "adapters/runtime/cri_runtime.hpp"
#include "commands/gc/gc_executor.hpp"
#include "core/gc/planner.hpp"
#include "support/gc_drivers.hpp"
#include "support/gc_fixture.hpp"
#include "support/process.hpp"

namespace nodeimg::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kPause = ContainerdDriver::kPause;

class GcOnContainerd : public GcOnDriver<ContainerdDriver> {
 protected:
  ContainerdInstance& containerd() { return driver_.daemon(); }
  CriPods& pods() { return driver_.pods(); }
};

TEST_F(GcOnContainerd, EachPhaseRemovesWhatItMayAndThePauseImageSurvives) {
  boot();
  images({"reg.test/running:1", "reg.test/created:1", "reg.test/exited:1", "reg.test/unused:1"});
  const std::string live = pods().run_sandbox("live");
  pods().make_running(live, "web", "reg.test/running:1");
  pods().make_created(live, "init", "reg.test/created:1");
  const std::string dead = pods().run_sandbox("dead");
  const std::string exited = pods().make_exited(dead, "job", "reg.test/exited:1");
  pods().stop_sandbox(dead);

  auto report = gc_json({"--max-images", "1"});
  EXPECT_EQ(report["counts"]["containersRemoved"], 1);
  EXPECT_EQ(report["counts"]["sandboxesRemoved"], 1);
  // The exited container's image became unused in this same run and went with the unused one.
  EXPECT_EQ(count_removed(report, "image"), 2u) << report.dump(2);
  EXPECT_FALSE(report["shortfalls"].empty()) << "three protected images remain above maxImages 1";
  EXPECT_EQ(tags(), (std::set<std::string>{kPause, "reg.test/running:1", "reg.test/created:1"}));
  for (const auto& c : pods().containers()) EXPECT_NE(c.id(), exited);
  for (const auto& s : pods().sandboxes()) EXPECT_NE(s.id(), dead);
  // The live pod is untouched.
  EXPECT_EQ(pods().sandbox_state(live), runtime::v1::SANDBOX_READY);
}

TEST_F(GcOnContainerd, InodeThresholdCountsToo) {
  ContainerdOptions options;
  options.fs_inodes = 400;
  boot(options);  // the driver's boot with options
  std::vector<std::string> specs;
  for (int i = 0; i < 10; ++i) specs.push_back("reg.test/ino:" + std::to_string(i));
  images(specs);
  auto probe = json::parse(nodeimg({"images", "--json"}).out);
  const double inodes_used = probe["filesystem"]["usage"]["inodesUsedPercent"];
  ASSERT_GT(inodes_used, 5.0);
  const int inodes_high = static_cast<int>(inodes_used) - 1;
  auto report = gc_json({"--inodes-high", std::to_string(inodes_high) + "%", "--concurrency", "1"});
  EXPECT_TRUE(report["plan"]["inodePressure"]);
  EXPECT_GT(count_removed(report, "image"), 0u);
  EXPECT_LT(report["filesystem"]["after"]["inodesUsedPercent"].get<double>(), inodes_high) << report.dump(2);
}

TEST_F(GcOnContainerd, CorruptHistoryIsMovedAsideAndRebuilt) {
  boot();
  images({"reg.test/a:1"});
  fs::create_directories(root_ / "var/lib/nodeimg");
  std::ofstream(root_ / "var/lib/nodeimg/state.json") << "{not json";
  // Read-only commands report it and leave it where it is.
  for (auto args : {std::vector<std::string>{"gc", "--dry-run"}, std::vector<std::string>{"images"}}) {
    auto ro = nodeimg(args);
    EXPECT_EQ(ro.exit_code, 0) << ro.err;
    EXPECT_NE(ro.err.find("corrupt"), std::string::npos) << ro.err;
    EXPECT_EQ(state(), "{not json");
    EXPECT_FALSE(fs::exists(root_ / "var/lib/nodeimg/state.json.corrupt"));
  }
  auto r = nodeimg({"gc"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("corrupt"), std::string::npos) << r.err;
  EXPECT_TRUE(fs::exists(root_ / "var/lib/nodeimg/state.json.corrupt"));
  EXPECT_EQ(json::parse(state())["images"].size(), 2u);
}

// A decorator over the real CRI runtime that, when the executor re-lists containers just
// before removing, first starts a real container on the image about to go: the race the
// re-list exists for, made deterministic.
class RaceRuntime final : public ImageRuntime {
 public:
  RaceRuntime(ImageRuntime& real, std::function<void()> race) : real_(real), race_(std::move(race)) {}
  const RuntimeInfo& info() const override { return real_.info(); }
  Result<std::vector<gc::Image>> list_images() override { return real_.list_images(); }
  Result<std::vector<gc::Container>> list_containers() override {
    if (race_) std::exchange(race_, nullptr)();
    return real_.list_containers();
  }
  Result<std::vector<gc::Sandbox>> list_sandboxes() override { return real_.list_sandboxes(); }
  Result<std::vector<std::string>> sandbox_images() override { return real_.sandbox_images(); }
  Result<std::string> image_filesystem() override { return real_.image_filesystem(); }
  Result<Outcome> remove_container(const std::string& id) override { return real_.remove_container(id); }
  Result<Outcome> remove_sandbox(const std::string& id) override { return real_.remove_sandbox(id); }
  Result<Outcome> remove_image(const gc::Image& image) override { return real_.remove_image(image); }
  Result<std::string> pull_image(const std::string& ref) override { return real_.pull_image(ref); }

 private:
  ImageRuntime& real_;
  std::function<void()> race_;
};

TEST_F(GcOnContainerd, ImageThatComesIntoUseBetweenPlanAndDeleteSurvives) {
  boot();
  images({"reg.test/race:1", "reg.test/race:2"});
  auto real = CriRuntime::connect(containerd().endpoint(), std::chrono::seconds(30));
  ASSERT_TRUE(real) << real.error().message;
  gc::Inventory inv;
  inv.images = *(*real)->list_images();
  inv.sandbox_images = *(*real)->sandbox_images();
  gc::Policy policy;
  policy.min_age = 0;
  policy.max_images = 1;
  const gc::Plan plan = gc::plan_collection(inv, {}, policy, 2'000'000'000);
  ASSERT_EQ(plan.removals(), 2u);  // both race images are planned

  const std::string sandbox = pods().run_sandbox("late");
  RaceRuntime racing(**real, [&] { pods().make_running(sandbox, "late", "reg.test/race:2"); });
  gc::RunReport report;
  execute_plan(racing, inv, plan, policy, [] { return Result<gc::FilesystemUsage>(gc::FilesystemUsage{}); },
               ExecutorOptions{.concurrency = 1, .dry_run = false}, report);
  const auto left = tags();
  EXPECT_TRUE(left.contains("reg.test/race:2"));
  EXPECT_FALSE(left.contains("reg.test/race:1"));
  ASSERT_EQ(report.skipped.size(), 1u);
  EXPECT_NE(report.skipped[0].reason.find("came into use"), std::string::npos);
}

// A container another client (ctr, nerdctl, a node agent) made in CRI's namespace is
// invisible to CRI; images are deleted through containerd's own images API, which checks
// nothing: the collector must see such a container through containerd's containers service.
TEST_F(GcOnContainerd, AContainerCriCannotSeeKeepsItsImage) {
  boot();
  images({"reg.test/ctr-used:1", "reg.test/free:1"});
  auto made = containerd().ctr({"containers", "create", "reg.test/ctr-used:1", "made-by-ctr"});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  for (const auto& c : pods().containers()) ASSERT_NE(c.id(), "made-by-ctr") << "CRI must not list it for this test to mean anything";

  auto report = gc_json({"--max-images", "1"});
  EXPECT_EQ(tags(), with_kept({"reg.test/ctr-used:1"})) << report.dump(2);
  EXPECT_TRUE(report["failures"].empty()) << report.dump(2);
  bool named = false;
  for (const auto& k : report["kept"])
    if (k["name"] == "reg.test/ctr-used:1")
      named = k["reason"].get<std::string>().find("made-by-ctr (containerd namespace k8s.io, not CRI)") != std::string::npos;
  EXPECT_TRUE(named) << report.dump(2);

  // Once that container is gone, its image is an ordinary candidate.
  auto rm = containerd().ctr({"containers", "rm", "made-by-ctr"});
  ASSERT_EQ(rm.exit_code, 0) << rm.err;
  gc_json({"--max-images", "1"});
  EXPECT_EQ(tags(), with_kept({}));
}

// Kills containerd (by the PID its harness started) when the executor's second batch is
// under way: the connection is really lost, as when the daemon crashes mid-run.
class DyingRuntime final : public ImageRuntime {
 public:
  DyingRuntime(ImageRuntime& real, std::function<void()> die) : real_(real), die_(std::move(die)) {}
  const RuntimeInfo& info() const override { return real_.info(); }
  Result<std::vector<gc::Image>> list_images() override { return real_.list_images(); }
  Result<std::vector<gc::Container>> list_containers() override { return real_.list_containers(); }
  Result<std::vector<gc::Sandbox>> list_sandboxes() override { return real_.list_sandboxes(); }
  Result<std::vector<std::string>> sandbox_images() override { return real_.sandbox_images(); }
  Result<std::string> image_filesystem() override { return real_.image_filesystem(); }
  Result<Outcome> remove_container(const std::string& id) override { return real_.remove_container(id); }
  Result<Outcome> remove_sandbox(const std::string& id) override { return real_.remove_sandbox(id); }
  Result<Outcome> remove_image(const gc::Image& image) override { return real_.remove_image(image); }
  std::vector<Result<Outcome>> remove_images(const std::vector<gc::Image>& images, int concurrency) override {
    if (++batches_ == 2) die_();
    calls_after_death_ += batches_ >= 2 ? 1 : 0;
    return real_.remove_images(images, concurrency);
  }
  Result<std::string> pull_image(const std::string& ref) override { return real_.pull_image(ref); }
  int calls_after_death_ = 0;

 private:
  ImageRuntime& real_;
  std::function<void()> die_;
  int batches_ = 0;
};

TEST_F(GcOnContainerd, ARuntimeKilledMidRunStopsTheRunAndIsReportedOnce) {
  boot();
  std::vector<std::string> specs;
  for (int i = 0; i < 40; ++i) specs.push_back("reg.test/many:" + std::to_string(i));
  images(specs);
  auto real = CriRuntime::connect(containerd().endpoint(), std::chrono::seconds(10));
  ASSERT_TRUE(real) << real.error().message;
  gc::Inventory inv;
  inv.images = *(*real)->list_images();
  inv.sandbox_images = *(*real)->sandbox_images();
  gc::Policy policy;
  policy.min_age = 0;
  policy.max_images = 1;
  policy.concurrency = 1;  // batches of 8 maxImages removals
  const gc::Plan plan = gc::plan_collection(inv, {}, policy, 2'000'000'000);
  ASSERT_EQ(plan.removals(), 40u);

  const int pid = containerd().pid();
  // Dead once its /proc entry is gone or a zombie (its parent is not this process).
  auto gone = [pid] {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(stat, line)) return true;
    const auto paren = line.rfind(')');
    return paren != std::string::npos && paren + 2 < line.size() && line[paren + 2] == 'Z';
  };
  DyingRuntime dying(**real, [pid, gone] {
    ::kill(pid, SIGKILL);
    for (int i = 0; i < 1000 && !gone(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  });
  gc::RunReport report;
  execute_plan(dying, inv, plan, policy, [] { return Result<gc::FilesystemUsage>(gc::FilesystemUsage{}); },
               ExecutorOptions{.concurrency = 1, .dry_run = false}, report);
  EXPECT_EQ(report.count(gc::ObjectKind::Image), 8u) << "the first batch, before the kill";
  EXPECT_TRUE(report.failures.empty()) << report.failures.size() << " failures, first: " << report.failures[0].message;
  EXPECT_FALSE(report.runtime_reached);
  EXPECT_NE(report.outage.find("Unavailable"), std::string::npos) << report.outage;
  EXPECT_NE(report.outage.find("32 planned removal(s) not attempted"), std::string::npos) << report.outage;
  EXPECT_EQ(dying.calls_after_death_, 1) << "no batch is tried after the outage";
}

// state.json is nodeimg's own file: a symlink there is refused in the history's words
// (not with the generic message about kubelet's files), before anything is removed, and
// the metrics say the run failed.
TEST_F(GcOnContainerd, AStateFileThatIsASymlinkIsRefusedInTheHistorysWords) {
  boot();
  images({"reg.test/a:1"});
  fs::create_directories(root_ / "var/lib/nodeimg");
  fs::create_directories(root_ / "var/lib/prometheus/node-exporter");
  std::ofstream(root_ / "var/lib/nodeimg/real-state.json") << R"({"version": 1, "updatedAt": 1700000000, "images": {}})";
  fs::create_symlink("real-state.json", root_ / "var/lib/nodeimg/state.json");
  auto r = nodeimg({"gc", "--max-images", "1"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("gc history"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("is a symlink"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("kubelet"), std::string::npos) << r.err;
  EXPECT_EQ(tags(), with_kept({"reg.test/a:1"})) << "nothing is removed without a saved history";
  const std::string metrics = read_file(root_ / "var/lib/prometheus/node-exporter/nodeimg.prom");
  EXPECT_NE(metrics.find("\nnodeimg_gc_last_run_success 0\n"), std::string::npos) << metrics;
}

// gc.keepFromFile: a directory of pattern files that a prepuller or a ConfigMap sync
// maintains protects what it lists, read at each run.
TEST_F(GcOnContainerd, KeepFromFileProtectsWhatThePrepullerListsAndFollowsIt) {
  boot();
  images({"reg.test/lab:w_01", "reg.test/lab:w_02", "reg.test/other:1"});
  fs::create_directories(root_ / "etc/nodeimg/keep.d");
  std::ofstream(root_ / "etc/nodeimg/keep.d/nublado") << "# written by the prepuller\nreg.test/lab:*\n";
  configure("  keepFromFile: /etc/nodeimg/keep.d/\n");
  auto report = gc_json({"--max-images", "1"});
  EXPECT_EQ(tags(), with_kept({"reg.test/lab:w_01", "reg.test/lab:w_02"})) << report.dump(2);
  // The prepuller drops w_01 from its list: the next run may take it.
  std::ofstream(root_ / "etc/nodeimg/keep.d/nublado", std::ios::trunc) << "reg.test/lab:w_02\n";
  gc_json({"--max-images", "1"});
  EXPECT_EQ(tags(), with_kept({"reg.test/lab:w_02"}));
}

TEST_F(GcOnContainerd, ImagesListsUseProtectionAndTheNextGc) {
  boot();
  images({"reg.test/shown:1", "reg.test/shown:2"});
  const std::string pod = pods().run_sandbox("p");
  pods().make_running(pod, "c", "reg.test/shown:1");
  configure("  keep: [\"reg.test/shown:2\"]\n");
  auto r = nodeimg({"images", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = json::parse(r.out);
  ASSERT_EQ(j["images"].size(), 3u);
  std::map<std::string, json> by_tag;
  for (const auto& i : j["images"]) by_tag[i["tags"][0]] = i;
  EXPECT_EQ(by_tag["reg.test/shown:1"]["inUseBy"].size(), 1u);
  EXPECT_EQ(by_tag["reg.test/shown:1"]["nextGc"], "protected");
  EXPECT_NE(by_tag["reg.test/shown:2"]["reason"].get<std::string>().find("keep"), std::string::npos);
  EXPECT_NE(by_tag[kPause]["reason"].get<std::string>().find("sandbox"), std::string::npos);
  auto csv = nodeimg({"images", "--csv"});
  EXPECT_EQ(csv.exit_code, 0);
  EXPECT_EQ(std::count(csv.out.begin(), csv.out.end(), '\n'), 4);
  EXPECT_FALSE(fs::exists(root_ / "var/lib/nodeimg/state.json")) << "images is read-only";
}

TEST_F(GcOnContainerd, ASecondRunWaitsForTheLockThenGivesUp) {
  boot();
  images({"reg.test/a:1"});
  fs::create_directories(root_ / "run/nodeimg");
  const int fd = ::open((root_ / "run/nodeimg/gc.lock").c_str(), O_RDWR | O_CREAT, 0600);
  ASSERT_EQ(::flock(fd, LOCK_EX), 0);
  auto r = nodeimg({"gc", "--lock-timeout", "1s"});
  ::close(fd);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("another nodeimg run"), std::string::npos) << r.err;
  EXPECT_EQ(nodeimg({"gc", "--lock-timeout", "1s"}).exit_code, 0);
}

}  // namespace
}  // namespace nodeimg::testing
