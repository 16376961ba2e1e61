#pragma once
// ImageRuntime over the Kubernetes CRI (runtime.v1, gRPC on a unix socket): containerd,
// CRI-O, cri-dockerd. Uses nodeimg's own wire-compatible proto subset (src/cri).
#include <chrono>
#include <memory>

#include "adapters/image_runtime.hpp"

namespace nodeimg {

class CriRuntime final : public ImageRuntime {
 public:
  // Connects to `endpoint` ("unix:///run/containerd/containerd.sock") and asks the runtime
  // its version; every later call has `timeout` as its deadline.
  static Result<std::unique_ptr<CriRuntime>> connect(const std::string& endpoint, std::chrono::milliseconds timeout);
  ~CriRuntime() override;

  const RuntimeInfo& info() const override;
  Result<std::vector<gc::Image>> list_images() override;
  Result<std::vector<gc::Container>> list_containers() override;
  Result<std::vector<gc::Sandbox>> list_sandboxes() override;
  Result<std::vector<std::string>> sandbox_images() override;
  Result<std::string> image_filesystem() override;
  Result<Outcome> remove_container(const std::string& id) override;
  Result<Outcome> remove_sandbox(const std::string& id) override;
  Result<Outcome> remove_image(const gc::Image& image) override;
  Result<std::string> pull_image(const std::string& reference) override;

  struct Impl;

 private:
  explicit CriRuntime(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace nodeimg
