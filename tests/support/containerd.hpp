#pragma once
// A real, throwaway containerd (with CRI) booted by tests/harness/containerd: its image
// filesystem is a dedicated tmpfs of the requested size, everything else lives under a
// temporary state directory, and stop() removes every process, mount, cgroup and shim socket
// it made (see the script). Also builds image archives with tests/harness/make-images.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "support/process.hpp"

namespace nodeimg::testing {

struct ContainerdOptions {
  std::string fs_size = "256M";                       // tmpfs size of the image filesystem
  std::optional<std::uint64_t> fs_inodes;             // tmpfs nr_inodes (default: tmpfs's)
  std::string sandbox_image = "registry.k8s.io/pause:3.6";
  std::string state_dir;                              // empty: a fresh /tmp/nodeimg-containerd-XXXXXX
};

class ContainerdInstance {
 public:
  // Starts containerd and waits until it answers; throws std::runtime_error on failure
  // (after the harness has cleaned up what it started).
  static std::unique_ptr<ContainerdInstance> boot(const ContainerdOptions& options = {});
  ~ContainerdInstance();  // stops, if stop() was not called
  ContainerdInstance(const ContainerdInstance&) = delete;
  ContainerdInstance& operator=(const ContainerdInstance&) = delete;

  // Stops it; returns the harness's exit code (0: everything cleaned up). Idempotent. On 0
  // the state directory is removed too (only when it was created by boot()).
  int stop();

  const std::string& state_dir() const { return state_dir_; }
  const std::string& socket_path() const { return socket_; }
  std::string endpoint() const { return "unix://" + socket_; }  // for gRPC / CRI clients
  // Host path of the image filesystem (the snapshotter directory on the tmpfs); statvfs it.
  std::string image_fs_path() const;
  std::string snapshotter() const;
  int pid() const;

  // Imports an archive (ctr images import), then waits until CRI ListImages shows every
  // image named in its index.json. Throws on failure or timeout.
  void import(const std::string& tar, std::chrono::milliseconds timeout = std::chrono::seconds(60)) const;
  // ctr --address SOCK -n k8s.io ARGS...
  ProcessResult ctr(const std::vector<std::string>& args) const;
  // PIDs of live containerd shims serving this instance.
  std::vector<int> shim_pids() const;

 private:
  ContainerdInstance() = default;
  std::string state_dir_;
  std::string socket_;
  bool own_dir_ = false;
  bool stopped_ = false;
};

// tests/harness/make-images: one archive (OCI layout + docker manifest.json) with every
// image; specs are "REF" or "REF=SIZE" (e.g. "example.com/a:1=4MiB"). Throws on failure.
void make_images(const std::string& out_tar, const std::vector<std::string>& specs, bool with_pause = false);
// One image, OCI layout only, for registry pushes (skopeo oci-archive:).
void make_oci_single(const std::string& spec, const std::string& out_tar);
// Image names (io.containerd.image.name) in an archive's index.json.
std::vector<std::string> archive_image_names(const std::string& tar);

}  // namespace nodeimg::testing
