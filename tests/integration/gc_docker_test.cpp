// `nodeimg gc|images|prepull` against a real Docker engine (tests/harness/dockerd): real
// containers in the running, created and exited states, images built locally and loaded
// with `docker load`, the data root on a small dedicated tmpfs so that thresholds are real,
// and a local registry on loopback. The Docker twin of gc_containerd_test.cpp.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include "support/containerd.hpp"
#include "support/dockerd.hpp"
#include "support/gc_fixture.hpp"
#include "support/process.hpp"
#include "support/registry.hpp"

namespace nodeimg::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

bool mounted_under(const std::string& dir) {
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.find(" " + dir + "/") != std::string::npos || line.find(" " + dir + " ") != std::string::npos) return true;
  return false;
}

class GcOnDocker : public GcFixture {
 protected:
  // Image archives are built once per suite and reused by every test that asks for the
  // same images (make-images writes the same bytes for the same specs anyway).
  static void SetUpTestSuite() {
    char tmpl[] = "/tmp/nodeimg-gc-docker-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    archives_ = tmpl;
  }
  static void TearDownTestSuite() {
    std::error_code ec;
    fs::remove_all(archives_, ec);
  }

  void boot(DockerdInstance::Options options = small()) {
    dockerd_ = DockerdInstance::boot(options);
    state_dir_ = dockerd_->state_dir();
    make_root();
    configure("");
  }
  static DockerdInstance::Options small() {
    DockerdInstance::Options o;
    o.fs_size = "96M";
    return o;
  }
  void TearDown() override {
    if (dockerd_) {
      EXPECT_EQ(dockerd_->stop(), 0) << "dockerd was not cleaned up";
    }
    dockerd_.reset();
    if (!state_dir_.empty()) {
      EXPECT_FALSE(mounted_under(state_dir_)) << "mounts left under " << state_dir_;
      EXPECT_FALSE(fs::exists(state_dir_)) << state_dir_;
    }
    GcFixture::TearDown();
  }

  // Builds (or reuses) one archive with these images and loads it into dockerd.
  void images(const std::vector<std::string>& specs) {
    std::string key;
    for (const auto& s : specs) key += s + "\n";
    auto& tar = built_[key];
    if (tar.empty()) {
      tar = archives_ + "/images-" + std::to_string(built_.size()) + ".tar";
      make_images(tar, specs);
    }
    dockerd_->load(tar);
  }

  void configure(const std::string& gc_extra, const std::string& top_extra = "",
                 const std::string& containers = "{removeExited: true, minAge: 0s}") {
    write_config("  kind: docker\n  endpoint: " + dockerd_->endpoint() + "\n", gc_extra, top_extra, containers);
  }

  // What the Engine API shows, independently of nodeimg's adapter.
  json engine_images() const { return json::parse(dockerd_->api("GET", "/images/json")); }
  std::set<std::string> tags() const {
    std::set<std::string> out;
    for (const auto& i : engine_images())
      if (i["RepoTags"].is_array())
        for (const auto& t : i["RepoTags"])
          if (t != "<none>:<none>") out.insert(t.get<std::string>());
    return out;
  }


  // A running (sleep), a created (never started) and an exited (true, exit 0) container.
  std::string running(const std::string& image, const std::string& name) {
    const auto id = dockerd_->create_container(image, name, {"/bin/sleep", "3600"});
    dockerd_->start(id);
    EXPECT_EQ(dockerd_->container_status(id), "running");
    return id;
  }
  std::string created(const std::string& image, const std::string& name) {
    return dockerd_->create_container(image, name, {"/bin/sleep", "3600"});
  }
  std::string exited(const std::string& image, const std::string& name) {
    const auto id = dockerd_->create_container(image, name, {"/bin/true"});
    dockerd_->start(id);
    EXPECT_EQ(dockerd_->wait_until_exited(id), 0);
    return id;
  }

  static std::string archives_;
  static std::map<std::string, std::string> built_;
  std::unique_ptr<DockerdInstance> dockerd_;
  std::string state_dir_;
};

std::string GcOnDocker::archives_;
std::map<std::string, std::string> GcOnDocker::built_;

std::set<std::string> removed_names(const json& report, const std::string& kind) {
  std::set<std::string> out;
  for (const auto& r : report["removed"])
    if (r["kind"] == kind) out.insert(r["name"].get<std::string>());
  return out;
}

TEST_F(GcOnDocker, ExitedContainersGoAndTheirImagesAreCandidatesInTheSameRun) {
  boot();
  images({"reg.test/running:1", "reg.test/created:1", "reg.test/exited:1", "reg.test/unused:1"});
  const auto run_id = running("reg.test/running:1", "web");
  const auto created_id = created("reg.test/created:1", "init");
  const auto exited_id = exited("reg.test/exited:1", "job");

  // Younger than containers.minAge: the exited container and so its image stay.
  configure("", "", "{removeExited: true, minAge: 1h}");
  auto young = gc_json({"--max-images", "1"});
  EXPECT_EQ(young["counts"]["containersRemoved"], 0) << young.dump(2);
  EXPECT_EQ(removed_names(young, "image"), (std::set<std::string>{"reg.test/unused:1"})) << young.dump(2);
  EXPECT_EQ(dockerd_->container_status(exited_id), "exited");

  // Older than containers.minAge 0s: the container goes, then its image in the same run.
  configure("");
  auto report = gc_json({"--max-images", "1"});
  EXPECT_EQ(report["counts"]["containersRemoved"], 1) << report.dump(2);
  EXPECT_EQ(report["counts"]["sandboxesRemoved"], 0);
  EXPECT_EQ(removed_names(report, "image"), (std::set<std::string>{"reg.test/exited:1"})) << report.dump(2);
  EXPECT_TRUE(report["failures"].empty()) << report.dump(2);
  EXPECT_FALSE(report["shortfalls"].empty()) << "two images in use remain above maxImages 1";
  EXPECT_EQ(tags(), (std::set<std::string>{"reg.test/running:1", "reg.test/created:1"}));
  EXPECT_EQ(dockerd_->container_status(exited_id), "");
  // The other containers are untouched.
  EXPECT_EQ(dockerd_->container_status(run_id), "running");
  EXPECT_EQ(dockerd_->container_status(created_id), "created");
}

TEST_F(GcOnDocker, ImagesOfRunningCreatedAndKeptExitedContainersSurvive) {
  boot();
  images({"reg.test/running:1", "reg.test/created:1", "reg.test/exited:1", "reg.test/unused:1"});
  const auto run_id = running("reg.test/running:1", "web");
  const auto created_id = created("reg.test/created:1", "init");
  const auto exited_id = exited("reg.test/exited:1", "job");
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
  EXPECT_EQ(dockerd_->container_status(run_id), "running");
  EXPECT_EQ(dockerd_->container_status(created_id), "created");
  EXPECT_EQ(dockerd_->container_status(exited_id), "exited");
}

TEST_F(GcOnDocker, MaxImagesReachesItsCount) {
  boot();
  std::vector<std::string> specs;
  for (int i = 0; i < 12; ++i) specs.push_back("reg.test/many:" + std::to_string(i));
  images(specs);
  ASSERT_EQ(engine_images().size(), 12u);
  auto report = gc_json({"--max-images", "5"});
  EXPECT_EQ(engine_images().size(), 5u);
  EXPECT_EQ(report["imagesBefore"], 12);
  EXPECT_EQ(report["imagesAfter"], 5);
  EXPECT_EQ(count_removed(report, "image"), 7u);
  EXPECT_TRUE(report["shortfalls"].empty()) << report.dump(2);
  EXPECT_TRUE(report["failures"].empty()) << report.dump(2);
}

TEST_F(GcOnDocker, KeepRulesAndKeepNewestHold) {
  boot();
  images({"reg.test/app:1", "reg.test/app:2", "reg.test/app:3", "reg.test/tool:1", "reg.test/tool:2", "other.test/x:1"});
  configure("  keep: [\"reg.test/app:2\", \"regex:^other\\\\.test/.*\"]\n  keepNewest: {reg.test/tool: 1}\n");
  auto report = gc_json({"--max-images", "1"});
  const auto left = tags();
  EXPECT_TRUE(left.contains("reg.test/app:2"));
  EXPECT_TRUE(left.contains("other.test/x:1"));
  EXPECT_FALSE(left.contains("reg.test/app:1"));
  EXPECT_FALSE(left.contains("reg.test/app:3"));
  // Exactly one of the tool images (the most recently used) is kept.
  EXPECT_EQ(left.contains("reg.test/tool:1") + left.contains("reg.test/tool:2"), 1) << report.dump(2);
  EXPECT_EQ(engine_images().size(), 3u);
  EXPECT_FALSE(report["shortfalls"].empty()) << report.dump(2);
}

TEST_F(GcOnDocker, AMultiTagImageGoesEntirelyWithoutForce) {
  boot();
  images({"reg.test/multi:1", "reg.test/stay:1"});
  const std::string id = dockerd_->image_id("reg.test/multi:1");
  ASSERT_FALSE(id.empty());
  dockerd_->tag(id, "reg.test/multi", "2");
  dockerd_->tag(id, "other.test/multi", "latest");
  // Docker itself refuses to delete it by id without force.
  ASSERT_EQ(dockerd_->request("DELETE", "/images/" + id).first, 409);
  configure("  keep: [\"reg.test/stay:*\"]\n");
  auto report = gc_json({"--max-images", "1"});
  ASSERT_EQ(count_removed(report, "image"), 1u) << report.dump(2);
  EXPECT_EQ(report["removed"][0]["id"], id);
  EXPECT_TRUE(report["failures"].empty()) << report.dump(2);
  EXPECT_TRUE(report["skipped"].empty()) << report.dump(2);
  EXPECT_EQ(dockerd_->image_id(id), "");
  for (const auto* t : {"reg.test/multi:1", "reg.test/multi:2", "other.test/multi:latest"})
    EXPECT_EQ(dockerd_->image_id(t), "") << t;
  EXPECT_EQ(tags(), (std::set<std::string>{"reg.test/stay:1"}));
  EXPECT_EQ(report["imagesAfter"], 1);
}

TEST_F(GcOnDocker, ThresholdsFreeDownToLowOnARealFilesystem) {
  DockerdInstance::Options options;
  options.fs_size = "160M";
  boot(options);
  std::vector<std::string> specs;
  for (int i = 0; i < 8; ++i) specs.push_back("reg.test/big:" + std::to_string(i) + "=6MiB");
  images(specs);
  // Start just below the current usage and ask for about three images' worth back.
  auto probe = json::parse(nodeimg({"images", "--json"}).out);
  const double used = probe["filesystem"]["usage"]["usedPercent"];
  std::fprintf(stderr, "storage driver %s: 8 images of 6 MiB fill %.1f%% of 160M\n", dockerd_->storage_driver().c_str(), used);
  ASSERT_GT(used, 30.0) << "the images should fill the small filesystem";
  EXPECT_EQ(probe["filesystem"]["mountpoint"], dockerd_->data_root());
  // Sizes are what removing an image frees: the busybox layer (about 2 MB) every image
  // shares is not counted in each (Docker's own Size counts it, and then too few removals
  // were planned to reach low).
  for (const auto& i : probe["images"]) {
    EXPECT_GE(i["size"].get<std::uint64_t>(), 6u << 20) << i.dump();
    EXPECT_LT(i["size"].get<std::uint64_t>(), (6u << 20) + (512u << 10)) << i.dump();
  }
  const int high = static_cast<int>(used) - 2;
  const int low = high - 18;
  auto report = gc_json({"--high", std::to_string(high) + "%", "--low", std::to_string(low) + "%", "--concurrency", "1"});
  const double after = report["filesystem"]["after"]["usedPercent"];
  EXPECT_LE(after, low) << report.dump(2);
  EXPECT_GT(report["bytesFreed"].get<std::uint64_t>(), 0u);
  const auto removed = count_removed(report, "image");
  EXPECT_GT(removed, 0u);
  EXPECT_LT(removed, 8u) << "it must free down to low, not everything";
  EXPECT_EQ(engine_images().size(), 8u - removed);
  EXPECT_TRUE(report["plan"]["overHigh"]);
  EXPECT_TRUE(report["failures"].empty()) << report.dump(2);
  // Below high now: the next run does nothing.
  auto again = gc_json({"--high", std::to_string(high) + "%", "--low", std::to_string(low) + "%"});
  EXPECT_EQ(count_removed(again, "image"), 0u) << again.dump(2);
}

TEST_F(GcOnDocker, HistoryPersistsAcrossRunsAndDrivesLruOrder) {
  boot();
  images({"reg.test/lru:old", "reg.test/lru:mid", "reg.test/lru:new"});
  gc_json();  // below high: removes nothing, records first seen
  auto first = json::parse(state());
  ASSERT_EQ(first["version"], 2);
  ASSERT_EQ(first["images"].size(), 3u);
  gc_json();
  auto second = json::parse(state());
  for (auto& [id, h] : first["images"].items()) EXPECT_EQ(second["images"][id]["firstSeen"], h["firstSeen"]) << id;

  // Rewrite the history as if the images had last been used 3, 2 and 1 days ago. The ids
  // are chosen so that the LRU order is neither the id order nor the tag order.
  std::map<std::string, std::string> id_of;
  for (const auto* t : {"reg.test/lru:old", "reg.test/lru:mid", "reg.test/lru:new"}) {
    id_of[t] = dockerd_->image_id(t);
    ASSERT_TRUE(second["images"].contains(id_of[t])) << t << " " << second.dump(2);
  }
  const long long now = second["updatedAt"];
  second["images"][id_of["reg.test/lru:old"]]["lastUsed"] = now - 3 * 86400;
  second["images"][id_of["reg.test/lru:mid"]]["lastUsed"] = now - 2 * 86400;
  second["images"][id_of["reg.test/lru:new"]]["lastUsed"] = now - 1 * 86400;
  std::ofstream(root_ / "var/lib/nodeimg/state.json", std::ios::trunc) << second.dump();

  auto report = gc_json({"--max-images", "1", "--concurrency", "1"});
  ASSERT_EQ(count_removed(report, "image"), 2u) << report.dump(2);
  EXPECT_EQ(report["removed"][0]["name"], "reg.test/lru:old");
  EXPECT_EQ(report["removed"][1]["name"], "reg.test/lru:mid");
  EXPECT_EQ(tags(), (std::set<std::string>{"reg.test/lru:new"}));
  // Removed images are forgotten; the survivor keeps its rewritten history.
  auto third = json::parse(state());
  ASSERT_EQ(third["images"].size(), 1u) << third.dump(2);
  EXPECT_EQ(third["images"][id_of["reg.test/lru:new"]]["lastUsed"], now - 86400);
}

TEST_F(GcOnDocker, DryRunChangesNothingAndWritesNoHistory) {
  boot();
  images({"reg.test/a:1", "reg.test/b:1"});
  const auto job = exited("reg.test/a:1", "job");
  // Only a:1 can go, and only because its exited container goes in the same run.
  configure("  keep: [\"reg.test/b:1\"]\n");
  const auto before = tags();
  auto r = nodeimg({"gc", "--dry-run", "--max-images", "1"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("would remove"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("reg.test/a:1"), std::string::npos) << "the exited container's image is a candidate: " << r.out;
  EXPECT_EQ(tags(), before);
  EXPECT_EQ(dockerd_->container_status(job), "exited");
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
  EXPECT_NE(j["runtime"].get<std::string>().find(dockerd_->endpoint()), std::string::npos) << j["runtime"];
  ASSERT_EQ(j["images"].size(), 3u) << j.dump(2);
  std::map<std::string, json> by_tag;
  for (const auto& i : j["images"]) by_tag[i["tags"][0]] = i;
  EXPECT_EQ(by_tag["reg.test/shown:1"]["inUseBy"], json::array({"web (running)"})) << j.dump(2);
  EXPECT_EQ(by_tag["reg.test/shown:1"]["nextGc"], "keep");
  EXPECT_NE(by_tag["reg.test/shown:1"]["reason"].get<std::string>().find("in use by container web"), std::string::npos);
  EXPECT_TRUE(by_tag["reg.test/shown:2"]["inUseBy"].empty());
  EXPECT_EQ(by_tag["reg.test/shown:2"]["nextGc"], "keep");
  EXPECT_NE(by_tag["reg.test/shown:2"]["reason"].get<std::string>().find("keep"), std::string::npos);
  EXPECT_EQ(by_tag["reg.test/shown:3"]["nextGc"], "remove");
  EXPECT_NE(by_tag["reg.test/shown:3"]["reason"].get<std::string>().find("maxImages"), std::string::npos);
  EXPECT_EQ(j["images"][0]["tags"][0], "reg.test/shown:3") << "removals come first";
  EXPECT_GT(by_tag["reg.test/shown:3"]["size"].get<std::uint64_t>(), 0u);
  auto csv = nodeimg({"images", "--csv"});
  EXPECT_EQ(csv.exit_code, 0);
  EXPECT_EQ(std::count(csv.out.begin(), csv.out.end(), '\n'), 4);
  EXPECT_EQ(engine_images().size(), 3u);
  EXPECT_FALSE(fs::exists(root_ / "var/lib/nodeimg/state.json")) << "images is read-only";
}

TEST_F(GcOnDocker, PrepullPullsFromALocalRegistryAndProtectsTheImage) {
  if (::access((std::string(NODEIMG_HARNESS_DIR) + "/registry").c_str(), X_OK) != 0 ||
      ::access("/usr/bin/skopeo", X_OK) != 0 || ::access("/usr/bin/docker-registry", X_OK) != 0)
    GTEST_SKIP() << "no registry harness, skopeo or docker-registry";
  boot();
  images({"reg.test/filler:1"});
  auto registry = LocalRegistry::start();
  const std::string oci = (root_ / "one.tar").string();
  make_oci_single("reg.test/served:1", oci);
  const std::string ref = registry->push(oci, "served:1");
  configure("", "prepull: [\"" + ref + "\"]\n");
  auto r = nodeimg({"prepull", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto j = json::parse(r.out);
  EXPECT_EQ(j["pulled"], 1) << j.dump(2);
  EXPECT_TRUE(tags().contains(ref));
  EXPECT_EQ(j["images"][0]["id"], dockerd_->image_id(ref));
  auto again = json::parse(nodeimg({"prepull", "--json"}).out);
  EXPECT_EQ(again["present"], 1) << again.dump(2);
  EXPECT_EQ(again["pulled"], 0);
  auto report = gc_json({"--max-images", "1"});
  EXPECT_TRUE(tags().contains(ref));
  EXPECT_FALSE(tags().contains("reg.test/filler:1"));
  bool protected_by_prepull = false;
  for (const auto& k : report["kept"])
    if (k["name"] == ref) protected_by_prepull = k["reason"].get<std::string>().find("prepull") != std::string::npos;
  EXPECT_TRUE(protected_by_prepull) << report.dump(2);
  EXPECT_EQ(registry->stop(), 0);
}

TEST_F(GcOnDocker, AStoppedDockerdIsExitOneAndLeavesTheStateAlone) {
  boot();
  images({"reg.test/a:1"});
  gc_json();
  const std::string recorded = state();
  ASSERT_FALSE(recorded.empty());
  const std::string endpoint = dockerd_->endpoint();
  ASSERT_EQ(dockerd_->stop(), 0);
  dockerd_.reset();
  for (const std::vector<std::string>& args : {std::vector<std::string>{"gc"}, {"gc", "--json"}, {"images"}}) {
    auto r = nodeimg(args);
    EXPECT_EQ(r.exit_code, 1) << args.back() << ": " << r.err;
    EXPECT_NE(r.err.find(endpoint), std::string::npos) << r.err;
  }
  EXPECT_EQ(state(), recorded);

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
  auto r = nodeimg({"gc"});
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find(endpoint), std::string::npos) << r.err;
  EXPECT_EQ(state(), recorded);
  fs::remove_all(state_dir_);
}

}  // namespace
}  // namespace nodeimg::testing
