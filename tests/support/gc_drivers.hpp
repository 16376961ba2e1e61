#pragma once
// The container runtimes as the shared GC scenarios drive them (tests/integration/
// gc_runtimes_test.cpp runs every scenario over each driver; what only one runtime has stays in
// gc_containerd_test.cpp and gc_docker_test.cpp). A driver boots a throwaway daemon, loads
// images into it, names the runtime: block of nodeimg's configuration, and reports what the
// runtime shows, independently of nodeimg's own adapters.
#include <cstddef>
#include <filesystem>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/containerd.hpp"
#include "support/cri_pods.hpp"
#include "support/dockerd.hpp"
#include "support/files.hpp"
#include "support/gc_fixture.hpp"

namespace nodeimg::testing {

// containerd with CRI; its pause image is always present (and always protected).
class ContainerdDriver {
 public:
  static constexpr const char* kName = "containerd";
  static constexpr const char* kPause = "registry.k8s.io/pause:3.6";

  // `fs_size`: the image filesystem's size ("" for the harness's default).
  void boot(const std::string& fs_size = "") {
    ContainerdOptions options;
    if (!fs_size.empty()) options.fs_size = fs_size;
    boot(options);
  }
  void boot(const ContainerdOptions& options) {
    daemon_ = ContainerdInstance::boot(options);
    pods_ = std::make_unique<CriPods>(daemon_->endpoint());
  }
  int stop() {
    pods_.reset();
    return daemon_ ? daemon_->stop() : 0;
  }
  // Images (plus the pause image) built and imported in one archive under `scratch`.
  void load(const std::filesystem::path& scratch, const std::vector<std::string>& specs) {
    const std::string tar = (scratch / "images.tar").string();
    make_images(tar, specs, /*with_pause=*/true);
    daemon_->import(tar);
    std::filesystem::remove(tar);
  }
  std::string runtime_config() const { return "  endpoint: " + daemon_->endpoint() + "\n"; }
  std::string endpoint() const { return daemon_->endpoint(); }
  std::string state_dir() const { return daemon_->state_dir(); }
  // The images the runtime itself keeps whatever the policy.
  std::set<std::string> always_kept() const { return {kPause}; }

  std::set<std::string> tags() const {
    std::set<std::string> out;
    for (const auto& i : pods_->images())
      for (const auto& t : i.repo_tags()) out.insert(t);
    return out;
  }
  std::size_t image_count() const { return pods_->images().size(); }
  std::string image_id(const std::string& tag) const {
    for (const auto& i : pods_->images())
      for (const auto& t : i.repo_tags())
        if (t == tag) return i.id();
    return "";
  }

  ContainerdInstance& daemon() { return *daemon_; }
  CriPods& pods() { return *pods_; }

 private:
  std::unique_ptr<ContainerdInstance> daemon_;
  std::unique_ptr<CriPods> pods_;
};

// dockerd through the Engine API. Image archives are built once per process and reused by
// every test that asks for the same images (make-images writes the same bytes anyway).
class DockerDriver {
 public:
  static constexpr const char* kName = "docker";

  void boot(const std::string& fs_size = "") {
    DockerdInstance::Options options;
    options.fs_size = fs_size.empty() ? "96M" : fs_size;
    daemon_ = DockerdInstance::boot(options);
    state_dir_ = daemon_->state_dir();
  }
  int stop() { return daemon_ ? daemon_->stop() : 0; }
  void load(const std::filesystem::path&, const std::vector<std::string>& specs) {
    std::string key;
    for (const auto& s : specs) key += s + "\n";
    auto& tar = built()[key];
    if (tar.empty()) {
      tar = (archives().path() / ("images-" + std::to_string(built().size()) + ".tar")).string();
      make_images(tar, specs);
    }
    daemon_->load(tar);
  }
  std::string runtime_config() const { return "  kind: docker\n  endpoint: " + daemon_->endpoint() + "\n"; }
  std::string endpoint() const { return daemon_->endpoint(); }
  std::string state_dir() const { return state_dir_; }
  std::set<std::string> always_kept() const { return {}; }

  nlohmann::json engine_images() const { return nlohmann::json::parse(daemon_->api("GET", "/images/json")); }
  std::set<std::string> tags() const {
    std::set<std::string> out;
    for (const auto& i : engine_images())
      if (i["RepoTags"].is_array())
        for (const auto& t : i["RepoTags"])
          if (t != "<none>:<none>") out.insert(t.get<std::string>());
    return out;
  }
  std::size_t image_count() const { return engine_images().size(); }
  std::string image_id(const std::string& tag) const { return daemon_->image_id(tag); }

  DockerdInstance& daemon() { return *daemon_; }

 private:
  static TempDir& archives() {
    static TempDir dir("nodeimg-gc-docker");
    return dir;
  }
  static std::map<std::string, std::string>& built() {
    static std::map<std::string, std::string> tars;
    return tars;
  }
  std::unique_ptr<DockerdInstance> daemon_;
  std::string state_dir_;
};

// A GC test on a node root whose runtime is a throwaway daemon of `Driver`: boot() starts
// it and writes a configuration pointing at it; TearDown() checks that stopping it left no
// process, mount or directory behind.
template <class Driver>
class GcOnDriver : public GcFixture {
 protected:
  template <class... Options>
  void boot(const Options&... options) {
    driver_.boot(options...);
    state_dir_ = driver_.state_dir();
    make_root();
    configure("");
  }
  void TearDown() override {
    EXPECT_EQ(driver_.stop(), 0) << Driver::kName << " was not cleaned up";
    if (!state_dir_.empty()) {
      EXPECT_FALSE(mounted_under(state_dir_)) << "mounts left under " << state_dir_;
      EXPECT_FALSE(std::filesystem::exists(state_dir_)) << state_dir_;
    }
    GcFixture::TearDown();
  }
  void configure(const std::string& gc_extra, const std::string& top_extra = "",
                 const std::string& containers = "{removeExited: true, minAge: 0s}") {
    write_config(driver_.runtime_config(), gc_extra, top_extra, containers);
  }
  void images(const std::vector<std::string>& specs) { driver_.load(root_, specs); }
  std::set<std::string> tags() const { return driver_.tags(); }
  // `tags` and what the runtime always keeps.
  std::set<std::string> with_kept(std::set<std::string> tags) const {
    for (const auto& t : driver_.always_kept()) tags.insert(t);
    return tags;
  }
  std::size_t kept_count() const { return driver_.always_kept().size(); }

  Driver driver_;
  std::string state_dir_;
};

}  // namespace nodeimg::testing
