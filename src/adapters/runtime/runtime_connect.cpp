#include "adapters/runtime/runtime_connect.hpp"

#include <sys/stat.h>

#include <chrono>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "adapters/runtime/cri_runtime.hpp"
#include "adapters/runtime/docker_runtime.hpp"
#include "core/common/duration.hpp"
#include "core/common/paths.hpp"

namespace nodeimg {

namespace {

using Kind = RuntimeConfig::Kind;

std::string socket_path(const std::string& endpoint) { return endpoint.substr(std::string_view("unix://").size()); }

Result<std::unique_ptr<ImageRuntime>> connect_protocol(Kind kind, const std::string& endpoint,
                                                       std::chrono::milliseconds timeout) {
  if (kind == Kind::Docker) {
    auto d = DockerRuntime::connect(endpoint, timeout);
    if (!d) return std::unexpected(d.error());
    return std::unique_ptr<ImageRuntime>(std::move(*d));
  }
  auto c = CriRuntime::connect(endpoint, timeout);
  if (!c) return std::unexpected(c.error());
  return std::unique_ptr<ImageRuntime>(std::move(*c));
}

// Connects and, when the runtime took the whole of runtime.timeout without answering (it
// accepted the connection and hung), says so: which setting bounded the wait and what to do.
Result<std::unique_ptr<ImageRuntime>> connect_one(Kind kind, const std::string& endpoint, const RuntimeConfig& config) {
  const auto timeout = std::chrono::duration_cast<std::chrono::milliseconds>(config.timeout);
  const auto started = std::chrono::steady_clock::now();
  auto runtime = connect_protocol(kind, endpoint, timeout);
  if (runtime || std::chrono::steady_clock::now() - started < timeout) return runtime;
  return fail(fmt::format("{}: the runtime accepted the connection but did not answer within runtime.timeout ({}); it "
                          "may be hung or overloaded: check it (systemctl status, its log), or raise runtime.timeout",
                          runtime.error().message, format_duration(config.timeout)));
}

// An explicit endpoint must name a socket: a regular file or a directory there is a
// mistake in runtime.endpoint, said as such rather than as a refused connection.
Result<void> check_socket(const std::string& endpoint) {
  const std::string path = socket_path(endpoint);
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0)
    return fail(fmt::format("connect to the container runtime at {}: no such socket (is the runtime running? check "
                            "runtime.endpoint)",
                            endpoint));
  if (S_ISSOCK(st.st_mode)) return {};
  const char* what = S_ISREG(st.st_mode) ? "a regular file" : S_ISDIR(st.st_mode) ? "a directory" : "not a socket";
  return fail(fmt::format("connect to the container runtime at {}: {} is {}, not a unix socket; set runtime.endpoint to "
                          "the runtime's socket (e.g. unix:///run/containerd/containerd.sock), or to auto",
                          endpoint, path, what));
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
  if (config.endpoint != "auto") {
    Kind kind = config.kind;
    if (kind == Kind::Auto) kind = config.endpoint.ends_with("docker.sock") ? Kind::Docker : Kind::Cri;
    // An explicit endpoint is a host path, used as given (like an explicit --config).
    const std::string& endpoint = config.endpoint;
    if (auto ok = check_socket(endpoint); !ok) return std::unexpected(ok.error());
    return connect_one(kind, endpoint, config);
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
    auto runtime = connect_one(candidate.kind, endpoint, config);
    if (runtime) return runtime;
    tried.push_back(fmt::format("{} ({})", endpoint, runtime.error().message));
  }
  return fail(fmt::format("no container runtime found: tried {}; start the runtime or set runtime.endpoint",
                          fmt::join(tried, ", ")));
}

}  // namespace nodeimg
