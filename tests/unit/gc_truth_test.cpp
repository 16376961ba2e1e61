// The dry run tells the whole truth: over many generated nodes, what a real run removes is
// always among what the dry run lists as `remove` or `remove-if-needed` (and what `images`
// marks so), and in the worst case (every re-measurement still shows the pressure that
// started the run) the real run removes exactly that list. The planner is the one source:
// the dry run, `images` and the executor all read the same plan.
#include <mutex>
#include <random>
#include <set>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "commands/gc/gc_executor.hpp"
#include "core/gc/planner.hpp"
#include "core/gc/render.hpp"

namespace nodeimg {
namespace {

using gc::ContainerState;
using nlohmann::json;

constexpr gc::Seconds kNow = 1'800'000'000;
constexpr std::uint64_t kMiB = 1024ull * 1024;

// Removes whatever it is asked to and records it; lists the node's containers as they were.
class RecordingRuntime final : public ImageRuntime {
 public:
  explicit RecordingRuntime(const gc::Inventory& inv) : inv_(inv) {}
  const RuntimeInfo& info() const override { return info_; }
  Result<std::vector<gc::Image>> list_images() override { return inv_.images; }
  // The node's containers less those removed, and those that went with a removed sandbox.
  Result<std::vector<gc::Container>> list_containers() override {
    std::lock_guard lock(mutex_);
    std::vector<gc::Container> out;
    for (const auto& c : inv_.containers)
      if (!containers.contains(c.id) && !sandboxes.contains(c.sandbox_id)) out.push_back(c);
    return out;
  }
  Result<std::vector<gc::Sandbox>> list_sandboxes() override { return inv_.sandboxes; }
  Result<std::vector<std::string>> sandbox_images() override { return inv_.sandbox_images; }
  Result<std::string> image_filesystem() override { return std::string("/"); }
  Result<Outcome> remove_container(const std::string& id) override { return record(containers, id); }
  Result<Outcome> remove_sandbox(const std::string& id) override { return record(sandboxes, id); }
  Result<Outcome> remove_image(const gc::Image& image) override { return record(images, image.id); }
  Result<std::string> pull_image(const std::string& ref) override { return ref; }

  std::set<std::string> containers, sandboxes, images;

 private:
  Result<Outcome> record(std::set<std::string>& into, const std::string& id) {
    std::lock_guard lock(mutex_);
    into.insert(id);
    return Outcome::Removed;
  }
  const gc::Inventory& inv_;
  RuntimeInfo info_{"cri", "unix:///fake.sock", "fake", "1"};
  std::mutex mutex_;
};

// A node drawn from `rng`: images sharing a few repositories, some pinned, containers and
// sandboxes in every state referring to them by tag or id, a history, a disk anywhere from
// empty to full, and a policy with every rule on or off.
struct Node {
  gc::Inventory inv;
  gc::History history;
  gc::Policy policy;
};

Node generate(std::mt19937& rng) {
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  Node n;
  const int images = pick(30);
  for (int i = 0; i < images; ++i) {
    gc::Image img{.id = "sha256:" + std::string(56, 'a') + std::to_string(10'000'000 + i), .size = (1 + pick(200)) * kMiB};
    for (int t = pick(3); t > 0; --t) img.tags.push_back("reg.test/r" + std::to_string(pick(5)) + ":" + std::to_string(pick(9)));
    img.pinned = pick(10) == 0;
    n.history[img.id] = {.first_seen = kNow - pick(60) * 86400 - pick(7200), .last_used = kNow - pick(40) * 86400};
    n.inv.images.push_back(std::move(img));
  }
  const ContainerState states[] = {ContainerState::Created, ContainerState::Running, ContainerState::Exited,
                                   ContainerState::Unknown};
  for (int s = pick(4); s > 0; --s)
    n.inv.sandboxes.push_back({.id = "sb" + std::to_string(s), .name = "pod" + std::to_string(s), .ready = pick(2) == 0,
                               .created_at = kNow - pick(7200)});
  for (int c = images == 0 ? 0 : pick(12); c > 0; --c) {
    const auto& target = n.inv.images[static_cast<std::size_t>(pick(images))];
    n.inv.containers.push_back({.id = "c" + std::to_string(c), .name = "ctr" + std::to_string(c),
                                .sandbox_id = n.inv.sandboxes.empty() || pick(3) == 0 ? "" : n.inv.sandboxes[0].id,
                                .image = target.tags.empty() || pick(2) == 0 ? target.id : target.tags[0],
                                .state = states[pick(4)], .created_at = kNow - pick(3 * 86400)});
  }
  // Mostly under pressure (60 % to 100 % used), with what must be freed of the order of the
  // images' sizes: planned removals, reserves and shortfalls all come up.
  const std::uint64_t size = 3'000 * kMiB;
  n.inv.usage = {.mountpoint = "/", .size_bytes = size, .available_bytes = size / 100 * static_cast<std::uint64_t>(pick(41)),
                 .inodes = 1000, .inodes_free = static_cast<std::uint64_t>(pick(1001))};
  n.policy.min_age = pick(2) == 0 ? 0 : 3600 * pick(48);
  n.policy.max_unused_age = pick(3) == 0 ? 86400 * (1 + pick(30)) : 0;
  n.policy.max_images = pick(3) == 0 ? static_cast<std::size_t>(pick(20)) : 0;
  n.policy.container_min_age = pick(2) == 0 ? 0 : 3600;
  if (pick(3) == 0) n.policy.keep.push_back(*gc::ReferencePattern::parse("reg.test/r" + std::to_string(pick(5)) + ":*"));
  if (pick(4) == 0) n.policy.keep_newest["reg.test/r" + std::to_string(pick(5))] = 1 + pick(2);
  if (pick(4) == 0) n.policy.prepull.push_back("reg.test/r" + std::to_string(pick(5)) + ":" + std::to_string(pick(9)));
  n.policy.concurrency = 1 + pick(4);
  return n;
}

std::set<std::string> ids_where(const std::vector<gc::Decision>& decisions, bool (*pred)(const gc::Decision&)) {
  std::set<std::string> out;
  for (const auto& d : decisions)
    if (pred(d)) out.insert(d.id);
  return out;
}

// What the dry run's JSON lists for the images, by decision ("remove", "remove-if-needed").
std::map<std::string, std::string> dry_run_listing(const gc::Inventory& inv, const gc::Plan& plan, const gc::Policy& policy) {
  RecordingRuntime runtime(inv);
  gc::RunReport report{.dry_run = true, .runtime = "fake", .started_at = kNow, .before = inv.usage};
  execute_plan(runtime, inv, plan, policy, [&]() -> Result<gc::FilesystemUsage> { return inv.usage; },
               {.concurrency = 1, .dry_run = true}, report);
  EXPECT_TRUE(runtime.images.empty() && runtime.containers.empty() && runtime.sandboxes.empty());
  std::map<std::string, std::string> out;
  const json doc = json::parse(gc::render_gc_json({.report = report, .plan = plan, .policy = policy}));
  for (const auto& e : doc["removed"])
    if (e["kind"] == "image") out[e["id"]] = e["decision"];
  return out;
}

// The real run, with `measure` answering every re-measurement.
std::set<std::string> real_run(const gc::Inventory& inv, const gc::Plan& plan, const gc::Policy& policy,
                               const MeasureUsage& measure) {
  RecordingRuntime runtime(inv);
  gc::RunReport report{.runtime = "fake", .started_at = kNow, .before = inv.usage};
  execute_plan(runtime, inv, plan, policy, measure, {.concurrency = policy.concurrency, .dry_run = false}, report);
  for (const auto& c : runtime.containers)
    EXPECT_TRUE(ids_where(plan.containers, [](const gc::Decision& d) { return d.remove; }).contains(c)) << c;
  for (const auto& s : runtime.sandboxes)
    EXPECT_TRUE(ids_where(plan.sandboxes, [](const gc::Decision& d) { return d.remove; }).contains(s)) << s;
  return runtime.images;
}

TEST(GcTruth, ARealRunRemovesOnlyWhatTheDryRunAndImagesListAndAtWorstAllOfIt) {
  std::mt19937 rng(20261129);
  std::size_t with_reserves = 0, reserves_taken = 0;
  for (int round = 0; round < 400; ++round) {
    const Node node = generate(rng);
    const gc::History history = gc::update_history(node.history, node.inv, kNow);
    const gc::Plan plan = gc::plan_collection(node.inv, history, node.policy, kNow);
    SCOPED_TRACE("round " + std::to_string(round));
    const auto listed = dry_run_listing(node.inv, plan, node.policy);
    const auto view = gc::images_view(node.inv, plan, node.policy, "fake", kNow);
    std::map<std::string, std::string> marked;
    const json images = json::parse(gc::render_images_json(view));
    for (const auto& e : images["images"]) marked[e["id"]] = e["nextGc"];

    const auto planned = ids_where(plan.images, [](const gc::Decision& d) { return d.remove || d.reserve; });
    std::set<std::string> from_listing;
    for (const auto& [id, decision] : listed) from_listing.insert(id);
    EXPECT_EQ(from_listing, planned) << "the dry run lists every removal and every reserve";
    for (const auto& [id, decision] : listed) EXPECT_EQ(marked.at(id), decision) << id << ": images and gc --dry-run agree";

    // Worst case: the disk never looks any better than before the run.
    const auto worst = real_run(node.inv, plan, node.policy, [&]() -> Result<gc::FilesystemUsage> { return node.inv.usage; });
    for (const auto& id : worst) EXPECT_TRUE(listed.contains(id)) << id << " removed but not listed by the dry run";
    if (plan.over_high || plan.inode_pressure) {
      EXPECT_EQ(worst, planned) << "under pressure that never lifts, the run takes every reserve";
    }
    with_reserves += plan.reserves() > 0 ? 1 : 0;
    for (const auto& id : worst) reserves_taken += listed.at(id) == "remove-if-needed" ? 1 : 0;

    // Any other course of the disk: the pressure lifts after a random number of measurements.
    const int lift_after = static_cast<int>(rng() % 5);
    int measured = 0;
    const auto some = real_run(node.inv, plan, node.policy, [&]() -> Result<gc::FilesystemUsage> {
      if (measured++ < lift_after) return node.inv.usage;
      gc::FilesystemUsage empty = node.inv.usage;
      empty.available_bytes = empty.size_bytes;
      empty.inodes_free = empty.inodes;
      return empty;
    });
    for (const auto& id : some) EXPECT_TRUE(listed.contains(id)) << id << " removed but not listed by the dry run";
  }
  // The generator must reach the case this test is about.
  EXPECT_GT(with_reserves, 20u);
  EXPECT_GT(reserves_taken, 20u);
}

}  // namespace
}  // namespace nodeimg
