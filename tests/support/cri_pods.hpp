#pragma once
// Real pods and containers in every state through CRI, for the integration tests: host
// network sandboxes (no CNI needed) whose containers are created, running or exited by the
// runtime's own lifecycle. Throws std::runtime_error on any RPC failure.
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "cri/runtime.grpc.pb.h"

namespace nodeimg::testing {

class CriPods {
 public:
  // endpoint: "unix:///path/to/containerd.sock"
  explicit CriPods(const std::string& endpoint);

  // A ready sandbox in the host network namespace; returns its id.
  std::string run_sandbox(const std::string& name, const std::map<std::string, std::string>& labels = {});
  std::string create_container(const std::string& sandbox_id, const std::string& name, const std::string& image_ref,
                               const std::vector<std::string>& command);
  void start_container(const std::string& id);
  void stop_container(const std::string& id, std::int64_t timeout_seconds = 0);
  void stop_sandbox(const std::string& id);  // the sandbox becomes SANDBOX_NOTREADY

  // Containers in a given state (command defaults: sleep 3600 / true).
  std::string make_created(const std::string& sandbox_id, const std::string& name, const std::string& image_ref);
  std::string make_running(const std::string& sandbox_id, const std::string& name, const std::string& image_ref);
  // Starts a command that exits at once and waits until CRI reports CONTAINER_EXITED.
  std::string make_exited(const std::string& sandbox_id, const std::string& name, const std::string& image_ref,
                          std::chrono::milliseconds timeout = std::chrono::seconds(20));

  runtime::v1::ContainerState container_state(const std::string& id);
  runtime::v1::PodSandboxState sandbox_state(const std::string& id);
  std::vector<runtime::v1::Container> containers();
  std::vector<runtime::v1::PodSandbox> sandboxes();
  std::vector<runtime::v1::Image> images();
  std::string pull(const std::string& image_ref);  // returns the image_ref CRI reports

  runtime::v1::RuntimeService::Stub& runtime_service() { return *runtime_; }
  runtime::v1::ImageService::Stub& image_service() { return *images_; }

 private:
  std::unique_ptr<runtime::v1::RuntimeService::Stub> runtime_;
  std::unique_ptr<runtime::v1::ImageService::Stub> images_;
  std::map<std::string, runtime::v1::PodSandboxConfig> sandbox_configs_;
  unsigned serial_ = 0;
};

}  // namespace nodeimg::testing
