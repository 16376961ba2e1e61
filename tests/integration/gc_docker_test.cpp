// What only Docker has, against a real Docker engine (tests/harness/dockerd): containers
// without pods (an exited container and its image go in the same run), images with several
// tags deleted without force, sizes without shared layers, and `images` on Docker. The
// scenarios every runtime shares are in gc_runtimes_test.cpp.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include "support/files.hpp"
#include "support/gc_drivers.hpp"
#include "support/gc_fixture.hpp"

namespace nodeimg::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class GcOnDocker : public GcOnDriver<DockerDriver> {
 protected:
  DockerdInstance& dockerd() { return driver_.daemon(); }

  // A running (sleep), a created (never started) and an exited (true, exit 0) container.
  std::string running(const std::string& image, const std::string& name) {
    const auto id = dockerd().create_container(image, name, {"/bin/sleep", "3600"});
    dockerd().start(id);
    EXPECT_EQ(dockerd().container_status(id), "running");
    return id;
  }
  std::string created(const std::string& image, const std::string& name) {
    return dockerd().create_container(image, name, {"/bin/sleep", "3600"});
  }
  std::string exited(const std::string& image, const std::string& name) {
    const auto id = dockerd().create_container(image, name, {"/bin/true"});
    dockerd().start(id);
    EXPECT_EQ(dockerd().wait_until_exited(id), 0);
    return id;
  }
  // The four images and a running, a created and an exited container on three of them.
  struct Containers {
    std::string running, created, exited;
  };
  Containers one_of_each() {
    images({"reg.test/running:1", "reg.test/created:1", "reg.test/exited:1", "reg.test/unused:1"});
    return {.running = running("reg.test/running:1", "web"),
            .created = created("reg.test/created:1", "init"),
            .exited = exited("reg.test/exited:1", "job")};
  }
};

std::set<std::string> removed_names(const json& report, const std::string& kind) {
  std::set<std::string> out;
  for (const auto& r : report["removed"])
    if (r["kind"] == kind) out.insert(r["name"].get<std::string>());
  return out;
}

TEST_F(GcOnDocker, ExitedContainersGoAndTheirImagesAreCandidatesInTheSameRun) {
  boot();
  const auto [run_id, created_id, exited_id] = one_of_each();

  // Younger than containers.minAge: the exited container and so its image stay.
  configure("", "", "{removeExited: true, minAge: 1h}");
  auto young = gc_json({"--max-images", "1"});
  EXPECT_EQ(young["counts"]["containersRemoved"], 0) << young.dump(2);
  EXPECT_EQ(removed_names(young, "image"), (std::set<std::string>{"reg.test/unused:1"})) << young.dump(2);
  EXPECT_EQ(dockerd().container_status(exited_id), "exited");

  // Older than containers.minAge 0s: the container goes, then its image in the same run.
  configure("");
  auto report = gc_json({"--max-images", "1"});
  EXPECT_EQ(report["counts"]["containersRemoved"], 1) << report.dump(2);
  EXPECT_EQ(report["counts"]["sandboxesRemoved"], 0);
  EXPECT_EQ(removed_names(report, "image"), (std::set<std::string>{"reg.test/exited:1"})) << report.dump(2);
  EXPECT_TRUE(report["failures"].empty()) << report.dump(2);
  EXPECT_FALSE(report["shortfalls"].empty()) << "two images in use remain above maxImages 1";
  EXPECT_EQ(tags(), (std::set<std::string>{"reg.test/running:1", "reg.test/created:1"}));
  EXPECT_EQ(dockerd().container_status(exited_id), "");
  // The other containers are untouched.
  EXPECT_EQ(dockerd().container_status(run_id), "running");
  EXPECT_EQ(dockerd().container_status(created_id), "created");
}

TEST_F(GcOnDocker, ImagesOfRunningCreatedAndKeptExitedContainersSurvive) {
  boot();
  const auto [run_id, created_id, exited_id] = one_of_each();
  configure("", "", "{removeExited: false, minAge: 0s}");
  auto report = gc_json({"--max-images", "1"});
  EXPECT_EQ(report["counts"]["containersRemoved"], 0) << report.dump(2);
  EXPECT_EQ(removed_names(report, "image"), (std::set<std::string>{"reg.test/unused:1"})) << report.dump(2);
  EXPECT_TRUE(report["skipped"].empty()) << "the protected images are never even tried: " << report.dump(2);
  EXPECT_TRUE(report["failures"].empty()) << report.dump(2);
  EXPECT_EQ(tags(), (std::set<std::string>{"reg.test/running:1", "reg.test/created:1", "reg.test/exited:1"}));
  std::map<std::string, std::string> kept;
  for (const auto& k : report["kept"]) kept[k["name"]] = k["reason"];
  EXPECT_NE(kept["reg.test/running:1"].find("in use by container web (running)"), std::string::npos) << report.dump(2);
  EXPECT_NE(kept["reg.test/created:1"].find("in use by container init (created)"), std::string::npos) << report.dump(2);
  EXPECT_NE(kept["reg.test/exited:1"].find("in use by container job (exited)"), std::string::npos) << report.dump(2);
  EXPECT_EQ(dockerd().container_status(run_id), "running");
  EXPECT_EQ(dockerd().container_status(created_id), "created");
  EXPECT_EQ(dockerd().container_status(exited_id), "exited");
}

TEST_F(GcOnDocker, AMultiTagImageGoesEntirelyWithoutForce) {
  boot();
  images({"reg.test/multi:1", "reg.test/stay:1"});
  const std::string id = dockerd().image_id("reg.test/multi:1");
  ASSERT_FALSE(id.empty());
  dockerd().tag(id, "reg.test/multi", "2");
  dockerd().tag(id, "other.test/multi", "latest");
  // Docker itself refuses to delete it by id without force.
  ASSERT_EQ(dockerd().request("DELETE", "/images/" + id).status, 409);
  configure("  keep: [\"reg.test/stay:*\"]\n");
  auto report = gc_json({"--max-images", "1"});
  ASSERT_EQ(count_removed(report, "image"), 1u) << report.dump(2);
  EXPECT_EQ(report["removed"][0]["id"], id);
  EXPECT_TRUE(report["failures"].empty()) << report.dump(2);
  EXPECT_TRUE(report["skipped"].empty()) << report.dump(2);
  EXPECT_EQ(dockerd().image_id(id), "");
  for (const auto* t : {"reg.test/multi:1", "reg.test/multi:2", "other.test/multi:latest"})
    EXPECT_EQ(dockerd().image_id(t), "") << t;
  EXPECT_EQ(tags(), (std::set<std::string>{"reg.test/stay:1"}));
  EXPECT_EQ(report["imagesAfter"], 1);
}

// A parent image (another image is built on it: here by `docker commit` of a container
// made from it) cannot be deleted while the child exists. It must keep its tag — Docker
// would untag it and then refuse the id — and when both go, both are counted.
TEST_F(GcOnDocker, AParentImageKeepsItsTagAndEveryImageThatGoesIsCounted) {
  boot();
  images({"reg.test/parent:1", "reg.test/other:1"});
  const std::string parent = dockerd().image_id("reg.test/parent:1");
  const auto builder = created("reg.test/parent:1", "builder");
  dockerd().api("POST", "/commit?container=" + builder + "&repo=reg.test/child&tag=1");
  dockerd().api("DELETE", "/containers/" + builder);
  const std::string child = dockerd().image_id("reg.test/child:1");
  ASSERT_FALSE(child.empty());
  ASSERT_EQ(json::parse(dockerd().api("GET", "/images/" + child + "/json"))["Parent"], parent);

  // The child is kept: the parent is planned, and must come through whole.
  configure("  keep: [\"reg.test/child:*\"]\n");
  auto report = gc_json({"--max-images", "1"});
  EXPECT_EQ(dockerd().image_id("reg.test/parent:1"), parent) << "the parent lost its tag: " << report.dump(2);
  EXPECT_EQ(removed_names(report, "image"), (std::set<std::string>{"reg.test/other:1"})) << report.dump(2);
  EXPECT_TRUE(report["failures"].empty()) << report.dump(2);
  ASSERT_EQ(report["skipped"].size(), 1u) << report.dump(2);
  EXPECT_EQ(report["skipped"][0]["id"], parent);
  EXPECT_NE(report["skipped"][0]["reason"].get<std::string>().find("built on it"), std::string::npos) << report.dump(2);

  // Nothing kept and every candidate wanted (free-space thresholds no disk meets): the child
  // goes first, then the parent, each counted; nothing else disappears.
  configure("");
  auto all = gc_json({"--high", "1TiB free", "--low", "2TiB free"});
  EXPECT_EQ(removed_names(all, "image"), (std::set<std::string>{"reg.test/parent:1", "reg.test/child:1"})) << all.dump(2);
  EXPECT_TRUE(all["failures"].empty()) << all.dump(2);
  EXPECT_EQ(json::parse(dockerd().api("GET", "/images/json?all=1")).size(), 0u);
  EXPECT_EQ(all["imagesAfter"], 0);
}

// Thresholds themselves are a shared scenario (gc_runtimes_test.cpp); what Docker adds is
// how sizes are counted and where the image filesystem is.
TEST_F(GcOnDocker, SizesLeaveOutSharedLayersAndTheDataRootIsMeasured) {
  boot("160M");
  std::vector<std::string> specs;
  for (int i = 0; i < 8; ++i) specs.push_back("reg.test/big:" + std::to_string(i) + "=6MiB");
  images(specs);
  auto probe = json::parse(nodeimg({"images", "--json"}).out);
  const double used = probe["filesystem"]["usage"]["usedPercent"];
  std::fprintf(stderr, "storage driver %s: 8 images of 6 MiB fill %.1f%% of 160M\n", dockerd().storage_driver().c_str(), used);
  ASSERT_GT(used, 30.0) << "the images should fill the small filesystem";
  EXPECT_EQ(probe["filesystem"]["mountpoint"], dockerd().data_root());
  // Sizes are what removing an image frees: the busybox layer (about 2 MB) every image
  // shares is not counted in each (Docker's own Size counts it, and then too few removals
  // were planned to reach low).
  ASSERT_EQ(probe["images"].size(), 8u);
  for (const auto& i : probe["images"]) {
    EXPECT_GE(i["size"].get<std::uint64_t>(), 6u << 20) << i.dump();
    EXPECT_LT(i["size"].get<std::uint64_t>(), (6u << 20) + (512u << 10)) << i.dump();
  }
}

TEST_F(GcOnDocker, DryRunPlansAnExitedContainerAndItsImageAndChangesNothing) {
  boot();
  images({"reg.test/a:1", "reg.test/b:1"});
  const auto job = exited("reg.test/a:1", "job");
  // Only a:1 can go, and only because its exited container goes in the same run.
  configure("  keep: [\"reg.test/b:1\"]\n");
  const auto before = tags();
  auto r = nodeimg({"gc", "--dry-run", "--max-images", "1"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("would collect on"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\nremove "), std::string::npos) << "a row whose action is remove: " << r.out;
  EXPECT_NE(r.out.find("reg.test/a:1"), std::string::npos) << "the exited container's image is a candidate: " << r.out;
  EXPECT_EQ(tags(), before);
  EXPECT_EQ(dockerd().container_status(job), "exited");
  EXPECT_FALSE(fs::exists(root_ / "var/lib/nodeimg/state.json"));
  auto j = json::parse(nodeimg({"gc", "--dry-run", "--json", "--max-images", "1"}).out);
  EXPECT_TRUE(j["dryRun"]);
  EXPECT_EQ(j["counts"]["containersRemoved"], 1);
  EXPECT_EQ(count_removed(j, "image"), 1u) << j.dump(2);
  EXPECT_EQ(tags(), before);
  EXPECT_FALSE(fs::exists(root_ / "var/lib/nodeimg/state.json"));
}

TEST_F(GcOnDocker, ImagesListsUseProtectionAndTheNextGc) {
  boot();
  images({"reg.test/shown:1", "reg.test/shown:2", "reg.test/shown:3"});
  running("reg.test/shown:1", "web");
  configure("  keep: [\"reg.test/shown:2\"]\n");
  auto r = nodeimg({"images", "--json", "--max-images", "1"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = json::parse(r.out);
  EXPECT_NE(j["runtime"].get<std::string>().find(dockerd().endpoint()), std::string::npos) << j["runtime"];
  ASSERT_EQ(j["images"].size(), 3u) << j.dump(2);
  std::map<std::string, json> by_tag;
  for (const auto& i : j["images"]) by_tag[i["tags"][0]] = i;
  EXPECT_EQ(by_tag["reg.test/shown:1"]["inUseBy"], json::array({"web (running)"})) << j.dump(2);
  EXPECT_EQ(by_tag["reg.test/shown:1"]["nextGc"], "protected");
  EXPECT_NE(by_tag["reg.test/shown:1"]["reason"].get<std::string>().find("in use by container web"), std::string::npos);
  EXPECT_TRUE(by_tag["reg.test/shown:2"]["inUseBy"].empty());
  EXPECT_EQ(by_tag["reg.test/shown:2"]["nextGc"], "protected");
  EXPECT_NE(by_tag["reg.test/shown:2"]["reason"].get<std::string>().find("keep"), std::string::npos);
  EXPECT_EQ(by_tag["reg.test/shown:3"]["nextGc"], "remove");
  EXPECT_NE(by_tag["reg.test/shown:3"]["reason"].get<std::string>().find("maxImages"), std::string::npos);
  EXPECT_EQ(j["images"][0]["tags"][0], "reg.test/shown:3") << "removals come first";
  EXPECT_GT(by_tag["reg.test/shown:3"]["size"].get<std::uint64_t>(), 0u);
  auto csv = nodeimg({"images", "--csv"});
  EXPECT_EQ(csv.exit_code, 0);
  EXPECT_EQ(std::count(csv.out.begin(), csv.out.end(), '\n'), 4);
  EXPECT_EQ(driver_.engine_images().size(), 3u);
  EXPECT_FALSE(fs::exists(root_ / "var/lib/nodeimg/state.json")) << "images is read-only";
}

}  // namespace
}  // namespace nodeimg::testing
