#pragma once
// What the runtime-specific GC suites (containerd, dockerd) share: a throwaway node root for
// `nodeimg --root`, its configuration, running nodeimg on it and reading what it left.
// Header-only: it uses GoogleTest assertions, and only test executables include it.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include "support/files.hpp"
#include "support/process.hpp"

namespace nodeimg::testing {

class GcFixture : public ::testing::Test {
 protected:
  void make_root() { root_ = make_temp_dir("nodeimg-gc-root"); }
  void TearDown() override {
    if (!root_.empty()) std::filesystem::remove_all(root_);
  }

  // ROOT/etc/nodeimg/config.yaml: `runtime` (the runtime: block's keys, indented), then a gc:
  // section whose ages let fresh objects go and whose thresholds are never reached, with
  // `containers` as its containers: policy, then `gc_extra` (more gc: keys) and `top_extra`
  // (more top-level sections).
  void write_config(const std::string& runtime, const std::string& gc_extra, const std::string& top_extra,
                    const std::string& containers = "{removeExited: true, minAge: 0s}") {
    std::filesystem::create_directories(root_ / "etc/nodeimg");
    std::ofstream(root_ / "etc/nodeimg/config.yaml", std::ios::trunc)
        << "runtime:\n" << runtime << "  timeout: 30s\n"
        << "gc:\n  minAge: 0s\n  high: 99%\n  low: 98%\n  containers: " << containers
        << "\n  sandboxes: {removeNotReady: true, minAge: 0s}\n"
        << gc_extra << top_extra;
  }

  ProcessResult nodeimg(std::vector<std::string> args) const {
    args.insert(args.begin(), {NODEIMG_BINARY, "--root", root_.string()});
    return run(args);
  }
  // `nodeimg gc --json EXTRA...`, which must succeed; its report.
  nlohmann::json gc_json(std::vector<std::string> extra = {}) const {
    std::vector<std::string> args = {"gc", "--json"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto r = nodeimg(args);
    EXPECT_EQ(r.exit_code, 0) << r.err << r.out;
    return nlohmann::json::parse(r.out.empty() ? "{}" : r.out);
  }
  // ROOT/var/lib/nodeimg/state.json as it is ("" when absent).
  std::string state() const { return read_file(root_ / "var/lib/nodeimg/state.json"); }
  // After failed runs: the history in the state file is the one `recorded` held, and the
  // totals behind nodeimg_gc_runs_total count one success and `failures` failures.
  void expect_history_kept_and_failures(const std::string& recorded, int failures) const {
    const auto before = nlohmann::json::parse(recorded), after = nlohmann::json::parse(state());
    EXPECT_EQ(after["images"], before["images"]);
    EXPECT_EQ(after["totals"]["runs"]["success"], 1) << after.dump();
    EXPECT_EQ(after["totals"]["runs"]["failure"], failures) << after.dump();
  }

  std::filesystem::path root_;
};

// How many removals of `kind` ("container", "sandbox", "image") a gc --json report lists.
inline std::size_t count_removed(const nlohmann::json& report, const std::string& kind) {
  return static_cast<std::size_t>(std::count_if(report["removed"].begin(), report["removed"].end(),
                                                [&](const nlohmann::json& r) { return r["kind"] == kind; }));
}

}  // namespace nodeimg::testing
