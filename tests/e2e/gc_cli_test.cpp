// `nodeimg gc|images|prepull` where no runtime answers, and their command lines: a runtime
// that cannot be reached is exit 1 with a message naming the endpoint, and nothing changes.
// (Runs against real runtimes are in tests/integration.)
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/files.hpp"
#include "support/process.hpp"

namespace nodeimg::testing {
namespace {

namespace fs = std::filesystem;

class GcWithoutRuntime : public ::testing::Test {
 protected:
  void SetUp() override { root_ = make_temp_dir("nodeimg-e2e-gc"); }
  void TearDown() override { fs::remove_all(root_); }
  ProcessResult nodeimg(std::vector<std::string> args) {
    args.insert(args.begin(), NODEIMG_BINARY);
    return run(args);
  }
  void write(const std::string& path, const std::string& content) const {
    fs::create_directories((root_ / path.substr(1)).parent_path());
    std::ofstream(root_ / path.substr(1), std::ios::binary | std::ios::trunc) << content;
  }
  std::string read(const std::string& path) const { return read_file(root_ / path.substr(1)); }
  // The state file after a failed run: the history as it was, and the failure counted in
  // the totals behind nodeimg_gc_runs_total.
  void expect_only_the_failure_counted(const std::string& images_before) const {
    const auto state = nlohmann::json::parse(read("/var/lib/nodeimg/state.json"));
    EXPECT_EQ(state["images"], nlohmann::json::parse(images_before)["images"]);
    EXPECT_EQ(state["totals"]["runs"]["failure"], 1) << state.dump();
    EXPECT_EQ(state["totals"]["runs"]["success"], 0) << state.dump();
  }
  fs::path root_;
};

constexpr const char* kHistory = R"({"version": 1, "updatedAt": 1700000000, "images": {}})";

TEST_F(GcWithoutRuntime, MissingSocketIsExitOneNamingTheEndpointAndStateIsUntouched) {
  const std::string sock = (root_ / "containerd.sock").string();
  write("/etc/nodeimg/config.yaml", "runtime:\n  endpoint: unix://" + sock + "\n");
  write("/var/lib/nodeimg/state.json", kHistory);
  for (const auto& cmd : {"gc", "images", "prepull"}) {
    auto r = nodeimg({"--root", root_.string(), cmd});
    EXPECT_EQ(r.exit_code, 1) << cmd << ": " << r.err;
    EXPECT_NE(r.err.find(sock), std::string::npos) << cmd << ": " << r.err;
  }
  expect_only_the_failure_counted(kHistory);  // images and prepull write nothing
}

TEST_F(GcWithoutRuntime, SocketWithNobodyListeningIsExitOne) {
  const std::string sock = (root_ / "dead.sock").string();
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", sock.c_str());
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);  // bound, never listening
  write("/etc/nodeimg/config.yaml", "runtime:\n  endpoint: unix://" + sock + "\n  timeout: 5s\n");
  write("/var/lib/nodeimg/state.json", kHistory);
  auto r = nodeimg({"--root", root_.string(), "gc", "--json"});
  ::close(fd);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find(sock), std::string::npos) << r.err;
  expect_only_the_failure_counted(kHistory);
}

TEST_F(GcWithoutRuntime, AutoProbeListsEveryWellKnownSocketItTried) {
  auto r = nodeimg({"--root", root_.string(), "gc"});
  EXPECT_EQ(r.exit_code, 1);
  for (const auto* s : {"/run/containerd/containerd.sock", "/run/k3s/containerd/containerd.sock", "/var/run/crio/crio.sock",
                        "/run/cri-dockerd.sock", "/var/run/docker.sock"})
    EXPECT_NE(r.err.find(s), std::string::npos) << s << " not in: " << r.err;
  EXPECT_NE(r.err.find("runtime.endpoint"), std::string::npos) << r.err;
  expect_only_the_failure_counted(R"({"images": {}})");
}

TEST_F(GcWithoutRuntime, PolicyOptionsAreValidatedLikeTheConfiguration) {
  EXPECT_EQ(nodeimg({"--root", root_.string(), "gc", "--high", "70%", "--low", "80%"}).exit_code, 2);
  EXPECT_EQ(nodeimg({"--root", root_.string(), "gc", "--high", "seventy"}).exit_code, 2);
  EXPECT_EQ(nodeimg({"--root", root_.string(), "gc", "--min-age", "soon"}).exit_code, 2);
  EXPECT_EQ(nodeimg({"--root", root_.string(), "gc", "--keep", "regex:(("}).exit_code, 2);
  EXPECT_EQ(nodeimg({"--root", root_.string(), "gc", "--max-images", "-3"}).exit_code, 2);
  // The option and the file are refused with the same words.
  auto option = nodeimg({"--root", root_.string(), "gc", "--max-images", "-3"});
  EXPECT_NE(option.err.find("--max-images: must be >= 0 (0 = off)"), std::string::npos) << option.err;
  write("/etc/nodeimg/config.yaml", "gc:\n  maxImages: -3\n");
  auto file = nodeimg({"--root", root_.string(), "gc"});
  EXPECT_EQ(file.exit_code, 2);
  EXPECT_NE(file.err.find("config.yaml:2: gc.maxImages: must be >= 0 (0 = off)"), std::string::npos) << file.err;
  write("/etc/nodeimg/config.yaml", "gc:\n  high: 70%\n  low: 90%\n");
  auto r = nodeimg({"--root", root_.string(), "gc"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("config.yaml"), std::string::npos) << r.err;
}

// nodeimg never falls back to its defaults for a file it was given or that is there: every
// configuration that cannot be read is a configuration error (exit 2) naming the path.
TEST_F(GcWithoutRuntime, AConfigurationThatCannotBeReadIsExitTwoNeverTheDefaults) {
  fs::create_directories(root_ / "etc/nodeimg/config.yaml");  // a directory where the file should be
  auto default_dir = nodeimg({"--root", root_.string(), "gc", "--dry-run"});
  EXPECT_EQ(default_dir.exit_code, 2) << default_dir.err;
  EXPECT_NE(default_dir.err.find((root_ / "etc/nodeimg/config.yaml").string() + ": is a directory"), std::string::npos)
      << default_dir.err;
  auto explicit_dir = nodeimg({"--config", (root_ / "etc/nodeimg/config.yaml").string(), "gc", "--dry-run"});
  EXPECT_EQ(explicit_dir.exit_code, 2) << explicit_dir.err;
  auto missing = nodeimg({"--config", (root_ / "nowhere.yaml").string(), "gc", "--dry-run"});
  EXPECT_EQ(missing.exit_code, 2) << missing.err;
  EXPECT_NE(missing.err.find("nowhere.yaml: no such file"), std::string::npos) << missing.err;
}

// gc.keepFromFile is read before anything else: a list that cannot be read stops the run
// before it acts (exit 1, naming the file and line), and the metrics say the run failed.
TEST_F(GcWithoutRuntime, AKeepFileThatCannotBeReadStopsTheRunAndTheMetricsSaySo) {
  fs::create_directories(root_ / "var/lib/prometheus/node-exporter");
  write("/etc/nodeimg/config.yaml", "gc:\n  keepFromFile: /etc/nodeimg/keep.d\n");
  auto absent = nodeimg({"--root", root_.string(), "gc"});
  EXPECT_EQ(absent.exit_code, 1) << absent.err;
  EXPECT_NE(absent.err.find((root_ / "etc/nodeimg/keep.d").string() + ": no such file or directory"), std::string::npos)
      << absent.err;
  const std::string metrics = read("/var/lib/prometheus/node-exporter/nodeimg.prom");
  EXPECT_NE(metrics.find("\nnodeimg_gc_last_run_success 0\n"), std::string::npos) << metrics;
  EXPECT_EQ(metrics.find("\nnodeimg_gc_runtime_reachable "), std::string::npos) << "no runtime was probed: " << metrics;

  write("/etc/nodeimg/keep.d/lab", "ghcr.io/org/lab:*\nregex:lab(\n");
  for (const auto& args : {std::vector<std::string>{"gc"}, std::vector<std::string>{"gc", "--dry-run"},
                           std::vector<std::string>{"images"}}) {
    std::vector<std::string> argv{"--root", root_.string()};
    argv.insert(argv.end(), args.begin(), args.end());
    auto bad = nodeimg(argv);
    EXPECT_EQ(bad.exit_code, 1) << args[0] << ": " << bad.err;
    EXPECT_NE(bad.err.find("keep.d/lab:2: invalid regular expression"), std::string::npos) << bad.err;
  }
}

TEST_F(GcWithoutRuntime, HelpExplainsThePolicyAndGlobalOptionsWorkOnEitherSide) {
  auto r = nodeimg({"gc", "--help"});
  EXPECT_EQ(r.exit_code, 0);
  for (const auto* s : {"--dry-run", "--high", "--low", "--max-images", "--keep", "Never removed", "pinned", "low"})
    EXPECT_NE(r.out.find(s), std::string::npos) << s;
  const std::string sock = (root_ / "none.sock").string();
  write("/etc/nodeimg/config.yaml", "runtime:\n  endpoint: unix://" + sock + "\n");
  auto before = nodeimg({"--root", root_.string(), "--json", "gc", "--dry-run"});
  auto after = nodeimg({"gc", "--dry-run", "--root", root_.string(), "--json"});
  EXPECT_EQ(before.exit_code, 1);
  EXPECT_EQ(after.exit_code, 1);
  EXPECT_EQ(before.err, after.err);
}

}  // namespace
}  // namespace nodeimg::testing
