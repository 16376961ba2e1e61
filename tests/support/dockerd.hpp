#pragma once
// A throwaway Docker engine (Debian's dockerd 20.10) run by tests/harness/dockerd: data root
// on its own tmpfs, exec root, socket and managed containerd under a private state
// directory; only its own PIDs are ever signalled. The Engine API helpers talk to the
// socket with curl (tests only; the code under test uses its own client).
#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace nodeimg::testing {

class DockerdInstance {
 public:
  struct Options {
    std::string fs_size = "256M";  // tmpfs size of the data root; empty: no tmpfs
    std::string storage_driver = "overlay2";  // the harness falls back to vfs
    std::string state_dir;  // empty: a fresh /tmp/nodeimg-dockerd-XXXXXX (removed on a clean stop)
  };
  static std::unique_ptr<DockerdInstance> boot(const Options& options);
  static std::unique_ptr<DockerdInstance> boot() { return boot(Options{}); }
  ~DockerdInstance();  // stops, if stop() was not called
  DockerdInstance(const DockerdInstance&) = delete;
  DockerdInstance& operator=(const DockerdInstance&) = delete;

  std::string endpoint() const { return "unix://" + socket_; }
  const std::string& socket_path() const { return socket_; }
  const std::string& state_dir() const { return state_dir_; }
  std::string data_root() const { return state_dir_ + "/data"; }
  std::string storage_driver() const;
  // Seconds the harness took to boot dockerd (until /_ping answered).
  double boot_seconds() const { return boot_seconds_; }

  // POST /images/load of a docker-archive (make_images). Throws on failure.
  void load(const std::string& tar) const;

  struct Reply {
    int status = 0;
    std::string body;
  };
  // One Engine API request (`path` without the /vX.Y prefix).
  Reply request(const std::string& method, const std::string& path,
                                      const std::string& json_body = "") const;
  // The same, throwing unless the status is 2xx.
  std::string api(const std::string& method, const std::string& path, const std::string& json_body = "") const;

  // Creates a container (network "none") running `command`; returns its id.
  std::string create_container(const std::string& image, const std::string& name,
                               const std::vector<std::string>& command) const;
  void start(const std::string& container) const;
  // Waits until the container is no longer running; returns its exit code.
  int wait_until_exited(const std::string& container,
                        std::chrono::milliseconds timeout = std::chrono::seconds(30)) const;
  // Adds the tag "repo:tag" to `image`.
  void tag(const std::string& image, const std::string& repo, const std::string& tag) const;
  // The image's id, or "" when it does not exist.
  std::string image_id(const std::string& reference) const;
  // The container's State.Status ("created", "running", "exited"), "" when it does not exist.
  std::string container_status(const std::string& container) const;

  // Stops dockerd and cleans up; returns the harness's exit code. Idempotent.
  int stop();

 private:
  DockerdInstance() = default;
  std::string state_dir_;
  std::string socket_;
  double boot_seconds_ = 0;
  bool own_dir_ = false;
  bool stopped_ = false;
};

}  // namespace nodeimg::testing
