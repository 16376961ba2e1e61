// The pure parts of the operator-facing surface (issue 11): durations with days, the
// nearest valid word for a typo, the --json document of a failed command, duplicate keys
// and tabs in nodeimg's configuration, and cross-field errors that name where each value
// comes from.
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "adapters/host/run_lock.hpp"
#include "commands/json_output.hpp"
#include "core/common/duration.hpp"
#include "core/common/suggest.hpp"
#include "core/config/app_config.hpp"
#include "core/config/kubelet_combination.hpp"
#include "support/files.hpp"

namespace nodeimg {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

// ---- Durations: days in nodeimg's own settings, Go's syntax for kubelet's --------------

TEST(DurationWithDays, AcceptsDaysAloneAndCombined) {
  EXPECT_EQ(parse_duration_with_days("30d").value(), 30 * 24h);
  EXPECT_EQ(parse_duration_with_days("1d12h").value(), 36h);
  EXPECT_EQ(parse_duration_with_days("1.5d").value(), 36h);
  EXPECT_EQ(parse_duration_with_days("2d30m15s").value(), 48h + 30min + 15s);
  EXPECT_EQ(parse_duration_with_days("0").value(), 0s);
  EXPECT_EQ(parse_duration_with_days("90s").value(), 90s);  // Go's syntax still works
  EXPECT_EQ(parse_duration_with_days("-1d").value(), -24h);  // callers refuse negatives
}

TEST(DurationWithDays, RefusesOddSpellingsWithTheUnitsItKnows) {
  for (const char* bad : {"30D", "d", "30 d", "30days", "1w", "1dd", "d1", "1d 2h", "", " 1d"}) {
    auto d = parse_duration_with_days(bad);
    ASSERT_FALSE(d) << bad;
    EXPECT_NE(d.error().message.find("invalid duration"), std::string::npos) << d.error().message;
  }
  EXPECT_NE(parse_duration_with_days("30days").error().message.find("h or d"), std::string::npos);
}

TEST(DurationGoSyntax, RefusesDaysAndSaysWhyAndTheHours) {
  for (const char* bad : {"30d", "1d12h", "1.5d"}) {
    auto d = parse_duration(bad);
    ASSERT_FALSE(d) << bad;
    EXPECT_NE(d.error().message.find("kubelet reads this value"), std::string::npos) << d.error().message;
    EXPECT_NE(d.error().message.find("720h for 30d"), std::string::npos) << d.error().message;
  }
}

TEST(DurationWithDays, NodeimgSettingsTakeDaysKubeletSettingsDoNot) {
  auto c = parse_app_config(
      "kubelet:\n  restartTimeout: 1d\n  settle: 0d\nruntime:\n  timeout: 1d12h\ngc:\n  minAge: 2d\n"
      "  maxUnusedAge: 30d\n  containers:\n    minAge: 1d\n  sandboxes:\n    minAge: 1.5d\n",
      "/etc/nodeimg/config.yaml");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->kubelet.restart_timeout, 24h);
  EXPECT_EQ(c->runtime.timeout, 36h);
  EXPECT_EQ(c->gc.min_age, 2 * 86400);
  EXPECT_EQ(c->gc.max_unused_age, 30 * 86400);
  EXPECT_EQ(c->gc.container_min_age, 86400);
  EXPECT_EQ(c->gc.sandbox_min_age, 36 * 3600);
  auto kubelet = parse_app_config("kubelet:\n  settings:\n    imageMaximumGCAge: 30d\n", "/etc/nodeimg/config.yaml");
  ASSERT_FALSE(kubelet);
  EXPECT_NE(kubelet.error().message.find("config.yaml:3: kubelet.settings.imageMaximumGCAge"), std::string::npos)
      << kubelet.error().message;
  EXPECT_NE(kubelet.error().message.find("720h"), std::string::npos) << kubelet.error().message;
}

// ---- Typos: the nearest valid word -----------------------------------------------------

TEST(Suggest, EditDistanceCountsTranspositionsAsOne) {
  EXPECT_EQ(edit_distance("apply", "apply"), 0u);
  EXPECT_EQ(edit_distance("aply", "apply"), 1u);
  EXPECT_EQ(edit_distance("aplpy", "apply"), 1u);
  EXPECT_EQ(edit_distance("", "gc"), 2u);
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
}

TEST(Suggest, NearestWordForTyposNothingForNonsense) {
  const std::vector<std::string> commands = {"kubelet", "gc", "images", "prepull", "doctor", "completion"};
  EXPECT_EQ(nearest_word("kubelt", commands), "kubelet");
  EXPECT_EQ(nearest_word("imagse", commands), "images");
  EXPECT_EQ(nearest_word("docter", commands), "doctor");
  EXPECT_EQ(nearest_word("prepul", commands), "prepull");
  EXPECT_EQ(nearest_word("kube", commands), "kubelet");  // an abbreviation
  EXPECT_EQ(nearest_word("gcc", commands), "gc");
  EXPECT_EQ(nearest_word("frobnicate", commands), std::nullopt);
  EXPECT_EQ(nearest_word("x", commands), std::nullopt);
  EXPECT_EQ(nearest_word("", commands), std::nullopt);
  const std::vector<std::string> kubelet = {"status", "apply", "revert"};
  EXPECT_EQ(nearest_word("aply", kubelet), "apply");
  EXPECT_EQ(nearest_word("stauts", kubelet), "status");
  EXPECT_EQ(nearest_word("revret", kubelet), "revert");
  EXPECT_EQ(nearest_word("--dry-rn", {"--dry-run", "--no-restart", "--defaults"}), "--dry-run");
}

// ---- --json: one document on stdout, whatever happens ----------------------------------

TEST(JsonOutput, AFailureWithoutADocumentGetsTheErrorDocument) {
  const auto doc = json::parse(complete_document("", 2, {"first", "--config x: no such file"}, std::nullopt));
  EXPECT_EQ(doc, json({{"schemaVersion", 1}, {"error", "--config x: no such file"}, {"exitCode", 2}}));
  const auto with_config = json::parse(complete_document("\n", 1, {"gc failed: no runtime"}, "defaults"));
  EXPECT_EQ(with_config["configuration"], "defaults");
  EXPECT_EQ(with_config["exitCode"], 1);
  // Nothing logged: still a document that says where to look.
  EXPECT_FALSE(json::parse(complete_document("", 1, {}, std::nullopt))["error"].get<std::string>().empty());
}

TEST(JsonOutput, ACommandsOwnDocumentIsCompletedNotReplaced) {
  const std::string own = "{\n  \"b\": 1,\n  \"a\": 2\n}\n";
  EXPECT_EQ(complete_document(own, 0, {}, std::nullopt), own);  // key order and layout kept
  const auto ok = json::parse(complete_document(own, 0, {}, "/etc/nodeimg/config.yaml"));
  EXPECT_EQ(ok["configuration"], "/etc/nodeimg/config.yaml");
  EXPECT_FALSE(ok.contains("exitCode"));
  const auto failed = json::parse(complete_document(own, 1, {"removal failed"}, std::nullopt));
  EXPECT_EQ(failed["exitCode"], 1);
  EXPECT_EQ(failed["error"], "removal failed");
  const auto has_error = json::parse(complete_document(R"({"error": "its own words"})", 1, {"logged"}, std::nullopt));
  EXPECT_EQ(has_error["error"], "its own words");
  EXPECT_EQ(complete_document("not json\n", 1, {"x"}, std::nullopt), "not json\n");  // never mangled
}

// ---- nodeimg's YAML: duplicate keys and tabs ---------------------------------------------

struct Refused {
  const char* name;
  const char* yaml;
  const char* message;
};
void PrintTo(const Refused& r, std::ostream* os) { *os << r.name << ": " << ::testing::PrintToString(std::string(r.yaml)); }

class ConfigRefused : public ::testing::TestWithParam<Refused> {};

TEST_P(ConfigRefused, NamesTheLinesAndWhatToDo) {
  auto c = parse_app_config(GetParam().yaml, "/etc/nodeimg/config.yaml");
  ASSERT_FALSE(c) << GetParam().yaml;
  EXPECT_NE(c.error().message.find(GetParam().message), std::string::npos) << c.error().message;
}

INSTANTIATE_TEST_SUITE_P(
    DuplicatesAndTabs, ConfigRefused,
    ::testing::Values(
        Refused{"top_level", "gc:\n  high: 80%\ngc:\n  high: 90%\n",
                "config.yaml:3: gc: written twice, at lines 1 and 3; keep one of them"},
        Refused{"gc_high", "gc:\n  high: 80%\n  low: 70%\n  high: 90%\n",
                "config.yaml:4: gc.high: written twice, at lines 2 and 4"},
        Refused{"kubelet_setting",
                "kubelet:\n  settings:\n    imageGCHighThresholdPercent: 90\n    imageGCHighThresholdPercent: 85\n",
                "config.yaml:4: kubelet.settings.imageGCHighThresholdPercent: written twice, at lines 3 and 4"},
        Refused{"nested_min_age", "gc:\n  containers:\n    minAge: 1h\n    removeExited: true\n    minAge: 2h\n",
                "gc.containers.minAge: written twice, at lines 3 and 5"},
        Refused{"keep_newest", "gc:\n  keepNewest:\n    reg.test/app: 2\n    reg.test/app: 3\n",
                "gc.keepNewest.reg.test/app: written twice, at lines 3 and 4"},
        Refused{"flow_mapping", "runtime: {kind: cri, kind: docker}\n", "runtime.kind: written twice"},
        Refused{"quoted_twin", "kubelet:\n  restart: true\n  \"restart\": false\n", "kubelet.restart: written twice"},
        Refused{"tab_first_column", "kubelet:\n  restart: true\n\tsettle: 1s\n",
                "config.yaml:3: line 3, column 1: tabs are not allowed for indentation; indent with spaces"},
        Refused{"tab_after_spaces", "gc:\n  \thigh: 80%\n", "line 2, column 3: tabs are not allowed for indentation"},
        Refused{"tab_before_comment", "gc:\n\t# a comment\n  high: 80%\n", "line 2, column 1: tabs are not allowed"},
        Refused{"complex_key", "? [a, b]\n: 1\n", "a key must be a plain word"}),
    [](const auto& param_info) { return std::string(param_info.param.name); });

TEST(AppConfig, TabsElsewhereAreFine) {
  auto c = parse_app_config("# \tcomment\nkubelet:\n  unit:\tkubelet.service\n", "f");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->kubelet.unit, "kubelet.service");
}

// ---- Cross-field errors name where each value comes from ---------------------------------

TEST(GcOrder, NamesTheFileLinesTheOptionsAndTheDefaults) {
  auto both = parse_app_config("gc:\n  high: 70%\n  low: 80%\n", "/etc/nodeimg/config.yaml");
  ASSERT_FALSE(both);
  EXPECT_EQ(both.error().message,
            "gc.low 80% (/etc/nodeimg/config.yaml:3, gc.low) must be below gc.high 70% (/etc/nodeimg/config.yaml:2, "
            "gc.high): a run starts at high and frees down to low; change one of them");
  auto one = parse_app_config("gc:\n  low: 80%\n", "/etc/nodeimg/config.yaml");
  ASSERT_FALSE(one);
  EXPECT_EQ(one.error().message,
            "gc.low 80% (/etc/nodeimg/config.yaml:2, gc.low) must be below gc.high 75% (default): a run starts at "
            "high and frees down to low; set both");
  auto free = parse_app_config("gc:\n  high: 20GiB free\n  low: 10GiB free\n", "f");
  ASSERT_FALSE(free);
  EXPECT_NE(free.error().message.find("gc.low 10GiB free (f:3, gc.low) must leave more free space than gc.high 20GiB free"),
            std::string::npos)
      << free.error().message;

  auto file = parse_app_config("gc:\n  high: 90%\n  low: 70%\n", "/etc/nodeimg/config.yaml");
  ASSERT_TRUE(file);
  auto flag = check_gc_order(*file, std::nullopt, "95%");
  ASSERT_FALSE(flag);
  EXPECT_EQ(flag.error().message,
            "gc.low 95% (--low) must be below gc.high 90% (/etc/nodeimg/config.yaml:2, gc.high): a run starts at high "
            "and frees down to low; change one of them");
  auto defaults = check_gc_order(AppConfig{}, "60%", std::nullopt);
  ASSERT_FALSE(defaults);
  EXPECT_NE(defaults.error().message.find("gc.low 65% (default) must be below gc.high 60% (--high)"), std::string::npos);
  EXPECT_TRUE(check_gc_order(*file, "95%", "90%"));
  EXPECT_TRUE(check_gc_order(*file, "seventy", std::nullopt));  // apply_overrides refuses it, with its own words
}

kubelet::SettingState state(std::string name, kubelet::Json value, kubelet::Source source, std::string detail = "") {
  return {.name = std::move(name), .effective = std::move(value), .source = source, .source_detail = std::move(detail)};
}

TEST(KubeletCombination, NamesTheDefaultAndTheConfigurationLine) {
  auto config = parse_app_config("kubelet:\n  nodeStatusMaxImages: -1\n  settings:\n    imageGCHighThresholdPercent: 70\n",
                                 "/etc/nodeimg/config.yaml");
  ASSERT_TRUE(config) << config.error().message;
  auto r = check_kubelet_combination(*config, {}, config->kubelet.settings);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message,
            "imageGCLowThresholdPercent 80 (kubelet default) must be below imageGCHighThresholdPercent 70 "
            "(/etc/nodeimg/config.yaml:4, kubelet.settings.imageGCHighThresholdPercent); set both in kubelet.settings");
}

TEST(KubeletCombination, NamesKubeletsOwnFileAndBothConfigurationLines) {
  auto config = parse_app_config("kubelet:\n  settings:\n    imageGCHighThresholdPercent: 60\n", "c.yaml");
  ASSERT_TRUE(config);
  const std::vector<kubelet::SettingState> current = {
      state("imageGCLowThresholdPercent", 65, kubelet::Source::ConfigFile, "/var/lib/kubelet/config.yaml:9")};
  auto r = check_kubelet_combination(*config, current, config->kubelet.settings);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("imageGCLowThresholdPercent 65 (/var/lib/kubelet/config.yaml:9)"), std::string::npos)
      << r.error().message;
  auto both = parse_app_config(
      "kubelet:\n  settings:\n    imageGCLowThresholdPercent: 90\n    imageGCHighThresholdPercent: 85\n", "c.yaml");
  ASSERT_TRUE(both);
  auto rb = check_kubelet_combination(*both, current, both->kubelet.settings);
  ASSERT_FALSE(rb);
  EXPECT_EQ(rb.error().message,
            "imageGCLowThresholdPercent 90 (c.yaml:3, kubelet.settings.imageGCLowThresholdPercent) must be below "
            "imageGCHighThresholdPercent 85 (c.yaml:4, kubelet.settings.imageGCHighThresholdPercent); change one of them");
}

TEST(KubeletCombination, AgesAndPullsToo) {
  auto ages = parse_app_config("kubelet:\n  settings:\n    imageMaximumGCAge: 1m\n", "c.yaml");
  ASSERT_TRUE(ages);
  auto r = check_kubelet_combination(*ages, {}, ages->kubelet.settings);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("imageMaximumGCAge 1m (c.yaml:3, kubelet.settings.imageMaximumGCAge) must be 0s (off) or above"),
            std::string::npos)
      << r.error().message;
  EXPECT_NE(r.error().message.find("imageMinimumGCAge 2m0s (kubelet default)"), std::string::npos) << r.error().message;
  auto pulls = parse_app_config("kubelet:\n  settings:\n    maxParallelImagePulls: 4\n", "c.yaml");
  ASSERT_TRUE(pulls);
  auto rp = check_kubelet_combination(*pulls, {}, pulls->kubelet.settings);
  ASSERT_FALSE(rp);
  EXPECT_NE(rp.error().message.find("serializeImagePulls true (kubelet default)"), std::string::npos) << rp.error().message;
}

TEST(KubeletCombination, KubeletsOwnDisagreementIsNotNodeimgsToReport) {
  const std::vector<kubelet::SettingState> current = {
      state("imageGCHighThresholdPercent", 50, kubelet::Source::ConfigFile, "k.yaml:3")};
  EXPECT_TRUE(check_kubelet_combination(AppConfig{}, current, {{"nodeStatusMaxImages", -1}}));
  auto fine = parse_app_config("kubelet:\n  settings:\n    imageGCHighThresholdPercent: 90\n", "c.yaml");
  ASSERT_TRUE(fine);
  EXPECT_TRUE(check_kubelet_combination(*fine, {}, fine->kubelet.settings));
}

// ---- The run lock names its holder -------------------------------------------------------

TEST(RunLock, TheHolderWritesItsPidAndAWaiterNamesIt) {
  testing::TempDir dir("nodeimg-lock");
  const std::string path = (dir / "gc.lock").string();
  auto held = RunLock::acquire(path, 0ms);
  ASSERT_TRUE(held) << held.error().message;
  EXPECT_EQ(testing::read_file(path), std::to_string(::getpid()) + "\n");
  // A second open file description conflicts with the first, as another process would.
  auto again = RunLock::acquire(path, 0ms);
  ASSERT_FALSE(again);
  EXPECT_NE(again.error().message.find("PID " + std::to_string(::getpid())), std::string::npos) << again.error().message;
  EXPECT_NE(again.error().message.find("--lock-timeout"), std::string::npos) << again.error().message;
}

}  // namespace
}  // namespace nodeimg
