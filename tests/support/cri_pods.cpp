#include "support/cri_pods.hpp"

#include <grpcpp/grpcpp.h>
#include <unistd.h>

#include <stdexcept>
#include <thread>

namespace nodeimg::testing {

namespace v1 = runtime::v1;

namespace {

constexpr auto kRpcTimeout = std::chrono::seconds(60);

void set_deadline(grpc::ClientContext& ctx) { ctx.set_deadline(std::chrono::system_clock::now() + kRpcTimeout); }

void check(const grpc::Status& status, const std::string& what) {
  if (!status.ok()) {
    throw std::runtime_error("CRI " + what + " failed: " + std::to_string(static_cast<int>(status.error_code())) +
                             " " + status.error_message());
  }
}

}  // namespace

CriPods::CriPods(const std::string& endpoint) {
  auto channel = grpc::CreateChannel(endpoint, grpc::InsecureChannelCredentials());
  runtime_ = v1::RuntimeService::NewStub(channel);
  images_ = v1::ImageService::NewStub(channel);
}

std::string CriPods::run_sandbox(const std::string& name, const std::map<std::string, std::string>& labels) {
  v1::RunPodSandboxRequest req;
  auto& config = *req.mutable_config();
  auto& meta = *config.mutable_metadata();
  meta.set_name(name);
  meta.set_namespace_("nodeimg-test");
  meta.set_uid("nodeimg-test-" + std::to_string(::getpid()) + "-" + std::to_string(++serial_) + "-" + name);
  meta.set_attempt(0);
  for (const auto& [k, v] : labels) (*config.mutable_labels())[k] = v;
  config.mutable_linux()->mutable_security_context()->mutable_namespace_options()->set_network(v1::NODE);
  v1::RunPodSandboxResponse resp;
  grpc::ClientContext ctx;
  set_deadline(ctx);
  check(runtime_->RunPodSandbox(&ctx, req, &resp), "RunPodSandbox(" + name + ")");
  sandbox_configs_[resp.pod_sandbox_id()] = config;
  return resp.pod_sandbox_id();
}

std::string CriPods::create_container(const std::string& sandbox_id, const std::string& name,
                                      const std::string& image_ref, const std::vector<std::string>& command) {
  v1::CreateContainerRequest req;
  req.set_pod_sandbox_id(sandbox_id);
  auto& config = *req.mutable_config();
  config.mutable_metadata()->set_name(name);
  config.mutable_image()->set_image(image_ref);
  for (const auto& c : command) config.add_command(c);
  if (auto it = sandbox_configs_.find(sandbox_id); it != sandbox_configs_.end()) {
    *req.mutable_sandbox_config() = it->second;
  }
  v1::CreateContainerResponse resp;
  grpc::ClientContext ctx;
  set_deadline(ctx);
  check(runtime_->CreateContainer(&ctx, req, &resp), "CreateContainer(" + name + ")");
  return resp.container_id();
}

void CriPods::start_container(const std::string& id) {
  v1::StartContainerRequest req;
  req.set_container_id(id);
  v1::StartContainerResponse resp;
  grpc::ClientContext ctx;
  set_deadline(ctx);
  check(runtime_->StartContainer(&ctx, req, &resp), "StartContainer");
}

void CriPods::stop_container(const std::string& id, std::int64_t timeout_seconds) {
  v1::StopContainerRequest req;
  req.set_container_id(id);
  req.set_timeout(timeout_seconds);
  v1::StopContainerResponse resp;
  grpc::ClientContext ctx;
  set_deadline(ctx);
  check(runtime_->StopContainer(&ctx, req, &resp), "StopContainer");
}

void CriPods::stop_sandbox(const std::string& id) {
  v1::StopPodSandboxRequest req;
  req.set_pod_sandbox_id(id);
  v1::StopPodSandboxResponse resp;
  grpc::ClientContext ctx;
  set_deadline(ctx);
  check(runtime_->StopPodSandbox(&ctx, req, &resp), "StopPodSandbox");
}

std::string CriPods::make_created(const std::string& sandbox_id, const std::string& name,
                                  const std::string& image_ref) {
  return create_container(sandbox_id, name, image_ref, {"/bin/sleep", "3600"});
}

std::string CriPods::make_running(const std::string& sandbox_id, const std::string& name,
                                  const std::string& image_ref) {
  auto id = create_container(sandbox_id, name, image_ref, {"/bin/sleep", "3600"});
  start_container(id);
  return id;
}

std::string CriPods::make_exited(const std::string& sandbox_id, const std::string& name, const std::string& image_ref,
                                 std::chrono::milliseconds timeout) {
  auto id = create_container(sandbox_id, name, image_ref, {"/bin/true"});
  start_container(id);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (container_state(id) != v1::CONTAINER_EXITED) {
    if (std::chrono::steady_clock::now() > deadline) {
      throw std::runtime_error("container " + name + " did not exit in time");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return id;
}

v1::ContainerState CriPods::container_state(const std::string& id) {
  v1::ListContainersRequest req;
  req.mutable_filter()->set_id(id);
  v1::ListContainersResponse resp;
  grpc::ClientContext ctx;
  set_deadline(ctx);
  check(runtime_->ListContainers(&ctx, req, &resp), "ListContainers");
  if (resp.containers_size() != 1) throw std::runtime_error("container " + id + " not listed");
  return resp.containers(0).state();
}

v1::PodSandboxState CriPods::sandbox_state(const std::string& id) {
  v1::ListPodSandboxRequest req;
  req.mutable_filter()->set_id(id);
  v1::ListPodSandboxResponse resp;
  grpc::ClientContext ctx;
  set_deadline(ctx);
  check(runtime_->ListPodSandbox(&ctx, req, &resp), "ListPodSandbox");
  if (resp.items_size() != 1) throw std::runtime_error("sandbox " + id + " not listed");
  return resp.items(0).state();
}

std::vector<v1::Container> CriPods::containers() {
  v1::ListContainersRequest req;
  v1::ListContainersResponse resp;
  grpc::ClientContext ctx;
  set_deadline(ctx);
  check(runtime_->ListContainers(&ctx, req, &resp), "ListContainers");
  return {resp.containers().begin(), resp.containers().end()};
}

std::vector<v1::PodSandbox> CriPods::sandboxes() {
  v1::ListPodSandboxRequest req;
  v1::ListPodSandboxResponse resp;
  grpc::ClientContext ctx;
  set_deadline(ctx);
  check(runtime_->ListPodSandbox(&ctx, req, &resp), "ListPodSandbox");
  return {resp.items().begin(), resp.items().end()};
}

std::vector<v1::Image> CriPods::images() {
  v1::ListImagesRequest req;
  v1::ListImagesResponse resp;
  grpc::ClientContext ctx;
  set_deadline(ctx);
  check(images_->ListImages(&ctx, req, &resp), "ListImages");
  return {resp.images().begin(), resp.images().end()};
}

std::string CriPods::pull(const std::string& image_ref) {
  v1::PullImageRequest req;
  req.mutable_image()->set_image(image_ref);
  v1::PullImageResponse resp;
  grpc::ClientContext ctx;
  set_deadline(ctx);
  check(images_->PullImage(&ctx, req, &resp), "PullImage(" + image_ref + ")");
  return resp.image_ref();
}

}  // namespace nodeimg::testing
