#include "adapters/cri_runtime.hpp"

#include <fmt/format.h>
#include <grpcpp/grpcpp.h>
#include <nlohmann/json.hpp>

#include "cri/runtime.grpc.pb.h"

namespace nodeimg {

namespace cri = runtime::v1;

namespace {

constexpr gc::Seconds kNanosPerSecond = 1'000'000'000;

std::string_view code_name(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK: return "OK";
    case grpc::StatusCode::CANCELLED: return "Cancelled";
    case grpc::StatusCode::UNKNOWN: return "Unknown";
    case grpc::StatusCode::INVALID_ARGUMENT: return "InvalidArgument";
    case grpc::StatusCode::DEADLINE_EXCEEDED: return "DeadlineExceeded";
    case grpc::StatusCode::NOT_FOUND: return "NotFound";
    case grpc::StatusCode::ALREADY_EXISTS: return "AlreadyExists";
    case grpc::StatusCode::PERMISSION_DENIED: return "PermissionDenied";
    case grpc::StatusCode::RESOURCE_EXHAUSTED: return "ResourceExhausted";
    case grpc::StatusCode::FAILED_PRECONDITION: return "FailedPrecondition";
    case grpc::StatusCode::ABORTED: return "Aborted";
    case grpc::StatusCode::OUT_OF_RANGE: return "OutOfRange";
    case grpc::StatusCode::UNIMPLEMENTED: return "Unimplemented";
    case grpc::StatusCode::INTERNAL: return "Internal";
    case grpc::StatusCode::UNAVAILABLE: return "Unavailable";
    case grpc::StatusCode::DATA_LOSS: return "DataLoss";
    case grpc::StatusCode::UNAUTHENTICATED: return "Unauthenticated";
    default: return "Status";
  }
}

// containerd and CRI-O report a missing object in the message rather than always with
// NOT_FOUND.
bool is_not_found(const grpc::Status& s) {
  if (s.error_code() == grpc::StatusCode::NOT_FOUND) return true;
  const std::string& m = s.error_message();
  return m.find("not found") != std::string::npos || m.find("does not exist") != std::string::npos;
}

bool is_in_use(const grpc::Status& s) {
  const std::string& m = s.error_message();
  return s.error_code() == grpc::StatusCode::FAILED_PRECONDITION || m.find("in use") != std::string::npos ||
         m.find("is using") != std::string::npos || m.find("being used") != std::string::npos;
}

gc::ContainerState state_of(cri::ContainerState s) {
  switch (s) {
    case cri::CONTAINER_CREATED: return gc::ContainerState::Created;
    case cri::CONTAINER_RUNNING: return gc::ContainerState::Running;
    case cri::CONTAINER_EXITED: return gc::ContainerState::Exited;
    default: return gc::ContainerState::Unknown;
  }
}

}  // namespace

struct CriRuntime::Impl {
  RuntimeInfo info;
  std::chrono::milliseconds timeout{};
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<cri::RuntimeService::Stub> runtime;
  std::unique_ptr<cri::ImageService::Stub> images;

  void prepare(grpc::ClientContext& ctx) const { ctx.set_deadline(std::chrono::system_clock::now() + timeout); }

  Error error(std::string_view action, const grpc::Status& s) const {
    std::string hint;
    if (s.error_code() == grpc::StatusCode::UNAVAILABLE)
      hint = " (is the runtime running? set runtime.endpoint if it listens elsewhere)";
    return Error{fmt::format("{} via CRI {}: {}: {}{}", action, info.endpoint, code_name(s.error_code()), s.error_message(), hint)};
  }
};

CriRuntime::CriRuntime(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
CriRuntime::~CriRuntime() = default;

Result<std::unique_ptr<CriRuntime>> CriRuntime::connect(const std::string& endpoint, std::chrono::milliseconds timeout) {
  auto impl = std::make_unique<Impl>();
  impl->info.kind = "cri";
  impl->info.endpoint = endpoint;
  impl->timeout = timeout;
  grpc::ChannelArguments args;
  // A node with thousands of images and containers answers with large lists.
  args.SetMaxReceiveMessageSize(256 * 1024 * 1024);
  impl->channel = grpc::CreateCustomChannel(endpoint, grpc::InsecureChannelCredentials(), args);
  impl->runtime = cri::RuntimeService::NewStub(impl->channel);
  impl->images = cri::ImageService::NewStub(impl->channel);

  grpc::ClientContext ctx;
  impl->prepare(ctx);
  cri::VersionRequest req;
  req.set_version("v1");
  cri::VersionResponse resp;
  if (auto s = impl->runtime->Version(&ctx, req, &resp); !s.ok()) return std::unexpected(impl->error("connect", s));
  impl->info.name = resp.runtime_name();
  impl->info.version = resp.runtime_version();
  return std::unique_ptr<CriRuntime>(new CriRuntime(std::move(impl)));
}

const RuntimeInfo& CriRuntime::info() const { return impl_->info; }

Result<std::vector<gc::Image>> CriRuntime::list_images() {
  grpc::ClientContext ctx;
  impl_->prepare(ctx);
  cri::ListImagesResponse resp;
  if (auto s = impl_->images->ListImages(&ctx, cri::ListImagesRequest{}, &resp); !s.ok())
    return std::unexpected(impl_->error("list images", s));
  std::vector<gc::Image> out;
  out.reserve(static_cast<std::size_t>(resp.images_size()));
  for (const auto& i : resp.images()) {
    gc::Image image;
    image.id = i.id();
    image.tags.assign(i.repo_tags().begin(), i.repo_tags().end());
    image.digests.assign(i.repo_digests().begin(), i.repo_digests().end());
    image.size = i.size();
    image.pinned = i.pinned();
    out.push_back(std::move(image));
  }
  return out;
}

Result<std::vector<gc::Container>> CriRuntime::list_containers() {
  grpc::ClientContext ctx;
  impl_->prepare(ctx);
  cri::ListContainersResponse resp;
  if (auto s = impl_->runtime->ListContainers(&ctx, cri::ListContainersRequest{}, &resp); !s.ok())
    return std::unexpected(impl_->error("list containers", s));
  std::vector<gc::Container> out;
  out.reserve(static_cast<std::size_t>(resp.containers_size()));
  for (const auto& c : resp.containers()) {
    gc::Container container;
    container.id = c.id();
    container.name = c.metadata().name();
    container.sandbox_id = c.pod_sandbox_id();
    container.image = c.image().image();
    // image_ref is the resolved image (containerd: the image id); image_id is newer.
    container.image_id = !c.image_id().empty() ? c.image_id() : c.image_ref();
    container.state = state_of(c.state());
    container.created_at = c.created_at() / kNanosPerSecond;
    out.push_back(std::move(container));
  }
  return out;
}

Result<std::vector<gc::Sandbox>> CriRuntime::list_sandboxes() {
  grpc::ClientContext ctx;
  impl_->prepare(ctx);
  cri::ListPodSandboxResponse resp;
  if (auto s = impl_->runtime->ListPodSandbox(&ctx, cri::ListPodSandboxRequest{}, &resp); !s.ok())
    return std::unexpected(impl_->error("list pod sandboxes", s));
  std::vector<gc::Sandbox> out;
  out.reserve(static_cast<std::size_t>(resp.items_size()));
  for (const auto& p : resp.items()) {
    gc::Sandbox sandbox;
    sandbox.id = p.id();
    const auto& m = p.metadata();
    sandbox.name = m.namespace_().empty() ? m.name() : m.namespace_() + "/" + m.name();
    sandbox.ready = p.state() == cri::SANDBOX_READY;
    sandbox.created_at = p.created_at() / kNanosPerSecond;
    out.push_back(std::move(sandbox));
  }
  return out;
}

Result<std::vector<std::string>> CriRuntime::sandbox_images() {
  grpc::ClientContext ctx;
  impl_->prepare(ctx);
  cri::StatusRequest req;
  req.set_verbose(true);
  cri::StatusResponse resp;
  if (auto s = impl_->runtime->Status(&ctx, req, &resp); !s.ok()) return std::unexpected(impl_->error("runtime status", s));
  std::vector<std::string> out;
  // containerd: info["config"] is its CRI configuration as JSON, with "sandboxImage".
  // CRI-O reports its pause image under "pause_image" in some versions. Anything else is
  // not an error: the sandbox image is then known from runtime.sandboxImage and from use.
  for (const auto& [key, value] : resp.info()) {
    if (key != "config") continue;
    auto doc = nlohmann::json::parse(value, nullptr, false);
    if (doc.is_discarded() || !doc.is_object()) continue;
    for (const char* field : {"sandboxImage", "pause_image", "pauseImage"})
      if (auto it = doc.find(field); it != doc.end() && it->is_string() && !it->get<std::string>().empty())
        out.push_back(it->get<std::string>());
  }
  return out;
}

Result<std::string> CriRuntime::image_filesystem() {
  grpc::ClientContext ctx;
  impl_->prepare(ctx);
  cri::ImageFsInfoResponse resp;
  if (auto s = impl_->images->ImageFsInfo(&ctx, cri::ImageFsInfoRequest{}, &resp); !s.ok())
    return std::unexpected(impl_->error("image filesystem info", s));
  for (const auto& fs : resp.image_filesystems())
    if (!fs.fs_id().mountpoint().empty()) return fs.fs_id().mountpoint();
  return fail(fmt::format("image filesystem info via CRI {}: the runtime reported no mount point", impl_->info.endpoint));
}

Result<ImageRuntime::Outcome> CriRuntime::remove_container(const std::string& id) {
  grpc::ClientContext ctx;
  impl_->prepare(ctx);
  cri::RemoveContainerRequest req;
  req.set_container_id(id);
  cri::RemoveContainerResponse resp;
  auto s = impl_->runtime->RemoveContainer(&ctx, req, &resp);
  if (s.ok()) return Outcome::Removed;
  if (is_not_found(s)) return Outcome::NotFound;
  if (is_in_use(s)) return Outcome::InUse;
  return std::unexpected(impl_->error(fmt::format("remove container {}", id), s));
}

Result<ImageRuntime::Outcome> CriRuntime::remove_sandbox(const std::string& id) {
  {
    // A NotReady sandbox may still hold its network namespace; CRI requires a stop first.
    grpc::ClientContext ctx;
    impl_->prepare(ctx);
    cri::StopPodSandboxRequest req;
    req.set_pod_sandbox_id(id);
    cri::StopPodSandboxResponse resp;
    auto s = impl_->runtime->StopPodSandbox(&ctx, req, &resp);
    if (!s.ok() && is_not_found(s)) return Outcome::NotFound;
    if (!s.ok()) return std::unexpected(impl_->error(fmt::format("stop pod sandbox {}", id), s));
  }
  grpc::ClientContext ctx;
  impl_->prepare(ctx);
  cri::RemovePodSandboxRequest req;
  req.set_pod_sandbox_id(id);
  cri::RemovePodSandboxResponse resp;
  auto s = impl_->runtime->RemovePodSandbox(&ctx, req, &resp);
  if (s.ok()) return Outcome::Removed;
  if (is_not_found(s)) return Outcome::NotFound;
  return std::unexpected(impl_->error(fmt::format("remove pod sandbox {}", id), s));
}

Result<ImageRuntime::Outcome> CriRuntime::remove_image(const gc::Image& image) {
  // RemoveImage is idempotent in CRI: a missing image is OK. Ask first so that the report
  // can tell "not found" from "removed".
  {
    grpc::ClientContext ctx;
    impl_->prepare(ctx);
    cri::ImageStatusRequest req;
    req.mutable_image()->set_image(image.id);
    cri::ImageStatusResponse resp;
    auto s = impl_->images->ImageStatus(&ctx, req, &resp);
    if (!s.ok()) return std::unexpected(impl_->error(fmt::format("image status \"{}\"", image.id), s));
    if (!resp.has_image() || resp.image().id().empty()) return Outcome::NotFound;
  }
  grpc::ClientContext ctx;
  impl_->prepare(ctx);
  cri::RemoveImageRequest req;
  req.mutable_image()->set_image(image.id);
  cri::RemoveImageResponse resp;
  auto s = impl_->images->RemoveImage(&ctx, req, &resp);
  if (s.ok()) return Outcome::Removed;
  if (is_not_found(s)) return Outcome::NotFound;
  if (is_in_use(s)) return Outcome::InUse;
  return std::unexpected(impl_->error(fmt::format("remove image \"{}\"", image.id), s));
}

Result<std::string> CriRuntime::pull_image(const std::string& reference) {
  grpc::ClientContext ctx;
  impl_->prepare(ctx);
  cri::PullImageRequest req;
  req.mutable_image()->set_image(reference);
  cri::PullImageResponse resp;
  if (auto s = impl_->images->PullImage(&ctx, req, &resp); !s.ok())
    return std::unexpected(impl_->error(fmt::format("pull image \"{}\"", reference), s));
  return resp.image_ref();
}

}  // namespace nodeimg
