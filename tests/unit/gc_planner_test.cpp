// The collector's planner: a fake clock (plain Seconds values), table-driven cases, and a
// property test over thousands of random inventories.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <set>

#include <fmt/format.h>

#include "core/gc/planner.hpp"

namespace nodeimg::gc {
// gtest prints a parameter through PrintTo found by argument-dependent lookup: it must be in
// the enum's own namespace, not the anonymous one.
inline void PrintTo(ContainerState s, std::ostream* os) { *os << to_string(s); }

namespace {

constexpr Seconds kNow = 1'800'000'000;
constexpr Seconds kMinute = 60;
constexpr Seconds kHour = 3600;
constexpr Seconds kDay = 86400;
constexpr std::uint64_t kGiB = 1ULL << 30;

std::string id_of(char c) { return "sha256:" + std::string(64, c); }
std::string hex_of(char c) { return std::string(64, c); }

Image image(char c, std::vector<std::string> tags = {}, std::uint64_t size = 1 * kGiB) {
  Image i;
  i.id = id_of(c);
  i.tags = std::move(tags);
  i.size = size;
  return i;
}

Container container(std::string id, std::string image_ref, ContainerState state, Seconds created_at = kNow - 2 * kDay,
                    std::string sandbox = "") {
  Container c;
  c.id = std::move(id);
  c.name = c.id + "-name";
  c.image = std::move(image_ref);
  c.state = state;
  c.created_at = created_at;
  c.sandbox_id = std::move(sandbox);
  return c;
}

Sandbox sandbox(std::string id, bool ready, Seconds created_at = kNow - 2 * kDay, std::string image_ref = "") {
  Sandbox s;
  s.id = std::move(id);
  s.name = s.id + "-pod";
  s.ready = ready;
  s.created_at = created_at;
  s.image = std::move(image_ref);
  return s;
}

// A policy that removes only what a test asks for: no thresholds reached, no age limits.
Policy quiet_policy() {
  Policy p;
  p.min_age = 0;
  p.max_unused_age = 0;
  p.max_images = 0;
  p.container_min_age = kHour;
  p.sandbox_min_age = 10 * kMinute;
  return p;
}

// Every image unused for `days` days, first seen a day earlier.
History aged(const Inventory& inv, Seconds days) {
  History h;
  for (const auto& i : inv.images) h[i.id] = {kNow - (days + 1) * kDay, kNow - days * kDay};
  return h;
}

FilesystemUsage disk(std::uint64_t capacity, std::uint64_t available, std::uint64_t inodes = 1'000'000,
                     std::uint64_t inodes_free = 900'000) {
  return FilesystemUsage{"/var/lib/containerd", capacity, available, inodes, inodes_free};
}

const Decision& decision(const std::vector<Decision>& list, const std::string& id) {
  auto it = std::find_if(list.begin(), list.end(), [&](const Decision& d) { return d.id == id; });
  if (it == list.end()) throw std::runtime_error("no decision for " + id);
  return *it;
}

std::vector<std::string> removed(const std::vector<Decision>& list) {
  std::vector<std::string> out;
  for (const auto& d : list)
    if (d.remove) out.push_back(d.id);
  return out;
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// ---------------------------------------------------------------------------------------
// refers_to

struct Ref {
  std::string name;
  std::string ref;
  bool match;
};
void PrintTo(const Ref& r, std::ostream* os) { *os << r.name << ": " << ::testing::PrintToString(r.ref); }
class RefersTo : public ::testing::TestWithParam<Ref> {};

TEST_P(RefersTo, MatchesByIdTagOrDigest) {
  Image i = image('a', {"docker.io/library/busybox:latest", "ghcr.io/org/app:1.2"});
  i.digests = {"docker.io/library/busybox@sha256:" + hex_of('d')};
  EXPECT_EQ(refers_to(i, GetParam().ref), GetParam().match) << GetParam().ref;
  const std::vector<std::size_t> expected = GetParam().match ? std::vector<std::size_t>{0} : std::vector<std::size_t>{};
  const std::vector<Image> images = {i};
  EXPECT_EQ(ReferenceIndex(images).lookup(GetParam().ref), expected) << GetParam().ref;
}

TEST(ReferenceIndex, AnswersWithTheIndicesGivenAscendingAndOnceEach) {
  Image a = image('a', {"busybox:1", "docker.io/library/busybox:1"});
  a.digests = {"docker.io/library/busybox@sha256:" + hex_of('d'), "ghcr.io/org/busybox@sha256:" + hex_of('d')};
  Image b = image('b', {"busybox:1"});
  ReferenceIndex index;
  index.add(a, 7);
  index.add(b, 3);
  index.add(a, 5);  // an id listed twice
  EXPECT_EQ(index.lookup("busybox:1"), (std::vector<std::size_t>{3, 5, 7}));
  EXPECT_EQ(index.lookup("sha256:" + hex_of('d')), (std::vector<std::size_t>{5, 7}));
  EXPECT_EQ(index.lookup("quay.io/x/y:2@sha256:" + hex_of('d')), (std::vector<std::size_t>{5, 7}));
  EXPECT_EQ(index.lookup(hex_of('b')), (std::vector<std::size_t>{3}));
  EXPECT_EQ(index.lookup(""), (std::vector<std::size_t>{}));
  EXPECT_EQ(ReferenceIndex{}.lookup("busybox:1"), (std::vector<std::size_t>{}));
}

INSTANTIATE_TEST_SUITE_P(
    Cases, RefersTo,
    ::testing::Values(Ref{"full_id", id_of('a'), true}, Ref{"bare_id", hex_of('a'), true},
                      Ref{"other_id", id_of('b'), false}, Ref{"other_bare_id", hex_of('b'), false},
                      Ref{"full_tag", "ghcr.io/org/app:1.2", true}, Ref{"short_name", "busybox", true},
                      Ref{"short_name_latest", "busybox:latest", true}, Ref{"library_name", "library/busybox", true},
                      Ref{"hub_without_library", "docker.io/busybox", true}, Ref{"other_tag", "busybox:1.36", false},
                      Ref{"digest_ref", "docker.io/library/busybox@sha256:" + hex_of('d'), true},
                      Ref{"short_digest_ref", "busybox@sha256:" + hex_of('d'), true},
                      Ref{"digest_ref_with_tag", "busybox:9@sha256:" + hex_of('d'), true},
                      Ref{"digest_ref_via_mirror", "mirror.local/library/busybox@sha256:" + hex_of('d'), true},
                      Ref{"bare_manifest_digest", "sha256:" + hex_of('d'), true},
                      Ref{"other_digest", "busybox@sha256:" + hex_of('e'), false}, Ref{"empty", "", false},
                      Ref{"other_repo", "ghcr.io/org/app2:1.2", false}),
    [](const auto& param_info) { return param_info.param.name; });

// ---------------------------------------------------------------------------------------
// Images: ordering and selection

TEST(GcPlanner, CandidatesAreRemovedInLeastRecentlyUsedOrder) {
  Inventory inv;
  inv.images = {image('a'), image('b'), image('c'), image('d'), image('e')};
  History h{{id_of('a'), {kNow - 9 * kDay, kNow - 3 * kDay}},
            {id_of('b'), {kNow - 9 * kDay, kNow - 5 * kDay}},
            {id_of('c'), {kNow - 8 * kDay, kNow - 4 * kDay}},   // ties d on last used, seen later
            {id_of('d'), {kNow - 9 * kDay, kNow - 4 * kDay}},
            {id_of('e'), {kNow - 8 * kDay, kNow - 4 * kDay}}};  // ties c on both: by id
  Policy p = quiet_policy();
  p.max_unused_age = kDay;
  auto plan = plan_collection(inv, h, p, kNow);
  EXPECT_EQ(removed(plan.images), (std::vector<std::string>{id_of('b'), id_of('d'), id_of('c'), id_of('e'), id_of('a')}));
}

TEST(GcPlanner, MaxUnusedAgeCountsFromLastUse) {
  Inventory inv;
  inv.images = {image('a'), image('b')};
  History h{{id_of('a'), {kNow - 30 * kDay, kNow - kDay}}, {id_of('b'), {kNow - 30 * kDay, kNow - 8 * kDay}}};
  Policy p = quiet_policy();
  p.max_unused_age = 7 * kDay;
  auto plan = plan_collection(inv, h, p, kNow);
  EXPECT_EQ(removed(plan.images), std::vector<std::string>{id_of('b')});
  EXPECT_EQ(decision(plan.images, id_of('b')).phase, Phase::MaxUnusedAge);
  EXPECT_TRUE(contains(decision(plan.images, id_of('b')).reason, "maxUnusedAge")) << decision(plan.images, id_of('b')).reason;
  EXPECT_TRUE(contains(decision(plan.images, id_of('a')).reason, "removable, not needed"));
}

TEST(GcPlanner, MinAgeCountsFromFirstSeen) {
  Inventory inv;
  inv.images = {image('a'), image('b'), image('c')};
  // a: seen 30 minutes ago (and never used since); b: seen 2 hours ago; c: not in history.
  History h{{id_of('a'), {kNow - 30 * kMinute, kNow - 30 * kMinute}}, {id_of('b'), {kNow - 2 * kHour, kNow - 2 * kHour}}};
  Policy p = quiet_policy();
  p.min_age = kHour;
  p.max_unused_age = 10 * kMinute;
  auto plan = plan_collection(inv, h, p, kNow);
  EXPECT_EQ(removed(plan.images), std::vector<std::string>{id_of('b')});
  EXPECT_TRUE(contains(decision(plan.images, id_of('a')).reason, "minAge")) << decision(plan.images, id_of('a')).reason;
  EXPECT_TRUE(contains(decision(plan.images, id_of('c')).reason, "minAge"));
}

TEST(GcPlanner, MaxImagesRemovesTheLeastRecentlyUsedBeyondN) {
  Inventory inv;
  inv.images = {image('a'), image('b'), image('c'), image('d'), image('e')};
  History h;
  for (char c : std::string("abcde")) h[id_of(c)] = {kNow - 10 * kDay, kNow - (10 - (c - 'a')) * kDay};  // a oldest
  Policy p = quiet_policy();
  p.max_images = 3;
  auto plan = plan_collection(inv, h, p, kNow);
  EXPECT_EQ(removed(plan.images), (std::vector<std::string>{id_of('a'), id_of('b')}));
  EXPECT_EQ(plan.images_after, 3u);
  EXPECT_TRUE(plan.shortfalls.empty());
  EXPECT_EQ(decision(plan.images, id_of('a')).phase, Phase::MaxImages);
}

TEST(GcPlanner, MaxImagesCountsProtectedImagesAndCountsByImageId) {
  Inventory inv;
  Image pinned = image('p');
  pinned.pinned = true;
  // 'a' listed twice (two tags): one image.
  inv.images = {pinned, image('a', {"ghcr.io/org/a:1"}), image('a', {"ghcr.io/org/a:2"}), image('b'), image('c')};
  History h = aged(inv, 3);
  h[id_of('c')].last_used = kNow - kDay;
  Policy p = quiet_policy();
  p.max_images = 2;
  auto plan = plan_collection(inv, h, p, kNow);
  EXPECT_EQ(plan.images.size(), 4u);
  EXPECT_EQ(removed(plan.images), (std::vector<std::string>{id_of('a'), id_of('b')}));
  EXPECT_EQ(plan.images_after, 2u);
  EXPECT_EQ(decision(plan.images, id_of('a')).refs, (std::vector<std::string>{"ghcr.io/org/a:1", "ghcr.io/org/a:2"}));
}

TEST(GcPlanner, ProtectedImagesAloneOverMaxImagesRemoveEveryCandidateAndReportAShortfall) {
  Inventory inv;
  Image p1 = image('p'), p2 = image('q'), p3 = image('r');
  p1.pinned = p2.pinned = p3.pinned = true;
  inv.images = {p1, p2, p3, image('a'), image('b')};
  Policy p = quiet_policy();
  p.max_images = 2;
  auto plan = plan_collection(inv, aged(inv, 2), p, kNow);
  EXPECT_EQ(removed(plan.images).size(), 2u);
  EXPECT_EQ(plan.images_after, 3u);
  ASSERT_EQ(plan.shortfalls.size(), 1u);
  EXPECT_EQ(plan.shortfalls[0].kind, Shortfall::Kind::MaxImages);
  EXPECT_TRUE(contains(plan.shortfalls[0].message, "maxImages 2")) << plan.shortfalls[0].message;
}

// ---------------------------------------------------------------------------------------
// Thresholds

struct ThresholdCase {
  std::string name;
  Threshold high, low;
  FilesystemUsage usage;
  std::vector<char> planned;       // in order
  std::uint64_t bytes_to_free;
  bool over_high, inode_pressure, shortfall;
};

Threshold pct(double p) { return {Threshold::Kind::UsedPercent, p, 0, fmt::format("{}%", p)}; }
Threshold free_gib(std::uint64_t g) { return {Threshold::Kind::FreeBytes, 0, g * kGiB, fmt::format("{}GiB free", g)}; }

void PrintTo(const ThresholdCase& c, std::ostream* os) {
  *os << c.name << ": high " << c.high.text << ", low " << c.low.text << ", " << c.usage.available_bytes << " of "
      << c.usage.size_bytes << " bytes available";
}
class Thresholds : public ::testing::TestWithParam<ThresholdCase> {};

// Five candidates of 1 GiB each, a (least recently used) to e; a 100 GiB disk.
TEST_P(Thresholds, PlanLeastRecentlyUsedUntilLowIsReached) {
  const auto& tc = GetParam();
  Inventory inv;
  inv.images = {image('a'), image('b'), image('c'), image('d'), image('e')};
  History h;
  for (char c : std::string("abcde")) h[id_of(c)] = {kNow - 10 * kDay, kNow - (10 - (c - 'a')) * kDay};
  inv.usage = tc.usage;
  Policy p = quiet_policy();
  p.high = tc.high;
  p.low = tc.low;
  auto plan = plan_collection(inv, h, p, kNow);
  std::vector<std::string> want;
  for (char c : tc.planned) want.push_back(id_of(c));
  EXPECT_EQ(removed(plan.images), want);
  EXPECT_EQ(plan.bytes_to_free, tc.bytes_to_free);
  EXPECT_EQ(plan.over_high, tc.over_high);
  EXPECT_EQ(plan.inode_pressure, tc.inode_pressure);
  EXPECT_EQ(!plan.shortfalls.empty(), tc.shortfall);
  for (const auto& d : plan.images) {
    EXPECT_FALSE(d.reason.empty());
    if (d.remove) {
      EXPECT_EQ(d.phase, Phase::Threshold);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(
    Cases, Thresholds,
    ::testing::Values(
        // 80% used, high 79%, low 78%: 2 GiB to free.
        ThresholdCase{"percent_over_high", pct(79), pct(78), disk(100 * kGiB, 20 * kGiB), {'a', 'b'}, 2 * kGiB, true, false, false},
        ThresholdCase{"percent_below_high", pct(85), pct(78), disk(100 * kGiB, 20 * kGiB), {}, 0, false, false, false},
        // Exactly at high: reached.
        ThresholdCase{"percent_at_high", pct(80), pct(77), disk(100 * kGiB, 20 * kGiB), {'a', 'b', 'c'}, 3 * kGiB, true, false, false},
        // 10 GiB to free, only 5 removable: everything, and a shortfall.
        ThresholdCase{"percent_shortfall", pct(75), pct(70), disk(100 * kGiB, 20 * kGiB), {'a', 'b', 'c', 'd', 'e'}, 10 * kGiB, true,
                      false, true},
        // "20GiB free" high, "23GiB free" low: at 20 GiB free, 3 GiB to free.
        ThresholdCase{"free_bytes_both", free_gib(20), free_gib(23), disk(100 * kGiB, 20 * kGiB), {'a', 'b', 'c'}, 3 * kGiB, true,
                      false, false},
        ThresholdCase{"free_bytes_not_reached", free_gib(20), free_gib(23), disk(100 * kGiB, 21 * kGiB), {}, 0, false, false, false},
        // High 79% used, low "22GiB free": 2 GiB to free.
        ThresholdCase{"mixed_percent_high_free_low", pct(79), free_gib(22), disk(100 * kGiB, 20 * kGiB), {'a', 'b'}, 2 * kGiB, true,
                      false, false},
        // High "21GiB free", low 78% used: 2 GiB to free.
        ThresholdCase{"mixed_free_high_percent_low", free_gib(21), pct(78), disk(100 * kGiB, 20 * kGiB), {'a', 'b'}, 2 * kGiB, true,
                      false, false},
        // A low that high already satisfies ("10GiB free" while 20 GiB are free): freed to just
        // below high 80%, i.e. one byte more than 20 GiB free.
        ThresholdCase{"mixed_low_not_below_high", pct(80), free_gib(10), disk(100 * kGiB, 20 * kGiB), {'a'}, 1, true, false, false},
        // A low beyond the filesystem's size: everything removable, and a shortfall.
        ThresholdCase{"low_beyond_capacity", free_gib(20), free_gib(200), disk(100 * kGiB, 20 * kGiB), {'a', 'b', 'c', 'd', 'e'},
                      80 * kGiB, true, false, true},
        // Unknown or empty filesystem: never reached, no division by zero.
        ThresholdCase{"capacity_zero", pct(1), pct(0.5), disk(0, 0, 0, 0), {}, 0, false, false, false},
        ThresholdCase{"capacity_zero_free_bytes", free_gib(20), free_gib(30), disk(0, 0, 0, 0), {}, 0, false, false, false},
        // Inodes alone: every candidate is planned; the executor stops by re-measuring.
        ThresholdCase{"inodes_only", pct(90), pct(80), disk(100 * kGiB, 50 * kGiB, 1000, 50), {'a', 'b', 'c', 'd', 'e'}, 0, false,
                      true, false},
        ThresholdCase{"inodes_below", pct(90), pct(80), disk(100 * kGiB, 50 * kGiB, 1000, 200), {}, 0, false, false, false}),
    [](const auto& param_info) { return param_info.param.name; });

TEST(GcPlanner, InodePressureReasonSaysTheExecutorStopsByRemeasuring) {
  Inventory inv;
  inv.images = {image('a')};
  inv.usage = disk(100 * kGiB, 50 * kGiB, 1000, 10);
  auto plan = plan_collection(inv, aged(inv, 2), quiet_policy(), kNow);
  ASSERT_EQ(removed(plan.images).size(), 1u);
  EXPECT_TRUE(contains(plan.images[0].reason, "inodesHigh")) << plan.images[0].reason;
  EXPECT_TRUE(contains(plan.images[0].reason, "re-measured")) << plan.images[0].reason;
}

TEST(GcPlanner, ImagesBeyondWhatLowNeedsStayWithAReason) {
  Inventory inv;
  inv.images = {image('a'), image('b')};
  inv.usage = disk(100 * kGiB, 20 * kGiB);
  Policy p = quiet_policy();
  p.high = pct(80);
  p.low = pct(79);
  auto plan = plan_collection(inv, aged(inv, 2), p, kNow);
  EXPECT_EQ(removed(plan.images).size(), 1u);
  const auto& kept = plan.images[1];
  EXPECT_FALSE(kept.remove);
  EXPECT_TRUE(kept.reserve);
  EXPECT_TRUE(contains(kept.reason, "removed only if needed")) << kept.reason;
  EXPECT_EQ(plan.estimated_freed, 1 * kGiB);
}

// ---------------------------------------------------------------------------------------
// Protection

TEST(GcPlanner, PinnedImagesAreNeverPlanned) {
  Inventory inv;
  Image pinned = image('a', {"docker.io/library/busybox:1"});
  pinned.pinned = true;
  inv.images = {pinned, image('b')};
  inv.usage = disk(100 * kGiB, 1 * kGiB);
  Policy p = quiet_policy();
  p.max_unused_age = kHour;
  p.max_images = 1;
  auto plan = plan_collection(inv, aged(inv, 30), p, kNow);
  EXPECT_FALSE(decision(plan.images, id_of('a')).remove);
  EXPECT_EQ(decision(plan.images, id_of('a')).reason, "pinned by the runtime");
  EXPECT_TRUE(decision(plan.images, id_of('b')).remove);
}

TEST(GcPlanner, TheSandboxImageIsProtectedByNameEvenWhenNotPinned) {
  Inventory inv;
  inv.images = {image('a', {"registry.k8s.io/pause:3.9"}), image('b')};
  inv.sandbox_images = {"registry.k8s.io/pause:3.9"};
  Policy p = quiet_policy();
  p.max_unused_age = kHour;
  auto plan = plan_collection(inv, aged(inv, 30), p, kNow);
  EXPECT_FALSE(decision(plan.images, id_of('a')).remove);
  EXPECT_TRUE(contains(decision(plan.images, id_of('a')).reason, "sandbox"));
  EXPECT_TRUE(decision(plan.images, id_of('b')).remove);
}

TEST(GcPlanner, AnImageASandboxUsesIsProtected) {
  Inventory inv;
  inv.images = {image('a', {"registry.k8s.io/pause:3.8"}), image('b')};
  inv.sandboxes = {sandbox("s1", true, kNow - kDay, "registry.k8s.io/pause:3.8")};
  Policy p = quiet_policy();
  p.max_unused_age = kHour;
  auto plan = plan_collection(inv, aged(inv, 30), p, kNow);
  EXPECT_FALSE(decision(plan.images, id_of('a')).remove);
  EXPECT_TRUE(contains(decision(plan.images, id_of('a')).reason, "sandbox image of sandbox s1-pod"));
}

TEST(GcPlanner, TheImageOfARemovedSandboxBecomesACandidateButTheConfiguredSandboxImageNever) {
  Inventory inv;
  inv.images = {image('a', {"registry.k8s.io/pause:3.8"}), image('b', {"registry.k8s.io/pause:3.9"})};
  inv.sandbox_images = {"registry.k8s.io/pause:3.9"};
  inv.sandboxes = {sandbox("s1", false, kNow - kDay, "registry.k8s.io/pause:3.8"),
                   sandbox("s2", false, kNow - kDay, "registry.k8s.io/pause:3.9")};
  Policy p = quiet_policy();
  p.max_unused_age = kHour;
  auto plan = plan_collection(inv, aged(inv, 30), p, kNow);
  EXPECT_EQ(removed(plan.sandboxes), (std::vector<std::string>{"s1", "s2"}));
  EXPECT_EQ(removed(plan.images), std::vector<std::string>{id_of('a')});
}

class InUse : public ::testing::TestWithParam<ContainerState> {};

TEST_P(InUse, AnImageUsedByAContainerInAnyStateThatStaysIsNotPlanned) {
  Inventory inv;
  inv.images = {image('a', {"docker.io/library/busybox:1"})};
  // Created just now: an exited one is too young to be removed.
  inv.containers = {container("c1", "busybox:1", GetParam(), kNow - kMinute)};
  Policy p = quiet_policy();
  p.max_unused_age = kHour;
  inv.usage = disk(100 * kGiB, 1 * kGiB);
  auto plan = plan_collection(inv, aged(inv, 30), p, kNow);
  EXPECT_TRUE(removed(plan.containers).empty());
  EXPECT_TRUE(removed(plan.images).empty());
  EXPECT_TRUE(contains(plan.images[0].reason, "in use by container c1-name")) << plan.images[0].reason;
  EXPECT_TRUE(contains(plan.images[0].reason, std::string(to_string(GetParam()))));
}

INSTANTIATE_TEST_SUITE_P(States, InUse,
                         ::testing::Values(ContainerState::Created, ContainerState::Running, ContainerState::Exited,
                                           ContainerState::Unknown),
                         [](const auto& param_info) { return std::string(to_string(param_info.param)); });

TEST(GcPlanner, ExitedContainersNotRemovedKeepTheirImagesWhenRemovalIsOff) {
  Inventory inv;
  inv.images = {image('a')};
  inv.containers = {container("c1", id_of('a'), ContainerState::Exited, kNow - 30 * kDay)};
  Policy p = quiet_policy();
  p.remove_exited_containers = false;
  p.max_unused_age = kHour;
  auto plan = plan_collection(inv, aged(inv, 30), p, kNow);
  EXPECT_TRUE(removed(plan.containers).empty());
  EXPECT_TRUE(removed(plan.images).empty());
}

TEST(GcPlanner, AnExitedContainerRemovedMakesItsImageACandidateInTheSameRun) {
  Inventory inv;
  inv.images = {image('a'), image('b')};
  inv.containers = {container("c1", hex_of('a'), ContainerState::Exited, kNow - 2 * kHour),
                    container("c2", id_of('b'), ContainerState::Running)};
  Policy p = quiet_policy();
  p.max_unused_age = kHour;
  auto plan = plan_collection(inv, aged(inv, 30), p, kNow);
  EXPECT_EQ(removed(plan.containers), std::vector<std::string>{"c1"});
  EXPECT_EQ(decision(plan.containers, "c1").phase, Phase::ExitedContainer);
  EXPECT_EQ(removed(plan.images), std::vector<std::string>{id_of('a')});
}

TEST(GcPlanner, ContainersOfARemovedSandboxGoWithItAndFreeTheirImages) {
  Inventory inv;
  inv.images = {image('a'), image('b')};
  inv.sandboxes = {sandbox("s1", false, kNow - kDay), sandbox("s2", true, kNow - kDay)};
  // c1 stays on its own (containers.removeExited is off), yet goes with its sandbox.
  inv.containers = {container("c1", id_of('a'), ContainerState::Exited, kNow - 2 * kHour, "s1"),
                    container("c2", id_of('b'), ContainerState::Created, kNow - kMinute, "s2")};
  Policy p = quiet_policy();
  p.max_unused_age = kHour;
  p.remove_exited_containers = false;
  auto plan = plan_collection(inv, aged(inv, 30), p, kNow);
  EXPECT_EQ(removed(plan.sandboxes), std::vector<std::string>{"s1"});
  EXPECT_TRUE(contains(decision(plan.containers, "c1").reason, "goes with its not-ready sandbox s1-pod"));
  EXPECT_EQ(removed(plan.images), std::vector<std::string>{id_of('a')});
}

// docs/gc.md: "An exited container younger than containers.minAge keeps its image" — also
// when its sandbox is NotReady and old enough to go: the sandbox waits for the container.
TEST(GcPlanner, AYoungExitedContainerKeepsItsNotReadySandboxAndItsImage) {
  Inventory inv;
  inv.images = {image('a')};
  inv.sandboxes = {sandbox("s1", false, kNow - kDay)};
  inv.containers = {container("c1", id_of('a'), ContainerState::Exited, kNow - 5 * kMinute, "s1")};
  Policy p = quiet_policy();
  p.max_unused_age = kHour;
  auto plan = plan_collection(inv, aged(inv, 30), p, kNow);
  EXPECT_TRUE(removed(plan.sandboxes).empty());
  EXPECT_TRUE(contains(decision(plan.sandboxes, "s1").reason, "holds exited container c1-name created 5m ago"))
      << decision(plan.sandboxes, "s1").reason;
  EXPECT_TRUE(removed(plan.containers).empty());
  EXPECT_TRUE(removed(plan.images).empty());
  EXPECT_TRUE(contains(decision(plan.images, id_of('a')).reason, "in use by container c1-name (exited)"))
      << decision(plan.images, id_of('a')).reason;
  // Once the container is older than containers.minAge, all three go in one run.
  auto later = plan_collection(inv, aged(inv, 30), p, kNow + kHour);
  EXPECT_EQ(removed(later.sandboxes), std::vector<std::string>{"s1"});
  EXPECT_EQ(removed(later.containers), std::vector<std::string>{"c1"});
  EXPECT_EQ(removed(later.images), std::vector<std::string>{id_of('a')});
}

TEST(GcPlanner, NotReadySandboxesHoldingRunningOrUnknownContainersStay) {
  Inventory inv;
  inv.sandboxes = {sandbox("s1", false), sandbox("s2", false), sandbox("s3", false, kNow - kMinute), sandbox("s4", true)};
  inv.containers = {container("c1", "x", ContainerState::Running, kNow - kDay, "s1"),
                    container("c2", "x", ContainerState::Unknown, kNow - kDay, "s2")};
  auto plan = plan_collection(inv, {}, quiet_policy(), kNow);
  EXPECT_TRUE(removed(plan.sandboxes).empty());
  EXPECT_TRUE(contains(decision(plan.sandboxes, "s1").reason, "running container c1-name"));
  EXPECT_TRUE(contains(decision(plan.sandboxes, "s2").reason, "unknown state"));
  EXPECT_TRUE(contains(decision(plan.sandboxes, "s3").reason, "sandboxes.minAge"));
  EXPECT_EQ(decision(plan.sandboxes, "s4").reason, "ready");
}

TEST(GcPlanner, KeepGlobsAndRegexesProtectMatchingImages) {
  Inventory inv;
  inv.images = {image('a', {"ghcr.io/org/app:1.2"}), image('b', {"docker.io/library/busybox:1.36"}),
                image('c', {"quay.io/team/keep-me:7"}), image('d', {"quay.io/team/other:7"})};
  Policy p = quiet_policy();
  p.max_unused_age = kHour;
  p.keep = {*ReferencePattern::parse("ghcr.io/org/app:*"), *ReferencePattern::parse("busybox:*"),
            *ReferencePattern::parse("regex:quay\\.io/team/keep-.*")};
  auto plan = plan_collection(inv, aged(inv, 30), p, kNow);
  EXPECT_EQ(removed(plan.images), std::vector<std::string>{id_of('d')});
  EXPECT_EQ(decision(plan.images, id_of('a')).reason, "protected by keep rule \"ghcr.io/org/app:*\"");
  EXPECT_EQ(decision(plan.images, id_of('b')).reason, "protected by keep rule \"busybox:*\"");
  EXPECT_TRUE(contains(decision(plan.images, id_of('c')).reason, "regex:"));
}

// docs/gc.md: a regex matches the whole reference (as written or normalized), never a part.
TEST(GcPlanner, KeepRegexMatchesTheWholeReference) {
  Inventory inv;
  inv.images = {image('a', {"ghcr.io/org/app:1.2"}), image('b', {"ghcr.io/org/app-debug:1.2"}),
                image('c', {"busybox:1.36"})};
  Policy p = quiet_policy();
  p.max_unused_age = kHour;
  // "app" alone is part of every reference above, and matches none of them.
  p.keep = {*ReferencePattern::parse("regex:app"), *ReferencePattern::parse("regex:ghcr\\.io/org/app:[0-9.]+"),
            *ReferencePattern::parse("regex:docker\\.io/library/busybox:.*")};
  auto plan = plan_collection(inv, aged(inv, 30), p, kNow);
  EXPECT_EQ(removed(plan.images), std::vector<std::string>{id_of('b')});
  EXPECT_TRUE(contains(decision(plan.images, id_of('a')).reason, "ghcr"));
  EXPECT_TRUE(contains(decision(plan.images, id_of('c')).reason, "busybox")) << "the normalized form matches too";
}

// docs/gc.md: minAge follows the image id. An id re-tagged under a new name is as old as
// when its id was first seen; a new id under an old name is new.
TEST(GcPlanner, MinAgeFollowsTheImageIdNotItsName) {
  Inventory inv;
  inv.images = {image('a', {"reg.test/app:old"})};
  History h = update_history({}, inv, kNow - 2 * kHour);
  inv.images = {image('a', {"reg.test/app:new"}), image('b', {"reg.test/app:old"})};  // re-tagged; a new id takes the old name
  h = update_history(h, inv, kNow);
  EXPECT_EQ(h.at(id_of('a')).first_seen, kNow - 2 * kHour);
  EXPECT_EQ(h.at(id_of('b')).first_seen, kNow);
  Policy p = quiet_policy();
  p.min_age = kHour;
  p.max_images = 1;
  auto plan = plan_collection(inv, h, p, kNow);
  EXPECT_EQ(removed(plan.images), std::vector<std::string>{id_of('a')});
  EXPECT_TRUE(contains(decision(plan.images, id_of('b')).reason, "minAge")) << decision(plan.images, id_of('b')).reason;
}

// docs/gc.md: a prepull entry "repo@digest" names a manifest digest; an image the runtime
// lists without repo digests (loaded from an archive, or Docker before a push) cannot be
// matched by it. "repo:tag@digest" is matched by its tag then.
TEST(GcPlanner, APrepullDigestEntryNeedsTheTagWhenTheRuntimeListsNoDigests) {
  const std::string digest = "sha256:" + std::string(64, 'f');
  Inventory inv;
  inv.images = {image('a', {"reg.test/lab:w_01"}), image('b', {"reg.test/lab:w_02"})};
  Policy p = quiet_policy();
  p.max_unused_age = kHour;
  p.prepull = {"reg.test/lab@" + digest, "reg.test/lab:w_02@" + digest};
  auto plan = plan_collection(inv, aged(inv, 30), p, kNow);
  EXPECT_EQ(removed(plan.images), std::vector<std::string>{id_of('a')}) << "repo@digest alone matches nothing";
  EXPECT_TRUE(contains(decision(plan.images, id_of('b')).reason, "prepull")) << decision(plan.images, id_of('b')).reason;
  // With the digest listed, "repo@digest" protects it.
  inv.images[0].digests = {"reg.test/lab@" + digest};
  auto listed = plan_collection(inv, aged(inv, 30), p, kNow);
  EXPECT_TRUE(removed(listed.images).empty());
}

TEST(GcPlanner, KeepNewestKeepsTheNMostRecentlyUsedOfEachRepository) {
  Inventory inv;
  inv.images = {image('a', {"docker.io/library/nginx:1.25"}), image('b', {"docker.io/library/nginx:1.26"}),
                image('c', {"nginx:1.27"}), image('d', {"docker.io/library/nginx:1.24"}), image('e', {"ghcr.io/org/app:1"})};
  History h;
  h[id_of('a')] = {kNow - 20 * kDay, kNow - 5 * kDay};
  h[id_of('b')] = {kNow - 20 * kDay, kNow - 3 * kDay};
  h[id_of('c')] = {kNow - 20 * kDay, kNow - 4 * kDay};
  h[id_of('d')] = {kNow - 20 * kDay, kNow - 6 * kDay};
  h[id_of('e')] = {kNow - 20 * kDay, kNow - 6 * kDay};
  Policy p = quiet_policy();
  p.max_unused_age = kHour;
  p.keep_newest = {{"nginx", 2}};  // a short repository name works too
  auto plan = plan_collection(inv, h, p, kNow);
  EXPECT_EQ(removed(plan.images), (std::vector<std::string>{id_of('d'), id_of('e'), id_of('a')}));
  EXPECT_TRUE(contains(decision(plan.images, id_of('b')).reason, "keepNewest"));
  EXPECT_TRUE(contains(decision(plan.images, id_of('c')).reason, "keepNewest"));
}

TEST(GcPlanner, PrepullReferencesProtectByNormalizedReference) {
  Inventory inv;
  Image digested = image('c', {});
  digested.digests = {"ghcr.io/org/app@sha256:" + hex_of('f')};
  inv.images = {image('a', {"docker.io/library/busybox:latest"}), image('b', {"docker.io/library/busybox:1"}), digested};
  Policy p = quiet_policy();
  p.max_unused_age = kHour;
  p.prepull = {"busybox", "ghcr.io/org/app@sha256:" + hex_of('f')};
  auto plan = plan_collection(inv, aged(inv, 30), p, kNow);
  EXPECT_EQ(removed(plan.images), std::vector<std::string>{id_of('b')});
  EXPECT_TRUE(contains(decision(plan.images, id_of('a')).reason, "prepull"));
  EXPECT_TRUE(contains(decision(plan.images, id_of('c')).reason, "prepull"));
}

// ---------------------------------------------------------------------------------------
// Containers

TEST(GcPlanner, ExitedContainersOlderThanTheirMinAgeAreRemoved) {
  Inventory inv;
  inv.containers = {container("old", "x", ContainerState::Exited, kNow - 2 * kHour),
                    container("young", "x", ContainerState::Exited, kNow - 10 * kMinute),
                    container("run", "x", ContainerState::Running, kNow - 10 * kDay),
                    container("unk", "x", ContainerState::Unknown, kNow - 10 * kDay),
                    container("new", "x", ContainerState::Created, kNow - 10 * kDay)};
  auto plan = plan_collection(inv, {}, quiet_policy(), kNow);
  EXPECT_EQ(removed(plan.containers), std::vector<std::string>{"old"});
  EXPECT_TRUE(contains(decision(plan.containers, "young").reason, "containers.minAge"));
  for (const auto& d : plan.containers) EXPECT_FALSE(d.reason.empty()) << d.id;
}

// ---------------------------------------------------------------------------------------
// Determinism

void expect_same_plan(const Plan& a, const Plan& b) {
  auto same = [](const std::vector<Decision>& x, const std::vector<Decision>& y) {
    ASSERT_EQ(x.size(), y.size());
    for (std::size_t i = 0; i < x.size(); ++i) {
      EXPECT_EQ(x[i].id, y[i].id);
      EXPECT_EQ(x[i].name, y[i].name);
      EXPECT_EQ(x[i].refs, y[i].refs);
      EXPECT_EQ(x[i].remove, y[i].remove);
      EXPECT_EQ(x[i].phase, y[i].phase);
      EXPECT_EQ(x[i].reason, y[i].reason);
    }
  };
  same(a.containers, b.containers);
  same(a.sandboxes, b.sandboxes);
  same(a.images, b.images);
  EXPECT_EQ(a.shortfalls, b.shortfalls);
  EXPECT_EQ(a.bytes_to_free, b.bytes_to_free);
  EXPECT_EQ(a.estimated_freed, b.estimated_freed);
  EXPECT_EQ(a.images_after, b.images_after);
}

// ---------------------------------------------------------------------------------------
// Property test over random inventories

struct Random {
  std::mt19937 rng;
  explicit Random(unsigned seed) : rng(seed) {}
  int below(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng); }
  bool chance(int percent) { return below(100) < percent; }
  template <class T>
  const T& pick(const std::vector<T>& v) { return v[static_cast<std::size_t>(below(static_cast<int>(v.size())))]; }
};

const std::vector<std::string> kRepos = {"docker.io/library/busybox", "docker.io/library/nginx", "ghcr.io/org/app",
                                         "registry.local:5000/team/svc", "registry.k8s.io/pause"};
const std::vector<std::string> kShort = {"busybox", "nginx", "ghcr.io/org/app", "registry.local:5000/team/svc",
                                         "registry.k8s.io/pause"};

struct World {
  Inventory inv;
  History history;
  Policy policy;
};

World random_world(Random& r) {
  World w;
  const int n_images = r.below(12);
  std::vector<std::string> refs;  // every way to name an image, for containers to use
  for (int i = 0; i < n_images; ++i) {
    Image im;
    const char c = static_cast<char>('a' + i);
    im.id = id_of(c);
    im.size = static_cast<std::uint64_t>(r.below(4000)) * (1ULL << 20);
    im.pinned = r.chance(10);
    const int n_tags = r.below(3);
    for (int t = 0; t < n_tags; ++t) {
      const int repo = r.below(static_cast<int>(kRepos.size()));
      const std::string tag = r.pick(std::vector<std::string>{"1", "2", "latest", "3.9"});
      im.tags.push_back(kRepos[static_cast<std::size_t>(repo)] + ":" + tag);
      refs.push_back(kShort[static_cast<std::size_t>(repo)] + ":" + tag);
    }
    if (r.chance(40)) {
      const std::string repo = r.pick(kRepos);
      im.digests.push_back(repo + "@sha256:" + hex_of(static_cast<char>('A' + i)));  // distinct per image
      refs.push_back(repo + "@sha256:" + hex_of(static_cast<char>('A' + i)));
    }
    refs.push_back(im.id);
    refs.push_back(hex_of(c));
    if (r.chance(80)) {
      const Seconds first = kNow - r.below(20) * kDay - r.below(24) * kHour;
      w.history[im.id] = {first, first + r.below(static_cast<int>((kNow - first) / kMinute) + 1) * kMinute};
    }
    w.inv.images.push_back(std::move(im));
  }
  refs.push_back("docker.io/library/alpine:3");  // an image that is not there
  const std::vector<ContainerState> states = {ContainerState::Created, ContainerState::Running, ContainerState::Exited,
                                              ContainerState::Exited, ContainerState::Unknown};
  const int n_sandboxes = r.below(5);
  for (int s = 0; s < n_sandboxes; ++s)
    w.inv.sandboxes.push_back(sandbox("sb" + std::to_string(s), r.chance(50), kNow - r.below(120) * kMinute,
                                      r.chance(50) ? r.pick(refs) : ""));
  const int n_containers = r.below(10);
  for (int i = 0; i < n_containers; ++i) {
    Container c = container("c" + std::to_string(i), r.pick(refs), r.pick(states), kNow - r.below(240) * kMinute,
                            n_sandboxes > 0 && r.chance(70) ? "sb" + std::to_string(r.below(n_sandboxes)) : "");
    if (r.chance(30)) c.image_id = r.pick(refs);
    w.inv.containers.push_back(std::move(c));
  }
  if (r.chance(50)) w.inv.sandbox_images.push_back(r.chance(50) ? "registry.k8s.io/pause:3.9" : "registry.k8s.io/pause:1");
  const std::uint64_t capacity = r.chance(10) ? 0 : static_cast<std::uint64_t>(1 + r.below(100)) * kGiB;
  w.inv.usage = FilesystemUsage{"/", capacity, capacity == 0 ? 0 : static_cast<std::uint64_t>(r.below(101)) * (capacity / 100),
                                r.chance(10) ? 0ULL : 1000ULL, static_cast<std::uint64_t>(r.below(1001))};

  Policy& p = w.policy;
  p.min_age = r.pick(std::vector<Seconds>{0, kHour, kDay, 5 * kDay});
  p.max_unused_age = r.pick(std::vector<Seconds>{0, 0, kDay, 7 * kDay});
  p.max_images = static_cast<std::size_t>(r.chance(50) ? 0 : r.below(10));
  p.container_min_age = r.pick(std::vector<Seconds>{0, kHour});
  p.sandbox_min_age = r.pick(std::vector<Seconds>{0, 10 * kMinute});
  p.remove_exited_containers = r.chance(80);
  p.remove_not_ready_sandboxes = r.chance(80);
  p.inodes_high = 80 + r.below(20);
  switch (r.below(4)) {
    case 0: p.high = pct(50 + r.below(50)), p.low = pct(p.high.percent - 1 - r.below(30)); break;
    case 1: p.high = free_gib(static_cast<std::uint64_t>(r.below(20))), p.low = free_gib(p.high.bytes / kGiB + 1 + r.below(20)); break;
    case 2: p.high = pct(50 + r.below(50)), p.low = free_gib(static_cast<std::uint64_t>(r.below(40))); break;
    default: p.high = free_gib(static_cast<std::uint64_t>(r.below(20))), p.low = pct(10 + r.below(80)); break;
  }
  if (r.chance(30)) p.keep.push_back(*ReferencePattern::parse(r.pick(std::vector<std::string>{"nginx:*", "ghcr.io/org/*", "*:3.9"})));
  if (r.chance(20)) p.keep.push_back(*ReferencePattern::parse("regex:registry\\.local:5000/.*"));
  if (r.chance(30)) p.keep_newest[repository_of(r.pick(kShort))] = 1 + r.below(2);
  if (r.chance(30)) p.prepull.push_back(r.pick(refs));
  return w;
}

bool lru_before(const ImageHistory& a, const std::string& ida, const ImageHistory& b, const std::string& idb) {
  return std::tie(a.last_used, a.first_seen, ida) < std::tie(b.last_used, b.first_seen, idb);
}

TEST(GcPlannerProperty, NothingProtectedIsEverPlannedAndEveryDecisionIsExplained) {
  for (unsigned seed = 1; seed <= 3000; ++seed) {
    Random r(seed);
    World w = random_world(r);
    const auto& inv = w.inv;
    const auto& p = w.policy;
    const Plan plan = plan_collection(inv, w.history, p, kNow);
    SCOPED_TRACE("seed " + std::to_string(seed));

    const auto removed_c = removed(plan.containers);
    const auto removed_s = removed(plan.sandboxes);
    auto gone = [](const std::vector<std::string>& v, const std::string& id) { return std::find(v.begin(), v.end(), id) != v.end(); };
    auto hist = [&](const std::string& id) {
      auto it = w.history.find(id);
      return it == w.history.end() ? ImageHistory{kNow, kNow} : it->second;
    };

    ASSERT_EQ(plan.images.size(), inv.images.size());
    for (const auto* list : {&plan.containers, &plan.sandboxes, &plan.images})
      for (const auto& d : *list) {
        ASSERT_FALSE(d.reason.empty()) << d.id;
        ASSERT_EQ(d.remove, d.phase.has_value()) << d.id;
      }

    for (const auto& c : inv.containers)
      if (gone(removed_c, c.id)) {
        ASSERT_EQ(c.state, ContainerState::Exited);
        ASSERT_GE(kNow - c.created_at, p.container_min_age);
      }
    for (const auto& s : inv.sandboxes)
      if (gone(removed_s, s.id)) {
        ASSERT_FALSE(s.ready);
        for (const auto& c : inv.containers)
          if (c.sandbox_id == s.id) {
            ASSERT_TRUE(c.state != ContainerState::Running && c.state != ContainerState::Unknown) << c.id;
          }
      }

    for (const auto& image : inv.images) {
      const Decision& d = decision(plan.images, image.id);
      if (!d.remove) continue;
      ASSERT_FALSE(image.pinned) << image.id;
      for (const auto& s : inv.sandbox_images) ASSERT_FALSE(refers_to(image, s)) << image.id;
      for (const auto& s : inv.sandboxes)
        if (!gone(removed_s, s.id)) {
          ASSERT_FALSE(refers_to(image, s.image)) << image.id << " used by sandbox " << s.id;
        }
      for (const auto& c : inv.containers)
        if (!gone(removed_c, c.id) && !gone(removed_s, c.sandbox_id)) {
          ASSERT_FALSE(refers_to(image, c.image) || refers_to(image, c.image_id)) << image.id << " used by " << c.id;
        }
      for (const auto& k : p.keep)
        for (const auto& ref : d.refs) ASSERT_FALSE(k.matches(ref)) << image.id << " kept by " << k.text();
      for (const auto& pre : p.prepull) ASSERT_FALSE(refers_to(image, pre)) << image.id << " prepulled as " << pre;
      ASSERT_GE(kNow - hist(image.id).first_seen, p.min_age) << image.id;
      for (const auto& [repo, n] : p.keep_newest) {
        auto of_repo = [&](const Image& i) {
          return std::any_of(i.tags.begin(), i.tags.end(), [&](const std::string& t) { return repository_of(t) == repo; });
        };
        if (!of_repo(image)) continue;
        int newer = 0;
        for (const auto& other : inv.images)
          if (other.id != image.id && of_repo(other) && lru_before(hist(image.id), image.id, hist(other.id), other.id)) ++newer;
        ASSERT_GE(newer, n) << image.id << " is among the " << n << " newest of " << repo;
      }
    }

    // Removals first, in LRU order.
    bool seen_kept = false;
    const Decision* prev = nullptr;
    for (const auto& d : plan.images) {
      if (!d.remove) {
        seen_kept = true;
        continue;
      }
      ASSERT_FALSE(seen_kept) << "removal " << d.id << " after a kept image";
      if (prev) {
        ASSERT_TRUE(lru_before(hist(prev->id), prev->id, hist(d.id), d.id)) << prev->id << " then " << d.id;
      }
      prev = &d;
    }

    if (p.max_images > 0 && plan.shortfalls.empty()) {
      ASSERT_LE(plan.images_after, p.max_images);
    }

    // The same inventory in another order gives the same plan.
    World shuffled = w;
    std::shuffle(shuffled.inv.images.begin(), shuffled.inv.images.end(), r.rng);
    std::shuffle(shuffled.inv.containers.begin(), shuffled.inv.containers.end(), r.rng);
    std::shuffle(shuffled.inv.sandboxes.begin(), shuffled.inv.sandboxes.end(), r.rng);
    for (auto& im : shuffled.inv.images) std::reverse(im.tags.begin(), im.tags.end());
    expect_same_plan(plan, plan_collection(shuffled.inv, shuffled.history, shuffled.policy, kNow));
    if (HasFailure()) return;
  }
}

// The index is refers_to turned around: over thousands of random images and references
// drawn from few repositories and few hex digits (so that ids, digests and tags collide
// across images), lookup(ref) is exactly the images refers_to accepts. The references are
// every way an image can be named (id, bare hex, tags as written and normalized, digest
// references and their bare digests) and names that may not exist: digests in other
// repositories, short and Docker Hub alias names, tag+digest references, "sha256:"
// digests, and junk.
TEST(ReferenceIndexProperty, LookupIsExactlyTheImagesRefersToAccepts) {
  const std::vector<std::string> repos = {"busybox", "library/busybox", "docker.io/busybox", "index.docker.io/library/busybox",
                                          "nginx", "docker.io/library/nginx", "ghcr.io/org/app", "registry.local:5000/team/svc",
                                          "localhost/x", "org/tool", "docker.io/org/tool", "registry.k8s.io/pause"};
  const std::vector<std::string> tags = {"1", "2", "latest"};
  const std::string hex_digits = "0a1bf";
  std::size_t checked = 0, matched = 0, images_made = 0;
  for (unsigned seed = 1; seed <= 25; ++seed) {
    Random r(seed);
    auto repo = [&] { return r.pick(repos); };
    auto tag = [&] { return r.pick(tags); };
    auto hex = [&] { return hex_of(hex_digits[static_cast<std::size_t>(r.below(static_cast<int>(hex_digits.size())))]); };
    std::vector<Image> images;
    std::vector<std::string> refs = {"",      ":latest",     "@",        "sha256:", "sha256:zz", "a@b",
                                     "junk",  "busybox@junk", "busybox:1@", "@sha256:" + hex_of('a'), hex_of('A'),
                                     std::string(63, 'a'), "sha256:" + std::string(63, 'a'), "docker.io/"};
    for (int i = 0; i < 100; ++i) {
      Image im;
      switch (r.below(10)) {
        case 0: im.id = hex(); break;              // a bare id
        case 1: im.id = repo() + ":" + tag(); break;  // not an id at all
        default: im.id = "sha256:" + hex(); break;
      }
      for (int t = r.below(4); t > 0; --t) switch (r.below(8)) {
          case 0: im.tags.push_back(repo()); break;  // no tag
          case 1: im.tags.push_back(repo() + "@sha256:" + hex()); break;
          default: im.tags.push_back(repo() + ":" + tag()); break;
        }
      for (int t = r.below(3); t > 0; --t) switch (r.below(8)) {
          case 0: im.digests.push_back("sha256:" + hex()); break;
          case 1: im.digests.push_back(repo() + "@junk"); break;
          case 2: im.digests.push_back(repo() + ":" + tag() + "@sha256:" + hex()); break;
          default: im.digests.push_back(repo() + "@sha256:" + hex()); break;
        }
      refs.push_back(im.id);
      if (im.id.starts_with("sha256:")) refs.push_back(im.id.substr(7));
      for (const auto& t : im.tags) refs.push_back(t), refs.push_back(normalize_reference(t));
      for (const auto& d : im.digests) refs.push_back(d), refs.push_back(digest_of(d));
      images.push_back(std::move(im));
    }
    for (int i = 0; i < 150; ++i) {
      const std::string h = hex();
      switch (r.below(10)) {
        case 0: refs.push_back(h); break;
        case 1: refs.push_back("sha256:" + h); break;
        case 2: refs.push_back(repo() + "@sha256:" + h); break;  // a digest in any repository
        case 3: refs.push_back(repo() + ":" + tag() + "@sha256:" + h); break;
        case 4: refs.push_back(repo()); break;
        case 5: refs.push_back(repo() + ":" + tag()); break;
        case 6: refs.push_back(repo() + "@" + r.pick(images).id); break;  // an id as a digest
        case 7: refs.push_back(h.substr(0, 12)); break;
        case 8: refs.push_back("sha256:" + h.substr(1)); break;
        default: refs.push_back(repo() + ":" + tag() + "@"); break;
      }
    }
    images_made += images.size();
    const ReferenceIndex index(images);
    // The planner's way: normalized tags made by the caller.
    std::vector<std::vector<std::string>> normalized(images.size());
    ReferenceIndex given;
    for (std::size_t i = 0; i < images.size(); ++i) {
      for (const auto& t : images[i].tags) normalized[i].push_back(normalize_reference(t));
      given.add(images[i], i, normalized[i]);
    }
    for (const auto& ref : refs) {
      std::vector<std::size_t> expected;
      for (std::size_t i = 0; i < images.size(); ++i)
        if (refers_to(images[i], ref)) expected.push_back(i);
      ASSERT_EQ(index.lookup(ref), expected) << "seed " << seed << ", reference \"" << ref << "\"";
      ASSERT_EQ(given.lookup(ref), expected) << "seed " << seed << ", reference \"" << ref << "\" (normalized given)";
      ++checked;
      matched += expected.empty() ? 0 : 1;
    }
  }
  EXPECT_GE(images_made, 2500u);
  EXPECT_GE(checked, 10000u);
  // Both outcomes, often.
  EXPECT_GT(matched, checked / 2);
  EXPECT_GT(checked - matched, checked / 20);
}

TEST(GcPlanner, TheSamePlanWhateverTheOrderOfImagesContainersAndSandboxes) {
  Inventory inv;
  inv.images = {image('a', {"ghcr.io/org/app:2", "ghcr.io/org/app:1"}), image('b'), image('c'), image('d')};
  inv.containers = {container("c2", id_of('a'), ContainerState::Running), container("c1", id_of('a'), ContainerState::Exited),
                    container("c3", id_of('b'), ContainerState::Exited, kNow - kDay, "s1")};
  inv.sandboxes = {sandbox("s2", true), sandbox("s1", false)};
  inv.usage = disk(100 * kGiB, 10 * kGiB);
  Policy p = quiet_policy();
  History h = aged(inv, 3);
  const Plan first = plan_collection(inv, h, p, kNow);
  std::mt19937 rng(42);
  for (int i = 0; i < 50; ++i) {
    Inventory s = inv;
    std::shuffle(s.images.begin(), s.images.end(), rng);
    std::shuffle(s.containers.begin(), s.containers.end(), rng);
    std::shuffle(s.sandboxes.begin(), s.sandboxes.end(), rng);
    expect_same_plan(first, plan_collection(s, h, p, kNow));
  }
  EXPECT_EQ(decision(first.images, id_of('a')).name, "ghcr.io/org/app:1");
  EXPECT_TRUE(contains(decision(first.images, id_of('a')).reason, "c2-name"));  // c1 goes: exited, old
}

TEST(GcPlanner, HumanAgeAndBytes) {
  EXPECT_EQ(human_age(-5), "0s");
  EXPECT_EQ(human_age(59), "59s");
  EXPECT_EQ(human_age(3 * kHour + 5 * kMinute), "3h5m");
  EXPECT_EQ(human_age(2 * kDay + 4 * kHour), "2d4h");
  EXPECT_EQ(human_bytes(512), "512 B");
  EXPECT_EQ(human_bytes(3 * kGiB / 2), "1.5 GiB");
}

}  // namespace
}  // namespace nodeimg::gc

namespace nodeimg::gc {
namespace {

TEST(ContainersUsing, ListsEveryContainerThatRefersToEachImageOnce) {
  const std::vector<Image> images = {
      {"sha256:" + std::string(64, 'a'), {"docker.io/library/busybox:1.36"}, {}, 1, false},
      {"sha256:" + std::string(64, 'b'), {"reg.test/app:1"}, {}, 1, false},
  };
  const std::vector<Container> containers = {
      {"c1", "by-short-name", "", "busybox:1.36", "", ContainerState::Running, 0},
      {"c2", "by-id-twice", "", images[0].id, images[0].id, ContainerState::Exited, 0},
      {"c3", "other", "", "reg.test/other:1", "", ContainerState::Created, 0},
  };
  const auto users = containers_using(images, containers);
  ASSERT_EQ(users.size(), 2u);
  ASSERT_EQ(users[0].size(), 2u);
  EXPECT_EQ(users[0][0]->id, "c1");
  EXPECT_EQ(users[0][1]->id, "c2");
  EXPECT_TRUE(users[1].empty());
  EXPECT_EQ(describe_container(containers[0]), "by-short-name (running)");
  EXPECT_EQ(describe_container({"0123456789abcdef", "", "", "", "", ContainerState::Exited, 0}), "0123456789ab (exited)");
}

}  // namespace
}  // namespace nodeimg::gc

// ---------------------------------------------------------------------------------------
// reason codes and explained shortfalls (machine-readable decisions)

namespace nodeimg::gc {
namespace {

TEST(GcPlannerReasons, EveryImageDecisionCarriesACodeTheRuleAndItsLruRank) {
  Inventory inv;
  inv.images = {image('a', {"reg.test/old:1"}), image('b', {"reg.test/keep:1"}), image('c', {"reg.test/pre:1"}),
                image('d', {"reg.test/used:1"}), image('e', {"reg.test/pin:1"}), image('f', {"reg.test/newer:1"})};
  inv.images[4].pinned = true;
  inv.containers = {container("c1", "reg.test/used:1", ContainerState::Running)};
  inv.usage = disk(100 * kGiB, 50 * kGiB);
  Policy p = quiet_policy();
  p.keep = {*ReferencePattern::parse("reg.test/keep:*")};
  p.prepull = {"reg.test/pre:1"};
  History h = aged(inv, 5);
  h[id_of('f')].last_used = kNow - kDay;
  const Plan plan = plan_collection(inv, h, p, kNow);
  EXPECT_EQ(decision(plan.images, id_of('a')).code, ReasonCode::NotNeeded);
  EXPECT_EQ(decision(plan.images, id_of('a')).lru_rank, 1u);
  EXPECT_EQ(decision(plan.images, id_of('f')).lru_rank, 2u);
  EXPECT_EQ(next_gc(decision(plan.images, id_of('a'))), NextGc::NotNeeded);
  EXPECT_EQ(decision(plan.images, id_of('b')).code, ReasonCode::Keep);
  EXPECT_EQ(decision(plan.images, id_of('b')).rule, "reg.test/keep:*");
  EXPECT_EQ(decision(plan.images, id_of('c')).code, ReasonCode::Prepull);
  EXPECT_EQ(decision(plan.images, id_of('c')).rule, "reg.test/pre:1");
  EXPECT_EQ(decision(plan.images, id_of('d')).code, ReasonCode::InUse);
  EXPECT_EQ(decision(plan.images, id_of('d')).rule, "c1-name");
  EXPECT_EQ(decision(plan.images, id_of('e')).code, ReasonCode::Pinned);
  for (const char c : {'b', 'c', 'd', 'e'}) {
    EXPECT_EQ(next_gc(decision(plan.images, id_of(c))), NextGc::Protected) << c;
    EXPECT_EQ(decision(plan.images, id_of(c)).lru_rank, 0u) << c;
  }
}

TEST(GcPlannerReasons, ContainersAndSandboxesCarryCodesToo) {
  Inventory inv;
  inv.images = {image('a', {"reg.test/a:1"})};
  inv.sandboxes = {sandbox("dead", false), sandbox("live", true), sandbox("held", false)};
  inv.containers = {container("x", "reg.test/a:1", ContainerState::Exited), container("r", "reg.test/a:1", ContainerState::Running, kNow, "held"),
                    container("y", "reg.test/a:1", ContainerState::Exited, kNow - kMinute, "dead")};
  const Plan plan = plan_collection(inv, aged(inv, 1), quiet_policy(), kNow);
  EXPECT_EQ(decision(plan.containers, "x").code, ReasonCode::Exited);
  EXPECT_EQ(decision(plan.containers, "r").code, ReasonCode::Running);
  // y exited a minute ago (< containers.minAge): it stays, and so does its NotReady sandbox.
  EXPECT_EQ(decision(plan.containers, "y").code, ReasonCode::TooYoung);
  EXPECT_EQ(decision(plan.sandboxes, "dead").code, ReasonCode::HoldsContainer);
  EXPECT_EQ(decision(plan.sandboxes, "dead").rule, "y-name");
  EXPECT_EQ(decision(plan.sandboxes, "live").code, ReasonCode::Ready);
  EXPECT_EQ(decision(plan.sandboxes, "held").code, ReasonCode::HoldsContainer);
  EXPECT_EQ(decision(plan.sandboxes, "held").rule, "r-name");

  // An old exited container kept by its own rule (containers.removeExited off) goes with
  // its removed sandbox, and says so.
  inv.containers.back().created_at = kNow - 2 * 3600;
  Policy keep_exited = quiet_policy();
  keep_exited.remove_exited_containers = false;
  const Plan plan2 = plan_collection(inv, aged(inv, 1), keep_exited, kNow);
  EXPECT_EQ(decision(plan2.sandboxes, "dead").code, ReasonCode::NotReady);
  EXPECT_EQ(decision(plan2.containers, "y").code, ReasonCode::WithSandbox);
  EXPECT_EQ(decision(plan2.containers, "y").rule, "dead-pod");
}

TEST(GcPlannerReasons, ALowShortfallSaysWhatIsNeededWhatIsRemovableAndWhyTheRestStays) {
  Inventory inv;
  for (int i = 0; i < 40; ++i) inv.images.push_back(image(static_cast<char>('A' + i), {fmt::format("reg.test/app:{}", i)}, kGiB));
  for (int i = 0; i < 3; ++i)
    inv.containers.push_back(container(fmt::format("c{}", i), fmt::format("reg.test/app:{}", i), ContainerState::Running));
  inv.usage = disk(100 * kGiB, 20 * kGiB);  // 80% used
  Policy p = quiet_policy();
  p.high = pct(75);
  p.low = pct(40);
  p.min_age = kHour;
  History h;
  for (const auto& i : inv.images) h[i.id] = {kNow - 10 * kMinute, kNow - 10 * kMinute};  // all first seen 10 minutes ago
  const Plan plan = plan_collection(inv, h, p, kNow);
  ASSERT_EQ(plan.shortfalls.size(), 1u);
  const Shortfall& s = plan.shortfalls[0];
  EXPECT_EQ(s.kind, Shortfall::Kind::Low);
  EXPECT_EQ(s.message, "low 40% needs 40.0 GiB; the removable images hold 0 B: 37 images are younger than gc.minAge (1h), "
                       "3 are in use");
  EXPECT_EQ(s.needed_bytes, 40 * kGiB);
  EXPECT_EQ(s.removable_bytes, 0u);
  EXPECT_EQ(s.protected_by, (std::vector<ReasonCount>{{.code = ReasonCode::TooYoung, .count = 37}, {.code = ReasonCode::InUse, .count = 3}}));
}

TEST(GcPlannerReasons, AMaxImagesShortfallCountsWhatStaysPerReason) {
  Inventory inv;
  inv.images = {image('a', {"reg.test/a:1"}), image('b', {"reg.test/b:1"}), image('c', {"reg.test/c:1"})};
  inv.images[0].pinned = true;
  inv.usage = disk(100 * kGiB, 90 * kGiB);
  Policy p = quiet_policy();
  p.max_images = 1;
  p.keep = {*ReferencePattern::parse("reg.test/b:*")};
  const Plan plan = plan_collection(inv, aged(inv, 1), p, kNow);
  ASSERT_EQ(plan.shortfalls.size(), 1u);
  EXPECT_EQ(plan.shortfalls[0].message, "maxImages 1: 2 images would remain: 1 image is pinned by the runtime, 1 is protected by gc.keep");
  EXPECT_EQ(plan.shortfalls[0].remaining, 2u);
}

TEST(GcPlannerReasons, AReserveIsRemoveIfNeededAndCarriesTheThresholdCode) {
  Inventory inv;
  inv.images = {image('a', {"reg.test/a:1"}, 12 * kGiB), image('b', {"reg.test/b:1"}, 5 * kGiB)};
  inv.usage = disk(100 * kGiB, 20 * kGiB);
  Policy p = quiet_policy();
  p.high = pct(75);
  p.low = pct(70);  // 10 GiB to free: the first image covers it by its size
  History h = aged(inv, 3);
  h[id_of('b')].last_used = kNow - kDay;
  const Plan plan = plan_collection(inv, h, p, kNow);
  EXPECT_EQ(next_gc(decision(plan.images, id_of('a'))), NextGc::Remove);
  EXPECT_EQ(next_gc(decision(plan.images, id_of('b'))), NextGc::RemoveIfNeeded);
  EXPECT_EQ(decision(plan.images, id_of('b')).code, ReasonCode::Lru);
  EXPECT_EQ(decision(plan.images, id_of('b')).lru_rank, 2u);
  EXPECT_EQ(plan.reserves(), 1u);
}


// ---------------------------------------------------------------------------------------
// A large node, planned and checked against the specifications one image at a time

// The protection the planner must give `image` (as the plan lists its references: tags, then
// digests, each sorted), worked out the slow way: refers_to over every remaining user and
// prepull entry, ReferencePattern::matches(reference) over every rule and reference,
// repository_of over every tag. The planner gets the same answers from its reference index,
// references normalized once, and keepNewest lists built only for configured repositories.
struct Expected {
  ReasonCode code = ReasonCode::NotNeeded;  // NotNeeded: a candidate
  std::string rule{};
};

struct Node {
  const Inventory& inv;
  const std::vector<Image>& images;  // merged by id
  const History& history;
  const Policy& policy;
  std::vector<std::string> gone_c;   // the containers and sandboxes the plan removes
  std::vector<std::string> gone_s;
};

Expected expected_protection(const Image& image, const Node& node) {
  const auto& [inv, images, history, p, gone_c, gone_s] = node;
  auto gone = [](const std::vector<std::string>& v, const std::string& id) { return std::find(v.begin(), v.end(), id) != v.end(); };
  auto hist = [&](const std::string& id) {
    auto it = history.find(id);
    return it == history.end() ? ImageHistory{kNow, kNow} : it->second;
  };
  if (image.pinned) return {.code = ReasonCode::Pinned};
  for (const auto& s : inv.sandbox_images)
    if (refers_to(image, s)) return {.code = ReasonCode::Sandbox};
  for (const auto& c : inv.containers)  // the inventory is in id order: the first user is the one named
    if (!gone(gone_c, c.id) && !gone(gone_s, c.sandbox_id) && (refers_to(image, c.image_id) || refers_to(image, c.image)))
      return {.code = ReasonCode::InUse, .rule = c.name};
  std::vector<std::string> refs = image.tags;
  refs.insert(refs.end(), image.digests.begin(), image.digests.end());
  refs.push_back(image.id);
  for (const auto& k : p.keep)
    for (const auto& r : refs)
      if (k.matches(r)) return {.code = ReasonCode::Keep, .rule = k.text()};
  for (const auto& pre : p.prepull)
    if (refers_to(image, pre)) return {.code = ReasonCode::Prepull, .rule = pre};
  for (const auto& [repo, n] : p.keep_newest) {  // configured already normalized: one entry per repository
    auto of_repo = [&](const Image& i) {
      return std::any_of(i.tags.begin(), i.tags.end(), [&](const std::string& t) { return repository_of(t) == repo; });
    };
    if (!of_repo(image)) continue;
    int newer = 0;
    for (const auto& other : images)
      if (other.id != image.id && of_repo(other) && lru_before(hist(image.id), image.id, hist(other.id), other.id)) ++newer;
    if (newer < n) return {.code = ReasonCode::KeepNewest, .rule = repo};
  }
  if (kNow - hist(image.id).first_seen < p.min_age) return {.code = ReasonCode::TooYoung};
  return {};
}

TEST(GcPlannerLarge, EveryDecisionOnAGeneratedNodeOf1500ImagesIsWhatTheSpecificationsSay) {
  std::mt19937_64 rng(20261130);
  auto below = [&rng](std::size_t n) { return static_cast<std::size_t>(rng() % n); };
  const char* registries[] = {"docker.io/library", "ghcr.io/org", "registry.example.com/team", "quay.io/prom"};
  const std::string hex_digits = "0123456789abcdef";
  auto hex = [&] {
    std::string h;
    for (int i = 0; i < 64; ++i) h += hex_digits[below(16)];
    return h;
  };
  const std::size_t n = 1500, repos = n / 5;
  World w;
  Inventory& inv = w.inv;
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t r = below(repos);
    const std::string repo = fmt::format("{}/app{}", registries[r % 4], r);
    const std::string short_repo = r % 4 == 0 ? fmt::format("app{}", r) : repo;  // Docker Hub's short form
    Image im;
    im.id = "sha256:" + hex();
    im.tags.push_back(fmt::format("{}:v{}", below(3) == 0 ? short_repo : repo, i));
    if (below(4) == 0) im.tags.push_back(fmt::format("{}:latest-{}", repo, i));  // after "v…": not sorted
    if (below(2) == 0) im.digests.push_back(repo + "@sha256:" + hex());
    im.size = 1'000'000 + rng() % 500'000'000;
    im.pinned = below(50) == 0;
    if (below(5) != 0) {
      const Seconds first = kNow - static_cast<Seconds>(below(90 * kDay));
      w.history[im.id] = {first, first + static_cast<Seconds>(below(static_cast<std::size_t>(kNow - first) + 1))};
    }
    inv.images.push_back(std::move(im));
  }
  for (std::size_t i = 0; i < n / 30; ++i) {  // listed twice, with another tag
    Image again = inv.images[below(n)];
    again.tags = {again.tags.front() + "-again"};
    again.pinned = false;
    inv.images.push_back(std::move(again));
  }
  for (std::size_t s = 0; s < n / 10; ++s)
    inv.sandboxes.push_back(sandbox(fmt::format("sb{:04}", s), below(5) != 0, kNow - static_cast<Seconds>(below(30 * kDay))));
  for (std::size_t c = 0; c < n / 4; ++c) {
    const Image& im = inv.images[below(n)];
    const std::vector<ContainerState> states = {ContainerState::Running, ContainerState::Exited, ContainerState::Created};
    Container ct = container(fmt::format("c{:04}", c), below(2) == 0 ? im.tags.front() : im.id.substr(below(2) == 0 ? 0 : 7),
                             states[below(3)], kNow - static_cast<Seconds>(below(3 * kHour)),
                             fmt::format("sb{:04}", below(n / 10)));
    if (below(3) == 0) ct.image_id = im.id;
    inv.containers.push_back(std::move(ct));
  }
  std::sort(inv.containers.begin(), inv.containers.end(), [](const Container& a, const Container& b) { return a.id < b.id; });
  inv.sandbox_images = {inv.images[7].tags.front()};
  inv.usage = disk(100 * kGiB, 15 * kGiB);
  Policy& p = w.policy;
  p.min_age = kDay;
  p.max_images = n / 2;
  p.max_unused_age = 60 * kDay;
  for (const auto* pattern : {"ghcr.io/org/app1*:*", "regex:^quay\\.io/prom/app[0-9]+:v1[0-9]$", "app4*:*", "*@sha256:0*"})
    p.keep.push_back(*ReferencePattern::parse(pattern));
  p.keep_newest[repository_of("app8")] = 3;
  p.keep_newest["registry.example.com/team/app2"] = 2;
  p.prepull = {inv.images[11].tags.front(), inv.images[12].id.substr(7)};

  const Plan plan = plan_collection(inv, w.history, p, kNow);
  // The images as the planner must see them: every listing of an id merged, references sorted.
  std::map<std::string, Image> by_id;
  for (const auto& im : inv.images) {
    Image& m = by_id[im.id];
    m.id = im.id;
    m.tags.insert(m.tags.end(), im.tags.begin(), im.tags.end());
    m.digests.insert(m.digests.end(), im.digests.begin(), im.digests.end());
    m.pinned = m.pinned || im.pinned;
  }
  std::vector<Image> images;
  for (auto& [id, m] : by_id) {
    for (auto* v : {&m.tags, &m.digests}) {
      std::sort(v->begin(), v->end());
      v->erase(std::unique(v->begin(), v->end()), v->end());
    }
    images.push_back(m);
  }
  const Node node{.inv = inv, .images = images, .history = w.history, .policy = p,
                  .gone_c = removed(plan.containers), .gone_s = removed(plan.sandboxes)};
  std::map<ReasonCode, std::size_t> seen;
  std::size_t checked = 0;
  for (const Decision& d : plan.images) {
    const Image& merged = by_id.at(d.id);
    std::vector<std::string> refs = merged.tags;
    refs.insert(refs.end(), merged.digests.begin(), merged.digests.end());
    ASSERT_EQ(d.refs, refs) << d.id;
    const Expected e = expected_protection(merged, node);
    if (e.code == ReasonCode::NotNeeded) {
      EXPECT_NE(d.lru_rank, 0u) << d.id << ": " << d.reason;
    } else {
      EXPECT_EQ(d.code, e.code) << d.id << ": " << d.reason;
      if (!e.rule.empty()) {
        EXPECT_EQ(d.rule, e.rule) << d.id << ": " << d.reason;
      }
      EXPECT_FALSE(d.remove) << d.id;
    }
    ++seen[e.code];
    ++checked;
    if (HasFailure()) return;
  }
  EXPECT_EQ(checked, n);
  // Every kind of protection occurs, and candidates too: the comparison is not vacuous.
  for (const ReasonCode code : {ReasonCode::Pinned, ReasonCode::Sandbox, ReasonCode::InUse, ReasonCode::Keep,
                                ReasonCode::Prepull, ReasonCode::KeepNewest, ReasonCode::TooYoung, ReasonCode::NotNeeded})
    EXPECT_GT(seen[code], 0u) << to_string(code);

  World shuffled = w;
  std::shuffle(shuffled.inv.images.begin(), shuffled.inv.images.end(), rng);
  std::shuffle(shuffled.inv.containers.begin(), shuffled.inv.containers.end(), rng);
  std::shuffle(shuffled.inv.sandboxes.begin(), shuffled.inv.sandboxes.end(), rng);
  for (auto& im : shuffled.inv.images) std::reverse(im.tags.begin(), im.tags.end());
  expect_same_plan(plan, plan_collection(shuffled.inv, shuffled.history, shuffled.policy, kNow));
}

}  // namespace
}  // namespace nodeimg::gc
