// The scenarios every runtime must pass, run over each runtime driver (tests/support/
// gc_drivers.hpp): `nodeimg gc|images|prepull` against a real containerd with CRI and a real
// dockerd, images built locally, a small dedicated image filesystem so that thresholds are
// real, and a local registry on loopback. What only one runtime has (sandboxes, multi-tag
// deletes, …) is in gc_containerd_test.cpp and gc_docker_test.cpp.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include "support/files.hpp"
#include "support/gc_drivers.hpp"
#include "support/gc_fixture.hpp"
#include "support/json_schema.hpp"
#include "support/registry.hpp"

namespace nodeimg::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// What docs/schema/NAME.json finds wrong with `doc`, one line each; "" when it matches.
std::string schema_errors(const std::string& name, const json& doc) {
  std::ifstream in(fs::path(NODEIMG_FIXTURES) / "../../docs/schema" / (name + ".json"));
  std::string out;
  for (const auto& e : SchemaValidator(json::parse(in)).validate(doc)) out += e + "\n";
  return out;
}

template <class Driver>
class GcOnRuntime : public GcOnDriver<Driver> {};

// Test names say the runtime: GcOnRuntime/containerd.MaxImagesReachesItsCount.
struct RuntimeName {
  template <class Driver>
  static std::string GetName(int) {
    return Driver::kName;
  }
};
using Runtimes = ::testing::Types<ContainerdDriver, DockerDriver>;
TYPED_TEST_SUITE(GcOnRuntime, Runtimes, RuntimeName);

TYPED_TEST(GcOnRuntime, DryRunChangesNothingAndWritesNoHistory) {
  this->boot();
  this->images({"reg.test/a:1", "reg.test/b:1"});
  const auto before = this->driver_.tags();
  auto r = this->nodeimg({"gc", "--dry-run", "--max-images", "1"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("would collect on"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\nremove "), std::string::npos) << "a row whose action is remove: " << r.out;
  EXPECT_EQ(this->driver_.tags(), before);
  EXPECT_FALSE(fs::exists(this->root_ / "var/lib/nodeimg/state.json"));
}

TYPED_TEST(GcOnRuntime, KeepRulesAndKeepNewestHold) {
  this->boot();
  this->images({"reg.test/app:1", "reg.test/app:2", "reg.test/app:3", "reg.test/tool:1", "reg.test/tool:2", "other.test/x:1"});
  this->configure("  keep: [\"reg.test/app:2\", \"regex:^other\\\\.test/.*\"]\n  keepNewest: {reg.test/tool: 1}\n");
  auto report = this->gc_json({"--max-images", "1"});
  const auto left = this->driver_.tags();
  EXPECT_TRUE(left.contains("reg.test/app:2"));
  EXPECT_TRUE(left.contains("other.test/x:1"));
  for (const auto& t : this->driver_.always_kept()) EXPECT_TRUE(left.contains(t)) << t;
  EXPECT_FALSE(left.contains("reg.test/app:1"));
  EXPECT_FALSE(left.contains("reg.test/app:3"));
  // Exactly one of the tool images (the most recently used) is kept.
  EXPECT_EQ(left.contains("reg.test/tool:1") + left.contains("reg.test/tool:2"), 1) << report.dump(2);
  EXPECT_EQ(this->driver_.image_count(), 3u + this->kept_count());
  EXPECT_FALSE(report["shortfalls"].empty()) << report.dump(2);
}

TYPED_TEST(GcOnRuntime, MaxImagesReachesItsCount) {
  this->boot();
  std::vector<std::string> specs;
  for (int i = 0; i < 12; ++i) specs.push_back("reg.test/many:" + std::to_string(i));
  this->images(specs);
  ASSERT_EQ(this->driver_.image_count(), 12u + this->kept_count());
  auto report = this->gc_json({"--max-images", "5"});
  EXPECT_EQ(this->driver_.image_count(), 5u);
  EXPECT_EQ(report["imagesBefore"], 12u + this->kept_count());
  EXPECT_EQ(report["imagesAfter"], 5);
  EXPECT_EQ(count_removed(report, "image"), 7u + this->kept_count());
  EXPECT_EQ(schema_errors("gc", report), "") << "a real run's document matches docs/schema/gc.json\n" << report.dump(2);
  EXPECT_TRUE(report["shortfalls"].empty()) << report.dump(2);
  EXPECT_TRUE(report["failures"].empty()) << report.dump(2);
  for (const auto& t : this->driver_.always_kept()) EXPECT_TRUE(this->driver_.tags().contains(t)) << t;
}

TYPED_TEST(GcOnRuntime, ThresholdsFreeDownToLowOnARealFilesystem) {
  this->boot("160M");
  std::vector<std::string> specs;
  for (int i = 0; i < 8; ++i) specs.push_back("reg.test/big:" + std::to_string(i) + "=6MiB");
  this->images(specs);
  // Start just below the current usage and ask for about three images' worth back.
  auto probe = json::parse(this->nodeimg({"images", "--json"}).out);
  const double used = probe["filesystem"]["usage"]["usedPercent"];
  ASSERT_GT(used, 30.0) << "the images should fill the small filesystem";
  const int high = static_cast<int>(used) - 2;
  const int low = high - 18;
  auto report = this->gc_json({"--high", std::to_string(high) + "%", "--low", std::to_string(low) + "%", "--concurrency", "1"});
  const double after = report["filesystem"]["after"]["usedPercent"];
  EXPECT_LE(after, low) << report.dump(2);
  EXPECT_GT(report["bytesFreed"].template get<std::uint64_t>(), 0u);
  const auto removed = count_removed(report, "image");
  EXPECT_GT(removed, 0u);
  EXPECT_LT(removed, 8u) << "it must free down to low, not everything";
  EXPECT_EQ(this->driver_.image_count(), 8u + this->kept_count() - removed);
  EXPECT_TRUE(report["plan"]["overHigh"]);
  EXPECT_TRUE(report["failures"].empty()) << report.dump(2);
  // Below high now: the next run does nothing.
  auto again = this->gc_json({"--high", std::to_string(high) + "%", "--low", std::to_string(low) + "%"});
  EXPECT_EQ(count_removed(again, "image"), 0u) << again.dump(2);
}

TYPED_TEST(GcOnRuntime, HistoryPersistsAcrossRunsAndDrivesLruOrder) {
  this->boot();
  this->images({"reg.test/lru:old", "reg.test/lru:mid", "reg.test/lru:new"});
  this->gc_json();  // below high: removes nothing, records first seen
  auto first = json::parse(this->state());
  ASSERT_EQ(first["version"], 2);
  ASSERT_EQ(first["images"].size(), 3u + this->kept_count());
  this->gc_json();
  auto second = json::parse(this->state());
  for (auto& [id, h] : first["images"].items()) EXPECT_EQ(second["images"][id]["firstSeen"], h["firstSeen"]) << id;

  // Rewrite the history as if the images had last been used 3, 2 and 1 days ago.
  std::map<std::string, std::string> id_of;
  for (const auto* t : {"reg.test/lru:old", "reg.test/lru:mid", "reg.test/lru:new"}) {
    id_of[t] = this->driver_.image_id(t);
    ASSERT_TRUE(second["images"].contains(id_of[t])) << t << " " << second.dump(2);
  }
  const long long now = second["updatedAt"];
  second["images"][id_of["reg.test/lru:old"]]["lastUsed"] = now - 3 * 86400;
  second["images"][id_of["reg.test/lru:mid"]]["lastUsed"] = now - 2 * 86400;
  second["images"][id_of["reg.test/lru:new"]]["lastUsed"] = now - 1 * 86400;
  std::ofstream(this->root_ / "var/lib/nodeimg/state.json", std::ios::trunc) << second.dump();

  auto report = this->gc_json({"--max-images", std::to_string(1 + this->kept_count()), "--concurrency", "1"});
  ASSERT_EQ(count_removed(report, "image"), 2u) << report.dump(2);
  EXPECT_EQ(report["removed"][0]["name"], "reg.test/lru:old");
  EXPECT_EQ(report["removed"][1]["name"], "reg.test/lru:mid");
  EXPECT_EQ(this->driver_.tags(), this->with_kept({"reg.test/lru:new"}));
  // Removed images are forgotten; the survivor keeps its rewritten history.
  auto third = json::parse(this->state());
  ASSERT_EQ(third["images"].size(), 1u + this->kept_count()) << third.dump(2);
  EXPECT_EQ(third["images"][id_of["reg.test/lru:new"]]["lastUsed"], now - 86400);
}

TYPED_TEST(GcOnRuntime, PrepullPullsFromALocalRegistryAndProtectsTheImage) {
  if (::access((std::string(NODEIMG_HARNESS_DIR) + "/registry").c_str(), X_OK) != 0 ||
      ::access("/usr/bin/skopeo", X_OK) != 0 || ::access("/usr/bin/docker-registry", X_OK) != 0)
    GTEST_SKIP() << "no registry harness, skopeo or docker-registry";
  this->boot();
  this->images({"reg.test/filler:1"});
  auto registry = LocalRegistry::start();
  const std::string oci = (this->root_ / "one.tar").string();
  make_oci_single("reg.test/served:1", oci);
  const std::string ref = registry->push(oci, "served:1");
  this->configure("", "prepull: [\"" + ref + "\"]\n");
  auto r = this->nodeimg({"prepull", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = json::parse(r.out);
  EXPECT_EQ(j["pulled"], 1) << j.dump(2);
  EXPECT_TRUE(this->driver_.tags().contains(ref));
  EXPECT_EQ(j["images"][0]["id"], this->driver_.image_id(ref)) << j.dump(2);
  auto again = json::parse(this->nodeimg({"prepull", "--json"}).out);
  EXPECT_EQ(again["present"], 1) << again.dump(2);
  EXPECT_EQ(again["pulled"], 0);
  auto report = this->gc_json({"--max-images", "1"});
  EXPECT_TRUE(this->driver_.tags().contains(ref));
  EXPECT_FALSE(this->driver_.tags().contains("reg.test/filler:1"));
  bool protected_by_prepull = false;
  for (const auto& k : report["kept"])
    if (k["name"] == ref) protected_by_prepull = k["reason"].template get<std::string>().find("prepull") != std::string::npos;
  EXPECT_TRUE(protected_by_prepull) << report.dump(2);
  EXPECT_EQ(registry->stop(), 0);
}

TYPED_TEST(GcOnRuntime, AStoppedRuntimeIsExitOneKeepsTheHistoryAndCountsTheFailure) {
  this->boot();
  this->images({"reg.test/a:1"});
  this->gc_json();
  const std::string recorded = this->state();
  ASSERT_FALSE(recorded.empty());
  const std::string endpoint = this->driver_.endpoint();
  ASSERT_EQ(this->driver_.stop(), 0);
  fs::create_directories(this->root_ / "var/lib/prometheus/node-exporter");
  for (const std::vector<std::string>& args : {std::vector<std::string>{"gc"}, {"gc", "--json"}, {"images"}}) {
    auto r = this->nodeimg(args);
    EXPECT_EQ(r.exit_code, 1) << args.back() << ": " << r.err;
    EXPECT_NE(r.err.find(endpoint), std::string::npos) << r.err;
  }
  // The history stays as it was; each failed gc run (not `images`) is counted in the totals.
  this->expect_history_kept_and_failures(recorded, 2);
  // The failure reaches Prometheus too.
  const std::string metrics = read_file(this->root_ / "var/lib/prometheus/node-exporter/nodeimg.prom");
  EXPECT_NE(metrics.find("\nnodeimg_gc_last_run_success 0\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("\nnodeimg_gc_runtime_reachable 0\n"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("\nnodeimg_gc_runs_total{result=\"failure\"} 2\n"), std::string::npos) << metrics;

  // After a crash the socket file stays behind with nobody listening: the same.
  const std::string socket = endpoint.substr(std::string("unix://").size());
  fs::create_directories(fs::path(socket).parent_path());
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  ASSERT_LT(socket.size(), sizeof(addr.sun_path));
  std::copy(socket.begin(), socket.end(), addr.sun_path);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  ::close(fd);
  auto r = this->nodeimg({"gc"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find(endpoint), std::string::npos) << r.err;
  this->expect_history_kept_and_failures(recorded, 3);
  fs::remove_all(this->state_dir_);
}

}  // namespace
}  // namespace nodeimg::testing
