// The policy's rules stated once in the core: command-line overrides checked with the
// config parser's own words, thresholds, and how the executor batches and goes on with
// reserves (core/gc/policy, threshold, execution).
#include <gtest/gtest.h>

#include "core/config/app_config.hpp"
#include "core/gc/execution.hpp"
#include "core/gc/policy.hpp"
#include "core/gc/threshold.hpp"

namespace nodeimg::gc {
namespace {

constexpr std::uint64_t kGiB = 1ULL << 30;

// The message after "file:line: key: " in a configuration error.
std::string config_message(const std::string& yaml) {
  auto c = parse_app_config(yaml, "/etc/nodeimg/config.yaml");
  if (c) return "";
  const std::string& m = c.error().message;
  const auto key = m.find(": gc.");
  return m.substr(m.find(": ", key + 2) + 2);
}

// The message after "--option: " of an override error.
std::string override_message(const PolicyOverrides& o) {
  Policy p;
  auto ok = apply_overrides(o, p);
  if (ok) return "";
  return ok.error().message.substr(ok.error().message.find(": ") + 2);
}

TEST(PolicyOverrides, AreRefusedWithTheConfigurationFilesWords) {
  struct Case {
    std::string yaml;
    PolicyOverrides overrides;
  };
  const std::vector<Case> cases = {
      {"gc:\n  maxImages: -1\n", {.max_images = -1}},
      {"gc:\n  concurrency: 0\n", {.concurrency = 0}},
      {"gc:\n  concurrency: 65\n", {.concurrency = 65}},
      {"gc:\n  minAge: -1h\n", {.min_age = "-1h"}},
      {"gc:\n  maxUnusedAge: soon\n", {.max_unused_age = "soon"}},
      {"gc:\n  high: 120%\n", {.high = "120%"}},
      {"gc:\n  low: lots\n", {.low = "lots"}},
      {"gc:\n  inodesHigh: 20GiB free\n", {.inodes_high = "20GiB free"}},
  };
  for (const auto& c : cases) {
    const std::string from_file = config_message(c.yaml);
    EXPECT_FALSE(from_file.empty()) << c.yaml;
    EXPECT_EQ(override_message(c.overrides), from_file) << c.yaml;
  }
}

TEST(PolicyOverrides, NameTheOptionAndApplyOverTheFile) {
  Policy p;
  auto bad = apply_overrides({.max_images = -1}, p);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message, "--max-images: must be >= 0 (0 = off)");
  auto order = apply_overrides({.high = "60%"}, p);  // the file's low is 65%
  ASSERT_FALSE(order);
  EXPECT_EQ(order.error().message, "--high/--low: low (65%) must free more than high (60%) starts at");

  Policy q;
  auto ok = apply_overrides({.high = "20GiB free", .low = "30GiB free", .inodes_high = "80%", .min_age = "2h",
                             .max_unused_age = "168h", .max_images = 10, .concurrency = 8, .keep = {"reg.test/*"}},
                            q);
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(q.high.bytes, 20 * kGiB);
  EXPECT_EQ(q.low.bytes, 30 * kGiB);
  EXPECT_EQ(q.inodes_high, 80);
  EXPECT_EQ(q.min_age, 7200);
  EXPECT_EQ(q.max_unused_age, 7 * 86400);
  EXPECT_EQ(q.max_images, 10u);
  EXPECT_EQ(q.concurrency, 8);
  ASSERT_EQ(q.keep.size(), 1u);
  EXPECT_TRUE(q.keep[0].matches("reg.test/app:1"));
}

FilesystemUsage disk(std::uint64_t size, std::uint64_t available) {
  return {.mountpoint = "/", .size_bytes = size, .available_bytes = available, .inodes = 100, .inodes_free = 50};
}

TEST(Thresholds, TargetIsLowOrAtLeastOutOfHigh) {
  const Threshold high = *parse_threshold("80%");
  const Threshold low = *parse_threshold("70%");
  EXPECT_EQ(bytes_to_reach_low(high, low, disk(100 * kGiB, 15 * kGiB)), 15 * kGiB);
  EXPECT_EQ(bytes_to_reach_low(high, low, disk(100 * kGiB, 25 * kGiB)), 0u) << "high not reached";
  EXPECT_EQ(bytes_to_reach_low(high, low, disk(0, 0)), 0u) << "unknown size: never reached";
  // A low free size that would not even leave high: raised to just out of high.
  const Threshold low_free = *parse_threshold("1GiB free");
  EXPECT_EQ(bytes_to_reach_low(high, low_free, disk(100 * kGiB, 15 * kGiB)), 5 * kGiB + 1);
  EXPECT_TRUE(inode_pressure(disk(1, 1), 50));
  EXPECT_FALSE(inode_pressure(disk(1, 1), 51));
  EXPECT_TRUE(check_threshold_order(high, low_free)) << "mixed kinds are not compared";
  EXPECT_FALSE(check_threshold_order(low, high));
}

std::vector<const Decision*> pointers(const std::vector<Decision>& ds) {
  std::vector<const Decision*> out;
  for (const auto& d : ds) out.push_back(&d);
  return out;
}

TEST(ExecutionRules, CountBatchesAreUpToEightTimesTheConcurrencyAtMost64) {
  std::vector<Decision> list(100, Decision{.remove = true, .phase = Phase::MaxImages});
  const auto ptrs = pointers(list);
  ThresholdStep step;
  const Batch first = next_batch(ptrs, 0, 2, step);
  EXPECT_EQ(first.end, 16u) << "8 x 2";
  EXPECT_FALSE(first.threshold);
  EXPECT_FALSE(first.ends_step) << "nothing to measure: the space is reclaimed later";
  EXPECT_EQ(next_batch(ptrs, 0, 16, step).end, 64u) << "at most 64";
  EXPECT_EQ(next_batch(ptrs, 90, 16, step).end, 100u) << "never past the list";
  EXPECT_EQ(next_batch(ptrs, 0, 0, step).end, 8u) << "a concurrency of 0 counts as 1";
  EXPECT_FALSE(starts_step(ptrs, 0, 2, step));
}

TEST(ExecutionRules, AThresholdStepStartsABatchOfItsOwn) {
  std::vector<Decision> list(40, Decision{.size = kGiB, .remove = true, .phase = Phase::MaxImages});
  for (std::size_t i = 4; i < 40; ++i) list[i].phase = Phase::Threshold;
  const auto ptrs = pointers(list);
  ThresholdStep step;
  const Batch count = next_batch(ptrs, 0, 2, step);
  EXPECT_EQ(count.end, 4u) << "what came before the step is removed (and reclaimed) before it is measured";
  EXPECT_FALSE(count.threshold);
  ASSERT_TRUE(starts_step(ptrs, 4, 2, step));
  step = open_step(10 * kGiB);
  EXPECT_EQ(step.budget, 5 * kGiB) << "half the shortfall";
  const Batch first = next_batch(ptrs, 4, 2, step);
  EXPECT_EQ(first.end, 9u) << "5 GiB of 1 GiB images";
  EXPECT_TRUE(first.threshold);
  EXPECT_TRUE(first.ends_step);
  EXPECT_TRUE(starts_step(ptrs, 9, 2, step)) << "the next image opens the next step, on a new measurement";
}

TEST(ExecutionRules, AStepHasAtLeastPerBatchImagesAndMaySpanBatches) {
  std::vector<Decision> list(100, Decision{.size = kGiB, .remove = true, .phase = Phase::Threshold});
  const auto ptrs = pointers(list);
  ThresholdStep step = open_step(0);  // nothing measurable short: the minimum
  Batch b = next_batch(ptrs, 0, 4, step);
  EXPECT_EQ(b.end, 4u);
  EXPECT_TRUE(b.ends_step);
  step = open_step(80 * kGiB);  // 40 images: 32 (8 x 4), then 8
  b = next_batch(ptrs, 0, 4, step);
  EXPECT_EQ(b.end, 32u);
  EXPECT_FALSE(b.ends_step) << "the step goes on in the next batch (re-listing before it)";
  EXPECT_FALSE(starts_step(ptrs, 32, 4, step));
  b = next_batch(ptrs, 32, 4, step);
  EXPECT_EQ(b.end, 40u);
  EXPECT_TRUE(b.ends_step);
  step = open_step(1000 * kGiB);
  b = next_batch(ptrs, 96, 4, step);
  EXPECT_EQ(b.end, 100u);
  EXPECT_TRUE(b.ends_step) << "the list's end ends the step";
  ThresholdStep none;
  b = next_batch(ptrs, 0, 3, none);
  EXPECT_EQ(b.end, 3u) << "asked without opening a step: a step of per_batch images";
}

TEST(ExecutionRules, TheScaleFollowsWhatTheLastStepFreedAtMostDoubling) {
  EXPECT_EQ(next_scale(1, {.planned = 10, .freed = 10}), 1.0) << "sizes were right";
  EXPECT_EQ(next_scale(1, {.planned = 10, .freed = 20}), 1.0) << "never below 1: half the shortfall by sizes";
  EXPECT_EQ(next_scale(1, {.planned = 40, .freed = 10}), 2.0) << "at most twice the last scale";
  EXPECT_EQ(next_scale(2, {.planned = 30, .freed = 10}), 3.0);
  EXPECT_EQ(next_scale(48, {.planned = 100, .freed = 0}), 64.0) << "nothing freed: doubles, at most 64";
  EXPECT_EQ(next_scale(3, {.planned = 0, .freed = 0}), 3.0) << "a step that planned nothing teaches nothing";
  EXPECT_EQ(open_step(10 * kGiB, 2).budget, 10 * kGiB);
  EXPECT_EQ(open_step(10 * kGiB, 0.5).budget, 5 * kGiB) << "never below half the shortfall";
}

TEST(ExecutionRules, ShortOfLowIsWhatTheStopRuleNeeds) {
  Policy policy;  // high 75 %, low 65 %
  Plan plan;
  plan.over_high = true;
  PressureWatch watch(plan, policy, disk(100 * kGiB, 20 * kGiB));
  const std::uint64_t s = watch.bytes_short_of_low(disk(100 * kGiB, 20 * kGiB));
  EXPECT_GE(s, 15 * kGiB);
  EXPECT_LT(s, 15 * kGiB + kGiB / 100) << s;
  EXPECT_EQ(watch.bytes_short_of_low(disk(100 * kGiB, 40 * kGiB)), 0u) << "already at low";
  EXPECT_EQ(watch.bytes_short_of_low(disk(0, 0)), 0u) << "nothing measurable";
  Plan inodes;
  inodes.inode_pressure = true;
  FilesystemUsage full_of_inodes = disk(100 * kGiB, 20 * kGiB);
  full_of_inodes.inodes_free = 5;  // 95 % of the inodes used, inodesHigh 90 %
  PressureWatch iw(inodes, policy, full_of_inodes);
  ASSERT_FALSE(iw.relieved());
  EXPECT_EQ(iw.bytes_short_of_low(full_of_inodes), 0u) << "bytes alone cannot relieve inode pressure";
}

TEST(ExecutionRules, ReservesOnlyWhileAMeasurementShowsPressure) {
  Policy policy;
  Plan plan;
  plan.over_high = true;
  plan.images = {Decision{.id = "r1", .reason = "removable", .reserve = true}, Decision{.id = "k", .reason = "pinned"}};
  const FilesystemUsage still_high = disk(100 * kGiB, 20 * kGiB);
  PressureWatch watch(plan, policy, still_high);
  EXPECT_FALSE(watch.relieved());
  watch.observe_failure();
  EXPECT_TRUE(watch.reserves(plan, still_high).empty()) << "not on a failed measurement";
  EXPECT_FALSE(watch.observe(still_high));
  const auto reserves = watch.reserves(plan, still_high);
  ASSERT_EQ(reserves.size(), 1u);
  EXPECT_EQ(reserves[0].id, "r1");
  EXPECT_EQ(reserves[0].phase, Phase::Threshold);
  EXPECT_NE(reserves[0].reason.find("shared layers"), std::string::npos) << reserves[0].reason;
  EXPECT_TRUE(watch.observe(disk(100 * kGiB, 40 * kGiB))) << "this measurement relieved it";
  EXPECT_TRUE(watch.reserves(plan, still_high).empty());
}

TEST(ExecutionRules, TheLastMeasurementDecidesTheLowShortfall) {
  Policy policy;
  Plan plan;
  plan.over_high = true;
  std::vector<Shortfall> shortfalls = {{.kind = Shortfall::Kind::Low, .message = "low 65%: estimate"},
                                       {.kind = Shortfall::Kind::MaxImages, .message = "maxImages 1: 3 remain"}};
  PressureWatch watch(plan, policy, disk(100 * kGiB, 20 * kGiB));
  watch.observe_failure();
  watch.settle_shortfalls(shortfalls, disk(100 * kGiB, 40 * kGiB));
  EXPECT_EQ(shortfalls.size(), 2u) << "no measurement: the plan's estimate stands";
  watch.observe(disk(100 * kGiB, 40 * kGiB));
  watch.settle_shortfalls(shortfalls, disk(100 * kGiB, 40 * kGiB));
  ASSERT_EQ(shortfalls.size(), 1u);
  EXPECT_EQ(shortfalls[0].kind, Shortfall::Kind::MaxImages);
  watch.settle_shortfalls(shortfalls, disk(100 * kGiB, 30 * kGiB));
  ASSERT_EQ(shortfalls.size(), 2u);
  EXPECT_EQ(shortfalls[1].kind, Shortfall::Kind::Low);
  EXPECT_NE(shortfalls[1].message.find("still 70.0%"), std::string::npos) << shortfalls[1].message;
}

TEST(KeepFile, OnePatternPerLineCommentsAndBlanksSkipped) {
  auto p = parse_keep_file("# prepulled by nublado\n\n  ghcr.io/org/lab:*  \n\t# indented comment\nregex:quay\\.io/x/.*\r\nbusybox:1.36", "keep.d/lab");
  ASSERT_TRUE(p) << p.error().message;
  ASSERT_EQ(p->size(), 3u);
  EXPECT_EQ((*p)[0].text(), "ghcr.io/org/lab:*");
  EXPECT_EQ((*p)[1].text(), "regex:quay\\.io/x/.*");
  EXPECT_TRUE((*p)[2].matches("docker.io/library/busybox:1.36"));
  EXPECT_TRUE(parse_keep_file("", "empty")->empty());
}

TEST(KeepFile, ABadLineIsAnErrorNamingTheFileAndLine) {
  auto p = parse_keep_file("ghcr.io/org/lab:*\n# fine\nregex:app(\n", "/etc/nodeimg/keep.d/lab");
  ASSERT_FALSE(p);
  EXPECT_NE(p.error().message.find("/etc/nodeimg/keep.d/lab:3: invalid regular expression"), std::string::npos)
      << p.error().message;
}

TEST(KeepFile, KeepFromFileIsOneAbsolutePathOrAList) {
  auto one = parse_app_config("gc:\n  keepFromFile: /etc/nodeimg/keep.d/\n", "c.yaml");
  ASSERT_TRUE(one) << one.error().message;
  EXPECT_EQ(one->gc.keep_from, std::vector<std::string>{"/etc/nodeimg/keep.d/"});
  auto two = parse_app_config("gc:\n  keepFromFile: [/etc/a, /etc/b]\n", "c.yaml");
  ASSERT_TRUE(two) << two.error().message;
  EXPECT_EQ(two->gc.keep_from, (std::vector<std::string>{"/etc/a", "/etc/b"}));
  EXPECT_NE(config_message("gc:\n  keepFromFile: keep.d\n").find("must be an absolute path"), std::string::npos);
}

}  // namespace
}  // namespace nodeimg::gc
