#include <gtest/gtest.h>

#include <limits>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "core/config/app_config.hpp"
#include "core/gc/metrics.hpp"
#include "core/gc/report.hpp"

namespace nodeimg::gc {
namespace {

constexpr std::uint64_t GiB = 1024ULL * 1024 * 1024;

RunReport sample_report() {
  RunReport r;
  r.runtime = "containerd 1.6.20 (cri unix:///run/containerd/containerd.sock)";
  r.endpoint = "unix:///run/containerd/containerd.sock";
  r.started_at = 1'764'000'000;
  r.duration_seconds = 12.5;
  r.before = {"/var/lib/containerd", 100 * GiB, 20 * GiB, 1000, 100};
  r.after = {"/var/lib/containerd", 100 * GiB, 40 * GiB, 1000, 400};
  r.images_before = 10;
  r.images_after = 6;
  r.removed = {{ObjectKind::Container, "c1", "web", 0, Phase::ExitedContainer, "exited"},
               {ObjectKind::Container, "c2", "job", 0, Phase::ExitedContainer, "exited"},
               {ObjectKind::Sandbox, "s1", "pod", 0, Phase::NotReadySandbox, "not ready"},
               {ObjectKind::Image, "sha256:a", "a:1", 5 * GiB, Phase::Threshold, "lru"},
               {ObjectKind::Image, "sha256:b", "b:1", 5 * GiB, Phase::Threshold, "lru"},
               {ObjectKind::Image, "sha256:c", "c:1", 5 * GiB, Phase::MaxUnusedAge, "old"},
               {ObjectKind::Image, "sha256:d", "d:1", 5 * GiB, Phase::MaxImages, "cap"}};
  r.skipped = {{ObjectKind::Image, "sha256:e", "e:1", "came into use since the plan"}};
  return r;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

bool has_line(const std::string& text, const std::string& line) {
  for (const auto& l : lines_of(text))
    if (l == line) return true;
  return false;
}

// The text exposition format, line by line: every family is introduced once by # HELP and
// # TYPE, every sample line matches the grammar (metric name, optional labels with escaped
// values, a Go float), belongs to the family announced last, and the file ends with a
// newline. Returns "" when the text is valid, else what is wrong.
std::string exposition_problems(const std::string& text) {
  static const std::string name = R"([a-zA-Z_:][a-zA-Z0-9_:]*)";
  static const std::string label = R"([a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*")";
  static const std::string value = R"((?:[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[+-]?Inf|NaN))";
  static const std::regex help("^# HELP (" + name + ") .*$");
  static const std::regex type("^# TYPE (" + name + ") (counter|gauge|histogram|summary|untyped)$");
  static const std::regex sample("^(" + name + ")(\\{" + label + "(?:," + label + ")*\\})? " + value + "(?: -?[0-9]+)?$");
  if (text.empty() || text.back() != '\n') return "does not end with a newline";
  std::set<std::string> families;
  std::string current, helped;
  std::set<std::string> series;
  for (const auto& line : lines_of(text)) {
    std::smatch m;
    if (std::regex_match(line, m, help)) {
      helped = m[1];
    } else if (std::regex_match(line, m, type)) {
      if (m[1] != helped) return "TYPE without its HELP: " + line;
      if (!families.insert(m[1]).second) return "family announced twice: " + line;
      current = m[1];
    } else if (std::regex_match(line, m, sample)) {
      if (m[1] != current) return "sample outside its family: " + line;
      const std::string id = m[1].str() + m[2].str();
      if (!series.insert(id).second) return "duplicate series: " + line;
    } else {
      return "not exposition format: " + line;
    }
  }
  return "";
}

TEST(GcReport, KindNames) {
  EXPECT_EQ(to_string(ObjectKind::Container), "container");
  EXPECT_EQ(to_string(ObjectKind::Sandbox), "sandbox");
  EXPECT_EQ(to_string(ObjectKind::Image), "image");
}

TEST(GcReport, CountsRemovalsByKind) {
  const auto r = sample_report();
  EXPECT_EQ(r.count(ObjectKind::Container), 2u);
  EXPECT_EQ(r.count(ObjectKind::Sandbox), 1u);
  EXPECT_EQ(r.count(ObjectKind::Image), 4u);
  EXPECT_EQ(RunReport{}.count(ObjectKind::Image), 0u);
}

TEST(GcReport, BytesFreedIsMeasuredByStatvfsAndNeverNegative) {
  auto r = sample_report();
  EXPECT_EQ(r.bytes_freed(), 20 * GiB);  // available went from 20 to 40 GiB
  r.after.available_bytes = 25 * GiB;     // reclaimed asynchronously: less than the sizes (20 GiB)
  EXPECT_EQ(r.bytes_freed(), 5 * GiB);
  r.after.available_bytes = 10 * GiB;     // pods wrote more than the run freed
  EXPECT_EQ(r.bytes_freed(), 0u);
}

TEST(GcMetrics, RendersEveryFigureOfTheLastRun) {
  const auto text = render_metrics(sample_report(), 1'764'000'013);
  EXPECT_EQ(exposition_problems(text), "") << text;
  for (const std::string line : {
           "# HELP nodeimg_gc_last_run_timestamp_seconds When the last garbage collection run finished, in unix time.",
           "# TYPE nodeimg_gc_last_run_timestamp_seconds gauge",
           "nodeimg_gc_last_run_timestamp_seconds 1764000013",
           "nodeimg_gc_last_run_duration_seconds 12.5",
           "nodeimg_gc_last_run_success 1",
           R"x(nodeimg_gc_runtime_info{runtime="containerd 1.6.20 (cri unix:///run/containerd/containerd.sock)",endpoint="unix:///run/containerd/containerd.sock"} 1)x",
           R"(nodeimg_gc_removed{kind="container"} 2)",
           R"(nodeimg_gc_removed{kind="sandbox"} 1)",
           R"(nodeimg_gc_removed{kind="image"} 4)",
           R"(nodeimg_gc_skipped{kind="container"} 0)",
           R"(nodeimg_gc_skipped{kind="image"} 1)",
           R"(nodeimg_gc_failures{kind="image"} 0)",
           "nodeimg_gc_freed_bytes 21474836480",
           "nodeimg_gc_shortfall 0",
           "nodeimg_gc_stopped_at_low 0",
           R"(nodeimg_image_filesystem_used_ratio{mountpoint="/var/lib/containerd"} 0.6)",
           R"(nodeimg_image_filesystem_inodes_used_ratio{mountpoint="/var/lib/containerd"} 0.6)",
           "# TYPE nodeimg_images gauge",
           "nodeimg_images 6",
       })
    EXPECT_TRUE(has_line(text, line)) << "missing: " << line << "\nin:\n" << text;
}

TEST(GcMetrics, FailuresAndShortfallsAreFlagged) {
  auto r = sample_report();
  r.failures = {{ObjectKind::Image, "sha256:f", "remove image \"sha256:f\" via CRI: Internal: boom"},
                {ObjectKind::Container, "c3", "remove container: NotFound"}};
  r.shortfalls = {{.kind = gc::Shortfall::Kind::Low,
                   .message = "low 65%: 30.0 GiB must be freed but the removable images hold only 10.0 GiB"}};
  r.stopped_at_low = true;
  const auto text = render_metrics(r, 1'764'000'013);
  EXPECT_EQ(exposition_problems(text), "") << text;
  EXPECT_TRUE(has_line(text, "nodeimg_gc_last_run_success 0")) << text;
  EXPECT_TRUE(has_line(text, R"(nodeimg_gc_failures{kind="image"} 1)")) << text;
  EXPECT_TRUE(has_line(text, R"(nodeimg_gc_failures{kind="container"} 1)")) << text;
  EXPECT_TRUE(has_line(text, R"(nodeimg_gc_failures{kind="sandbox"} 0)")) << text;
  EXPECT_TRUE(has_line(text, "nodeimg_gc_shortfall 1")) << text;
  EXPECT_TRUE(has_line(text, "nodeimg_gc_stopped_at_low 1")) << text;
}

TEST(GcMetrics, ARunThatNeverReachedTheRuntimeSaysSoAndClaimsNoFigures) {
  RunReport r;
  r.runtime_reached = false;
  r.endpoint = "unix:///run/containerd/containerd.sock";
  r.outage = "connect via CRI unix:///run/containerd/containerd.sock: Unavailable";
  const auto text = render_metrics(r, 1'764'000'100);
  EXPECT_EQ(exposition_problems(text), "") << text;
  EXPECT_TRUE(has_line(text, "nodeimg_gc_last_run_success 0")) << text;
  EXPECT_TRUE(has_line(text, "nodeimg_gc_runtime_reachable 0")) << text;
  // Unreachable is not a failed removal, and the label names the endpoint probed.
  EXPECT_TRUE(has_line(text, R"(nodeimg_gc_failures{kind="image"} 0)")) << text;
  EXPECT_TRUE(has_line(text, R"(nodeimg_gc_runtime_info{runtime="",endpoint="unix:///run/containerd/containerd.sock"} 1)"))
      << text;
  EXPECT_TRUE(has_line(text, "nodeimg_gc_last_run_timestamp_seconds 1764000100")) << text;
  EXPECT_EQ(text.find("nodeimg_images "), std::string::npos) << text;
  EXPECT_EQ(text.find("nodeimg_image_filesystem_used_ratio"), std::string::npos) << text;
  EXPECT_TRUE(has_line(render_metrics(sample_report(), 1), "nodeimg_gc_runtime_reachable 1"));
}

TEST(GcMetrics, ARuntimeLostMidRunLeavesTheImageCountUnknownAndIsNoRemovalFailure) {
  auto r = sample_report();
  r.runtime_reached = false;
  r.outage = "remove image \"sha256:e\" via CRI unix:///run/containerd/containerd.sock: Unavailable";
  r.images_after = std::nullopt;
  const auto text = render_metrics(r, 1);
  EXPECT_EQ(exposition_problems(text), "") << text;
  EXPECT_EQ(text.find("nodeimg_images "), std::string::npos) << "unknown, not 0: " << text;
  EXPECT_TRUE(has_line(text, "nodeimg_gc_runtime_reachable 0")) << text;
  EXPECT_TRUE(has_line(text, "nodeimg_gc_last_run_success 0")) << text;
  EXPECT_TRUE(has_line(text, R"(nodeimg_gc_failures{kind="image"} 0)")) << text;
  EXPECT_TRUE(has_line(text, R"(nodeimg_gc_removed{kind="image"} 4)")) << "what went before the outage counts: " << text;
  const RunTotals t = record_run({}, r, 1);
  EXPECT_EQ(t.runs_failure, 1u);
  EXPECT_EQ(t.removed_images, 4u);
}

TEST(GcMetrics, ARunThatCouldNotSaveItsHistoryIsAFailure) {
  auto r = sample_report();
  r.errors = {"save history: /var/lib/nodeimg/state.json: Read-only file system"};
  const auto text = render_metrics(r, 1);
  EXPECT_TRUE(has_line(text, "nodeimg_gc_last_run_success 0")) << text;
  EXPECT_TRUE(has_line(text, "nodeimg_gc_runtime_reachable 1")) << text;
  EXPECT_TRUE(has_line(text, R"(nodeimg_gc_failures{kind="image"} 0)")) << text;
  EXPECT_EQ(record_run({}, r, 1).runs_failure, 1u);
}

TEST(GcMetrics, LabelValuesAreEscaped) {
  EXPECT_EQ(escape_label_value(R"(plain /var/lib)"), "plain /var/lib");
  EXPECT_EQ(escape_label_value("a\"b\\c\nd"), R"(a\"b\\c\nd)");
  auto r = sample_report();
  r.runtime = "docker \"24\"\\n\nnext";
  r.after.mountpoint = "/mnt/odd \"dir\"";
  const auto text = render_metrics(r, 1);
  EXPECT_EQ(exposition_problems(text), "") << text;
  EXPECT_TRUE(has_line(text, R"(nodeimg_gc_runtime_info{runtime="docker \"24\"\\n\nnext",endpoint="unix:///run/containerd/containerd.sock"} 1)")) << text;
  EXPECT_TRUE(has_line(text, R"(nodeimg_image_filesystem_used_ratio{mountpoint="/mnt/odd \"dir\""} 0.6)")) << text;
}

TEST(GcMetrics, UnknownFilesystemFiguresAreLeftOut) {
  auto r = sample_report();
  r.after.size_bytes = 0;  // not measured
  r.after.inodes = 0;          // btrfs reports no inodes
  const auto text = render_metrics(r, 1);
  EXPECT_EQ(exposition_problems(text), "") << text;
  EXPECT_EQ(text.find("nodeimg_image_filesystem_used_ratio"), std::string::npos) << text;
  EXPECT_EQ(text.find("nodeimg_image_filesystem_inodes_used_ratio"), std::string::npos) << text;
  EXPECT_TRUE(has_line(text, "nodeimg_images 6")) << text;
}

TEST(GcMetrics, OddDurationsStayParseable) {
  auto r = RunReport{};
  for (double d : {0.0, 1e-7, 123456789.25, std::numeric_limits<double>::quiet_NaN(),
                   std::numeric_limits<double>::infinity()}) {
    r.duration_seconds = d;
    const auto text = render_metrics(r, 0);
    EXPECT_EQ(exposition_problems(text), "") << text;
  }
  r.duration_seconds = std::numeric_limits<double>::infinity();
  EXPECT_TRUE(has_line(render_metrics(r, 0), "nodeimg_gc_last_run_duration_seconds +Inf"));
}

TEST(GcMetrics, TheCheckerRejectsWhatPrometheusWould) {
  EXPECT_NE(exposition_problems("nodeimg_x 1"), "");                                           // no newline
  EXPECT_NE(exposition_problems("# HELP a h\n# TYPE a gauge\na{k=\"v\"\"} 1\n"), "");         // bad escape
  EXPECT_NE(exposition_problems("# HELP a h\n# TYPE a gauge\nb 1\n"), "");                     // wrong family
  EXPECT_NE(exposition_problems("# HELP a h\n# TYPE a gauge\na one\n"), "");                   // not a number
  EXPECT_EQ(exposition_problems("# HELP a h\n# TYPE a gauge\na{k=\"v\\\"\"} -1.5e3\n"), "");
}

}  // namespace
}  // namespace nodeimg::gc

namespace nodeimg {
namespace {

TEST(MetricsConfig, DefaultsToNodeExportersTextfileDirectory) {
  auto c = parse_app_config("", "/etc/nodeimg/config.yaml");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->metrics.textfile, "/var/lib/prometheus/node-exporter/nodeimg.prom");
}

TEST(MetricsConfig, PathOrEmptyToTurnOff) {
  auto c = parse_app_config("metrics:\n  textfile: /run/prom/nodeimg.prom\n", "/c.yaml");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->metrics.textfile, "/run/prom/nodeimg.prom");
  c = parse_app_config("metrics:\n  textfile: \"\"\n", "/c.yaml");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->metrics.textfile, "");
  c = parse_app_config("metrics:\n  textfile:\n", "/c.yaml");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->metrics.textfile, "");
  c = parse_app_config("metrics:\n", "/c.yaml");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->metrics.textfile, "/var/lib/prometheus/node-exporter/nodeimg.prom");
}

TEST(MetricsConfig, ErrorsNameFileLineAndKey) {
  const std::map<std::string, std::string> bad = {
      {"metrics:\n  textfile: nodeimg.prom\n", "/c.yaml:2: metrics.textfile: must be an absolute path"},
      {"metrics:\n  textfile: /var/lib/nodeimg/metrics.txt\n", "/c.yaml:2: metrics.textfile: must name a *.prom file"},
      {"metrics:\n  textfile: [a]\n", "/c.yaml:2: metrics.textfile: must be a string"},
      {"metrics:\n  port: 9100\n", "/c.yaml:2: metrics.port: unknown key"},
      {"metrics: /x.prom\n", "/c.yaml:1: metrics: must be a mapping"},
  };
  for (const auto& [text, message] : bad) {
    auto c = parse_app_config(text, "/c.yaml");
    ASSERT_FALSE(c) << text;
    EXPECT_TRUE(c.error().message.starts_with(message)) << c.error().message;
  }
}

}  // namespace
}  // namespace nodeimg
