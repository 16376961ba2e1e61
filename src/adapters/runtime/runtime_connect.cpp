#include "adapters/runtime/runtime_connect.hpp"

#include <sys/stat.h>

#include <chrono>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "adapters/runtime/cri_runtime.hpp"
#include "adapters/runtime/docker_runtime.hpp"
#include "core/common/paths.hpp"

namespace nodeimg {

namespace {

using Kind = RuntimeConfig::Kind;

std::string socket_path(const std::string& endpoint) { return endpoint.substr(std::string_view("unix://").size()); }

Result<std::unique_ptr<ImageRuntime>> connect_one(Kind kind, const std::string& endpoint, std::chrono::milliseconds timeout) {
  if (kind == Kind::Docker) {
    auto d = DockerRuntime::connect(endpoint, timeout);
    if (!d) return std::unexpected(d.error());
    return std::unique_ptr<ImageRuntime>(std::move(*d));
  }
  auto c = CriRuntime::connect(endpoint, timeout);
  if (!c) return std::unexpected(c.error());
  return std::unique_ptr<ImageRuntime>(std::move(*c));
}

}  // namespace

const std::vector<RuntimeCandidate>& well_known_runtimes() {
  static const std::vector<RuntimeCandidate> list = {
      {.kind = Kind::Cri, .endpoint = "unix:///run/containerd/containerd.sock"},
      {.kind = Kind::Cri, .endpoint = "unix:///run/k3s/containerd/containerd.sock"},
      {.kind = Kind::Cri, .endpoint = "unix:///var/run/crio/crio.sock"},
      {.kind = Kind::Cri, .endpoint = "unix:///run/cri-dockerd.sock"},
      {.kind = Kind::Docker, .endpoint = "unix:///var/run/docker.sock"},
  };
  return list;
}

Result<std::unique_ptr<ImageRuntime>> connect_runtime(const RuntimeConfig& config, const std::string& root) {
  const auto timeout = std::chrono::duration_cast<std::chrono::milliseconds>(config.timeout);
  if (config.endpoint != "auto") {
    Kind kind = config.kind;
    if (kind == Kind::Auto) kind = config.endpoint.ends_with("docker.sock") ? Kind::Docker : Kind::Cri;
    // An explicit endpoint is a host path, used as given (like an explicit --config).
    const std::string& endpoint = config.endpoint;
    struct stat st {};
    if (::stat(socket_path(endpoint).c_str(), &st) != 0)
      return fail(fmt::format("connect to the container runtime at {}: no such socket (is the runtime running? check "
                              "runtime.endpoint)",
                              endpoint));
    return connect_one(kind, endpoint, timeout);
  }
  std::vector<std::string> tried;
  for (const auto& candidate : well_known_runtimes()) {
    if (config.kind != Kind::Auto && candidate.kind != config.kind) continue;
    const std::string endpoint = "unix://" + under_root(root, socket_path(candidate.endpoint));
    struct stat st {};
    if (::stat(socket_path(endpoint).c_str(), &st) != 0 || !S_ISSOCK(st.st_mode)) {
      tried.push_back(fmt::format("{} (absent)", endpoint));
      continue;
    }
    auto runtime = connect_one(candidate.kind, endpoint, timeout);
    if (runtime) return runtime;
    tried.push_back(fmt::format("{} ({})", endpoint, runtime.error().message));
  }
  return fail(fmt::format("no container runtime found: tried {}; start the runtime or set runtime.endpoint",
                          fmt::join(tried, ", ")));
}

}  // namespace nodeimg
