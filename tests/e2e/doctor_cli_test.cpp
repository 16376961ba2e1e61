// `nodeimg doctor` end to end under --root, on copies of platform fixtures: it reads files
// only, says what it skipped, finds what is wrong in them, changes nothing but its own
// kubelet metrics file, and exits 1 exactly when something needs attention.
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/process.hpp"

namespace nodeimg::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const fs::path kPlatforms = fs::path(NODEIMG_FIXTURES) / "platforms";

class DoctorUnderRoot : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/nodeimg-e2e-doctor-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    fs::copy(kPlatforms / "kubeadm/root", root_, fs::copy_options::recursive | fs::copy_options::copy_symlinks);
    fs::create_directories(root_ / "var/lib/prometheus/node-exporter");
  }
  void TearDown() override { fs::remove_all(root_); }

  ProcessResult nodeimg(std::vector<std::string> args) {
    args.insert(args.begin(), {NODEIMG_BINARY, "--root", root_.string()});
    return run(args);
  }
  json doctor() {
    auto r = nodeimg({"doctor", "--json"});
    last_exit_ = r.exit_code;
    auto j = json::parse(r.out, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << r.out << r.err;
    return j;
  }
  void write(const std::string& path, const std::string& content) const {
    fs::create_directories((root_ / path.substr(1)).parent_path());
    std::ofstream(root_ / path.substr(1), std::ios::binary | std::ios::trunc) << content;
  }
  std::string read(const std::string& path) const {
    std::ifstream in(root_ / path.substr(1), std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
  }
  // A state file recording a successful gc run that finished just now.
  void write_recent_successful_run() const {
    const auto now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    write("/var/lib/nodeimg/state.json",
          json{{"version", 2}, {"updatedAt", now}, {"images", json::object()},
               {"totals", {{"lastRun", {{"finishedAt", now}, {"success", true}}}}}}
              .dump());
  }
  static json finding(const json& report, const std::string& id) {
    for (const auto& f : report["findings"])
      if (f["id"] == id) return f;
    return nullptr;
  }
  static std::string severity(const json& report, const std::string& id) {
    const auto f = finding(report, id);
    return f.is_null() ? "absent" : f["severity"].get<std::string>();
  }

  fs::path root_;
  int last_exit_ = -1;
};

TEST_F(DoctorUnderRoot, ReadsFilesOnlyAndSaysWhatItSkipped) {
  const auto j = doctor();
  EXPECT_EQ(last_exit_, 1) << j.dump(2);  // kubelet is at 50, nodeimg's default asks for -1
  EXPECT_EQ(j["healthy"], false);
  EXPECT_EQ(severity(j, "kubelet-not-in-sync"), "warning");
  EXPECT_NE(finding(j, "kubelet-not-in-sync")["fix"].get<std::string>().find("nodeimg kubelet apply"), std::string::npos);
  std::set<std::string> skipped;
  for (const auto& s : j["skipped"]) skipped.insert(s["area"].get<std::string>());
  EXPECT_EQ(skipped, (std::set<std::string>{"kubelet", "runtime", "systemd"})) << j["skipped"].dump();
  // What belongs to the running system is not judged.
  for (const auto* id : {"runtime-unreachable", "gc-timer", "kubelet-unit", "prepuller-trap", "disk-above-high"})
    EXPECT_EQ(severity(j, id), "absent") << id;
  EXPECT_EQ(severity(j, "gc-last-run"), "warning");  // no run recorded in state or metrics
  EXPECT_EQ(severity(j, "history"), "info");
  EXPECT_EQ(severity(j, "apply-record"), "info");
}

// nodeimg's kubelet.settings ask for a high threshold below kubelet's low (default 80, or
// the file's): doctor names the conflict with where each value comes from, as apply would
// refuse it, and does not also report a failed plan for the same reason.
TEST_F(DoctorUnderRoot, ConflictingKubeletSettingsAreAnErrorNamingTheirLines) {
  struct Case {
    std::string config, kubelet_line, says;
  };
  for (const auto& [config, kubelet_line, says] : std::vector<Case>{
           {"kubelet:\n  settings:\n    imageGCHighThresholdPercent: 70\n", "",
            "imageGCLowThresholdPercent 80 (kubelet default) must be below imageGCHighThresholdPercent 70 ("},
           {"kubelet:\n  settings:\n    imageGCHighThresholdPercent: 60\n", "imageGCLowThresholdPercent: 65\n",
            "imageGCLowThresholdPercent 65 (/var/lib/kubelet/config.yaml"},
           {"kubelet:\n  settings:\n    imageMinimumGCAge: 2h\n    imageMaximumGCAge: 1h\n", "",
            "imageMaximumGCAge 1h ("},
       }) {
    write("/etc/nodeimg/config.yaml", config);
    std::string kubelet = read("/var/lib/kubelet/config.yaml");
    if (!kubelet_line.empty()) write("/var/lib/kubelet/config.yaml", kubelet + kubelet_line);
    const auto j = doctor();
    EXPECT_EQ(last_exit_, 1);
    EXPECT_EQ(severity(j, "kubelet-settings-conflict"), "error") << config << j.dump(2);
    const auto f = finding(j, "kubelet-settings-conflict");
    if (f.is_null()) continue;
    EXPECT_NE(f["seen"].get<std::string>().find(says), std::string::npos) << f.dump(2);
    EXPECT_NE(f["seen"].get<std::string>().find("config.yaml:"), std::string::npos) << f.dump(2);  // nodeimg's line
    EXPECT_NE(f["fix"].get<std::string>().find("kubelet.settings"), std::string::npos) << f.dump(2);
    EXPECT_EQ(severity(j, "kubelet-plan-failed"), "absent") << j.dump(2);
    if (!kubelet_line.empty()) write("/var/lib/kubelet/config.yaml", kubelet);
  }
}

TEST_F(DoctorUnderRoot, ExitsZeroWhenNothingNeedsAttention) {
  ASSERT_EQ(nodeimg({"kubelet", "apply", "--defaults"}).exit_code, 0);
  write_recent_successful_run();
  auto r = nodeimg({"doctor"});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("nothing needs attention"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("kubelet-in-sync"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("skipped"), std::string::npos) << r.out;
  const auto j = doctor();
  EXPECT_EQ(last_exit_, 0);
  EXPECT_EQ(severity(j, "gc-last-run"), "ok");
  EXPECT_NE(finding(j, "apply-record")["seen"].get<std::string>().find("nodeimg kubelet revert"), std::string::npos);
}

TEST_F(DoctorUnderRoot, WritesKubeletsEffectiveSettingsAsMetricsAndNothingElse) {
  const std::string config_before = read("/var/lib/kubelet/config.yaml");
  doctor();
  const std::string prom = read("/var/lib/prometheus/node-exporter/nodeimg-kubelet.prom");
  EXPECT_NE(prom.find("\nnodeimg_kubelet_node_status_max_images 50\n"), std::string::npos) << prom;
  EXPECT_EQ(read("/var/lib/kubelet/config.yaml"), config_before);
  EXPECT_FALSE(fs::exists(root_ / "var/lib/nodeimg"));
}

TEST_F(DoctorUnderRoot, TypoInKubeletsFileIsNamedWithASuggestion) {
  std::ofstream(root_ / "var/lib/kubelet/config.yaml", std::ios::app) << "nodeStatusMaxImage: -1\n";
  const auto j = doctor();
  EXPECT_EQ(last_exit_, 1);
  const auto f = finding(j, "kubelet-unknown-keys");
  ASSERT_FALSE(f.is_null()) << j.dump(2);
  EXPECT_NE(f["seen"].get<std::string>().find("did you mean \"nodeStatusMaxImages\""), std::string::npos) << f.dump();
}

TEST_F(DoctorUnderRoot, DropInWithoutApiVersionIsAnError) {
  write("/etc/nodeimg/config.yaml", "kubelet:\n  dropInDir: /etc/kubernetes/kubelet.conf.d\n");
  write("/etc/kubernetes/kubelet.conf.d/20-site.conf", "kind: KubeletConfiguration\nmaxPods: 200\n");
  const auto j = doctor();
  EXPECT_EQ(last_exit_, 1);
  EXPECT_EQ(severity(j, "kubelet-dropin-header"), "error") << j.dump(2);
}

TEST_F(DoctorUnderRoot, FileChangedSinceTheApplyIsReported) {
  ASSERT_EQ(nodeimg({"kubelet", "apply", "--defaults"}).exit_code, 0);
  write("/var/lib/kubelet/config.yaml", read("/var/lib/kubelet/config.yaml") + "maxPods: 90\n");
  const auto j = doctor();
  const auto f = finding(j, "apply-record");
  ASSERT_FALSE(f.is_null());
  EXPECT_EQ(f["severity"], "warning");
  EXPECT_NE(f["seen"].get<std::string>().find("/var/lib/kubelet/config.yaml changed since"), std::string::npos) << f.dump();
}

TEST_F(DoctorUnderRoot, CorruptHistoryIsReportedAndLeftInPlace) {
  write("/var/lib/nodeimg/state.json", "{not json");
  const auto j = doctor();
  EXPECT_EQ(severity(j, "history"), "warning");
  EXPECT_EQ(read("/var/lib/nodeimg/state.json"), "{not json");
  EXPECT_FALSE(fs::exists(root_ / "var/lib/nodeimg/state.json.corrupt"));
}

TEST_F(DoctorUnderRoot, FlagOverridingTheFileOnGke) {
  fs::remove_all(root_);
  fs::copy(kPlatforms / "gke/root", root_, fs::copy_options::recursive | fs::copy_options::copy_symlinks);
  std::ofstream(root_ / "home/kubernetes/kubelet-config.yaml", std::ios::app) << "nodeStatusMaxImages: 200\n";
  const auto j = doctor();
  const auto f = finding(j, "flag-overrides-file");
  ASSERT_FALSE(f.is_null()) << j.dump(2);
  EXPECT_NE(f["seen"].get<std::string>().find("--node-status-max-images=25"), std::string::npos) << f.dump();
}

TEST_F(DoctorUnderRoot, BadConfigurationIsExitTwoAndHelpDescribesTheChecks) {
  write("/etc/nodeimg/config.yaml", "gc:\n  hihg: 70%\n");
  EXPECT_EQ(nodeimg({"doctor"}).exit_code, 2);
  auto help = run({NODEIMG_BINARY, "doctor", "--help"});
  EXPECT_EQ(help.exit_code, 0);
  for (const auto* s : {"prepuller trap", "nodeStatusMaxImages", "imageGCHighThresholdPercent", "nodeimg-gc.timer",
                        "--root", "--json", "Exit status: 0 nothing needs attention, 1"})
    EXPECT_NE(help.out.find(s), std::string::npos) << s;
}

}  // namespace
}  // namespace nodeimg::testing
