// Proves the containerd/registry harness itself: a real containerd with CRI on a small
// tmpfs, generated images, real pods and containers in every state, a local registry that
// CRI pulls from, and a clean stop that leaves nothing running or mounted.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/statvfs.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>

#include "support/containerd.hpp"
#include "support/cri_pods.hpp"
#include "support/registry.hpp"

namespace nt = nodeimg::testing;
namespace v1 = runtime::v1;
using namespace std::chrono;

namespace {

std::string temp_dir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "nodeimg-harness-test-XXXXXX").string();
  if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp");
  return tmpl;
}

bool mounted_under(const std::string& dir) {
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.find(" " + dir + "/") != std::string::npos || line.find(" " + dir + " ") != std::string::npos) return true;
  }
  return false;
}

std::set<std::string> all_tags(nt::CriPods& cri) {
  std::set<std::string> tags;
  for (const auto& image : cri.images()) tags.insert(image.repo_tags().begin(), image.repo_tags().end());
  return tags;
}

struct RemoveOnExit {
  std::string dir;
  ~RemoveOnExit() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};

long ms_since(steady_clock::time_point t) { return static_cast<long>(duration_cast<milliseconds>(steady_clock::now() - t).count()); }

}  // namespace

TEST(ContainerdHarness, RealPodsImagesRegistryAndCleanStop) {
  const std::string work = temp_dir();
  RemoveOnExit remove_work{work};
  const std::string images_tar = work + "/images.tar";
  nt::make_images(images_tar,
                  {"docker.io/library/busybox:1.36", "example.com/nodeimg/app:v1=1MiB", "example.com/nodeimg/app:v2",
                   "example.com/nodeimg/unused:v1=512KiB"},
                  /*with_pause=*/true);

  auto t0 = steady_clock::now();
  nt::ContainerdOptions options;
  options.fs_size = "256M";
  options.fs_inodes = 65536;
  auto ctrd = nt::ContainerdInstance::boot(options);
  std::printf("boot: %ld ms\n", ms_since(t0));
  const std::string state = ctrd->state_dir();
  ASSERT_TRUE(mounted_under(state));

  t0 = steady_clock::now();
  ctrd->import(images_tar);
  std::printf("import of 5 images: %ld ms\n", ms_since(t0));

  nt::CriPods cri(ctrd->endpoint());
  auto tags = all_tags(cri);
  for (const char* ref : {"registry.k8s.io/pause:3.6", "docker.io/library/busybox:1.36", "example.com/nodeimg/app:v1",
                          "example.com/nodeimg/app:v2", "example.com/nodeimg/unused:v1"}) {
    EXPECT_TRUE(tags.contains(ref)) << ref;
  }

  // The image filesystem is the small tmpfs: statvfs reports its real size.
  struct statvfs sv {};
  ASSERT_EQ(::statvfs(ctrd->image_fs_path().c_str(), &sv), 0) << ctrd->image_fs_path();
  const double total = static_cast<double>(sv.f_blocks) * static_cast<double>(sv.f_frsize);
  EXPECT_NEAR(total, 256.0 * 1024 * 1024, 1024.0 * 1024);
  EXPECT_EQ(sv.f_files, 65536u);

  // Pods and containers in every state.
  t0 = steady_clock::now();
  const auto pod = cri.run_sandbox("harness-pod");
  const auto running = cri.make_running(pod, "running", "example.com/nodeimg/app:v1");
  const auto exited = cri.make_exited(pod, "exited", "example.com/nodeimg/app:v2");
  const auto created = cri.make_created(pod, "created", "docker.io/library/busybox:1.36");
  const auto stopped_pod = cri.run_sandbox("harness-stopped-pod");
  const auto in_stopped = cri.make_running(stopped_pod, "was-running", "docker.io/library/busybox:1.36");
  cri.stop_sandbox(stopped_pod);
  std::printf("pods and containers: %ld ms\n", ms_since(t0));

  std::map<std::string, v1::ContainerState> states;
  for (const auto& c : cri.containers()) states[c.id()] = c.state();
  EXPECT_EQ(states.at(running), v1::CONTAINER_RUNNING);
  EXPECT_EQ(states.at(exited), v1::CONTAINER_EXITED);
  EXPECT_EQ(states.at(created), v1::CONTAINER_CREATED);
  EXPECT_EQ(states.at(in_stopped), v1::CONTAINER_EXITED);  // StopPodSandbox stops its containers
  std::map<std::string, v1::PodSandboxState> pods;
  for (const auto& s : cri.sandboxes()) pods[s.id()] = s.state();
  EXPECT_EQ(pods.at(pod), v1::SANDBOX_READY);
  EXPECT_EQ(pods.at(stopped_pod), v1::SANDBOX_NOTREADY);

  // A local registry, and CRI pulls from it.
  auto registry = nt::LocalRegistry::start();
  const std::string single = work + "/pushed.tar";
  nt::make_oci_single("example.com/nodeimg/pushed:v1=64KiB", single);
  const auto pushed = registry->push(single, "nodeimg/pushed:v1");
  EXPECT_EQ(pushed, registry->host() + "/nodeimg/pushed:v1");
  t0 = steady_clock::now();
  const auto ref = cri.pull(pushed);
  std::printf("pull: %ld ms\n", ms_since(t0));
  EXPECT_FALSE(ref.empty());
  EXPECT_TRUE(all_tags(cri).contains(pushed));
  EXPECT_EQ(registry->stop(), 0);

  // Clean stop: nothing of ours survives.
  const auto shims = ctrd->shim_pids();
  EXPECT_FALSE(shims.empty());
  const int containerd_pid = ctrd->pid();
  t0 = steady_clock::now();
  EXPECT_EQ(ctrd->stop(), 0);
  std::printf("stop: %ld ms\n", ms_since(t0));
  EXPECT_NE(::kill(containerd_pid, 0), 0);
  for (int pid : shims) EXPECT_NE(::kill(pid, 0), 0) << "shim " << pid << " survived";
  EXPECT_TRUE(ctrd->shim_pids().empty());
  EXPECT_FALSE(mounted_under(state));
  EXPECT_FALSE(std::filesystem::exists(state));  // removed after a clean stop
}

TEST(ContainerdHarness, StopIsIdempotentAndSafeWithoutStart) {
  const std::string dir = temp_dir();
  const std::string script = std::string(NODEIMG_HARNESS_DIR) + "/containerd";
  EXPECT_EQ(nt::run({script, "stop", dir}).exit_code, 0);
  EXPECT_EQ(nt::run({script, "stop", dir + "/never-created"}).exit_code, 0);
  EXPECT_EQ(nt::run({std::string(NODEIMG_HARNESS_DIR) + "/registry", "stop", dir}).exit_code, 0);
  std::filesystem::remove_all(dir);
}
