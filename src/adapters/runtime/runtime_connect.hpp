#pragma once
// Finds and connects the node's container runtime from `runtime:` in the configuration.
#include <memory>

#include "adapters/runtime/image_runtime.hpp"
#include "core/config/app_config.hpp"

namespace nodeimg {

struct RuntimeCandidate {
  RuntimeConfig::Kind kind;
  std::string endpoint;  // unix:///path
};

// The sockets `endpoint: auto` probes, in order: containerd, k3s, CRI-O, cri-dockerd, Docker.
const std::vector<RuntimeCandidate>& well_known_runtimes();

// `root` is --root: the well-known sockets are looked up under it. An explicit endpoint
// is a host path, used as given; with kind auto its protocol is guessed from its name (docker.sock: Docker, else
// CRI). With endpoint auto, the first well-known socket that exists and answers wins. The
// error lists every endpoint tried and why it was not used.
Result<std::unique_ptr<ImageRuntime>> connect_runtime(const RuntimeConfig& config, const std::string& root);

}  // namespace nodeimg
