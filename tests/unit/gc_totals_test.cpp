// The metrics operators alert on: run totals that survive restarts (kept in the versioned
// state file), the thresholds as ratios, and kubelet's effective settings.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "commands/kubelet_metrics.hpp"
#include "core/gc/history.hpp"
#include "core/gc/metrics.hpp"

namespace nodeimg::gc {
namespace {

constexpr std::uint64_t GiB = 1024ULL * 1024 * 1024;

RunReport run_that_removed(std::size_t images, std::uint64_t freed) {
  RunReport r;
  r.runtime = "containerd";
  r.before = {"/var/lib/containerd", 100 * GiB, 10 * GiB, 0, 0};
  r.after = {"/var/lib/containerd", 100 * GiB, 10 * GiB + freed, 0, 0};
  for (std::size_t i = 0; i < images; ++i) r.removed.push_back({ObjectKind::Image, "sha256:" + std::to_string(i), "", 0, Phase::Threshold, ""});
  r.removed.push_back({ObjectKind::Container, "c", "", 0, Phase::ExitedContainer, ""});
  return r;
}

bool has_line(const std::string& text, const std::string& line) {
  return ("\n" + text).find("\n" + line + "\n") != std::string::npos;
}

TEST(RunTotals, RecordRunAddsRemovalsBytesAndTheResult) {
  RunTotals t;
  t = record_run(t, run_that_removed(3, 2 * GiB), 100);
  t = record_run(t, run_that_removed(1, GiB), 200);
  RunReport failed;
  failed.failures.push_back({ObjectKind::Image, "", "unreachable"});
  t = record_run(t, failed, 300);
  EXPECT_EQ(t.runs_success, 2u);
  EXPECT_EQ(t.runs_failure, 1u);
  EXPECT_EQ(t.removed_images, 4u);
  EXPECT_EQ(t.removed_containers, 2u);
  EXPECT_EQ(t.removed_sandboxes, 0u);
  EXPECT_EQ(t.freed_bytes, 3 * GiB);
  EXPECT_EQ(t.last_run_finished_at, 300);
  EXPECT_FALSE(t.last_run_success);
}

TEST(RunTotals, CountersAreRenderedAsCountersWithTheirLabels) {
  const RunTotals t{.runs_success = 41, .runs_failure = 2, .removed_containers = 3, .removed_sandboxes = 1,
                    .removed_images = 17, .freed_bytes = 123456789};
  const auto text = render_metrics(run_that_removed(1, GiB), 1, {.totals = t});
  EXPECT_TRUE(has_line(text, "# TYPE nodeimg_gc_runs_total counter")) << text;
  EXPECT_TRUE(has_line(text, "nodeimg_gc_runs_total{result=\"success\"} 41"));
  EXPECT_TRUE(has_line(text, "nodeimg_gc_runs_total{result=\"failure\"} 2"));
  EXPECT_TRUE(has_line(text, "# TYPE nodeimg_gc_removed_total counter"));
  EXPECT_TRUE(has_line(text, "nodeimg_gc_removed_total{kind=\"container\"} 3"));
  EXPECT_TRUE(has_line(text, "nodeimg_gc_removed_total{kind=\"sandbox\"} 1"));
  EXPECT_TRUE(has_line(text, "nodeimg_gc_removed_total{kind=\"image\"} 17"));
  EXPECT_TRUE(has_line(text, "# TYPE nodeimg_gc_freed_bytes_total counter"));
  EXPECT_TRUE(has_line(text, "nodeimg_gc_freed_bytes_total 123456789"));
  // The per-run gauges stay.
  EXPECT_TRUE(has_line(text, "# TYPE nodeimg_gc_removed gauge"));
  EXPECT_TRUE(has_line(text, "nodeimg_gc_removed{kind=\"image\"} 1"));
  // Without totals (older callers) no counter appears.
  EXPECT_EQ(render_metrics(run_that_removed(1, GiB), 1).find("_total"), std::string::npos);
}

TEST(RunTotals, ThresholdRatiosForPercentAndFreeThresholds) {
  EXPECT_DOUBLE_EQ(*used_ratio_at({Threshold::Kind::UsedPercent, 75, 0, "75%"}, 0), 0.75);
  EXPECT_DOUBLE_EQ(*used_ratio_at({Threshold::Kind::FreeBytes, 0, 20 * GiB, "20GiB free"}, 100 * GiB), 0.8);
  EXPECT_EQ(used_ratio_at({Threshold::Kind::FreeBytes, 0, 20 * GiB, "20GiB free"}, 0), std::nullopt);
  const auto text = render_metrics(run_that_removed(0, 0), 1, {.high_ratio = 0.75, .low_ratio = 0.65});
  EXPECT_TRUE(has_line(text, "nodeimg_gc_high_ratio 0.75")) << text;
  EXPECT_TRUE(has_line(text, "nodeimg_gc_low_ratio 0.65")) << text;
}

TEST(StateFile, TotalsSurviveARoundTrip) {
  const History h{{"sha256:a", {10, 20}}};
  const RunTotals t{.runs_success = 5, .runs_failure = 1, .removed_containers = 2, .removed_sandboxes = 3,
                    .removed_images = 4, .freed_bytes = 99, .last_run_finished_at = 1'764'000'000, .last_run_success = false};
  const auto text = serialize_state(h, t, 1'764'000'001);
  EXPECT_EQ(nlohmann::json::parse(text)["version"], 2);
  auto back = parse_state(text);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->history.at("sha256:a").last_used, 20);
  EXPECT_EQ(back->totals.runs_success, 5u);
  EXPECT_EQ(back->totals.runs_failure, 1u);
  EXPECT_EQ(back->totals.removed_containers, 2u);
  EXPECT_EQ(back->totals.removed_sandboxes, 3u);
  EXPECT_EQ(back->totals.removed_images, 4u);
  EXPECT_EQ(back->totals.freed_bytes, 99u);
  EXPECT_EQ(back->totals.last_run_finished_at, 1'764'000'000);
  EXPECT_FALSE(back->totals.last_run_success);
}

TEST(StateFile, Version1FilesStillLoadWithZeroTotals) {
  auto s = parse_state(R"({"version": 1, "updatedAt": 1700000000,
                           "images": {"sha256:a": {"firstSeen": 5, "lastUsed": 6}}})");
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->history.size(), 1u);
  EXPECT_EQ(s->totals.runs_success, 0u);
  EXPECT_EQ(s->totals.last_run_finished_at, 0);
}

TEST(StateFile, BadTotalsAreNamed) {
  auto s = parse_state(R"({"version": 2, "updatedAt": 1, "images": {}, "totals": {"runs": {"success": -1}}})");
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("totals.runs.success"), std::string::npos) << s.error().message;
  s = parse_state(R"({"version": 2, "updatedAt": 1, "images": {}, "totals": {"lastRun": {"finishedAt": 5}}})");
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("totals.lastRun"), std::string::npos) << s.error().message;
}

TEST(KubeletMetrics, EffectiveCapAndThresholdWithTheirTime) {
  const auto text = render_kubelet_metrics({.node_status_max_images = -1, .image_gc_high_threshold_percent = 85,
                                            .observed_at = 1'764'000'000});
  EXPECT_TRUE(has_line(text, "# TYPE nodeimg_kubelet_node_status_max_images gauge")) << text;
  EXPECT_TRUE(has_line(text, "nodeimg_kubelet_node_status_max_images -1"));
  EXPECT_TRUE(has_line(text, "nodeimg_kubelet_image_gc_high_threshold_ratio 0.85"));
  EXPECT_TRUE(has_line(text, "nodeimg_kubelet_facts_timestamp_seconds 1764000000"));
}

TEST(KubeletMetrics, FileSitsBesideTheGcTextfile) {
  EXPECT_EQ(kubelet_metrics_path("/var/lib/prometheus/node-exporter/nodeimg.prom"),
            "/var/lib/prometheus/node-exporter/nodeimg-kubelet.prom");
  EXPECT_EQ(kubelet_metrics_path(""), "");
}

}  // namespace
}  // namespace nodeimg::gc
