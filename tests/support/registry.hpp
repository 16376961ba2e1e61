#pragma once
// A throwaway local image registry (Debian's docker-registry) on 127.0.0.1 and a free port,
// run by tests/harness/registry; pushes go through skopeo.
#include <memory>
#include <string>

namespace nodeimg::testing {

class LocalRegistry {
 public:
  // state_dir empty: a fresh /tmp/nodeimg-registry-XXXXXX (removed on a clean stop).
  static std::unique_ptr<LocalRegistry> start(const std::string& state_dir = "");
  ~LocalRegistry();  // stops, if stop() was not called
  LocalRegistry(const LocalRegistry&) = delete;
  LocalRegistry& operator=(const LocalRegistry&) = delete;

  int port() const { return port_; }
  std::string host() const { return "127.0.0.1:" + std::to_string(port_); }
  // Pushes a one-image OCI archive (make_oci_single) as REPO:TAG; returns "127.0.0.1:PORT/REPO:TAG".
  std::string push(const std::string& oci_tar, const std::string& repo_tag) const;
  int stop();  // the harness's exit code; idempotent
  const std::string& state_dir() const { return state_dir_; }

 private:
  LocalRegistry() = default;
  std::string state_dir_;
  int port_ = 0;
  bool own_dir_ = false;
  bool stopped_ = false;
};

}  // namespace nodeimg::testing
