// The executor against a recording fake runtime: what it removes, skips and records, and
// when it stops. The real runtimes are exercised by the integration tests.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>

#include <gtest/gtest.h>

#include "commands/gc/gc_executor.hpp"
#include "core/gc/planner.hpp"

namespace nodeimg {
namespace {

using gc::ContainerState;
using Outcome = ImageRuntime::Outcome;

class FakeRuntime final : public ImageRuntime {
 public:
  RuntimeInfo info_{"cri", "unix:///fake.sock", "fake", "0"};
  std::vector<gc::Container> containers;         // what list_containers returns
  std::map<std::string, Outcome> image_outcome;  // default Removed
  std::set<std::string> image_errors;            // ids whose removal fails
  std::vector<std::string> removed_images, removed_containers, removed_sandboxes;
  std::function<void()> on_list_containers;      // e.g. a container appears
  bool container_dead = false;                   // remove_container answers Unavailable
  int in_flight = 0, max_in_flight = 0;  // removals inside remove_image, under `mutex`
  // How long a removal holds its slot waiting for others to join it (see remove_image).
  std::chrono::milliseconds hold{0};
  std::mutex mutex;
  std::condition_variable joined;

  const RuntimeInfo& info() const override { return info_; }
  Result<std::vector<gc::Image>> list_images() override { return std::vector<gc::Image>{}; }
  Result<std::vector<gc::Container>> list_containers() override {
    if (on_list_containers) on_list_containers();
    if (dead()) return std::unexpected(gone("list containers"));
    return containers;
  }
  // The runtime dies after this many image removals: every call after answers Unavailable.
  int die_after_images = -1;
  int calls_after_death = 0;
  bool dead() {
    std::lock_guard lock(mutex);
    return die_after_images >= 0 && static_cast<int>(removed_images.size()) >= die_after_images;
  }
  Error gone(const std::string& action) {
    ++calls_after_death;
    return Error{.message = action + " via CRI unix:///fake.sock: Unavailable: connection refused", .unreachable = true};
  }
  Result<std::vector<gc::Sandbox>> list_sandboxes() override { return std::vector<gc::Sandbox>{}; }
  Result<std::vector<std::string>> sandbox_images() override { return std::vector<std::string>{}; }
  Result<std::string> image_filesystem() override { return std::string("/"); }
  Result<Outcome> remove_container(const std::string& id) override {
    if (container_dead) return std::unexpected(gone("remove container " + id));
    std::lock_guard lock(mutex);
    removed_containers.push_back(id);
    return Outcome::Removed;
  }
  Result<Outcome> remove_sandbox(const std::string& id) override {
    std::lock_guard lock(mutex);
    removed_sandboxes.push_back(id);
    return Outcome::Removed;
  }
  // A removal is in flight from entry to return, and holds its slot while it "works": it
  // waits (up to `hold`) for more removals than the executor may run at once to join it, so
  // that an executor over its bound is seen over it, whatever the thread scheduling.
  Result<Outcome> remove_image(const gc::Image& image) override {
    if (dead()) return std::unexpected(gone("remove image \"" + image.id + "\""));
    std::unique_lock lock(mutex);
    max_in_flight = std::max(max_in_flight, ++in_flight);
    joined.notify_all();
    if (hold.count() > 0) joined.wait_for(lock, hold, [&] { return in_flight > hold_until; });
    --in_flight;
    if (image_errors.contains(image.id)) return fail("remove image \"" + image.id + "\" via fake: Internal: boom");
    removed_images.push_back(image.id);
    auto it = image_outcome.find(image.id);
    return it == image_outcome.end() ? Outcome::Removed : it->second;
  }
  int hold_until = 0;  // with `hold`: stop waiting once more than this many are in flight
  Result<std::string> pull_image(const std::string& ref) override { return ref; }
  // Reclaim modes as the executor asked, batch by batch ("now" or "deferred"), and a
  // "reclaim" entry per reclaim_space call.
  std::vector<std::string> reclaim_log;
  std::function<void()> on_reclaim;
  std::vector<Result<Outcome>> remove_images(const std::vector<gc::Image>& images, int concurrency,
                                             Reclaim reclaim) override {
    reclaim_log.push_back(reclaim == Reclaim::Now ? "now" : "deferred");
    return ImageRuntime::remove_images(images, concurrency);
  }
  using ImageRuntime::remove_images;
  Result<void> reclaim_space() override {
    reclaim_log.push_back("reclaim");
    if (on_reclaim) on_reclaim();
    return {};
  }
};

long count_of(const std::vector<std::string>& log, const std::string& what) {
  return std::count(log.begin(), log.end(), what);
}

constexpr gc::Seconds kNow = 1'800'000'000;
constexpr std::uint64_t kGiB = 1024ull * 1024 * 1024;

gc::Inventory inventory_of(int n_images, double used_percent) {
  gc::Inventory inv;
  for (int i = 0; i < n_images; ++i)
    inv.images.push_back({"sha256:" + std::string(60, 'a') + std::to_string(1000 + i), {"reg.test/app:" + std::to_string(i)}, {},
                          kGiB, false});
  inv.usage = {"/", 100 * kGiB, static_cast<std::uint64_t>((100 - used_percent) * static_cast<double>(kGiB)), 1000, 900};
  return inv;
}

// History: image i last used i hours ago, so the oldest index is the least recently used.
gc::History history_of(const gc::Inventory& inv) {
  gc::History h;
  for (std::size_t i = 0; i < inv.images.size(); ++i)
    h[inv.images[i].id] = {kNow - 86400 * 30, kNow - 3600 * static_cast<gc::Seconds>(inv.images.size() - i)};
  return h;
}

struct GcRun {
  FakeRuntime runtime;
  gc::Inventory inv;
  gc::Policy policy;
  gc::Plan plan;
  gc::RunReport report;
  std::vector<gc::FilesystemUsage> measurements;  // successive answers of measure()
  std::size_t measured = 0;
  bool measure_fails = false;  // every re-measure answers an error

  void go(bool dry_run = false) {
    plan = gc::plan_collection(inv, history_of(inv), policy, kNow);
    report.before = inv.usage;
    execute_plan(runtime, inv, plan, policy,
                 [&]() -> Result<gc::FilesystemUsage> {
                   if (measure_fails) return fail("statvfs /var/lib/containerd: Input/output error");
                   if (measurements.empty()) return inv.usage;
                   return measurements[std::min(measured++, measurements.size() - 1)];
                 },
                 ExecutorOptions{.concurrency = policy.concurrency, .dry_run = dry_run}, report);
  }
};

TEST(GcExecutor, DryRunRemovesNothingButReportsThePlan) {
  GcRun r;
  r.inv = inventory_of(5, 90);
  r.policy.min_age = 0;
  r.go(/*dry_run=*/true);
  EXPECT_TRUE(r.runtime.removed_images.empty());
  EXPECT_EQ(r.report.count(gc::ObjectKind::Image), r.plan.removals());
  EXPECT_GT(r.report.count(gc::ObjectKind::Image), 0u);
}

TEST(GcExecutor, ImageThatComesIntoUseBetweenPlanAndDeleteIsNotRemoved) {
  GcRun r;
  r.inv = inventory_of(3, 0);
  r.policy.min_age = 0;
  r.policy.max_images = 1;  // plans the two least recently used: app:0 and app:1
  const std::string victim = r.inv.images[0].id;
  r.runtime.on_list_containers = [&] {
    r.runtime.containers = {{"c1", "late", "", "reg.test/app:0", "", ContainerState::Created, kNow}};
  };
  r.go();
  EXPECT_EQ(std::count(r.runtime.removed_images.begin(), r.runtime.removed_images.end(), victim), 0);
  ASSERT_EQ(r.report.skipped.size(), 1u);
  EXPECT_EQ(r.report.skipped[0].id, victim);
  EXPECT_NE(r.report.skipped[0].reason.find("came into use"), std::string::npos);
  EXPECT_EQ(r.runtime.removed_images, std::vector<std::string>{r.inv.images[1].id});
}

TEST(GcExecutor, NotFoundCountsAsDoneInUseAsSkippedAndErrorsDoNotStopTheRun) {
  GcRun r;
  r.inv = inventory_of(4, 0);
  r.policy.min_age = 0;
  r.policy.max_images = 1;
  r.policy.concurrency = 1;
  r.runtime.image_outcome[r.inv.images[0].id] = Outcome::NotFound;
  r.runtime.image_outcome[r.inv.images[1].id] = Outcome::InUse;
  r.runtime.image_errors.insert(r.inv.images[2].id);
  r.go();
  EXPECT_EQ(r.report.count(gc::ObjectKind::Image), 1u);  // the NotFound one
  ASSERT_EQ(r.report.skipped.size(), 1u);
  EXPECT_EQ(r.report.skipped[0].id, r.inv.images[1].id);
  ASSERT_EQ(r.report.failures.size(), 1u);
  EXPECT_NE(r.report.failures[0].message.find("boom"), std::string::npos);
}

TEST(GcExecutor, StopsThresholdRemovalsOnceReMeasuringShowsLowIsReached) {
  GcRun r;
  r.inv = inventory_of(20, 80);
  r.policy.min_age = 0;
  r.policy.high = {gc::Threshold::Kind::UsedPercent, 75, 0, "75%"};
  r.policy.low = {gc::Threshold::Kind::UsedPercent, 65, 0, "65%"};
  r.policy.concurrency = 2;
  // Images free more than their sizes say: after the first step usage is already low. The
  // first step plans half the 15 GiB shortfall: 7 images of 1 GiB.
  auto u = r.inv.usage;
  u.available_bytes = 40 * kGiB;
  r.measurements = {u};
  r.go();
  EXPECT_EQ(r.runtime.removed_images.size(), 7u);
  EXPECT_TRUE(r.report.stopped_at_low);
  EXPECT_GT(r.report.skipped.size(), 0u);
  EXPECT_EQ(r.report.after.available_bytes, 40 * kGiB);
}

TEST(GcExecutor, WhenRemovalsFreeLessThanTheirSizesItGoesOnWithTheReserves) {
  GcRun r;
  r.inv = inventory_of(20, 80);  // 80 GiB used of 100; low 65%: the plan selects 15 x 1 GiB
  r.policy.min_age = 0;
  r.policy.concurrency = 5;
  auto u = r.inv.usage;
  // Each batch frees only 2 GiB (shared layers): 78, 76, 74, then the reserves one by one.
  std::vector<gc::FilesystemUsage> seen;
  for (int freed = 2; freed <= 10; freed += 2) {  // never below 70 % used
    u.available_bytes = static_cast<std::uint64_t>(20 + freed) * kGiB;
    seen.push_back(u);
  }
  r.measurements = seen;
  r.go();
  EXPECT_EQ(r.runtime.removed_images.size(), 20u) << "all selected, then all five reserves";
  ASSERT_EQ(r.report.shortfalls.size(), 1u);
  EXPECT_EQ(r.report.shortfalls[0].kind, gc::Shortfall::Kind::Low);
  EXPECT_NE(r.report.shortfalls[0].message.find("still"), std::string::npos) << r.report.shortfalls[0].message;
}

TEST(GcExecutor, ReservesGoInMeasuredStepsAndStopOnceLowIsMeasured) {
  GcRun r;
  r.inv = inventory_of(60, 80);  // 15 selected, 45 reserves
  r.policy.min_age = 0;
  r.policy.concurrency = 5;
  auto u = r.inv.usage;
  std::vector<gc::FilesystemUsage> seen;
  // The 15 selected: 7 images free 2 GiB (scale 2), the other 8 free 2 GiB (scale 4). The
  // reserves: 4 x half of 11 GiB = 22 images free 6 GiB (scale 22/6), then 9 reach 60 %.
  for (int available : {22, 24, 30, 40}) {
    u.available_bytes = static_cast<std::uint64_t>(available) * kGiB;
    seen.push_back(u);
  }
  r.measurements = seen;
  r.go();
  EXPECT_EQ(r.runtime.removed_images.size(), 15u + 22u + 9u) << "then low: the other 14 reserves stay";
  EXPECT_EQ(count_of(r.runtime.reclaim_log, "now"), 4) << "one measured batch per step";
  EXPECT_TRUE(r.report.shortfalls.empty()) << r.report.shortfalls[0].message;
  const gc::Removal& last = r.report.removed.back();
  EXPECT_NE(last.reason.find("shared layers"), std::string::npos) << last.reason;
}

TEST(GcExecutor, MaxImagesSelectionsContinueAfterLowIsReached) {
  GcRun r;
  r.inv = inventory_of(10, 80);
  r.policy.min_age = 0;
  r.policy.max_images = 4;  // six must go whatever the disk
  r.policy.concurrency = 2;
  auto u = r.inv.usage;
  u.available_bytes = 60 * kGiB;
  r.measurements = {u};
  r.go();
  EXPECT_EQ(r.runtime.removed_images.size(), 6u);
}

TEST(GcExecutor, NeverMoreRemovalsInFlightThanConcurrency) {
  GcRun r;
  r.inv = inventory_of(40, 0);
  r.policy.min_age = 0;
  r.policy.max_images = 1;
  r.policy.concurrency = 3;
  // Each removal waits for a fourth to join it: one does only if the bound is broken.
  r.runtime.hold = std::chrono::milliseconds(20);
  r.runtime.hold_until = 3;
  r.go();
  EXPECT_EQ(r.runtime.removed_images.size(), 39u);
  EXPECT_LE(r.runtime.max_in_flight, 3);
}

TEST(GcExecutor, AFailedReMeasureIsAWarningAndTakesNoReserves) {
  GcRun r;
  r.inv = inventory_of(20, 80);  // 80 GiB used of 100; low 65%: the plan selects 15 x 1 GiB, 5 reserves
  r.policy.min_age = 0;
  r.policy.concurrency = 5;
  r.measure_fails = true;
  r.go();
  EXPECT_EQ(r.runtime.removed_images.size(), 15u) << "the plan's selection, and not one reserve on a guess";
  ASSERT_FALSE(r.report.warnings.empty());
  EXPECT_NE(r.report.warnings[0].find("Input/output error"), std::string::npos) << r.report.warnings[0];
  EXPECT_NE(r.report.warnings[0].find("re-measure"), std::string::npos) << r.report.warnings[0];
  EXPECT_TRUE(r.report.failures.empty());
  EXPECT_EQ(r.report.after.available_bytes, r.inv.usage.available_bytes) << "no measurement: the last one stands";
  EXPECT_FALSE(r.report.stopped_at_low);
}

TEST(GcExecutor, MaxImagesRemovalsGoInLargerBatchesThanThresholdRemovals) {
  GcRun r;
  r.inv = inventory_of(41, 0);
  r.policy.min_age = 0;
  r.policy.max_images = 1;
  r.policy.concurrency = 2;
  int relists = 0;
  r.runtime.on_list_containers = [&] { ++relists; };
  r.go();
  EXPECT_EQ(r.runtime.removed_images.size(), 40u);
  EXPECT_EQ(relists, 3) << "batches of 16 (8 x concurrency): 16 + 16 + 8";

  GcRun t;
  t.inv = inventory_of(20, 99);  // nothing ever brings usage down: every candidate goes
  t.policy.min_age = 0;
  t.policy.concurrency = 2;
  int threshold_relists = 0;
  t.runtime.on_list_containers = [&] { ++threshold_relists; };
  t.go();
  EXPECT_EQ(t.runtime.removed_images.size(), 20u);
  EXPECT_EQ(threshold_relists, 3)
      << "threshold steps of half the 34 GiB shortfall (17 images), in batches of at most 16: 16 + 1, then 3";
  EXPECT_EQ(count_of(t.runtime.reclaim_log, "now"), 2) << "each step's last batch reclaims the space and is measured";
}

TEST(GcExecutor, ExitedContainersAndSandboxesGoFirst) {
  GcRun r;
  r.inv = inventory_of(1, 0);
  r.inv.containers = {{"c-exited", "old", "s1", "reg.test/app:0", "", ContainerState::Exited, kNow - 7200}};
  r.inv.sandboxes = {{"s1", "ns/pod", false, kNow - 7200, ""}};
  r.policy.min_age = 0;
  r.go();
  EXPECT_EQ(r.runtime.removed_containers, std::vector<std::string>{"c-exited"});
  EXPECT_EQ(r.runtime.removed_sandboxes, std::vector<std::string>{"s1"});
}

TEST(GcExecutor, ARuntimeThatDiesMidRunStopsTheRunAndIsReportedOnce) {
  GcRun r;
  r.inv = inventory_of(40, 0);
  r.policy.min_age = 0;
  r.policy.max_images = 1;  // 39 planned
  r.policy.concurrency = 1;
  r.runtime.die_after_images = 5;
  r.go();
  EXPECT_EQ(r.runtime.removed_images.size(), 5u);
  EXPECT_EQ(r.report.count(gc::ObjectKind::Image), 5u);
  EXPECT_TRUE(r.report.failures.empty()) << "an outage is not a failed removal: " << r.report.failures[0].message;
  EXPECT_FALSE(r.report.runtime_reached);
  EXPECT_TRUE(r.report.failed());
  EXPECT_NE(r.report.outage.find("Unavailable"), std::string::npos) << r.report.outage;
  EXPECT_NE(r.report.outage.find("34 planned removal(s) not attempted"), std::string::npos) << r.report.outage;
  EXPECT_LE(r.runtime.calls_after_death, 1) << "nothing more is tried once the runtime is gone";
  EXPECT_TRUE(r.report.shortfalls.empty() || r.report.shortfalls[0].kind == gc::Shortfall::Kind::MaxImages);
}

TEST(GcExecutor, ARuntimeLostWhileRemovingContainersTriesNoImage) {
  GcRun r;
  r.inv = inventory_of(3, 0);
  r.inv.containers = {{"c1", "a", "", "reg.test/app:0", "", ContainerState::Exited, kNow - 7200},
                      {"c2", "b", "", "reg.test/app:1", "", ContainerState::Exited, kNow - 7200}};
  r.policy.min_age = 0;
  r.policy.max_images = 1;
  r.policy.concurrency = 1;
  r.runtime.container_dead = true;
  r.go();
  EXPECT_TRUE(r.runtime.removed_images.empty());
  EXPECT_EQ(r.runtime.calls_after_death, 1);
  EXPECT_TRUE(r.report.failures.empty());
  EXPECT_FALSE(r.report.runtime_reached);
  EXPECT_NE(r.report.outage.find("remove container c1"), std::string::npos) << r.report.outage;
}

TEST(GcExecutor, AnOrdinaryErrorIsAFailureAndTheRunGoesOn) {
  GcRun r;
  r.inv = inventory_of(5, 0);
  r.policy.min_age = 0;
  r.policy.max_images = 1;
  r.policy.concurrency = 1;
  r.runtime.image_errors.insert(r.inv.images[0].id);
  r.go();
  EXPECT_EQ(r.runtime.removed_images.size(), 3u);
  EXPECT_EQ(r.report.failures.size(), 1u);
  EXPECT_TRUE(r.report.runtime_reached);
  EXPECT_TRUE(r.report.outage.empty());
}

TEST(GcExecutor, AnImageWithDependentsIsSkippedWithItsReason) {
  GcRun r;
  r.inv = inventory_of(2, 0);
  r.policy.min_age = 0;
  r.policy.max_images = 1;
  r.runtime.image_outcome[r.inv.images[0].id] = Outcome::HasDependents;
  r.go();
  ASSERT_EQ(r.report.skipped.size(), 1u);
  EXPECT_NE(r.report.skipped[0].reason.find("built on it"), std::string::npos) << r.report.skipped[0].reason;
  EXPECT_EQ(r.report.count(gc::ObjectKind::Image), 0u);
}

TEST(GcExecutor, MaxImagesBatchesDeferReclaimingToOneReclaimAtTheEnd) {
  GcRun r;
  r.inv = inventory_of(41, 0);
  r.policy.min_age = 0;
  r.policy.max_images = 1;
  r.policy.concurrency = 2;
  int containers_listed = 0;
  r.runtime.on_list_containers = [&] { ++containers_listed; };
  int measured_at_reclaim = -1;
  r.runtime.on_reclaim = [&] { measured_at_reclaim = static_cast<int>(r.measured); };
  r.measurements = {r.inv.usage};
  r.go();
  EXPECT_EQ(r.runtime.removed_images.size(), 40u);
  EXPECT_EQ(r.runtime.reclaim_log, (std::vector<std::string>{"deferred", "deferred", "deferred", "reclaim"}));
  EXPECT_EQ(containers_listed, 3) << "containers are still listed again before every batch";
  EXPECT_EQ(measured_at_reclaim, 0) << "nothing is measured before the space is reclaimed";
  EXPECT_GE(r.measured, 1u) << "the final usage is measured after the reclaim";
}

TEST(GcExecutor, PendingSpaceIsReclaimedAndMeasuredBeforeAThresholdBatch) {
  GcRun r;
  r.inv = inventory_of(20, 80);  // over high 75 %
  r.policy.min_age = 0;
  r.policy.max_images = 16;  // four must go whatever the disk, then threshold removals
  r.policy.concurrency = 2;
  // Once the four are reclaimed the disk is already below low: no threshold image goes.
  auto u = r.inv.usage;
  u.available_bytes = 40 * kGiB;
  r.measurements = {u};
  r.go();
  EXPECT_EQ(r.runtime.reclaim_log, (std::vector<std::string>{"deferred", "reclaim"}))
      << "the four deferred, reclaimed and measured before a threshold step opens; it then had nothing to do";
  EXPECT_EQ(r.runtime.removed_images.size(), 4u);
  EXPECT_TRUE(r.report.stopped_at_low);
}

TEST(GcExecutor, ThresholdStepsNeverPlanMoreThanHalfTheMeasuredShortfall) {
  GcRun r;
  r.inv = inventory_of(30, 80);  // 15 GiB short of low 65 %: the plan selects 15 x 1 GiB
  r.policy.min_age = 0;
  r.policy.concurrency = 1;
  auto u = r.inv.usage;
  std::vector<gc::FilesystemUsage> seen;
  for (int available : {27, 31, 35}) {  // 7 GiB, 4 GiB, then 4 GiB (about twice their sizes)
    u.available_bytes = static_cast<std::uint64_t>(available) * kGiB;
    seen.push_back(u);
  }
  r.measurements = seen;
  r.go();
  EXPECT_EQ(r.runtime.removed_images.size(), 13u) << "7 (of 15 short), 4 (of 8 short), 2 (of 4 short): then low";
  EXPECT_EQ(count_of(r.runtime.reclaim_log, "now"), 3);
  EXPECT_EQ(count_of(r.runtime.reclaim_log, "deferred"), 0);
  EXPECT_TRUE(r.report.stopped_at_low);
}

TEST(GcExecutor, AStepThatFreedLessThanItsSizesMakesTheNextOneLarger) {
  GcRun r;
  r.inv = inventory_of(100, 80);
  r.policy.min_age = 0;
  r.policy.concurrency = 1;
  r.policy.low = {gc::Threshold::Kind::UsedPercent, 30, 0, "30%"};  // 50 GiB short: 50 images selected
  auto first = r.inv.usage, second = r.inv.usage;
  first.available_bytes = 20 * kGiB + kGiB / 4 * 25;  // 25 images freed a quarter of their sizes
  second.available_bytes = 75 * kGiB;
  r.measurements = {first, second};
  r.go();
  // Step 1: half of 50 GiB = 25 images, freeing 6.25 GiB: the scale becomes 2 (at most
  // twice 1), so step 2 plans 2 x half of 43.75 GiB: the 25 selected images left. At a fixed
  // half of the shortfall by sizes it would have planned 21.
  EXPECT_EQ(r.runtime.removed_images.size(), 50u);
  EXPECT_EQ(count_of(r.runtime.reclaim_log, "now"), 2);
  EXPECT_TRUE(r.report.shortfalls.empty());
}

TEST(GcExecutor, AnImageThatComesIntoUseDuringDeferredBatchesIsNotRemoved) {
  // Deferring the collection must not defer the re-list: a container created after the
  // first batch protects its image in the next one.
  GcRun r;
  r.inv = inventory_of(41, 0);
  r.policy.min_age = 0;
  r.policy.max_images = 1;
  r.policy.concurrency = 2;  // batches of 16
  const gc::Image& late = r.inv.images[20];  // in the second batch
  int lists = 0;
  r.runtime.on_list_containers = [&] {
    if (++lists == 2) r.runtime.containers = {{"c1", "late", "", late.tags[0], "", ContainerState::Running, kNow}};
  };
  r.go();
  EXPECT_EQ(r.runtime.removed_images.size(), 39u);
  EXPECT_EQ(std::count(r.runtime.removed_images.begin(), r.runtime.removed_images.end(), late.id), 0);
  ASSERT_EQ(r.report.skipped.size(), 1u);
  EXPECT_EQ(r.report.skipped[0].code, gc::SkipCode::CameIntoUse);
}

}  // namespace
}  // namespace nodeimg
