// `nodeimg gc|images|prepull` against a real containerd with CRI (tests/harness/containerd):
// real pods and containers in every state, images built locally, a small dedicated image
// filesystem so that thresholds are real, and a local registry on loopback.
#include <sys/file.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include "adapters/runtime/cri_runtime.hpp"
#include "commands/gc/gc_executor.hpp"
#include "core/gc/planner.hpp"
#include "support/containerd.hpp"
#include "support/gc_fixture.hpp"
#include "support/cri_pods.hpp"
#include "support/process.hpp"
#include "support/registry.hpp"

namespace nodeimg::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kPause = "registry.k8s.io/pause:3.6";

class GcOnContainerd : public GcFixture {
 protected:
  void boot(ContainerdOptions options = {}) {
    containerd_ = ContainerdInstance::boot(options);
    pods_ = std::make_unique<CriPods>(containerd_->endpoint());
    make_root();
    configure("");
  }
  void TearDown() override {
    pods_.reset();
    if (containerd_) {
      EXPECT_EQ(containerd_->stop(), 0) << "containerd was not cleaned up";
    }
    GcFixture::TearDown();
  }

  // Images (plus the pause image) built and imported in one archive.
  void images(const std::vector<std::string>& specs) {
    const std::string tar = (root_ / "images.tar").string();
    make_images(tar, specs, /*with_pause=*/true);
    containerd_->import(tar);
    fs::remove(tar);
  }

  void configure(const std::string& gc_extra, const std::string& top_extra = "") {
    write_config("  endpoint: " + containerd_->endpoint() + "\n", gc_extra, top_extra);
  }

  std::set<std::string> tags() const {
    std::set<std::string> out;
    for (const auto& i : pods_->images())
      for (const auto& t : i.repo_tags()) out.insert(t);
    return out;
  }

  std::unique_ptr<ContainerdInstance> containerd_;
  std::unique_ptr<CriPods> pods_;
};

TEST_F(GcOnContainerd, EachPhaseRemovesWhatItMayAndThePauseImageSurvives) {
  boot();
  images({"reg.test/running:1", "reg.test/created:1", "reg.test/exited:1", "reg.test/unused:1"});
  const std::string live = pods_->run_sandbox("live");
  pods_->make_running(live, "web", "reg.test/running:1");
  pods_->make_created(live, "init", "reg.test/created:1");
  const std::string dead = pods_->run_sandbox("dead");
  const std::string exited = pods_->make_exited(dead, "job", "reg.test/exited:1");
  pods_->stop_sandbox(dead);

  auto report = gc_json({"--max-images", "1"});
  EXPECT_EQ(report["counts"]["containersRemoved"], 1);
  EXPECT_EQ(report["counts"]["sandboxesRemoved"], 1);
  // The exited container's image became unused in this same run and went with the unused one.
  EXPECT_EQ(count_removed(report, "image"), 2u) << report.dump(2);
  EXPECT_FALSE(report["shortfalls"].empty()) << "three protected images remain above maxImages 1";
  EXPECT_EQ(tags(), (std::set<std::string>{kPause, "reg.test/running:1", "reg.test/created:1"}));
  for (const auto& c : pods_->containers()) EXPECT_NE(c.id(), exited);
  for (const auto& s : pods_->sandboxes()) EXPECT_NE(s.id(), dead);
  // The live pod is untouched.
  EXPECT_EQ(pods_->sandbox_state(live), runtime::v1::SANDBOX_READY);
}

TEST_F(GcOnContainerd, DryRunChangesNothingAndWritesNoHistory) {
  boot();
  images({"reg.test/a:1", "reg.test/b:1"});
  const auto before = tags();
  auto r = nodeimg({"gc", "--dry-run", "--max-images", "1"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("would remove"), std::string::npos) << r.out;
  EXPECT_EQ(tags(), before);
  EXPECT_FALSE(fs::exists(root_ / "var/lib/nodeimg/state.json"));
}

TEST_F(GcOnContainerd, KeepRulesAndKeepNewestHold) {
  boot();
  images({"reg.test/app:1", "reg.test/app:2", "reg.test/app:3", "reg.test/tool:1", "reg.test/tool:2", "other.test/x:1"});
  configure("  keep: [\"reg.test/app:2\", \"regex:^other\\\\.test/.*\"]\n  keepNewest: {reg.test/tool: 1}\n");
  auto report = gc_json({"--max-images", "1"});
  const auto left = tags();
  EXPECT_TRUE(left.contains("reg.test/app:2"));
  EXPECT_TRUE(left.contains("other.test/x:1"));
  EXPECT_TRUE(left.contains(kPause));
  EXPECT_FALSE(left.contains("reg.test/app:1"));
  EXPECT_FALSE(left.contains("reg.test/app:3"));
  // Exactly one of the tool images (the most recently used) is kept.
  EXPECT_EQ(left.contains("reg.test/tool:1") + left.contains("reg.test/tool:2"), 1) << report.dump(2);
}

TEST_F(GcOnContainerd, MaxImagesReachesItsCount) {
  boot();
  std::vector<std::string> specs;
  for (int i = 0; i < 12; ++i) specs.push_back("reg.test/many:" + std::to_string(i));
  images(specs);
  auto report = gc_json({"--max-images", "5"});
  EXPECT_EQ(pods_->images().size(), 5u);
  EXPECT_EQ(report["imagesAfter"], 5);
  EXPECT_TRUE(report["shortfalls"].empty());
  EXPECT_TRUE(tags().contains(kPause));
}

TEST_F(GcOnContainerd, ThresholdsFreeDownToLowOnARealFilesystem) {
  ContainerdOptions options;
  options.fs_size = "160M";
  boot(options);
  std::vector<std::string> specs;
  for (int i = 0; i < 8; ++i) specs.push_back("reg.test/big:" + std::to_string(i) + "=6MiB");
  images(specs);
  // Start just below the current usage and ask for about three images' worth back.
  auto probe = json::parse(nodeimg({"images", "--json"}).out);
  const double used = probe["filesystem"]["usage"]["usedPercent"];
  ASSERT_GT(used, 30.0) << "the images should fill the small filesystem";
  const int high = static_cast<int>(used) - 2;
  const int low = high - 18;
  auto report = gc_json({"--high", std::to_string(high) + "%", "--low", std::to_string(low) + "%", "--concurrency", "1"});
  const double after = report["filesystem"]["after"]["usedPercent"];
  EXPECT_LE(after, low) << report.dump(2);
  EXPECT_GT(report["bytesFreed"].get<std::uint64_t>(), 0u);
  const auto removed = count_removed(report, "image");
  EXPECT_GT(removed, 0u);
  EXPECT_LT(removed, 8u) << "it must free down to low, not everything";
  EXPECT_TRUE(report["plan"]["overHigh"]);
  // Below high now: the next run does nothing.
  auto again = gc_json({"--high", std::to_string(high) + "%", "--low", std::to_string(low) + "%"});
  EXPECT_EQ(count_removed(again, "image"), 0u);
}

TEST_F(GcOnContainerd, InodeThresholdCountsToo) {
  ContainerdOptions options;
  options.fs_inodes = 400;
  boot(options);
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

TEST_F(GcOnContainerd, HistoryPersistsAcrossRunsAndDrivesLruOrder) {
  boot();
  images({"reg.test/lru:old", "reg.test/lru:mid", "reg.test/lru:new"});
  gc_json();  // below high: removes nothing, records first seen
  auto first = json::parse(state());
  ASSERT_EQ(first["version"], 2);
  ASSERT_EQ(first["images"].size(), 4u);
  gc_json();
  auto second = json::parse(state());
  for (auto& [id, h] : first["images"].items()) EXPECT_EQ(second["images"][id]["firstSeen"], h["firstSeen"]) << id;

  // Rewrite the history as if the images had last been used 3, 2 and 1 days ago.
  std::map<std::string, std::string> id_of;
  for (const auto& i : pods_->images())
    for (const auto& t : i.repo_tags()) id_of[t] = i.id();
  const long long now = second["updatedAt"];
  second["images"][id_of["reg.test/lru:old"]]["lastUsed"] = now - 3 * 86400;
  second["images"][id_of["reg.test/lru:mid"]]["lastUsed"] = now - 2 * 86400;
  second["images"][id_of["reg.test/lru:new"]]["lastUsed"] = now - 1 * 86400;
  std::ofstream(root_ / "var/lib/nodeimg/state.json", std::ios::trunc) << second.dump();

  auto report = gc_json({"--max-images", "2", "--concurrency", "1"});
  ASSERT_EQ(count_removed(report, "image"), 2u) << report.dump(2);
  EXPECT_EQ(report["removed"][0]["name"], "reg.test/lru:old");
  EXPECT_EQ(report["removed"][1]["name"], "reg.test/lru:mid");
  EXPECT_EQ(tags(), (std::set<std::string>{kPause, "reg.test/lru:new"}));
  // Removed images are forgotten.
  EXPECT_EQ(json::parse(state())["images"].size(), 2u);
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
  auto real = CriRuntime::connect(containerd_->endpoint(), std::chrono::seconds(30));
  ASSERT_TRUE(real) << real.error().message;
  gc::Inventory inv;
  inv.images = *(*real)->list_images();
  inv.sandbox_images = *(*real)->sandbox_images();
  gc::Policy policy;
  policy.min_age = 0;
  policy.max_images = 1;
  const gc::Plan plan = gc::plan_collection(inv, {}, policy, 2'000'000'000);
  ASSERT_EQ(plan.removals(), 2u);  // both race images are planned

  const std::string sandbox = pods_->run_sandbox("late");
  RaceRuntime racing(**real, [&] { pods_->make_running(sandbox, "late", "reg.test/race:2"); });
  gc::RunReport report;
  execute_plan(racing, inv, plan, policy, [] { return Result<gc::FilesystemUsage>(gc::FilesystemUsage{}); },
               ExecutorOptions{1, false}, report);
  const auto left = tags();
  EXPECT_TRUE(left.contains("reg.test/race:2"));
  EXPECT_FALSE(left.contains("reg.test/race:1"));
  ASSERT_EQ(report.skipped.size(), 1u);
  EXPECT_NE(report.skipped[0].reason.find("came into use"), std::string::npos);
}

TEST_F(GcOnContainerd, ImagesListsUseProtectionAndTheNextGc) {
  boot();
  images({"reg.test/shown:1", "reg.test/shown:2"});
  const std::string pod = pods_->run_sandbox("p");
  pods_->make_running(pod, "c", "reg.test/shown:1");
  configure("  keep: [\"reg.test/shown:2\"]\n");
  auto r = nodeimg({"images", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = json::parse(r.out);
  ASSERT_EQ(j["images"].size(), 3u);
  std::map<std::string, json> by_tag;
  for (const auto& i : j["images"]) by_tag[i["tags"][0]] = i;
  EXPECT_EQ(by_tag["reg.test/shown:1"]["inUseBy"].size(), 1u);
  EXPECT_EQ(by_tag["reg.test/shown:1"]["nextGc"], "keep");
  EXPECT_NE(by_tag["reg.test/shown:2"]["reason"].get<std::string>().find("keep"), std::string::npos);
  EXPECT_NE(by_tag[kPause]["reason"].get<std::string>().find("sandbox"), std::string::npos);
  auto csv = nodeimg({"images", "--csv"});
  EXPECT_EQ(csv.exit_code, 0);
  EXPECT_EQ(std::count(csv.out.begin(), csv.out.end(), '\n'), 4);
  EXPECT_FALSE(fs::exists(root_ / "var/lib/nodeimg/state.json")) << "images is read-only";
}

TEST_F(GcOnContainerd, PrepullPullsFromALocalRegistryAndProtectsTheImage) {
  boot();
  images({"reg.test/filler:1"});
  auto registry = LocalRegistry::start();
  const std::string oci = (root_ / "one.tar").string();
  make_oci_single("reg.test/served:1", oci);
  const std::string ref = registry->push(oci, "served:1");
  configure("", "prepull: [\"" + ref + "\"]\n");
  auto r = nodeimg({"prepull", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = json::parse(r.out);
  EXPECT_EQ(j["pulled"], 1);
  EXPECT_TRUE(tags().contains(ref));
  auto again = json::parse(nodeimg({"prepull", "--json"}).out);
  EXPECT_EQ(again["present"], 1);
  gc_json({"--max-images", "1"});
  EXPECT_TRUE(tags().contains(ref));
  EXPECT_FALSE(tags().contains("reg.test/filler:1"));
  EXPECT_EQ(registry->stop(), 0);
}

TEST_F(GcOnContainerd, AStoppedRuntimeIsExitOneKeepsTheHistoryAndCountsTheFailure) {
  boot();
  images({"reg.test/a:1"});
  gc_json();
  const std::string recorded = state();
  ASSERT_FALSE(recorded.empty());
  ASSERT_EQ(containerd_->stop(), 0);
  fs::create_directories(root_ / "var/lib/prometheus/node-exporter");
  auto r = nodeimg({"gc"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find(containerd_->endpoint()), std::string::npos) << r.err;
  // The history stays as it was; the failed run is counted in the totals.
  const auto before = json::parse(recorded), after = json::parse(state());
  EXPECT_EQ(after["images"], before["images"]);
  EXPECT_EQ(after["totals"]["runs"]["success"], 1) << after.dump();
  EXPECT_EQ(after["totals"]["runs"]["failure"], 1) << after.dump();
  // The failure reaches Prometheus too.
  std::ifstream in(root_ / "var/lib/prometheus/node-exporter/nodeimg.prom");
  std::ostringstream metrics;
  metrics << in.rdbuf();
  EXPECT_NE(metrics.str().find("\nnodeimg_gc_last_run_success 0\n"), std::string::npos) << metrics.str();
  EXPECT_NE(metrics.str().find("\nnodeimg_gc_runtime_reachable 0\n"), std::string::npos) << metrics.str();
  EXPECT_NE(metrics.str().find("\nnodeimg_gc_runs_total{result=\"failure\"} 1\n"), std::string::npos) << metrics.str();
  containerd_.reset();
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
