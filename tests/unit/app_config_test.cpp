#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "core/config/app_config.hpp"
#include "core/gc/threshold.hpp"
#include "support/param_names.hpp"

namespace nodeimg {
namespace {

using namespace std::chrono_literals;

TEST(AppConfig, EmptyGivesDefaults) {
  auto c = parse_app_config("", "/etc/nodeimg/config.yaml");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->kubelet.max_images_mode, KubeletConfig::MaxImages::Value);
  EXPECT_EQ(c->kubelet.max_images, -1);
  EXPECT_TRUE(c->kubelet.restart);
  EXPECT_EQ(c->kubelet.restart_timeout, 2min);
  EXPECT_EQ(c->kubelet.settle, 10s);
}

// The documented default file (installed as /etc/nodeimg/config.yaml) must parse, and every
// value it shows must be the code's default: the file is the reference operators read.
TEST(AppConfig, ShippedFileParsesToTheDefaults) {
  std::ifstream in(std::string(NODEIMG_FIXTURES) + "/../../conf/config.yaml");
  ASSERT_TRUE(in);
  std::ostringstream text;
  text << in.rdbuf();
  auto shipped = parse_app_config(text.str(), "conf/config.yaml");
  ASSERT_TRUE(shipped) << shipped.error().message;
  const auto defaults = *parse_app_config("", "defaults");
  EXPECT_EQ(shipped->kubelet.max_images, defaults.kubelet.max_images);
  EXPECT_EQ(shipped->runtime.endpoint, defaults.runtime.endpoint);
  EXPECT_EQ(shipped->runtime.timeout, defaults.runtime.timeout);
  EXPECT_EQ(shipped->gc.high.text, defaults.gc.high.text);
  EXPECT_EQ(shipped->gc.low.text, defaults.gc.low.text);
  EXPECT_EQ(shipped->gc.inodes_high, defaults.gc.inodes_high);
  EXPECT_EQ(shipped->gc.min_age, defaults.gc.min_age);
  EXPECT_EQ(shipped->gc.max_unused_age, defaults.gc.max_unused_age);
  EXPECT_EQ(shipped->gc.max_images, defaults.gc.max_images);
  EXPECT_EQ(shipped->gc.container_min_age, defaults.gc.container_min_age);
  EXPECT_EQ(shipped->gc.sandbox_min_age, defaults.gc.sandbox_min_age);
  EXPECT_EQ(shipped->gc.concurrency, defaults.gc.concurrency);
  EXPECT_EQ(shipped->gc.prepull, defaults.gc.prepull);
  EXPECT_EQ(shipped->metrics.textfile, defaults.metrics.textfile);
}

TEST(AppConfig, FullKubeletSection) {
  auto c = parse_app_config(R"(kubelet:
  nodeStatusMaxImages: auto
  settings:
    imageGCHighThresholdPercent: 90
    imageMinimumGCAge: 5m
    serializeImagePulls: false
  configFile: /srv/kubelet.yaml
  dropInDir: none
  unit: kubelet.service
  restart: false
  healthz: http://127.0.0.1:10248/healthz
  restartTimeout: 30s
  settle: 0s
)",
                            "/c.yaml");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->kubelet.max_images_mode, KubeletConfig::MaxImages::Auto);
  ASSERT_EQ(c->kubelet.settings.size(), 3u);
  EXPECT_EQ(c->kubelet.settings[0].value, 90);
  EXPECT_EQ(c->kubelet.settings[2].value, false);
  EXPECT_EQ(c->kubelet.config_file, "/srv/kubelet.yaml");
  EXPECT_EQ(c->kubelet.dropin_dir, "none");
  EXPECT_FALSE(c->kubelet.restart);
  EXPECT_EQ(c->kubelet.restart_timeout, 30s);
  EXPECT_EQ(c->kubelet.settle, 0s);
}

struct Bad {
  std::string name;
  std::string text;
  std::string message;  // exact prefix: file, line and key
};

void PrintTo(const Bad& b, std::ostream* os) { *os << b.name << ": " << ::testing::PrintToString(b.text); }
class BadConfig : public ::testing::TestWithParam<Bad> {};

TEST_P(BadConfig, NamesFileLineAndKey) {
  auto c = parse_app_config(GetParam().text, "/etc/nodeimg/config.yaml");
  ASSERT_FALSE(c);
  EXPECT_TRUE(c.error().message.starts_with(GetParam().message)) << c.error().message;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, BadConfig,
    ::testing::Values(
        Bad{"unknown_top", "kubelet: {}\ngcc: 1\n", "/etc/nodeimg/config.yaml:2: gcc: unknown key"},
        Bad{"unknown_kubelet_key", "kubelet:\n  restart: true\n  nodeStatusMaxImage: 3\n",
            "/etc/nodeimg/config.yaml:3: kubelet.nodeStatusMaxImage: unknown key"},
        Bad{"below_minus_one", "kubelet:\n  nodeStatusMaxImages: -2\n",
            "/etc/nodeimg/config.yaml:2: kubelet.nodeStatusMaxImages: must be >= -1"},
        Bad{"not_a_number", "kubelet:\n  nodeStatusMaxImages: lots\n",
            "/etc/nodeimg/config.yaml:2: kubelet.nodeStatusMaxImages: must be an integer >= -1 or \"auto\""},
        Bad{"wrong_bool", "kubelet:\n  restart: sometimes\n", "/etc/nodeimg/config.yaml:2: kubelet.restart: must be true or false"},
        Bad{"bad_duration", "kubelet:\n  settle: 10\n", "/etc/nodeimg/config.yaml:2: kubelet.settle: invalid duration"},
        Bad{"zero_timeout", "kubelet:\n  restartTimeout: 0s\n", "/etc/nodeimg/config.yaml:2: kubelet.restartTimeout: must be greater than 0"},
        Bad{"unknown_setting", "kubelet:\n  settings:\n    maxPods: 5\n",
            "/etc/nodeimg/config.yaml:3: kubelet.settings.maxPods: unknown setting"},
        Bad{"setting_out_of_range", "kubelet:\n  settings:\n    imageGCHighThresholdPercent: 120\n",
            "/etc/nodeimg/config.yaml:3: kubelet.settings.imageGCHighThresholdPercent: imageGCHighThresholdPercent must be between 0 and 100"},
        Bad{"relative_path", "kubelet:\n  configFile: kubelet.yaml\n", "/etc/nodeimg/config.yaml:2: kubelet.configFile: must be auto or an absolute path"},
        Bad{"bad_unit", "kubelet:\n  unit: kubelet\n", "/etc/nodeimg/config.yaml:2: kubelet.unit: must be \"auto\" or a unit name"},
        Bad{"invalid_yaml", "kubelet: [\n", "/etc/nodeimg/config.yaml:2: not valid YAML"}),
    [](const auto& param_info) { return param_info.param.name; });

// ---------------------------------------------------------------------------------------
// gc:, runtime: and prepull:

TEST(AppConfig, GcRuntimeAndPrepullSections) {
  auto c = parse_app_config(R"(gc:
  high: 85%
  low: 70%
  inodesHigh: 95%
  minAge: 2h
  maxUnusedAge: 168h
  maxImages: 300
  keep:
    - ghcr.io/org/app:*
    - "regex:registry\\.local/.*:v[0-9]+"
  keepNewest:
    nginx: 2
    ghcr.io/org/tool: 3
  containers:
    removeExited: false
    minAge: 30m
  sandboxes:
    removeNotReady: false
    minAge: 5m
  concurrency: 8
runtime:
  kind: cri
  endpoint: unix:///run/containerd/containerd.sock
  timeout: 30s
  sandboxImage: registry.k8s.io/pause:3.9
prepull:
  - busybox
  - ghcr.io/org/app:1.2
)",
                            "/c.yaml");
  ASSERT_TRUE(c) << c.error().message;
  const auto& g = c->gc;
  EXPECT_EQ(g.high.kind, gc::Threshold::Kind::UsedPercent);
  EXPECT_EQ(g.high.percent, 85);
  EXPECT_EQ(g.high.text, "85%");
  EXPECT_EQ(g.low.percent, 70);
  EXPECT_EQ(g.inodes_high, 95);
  EXPECT_EQ(g.min_age, 2 * 3600);
  EXPECT_EQ(g.max_unused_age, 168 * 3600);
  EXPECT_EQ(g.max_images, 300u);
  ASSERT_EQ(g.keep.size(), 2u);
  EXPECT_TRUE(g.keep[0].matches("ghcr.io/org/app:7"));
  EXPECT_TRUE(g.keep[1].matches("registry.local/x:v3"));
  EXPECT_FALSE(g.keep[1].matches("registry.local/x:latest"));
  EXPECT_EQ(g.keep_newest.at("docker.io/library/nginx"), 2);
  EXPECT_EQ(g.keep_newest.at("ghcr.io/org/tool"), 3);
  EXPECT_FALSE(g.remove_exited_containers);
  EXPECT_EQ(g.container_min_age, 1800);
  EXPECT_FALSE(g.remove_not_ready_sandboxes);
  EXPECT_EQ(g.sandbox_min_age, 300);
  EXPECT_EQ(g.concurrency, 8);
  EXPECT_EQ(c->runtime.kind, RuntimeConfig::Kind::Cri);
  EXPECT_EQ(c->runtime.endpoint, "unix:///run/containerd/containerd.sock");
  EXPECT_EQ(c->runtime.timeout, 30s);
  EXPECT_EQ(c->runtime.sandbox_image, "registry.k8s.io/pause:3.9");
  EXPECT_EQ(g.prepull, (std::vector<std::string>{"busybox", "ghcr.io/org/app:1.2"}));
}

TEST(AppConfig, GcDefaults) {
  auto c = parse_app_config("", "/c.yaml");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->gc.high.text, "75%");
  EXPECT_EQ(c->gc.low.text, "65%");
  EXPECT_TRUE(c->gc.remove_exited_containers);
  EXPECT_TRUE(c->gc.prepull.empty());
  EXPECT_EQ(c->runtime.kind, RuntimeConfig::Kind::Auto);
  EXPECT_EQ(c->runtime.endpoint, "auto");
}

TEST(AppConfig, FreeSpaceThresholds) {
  auto c = parse_app_config("gc:\n  high: 20GiB free\n  low: 30GiB free\n", "/c.yaml");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->gc.high.kind, gc::Threshold::Kind::FreeBytes);
  EXPECT_EQ(c->gc.high.bytes, 20ULL << 30);
  EXPECT_EQ(c->gc.high.text, "20GiB free");
  EXPECT_EQ(c->gc.low.bytes, 30ULL << 30);
}

TEST(AppConfig, MixedThresholdKindsAreAccepted) {
  auto c = parse_app_config("gc:\n  high: 90%\n  low: 50GB free\n", "/c.yaml");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->gc.high.kind, gc::Threshold::Kind::UsedPercent);
  EXPECT_EQ(c->gc.low.kind, gc::Threshold::Kind::FreeBytes);
  EXPECT_EQ(c->gc.low.bytes, 50'000'000'000ULL);
}

struct ThresholdText {
  std::string text;
  gc::Threshold::Kind kind;
  double percent;
  std::uint64_t bytes;
};
void PrintTo(const ThresholdText& t, std::ostream* os) { *os << ::testing::PrintToString(t.text); }
class ParseThreshold : public ::testing::TestWithParam<ThresholdText> {};

TEST_P(ParseThreshold, ReadsPercentagesAndFreeSizes) {
  auto t = gc::parse_threshold(GetParam().text);
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_EQ(t->kind, GetParam().kind);
  EXPECT_EQ(t->percent, GetParam().percent);
  EXPECT_EQ(t->bytes, GetParam().bytes);
  EXPECT_EQ(t->text, GetParam().text);
}

INSTANTIATE_TEST_SUITE_P(Cases, ParseThreshold,
                         ::testing::Values(ThresholdText{"75%", gc::Threshold::Kind::UsedPercent, 75, 0},
                                           ThresholdText{"100%", gc::Threshold::Kind::UsedPercent, 100, 0},
                                           ThresholdText{"12.5%", gc::Threshold::Kind::UsedPercent, 12.5, 0},
                                           ThresholdText{"20GiB free", gc::Threshold::Kind::FreeBytes, 0, 20ULL << 30},
                                           ThresholdText{"1.5TiB free", gc::Threshold::Kind::FreeBytes, 0, 3ULL << 39},
                                           ThresholdText{"500MB free", gc::Threshold::Kind::FreeBytes, 0, 500'000'000ULL},
                                           ThresholdText{"4096 free", gc::Threshold::Kind::FreeBytes, 0, 4096}),
                         [](const auto& param_info) { return testing::param_name(param_info.param.text, param_info.index); });

// The message names both values and where each comes from: the file's line, or the default.
TEST(AppConfig, LowAtOrAboveHighIsRefused) {
  struct Case {
    const char* text;
    const char* message;
  };
  for (const auto& [text, message] : {
           Case{"gc:\n  high: 70%\n  low: 80%\n", "gc.low 80% (/etc/nodeimg/config.yaml:3, gc.low) must be below gc.high 70% (/etc/nodeimg/config.yaml:2, gc.high)"},
           Case{"gc:\n  low: 75%\n  high: 75%\n", "gc.low 75% (/etc/nodeimg/config.yaml:2, gc.low) must be below gc.high 75% (/etc/nodeimg/config.yaml:3, gc.high)"},
           Case{"gc:\n  low: 80%\n", "gc.low 80% (/etc/nodeimg/config.yaml:2, gc.low) must be below gc.high 75% (default)"},
           Case{"gc:\n  high: 20GiB free\n  low: 10GiB free\n", "gc.low 10GiB free (/etc/nodeimg/config.yaml:3, gc.low) must leave more free space than gc.high 20GiB free"},
           Case{"gc:\n  high: 20GiB free\n  low: 20GiB free\n", "must leave more free space than gc.high 20GiB free"},
       }) {
    auto c = parse_app_config(text, "/etc/nodeimg/config.yaml");
    ASSERT_FALSE(c) << text;
    EXPECT_NE(c.error().message.find(message), std::string::npos) << c.error().message;
  }
}

TEST(ParseThreshold, RefusesWhatIsNeitherAPercentageNorAFreeSize) {
  for (const char* bad : {"", "75", "0%", "101%", "-5%", "abc%", "20GiB", "20XB free", "free", "20 GiB used"})
    EXPECT_FALSE(gc::parse_threshold(bad)) << bad;
}

// A size made only of dots, or with two, is an error value, never an exception.
TEST(ParseThreshold, MalformedNumbersAreErrorsNotExceptions) {
  for (const char* bad : {"... free", ". free", "1.2.3GiB free"}) {
    EXPECT_NO_THROW({ EXPECT_FALSE(gc::parse_threshold(bad)) << bad; }) << bad;
  }
}

INSTANTIATE_TEST_SUITE_P(
    GcRuntimePrepull, BadConfig,
    ::testing::Values(
        Bad{"gc_unknown_key", "gc:\n  hihg: 80%\n", "/etc/nodeimg/config.yaml:2: gc.hihg: unknown key"},
        Bad{"gc_not_a_mapping", "gc: 5\n", "/etc/nodeimg/config.yaml:1: gc: must be a mapping"},
        Bad{"gc_bad_high", "gc:\n  high: lots\n",
            "/etc/nodeimg/config.yaml:2: gc.high: \"lots\" is neither a percentage (75%) nor a free size (20GiB free)"},
        Bad{"gc_percent_out_of_range", "gc:\n  low: 150%\n", "/etc/nodeimg/config.yaml:2: gc.low: 150% is not between 0% and 100%"},
        Bad{"gc_bad_unit", "gc:\n  high: 20XB free\n", "/etc/nodeimg/config.yaml:2: gc.high: \"20XB free\": unknown size unit"},
        Bad{"gc_inodes_not_percent", "gc:\n  inodesHigh: 1GiB free\n",
            "/etc/nodeimg/config.yaml:2: gc.inodesHigh: must be a percentage"},
        Bad{"gc_bad_min_age", "gc:\n  minAge: 2 hours\n", "/etc/nodeimg/config.yaml:2: gc.minAge: invalid duration"},
        Bad{"gc_negative_max_unused_age", "gc:\n  maxUnusedAge: -1h\n", "/etc/nodeimg/config.yaml:2: gc.maxUnusedAge: must not be negative"},
        Bad{"gc_negative_max_images", "gc:\n  maxImages: -1\n", "/etc/nodeimg/config.yaml:2: gc.maxImages: must be >= 0"},
        Bad{"gc_max_images_not_integer", "gc:\n  maxImages: many\n", "/etc/nodeimg/config.yaml:2: gc.maxImages: must be an integer"},
        Bad{"gc_keep_not_list", "gc:\n  keep: busybox\n", "/etc/nodeimg/config.yaml:2: gc.keep: must be a list of patterns"},
        Bad{"gc_keep_bad_regex", "gc:\n  keep:\n    - busybox:*\n    - \"regex:app(\"\n",
            "/etc/nodeimg/config.yaml:4: gc.keep: invalid regular expression \"app(\""},
        Bad{"gc_keep_newest_zero", "gc:\n  keepNewest:\n    nginx: 0\n", "/etc/nodeimg/config.yaml:3: gc.keepNewest.nginx: must be >= 1"},
        Bad{"gc_keep_newest_not_map", "gc:\n  keepNewest: [nginx]\n", "/etc/nodeimg/config.yaml:2: gc.keepNewest: must map repositories"},
        Bad{"gc_containers_unknown", "gc:\n  containers:\n    removeNotReady: true\n",
            "/etc/nodeimg/config.yaml:3: gc.containers.removeNotReady: unknown key"},
        Bad{"gc_sandboxes_bad_bool", "gc:\n  sandboxes:\n    removeNotReady: maybe\n",
            "/etc/nodeimg/config.yaml:3: gc.sandboxes.removeNotReady: must be true or false"},
        Bad{"gc_concurrency_range", "gc:\n  concurrency: 0\n", "/etc/nodeimg/config.yaml:2: gc.concurrency: must be between 1 and 64"},
        Bad{"runtime_unknown_key", "runtime:\n  socket: /run/x.sock\n", "/etc/nodeimg/config.yaml:2: runtime.socket: unknown key"},
        Bad{"runtime_bad_kind", "runtime:\n  kind: podman\n", "/etc/nodeimg/config.yaml:2: runtime.kind: must be auto, cri or docker"},
        Bad{"runtime_bad_endpoint", "runtime:\n  endpoint: /run/containerd/containerd.sock\n",
            "/etc/nodeimg/config.yaml:2: runtime.endpoint: must be auto or unix:///path"},
        Bad{"runtime_zero_timeout", "runtime:\n  timeout: 0s\n", "/etc/nodeimg/config.yaml:2: runtime.timeout: must be greater than 0"},
        Bad{"prepull_not_list", "prepull: busybox\n", "/etc/nodeimg/config.yaml:1: prepull: must be a list of strings"},
        Bad{"prepull_empty_entry", "prepull:\n  - busybox\n  - \"\"\n", "/etc/nodeimg/config.yaml:3: prepull: must not be empty"}),
    [](const auto& param_info) { return param_info.param.name; });

TEST(AppConfig, AutoMaxImagesIsAThirdOfTheDiskInGB) {
  EXPECT_EQ(auto_max_images(1'000'000'000'000ULL), 334);  // 1 TB -> ceil(333.3)
  EXPECT_EQ(auto_max_images(30'000'000'000ULL), 10);
  EXPECT_EQ(auto_max_images(1), 1);
}

}  // namespace
}  // namespace nodeimg
