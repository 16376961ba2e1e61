#include "adapters/runtime/cri_runtime.hpp"
#include "core/common/parallel.hpp"
#include "core/common/time.hpp"

#include <time.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <optional>
#include <set>
#include <thread>

#include <fmt/format.h>
#include <grpcpp/grpcpp.h>
#include <nlohmann/json.hpp>

#include "cri/containerd_containers.grpc.pb.h"
#include "cri/containerd_images.grpc.pb.h"
#include "cri/containerd_leases.grpc.pb.h"
#include "cri/runtime.grpc.pb.h"

namespace nodeimg {

namespace cri = runtime::v1;
namespace native_images = containerd::services::images::v1;
namespace native_leases = containerd::services::leases::v1;
namespace native_containers = containerd::services::containers::v1;

namespace {

constexpr gc::Seconds kNanosPerSecond = 1'000'000'000;

// containerd's CRI plugin keeps its images in this containerd namespace.
constexpr const char* kCriNamespace = "k8s.io";
// How long CRI may take to stop listing natively deleted images: it follows containerd's
// image events (well under 100 ms here, usually done before the collection ends).
constexpr auto kCriViewWait = std::chrono::seconds(3);
constexpr auto kCriViewPoll = std::chrono::milliseconds(5);
// A lease created only to ask for a collection protects nothing; should nodeimg die
// before deleting it, containerd drops it after this.
constexpr auto kLeaseExpiry = std::chrono::hours(1);

// Answers meaning "this endpoint does not let nodeimg use containerd's native API".
bool native_refused(const grpc::Status& s) {
  return s.error_code() == grpc::StatusCode::UNIMPLEMENTED || s.error_code() == grpc::StatusCode::PERMISSION_DENIED;
}


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

// The runtime itself is gone, not the object: the connection is refused or lost
// (Unavailable), or no answer came within runtime.timeout (DeadlineExceeded).
bool runtime_gone(const grpc::Status& s) {
  return s.error_code() == grpc::StatusCode::UNAVAILABLE || s.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED;
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
  // containerd's native services on the same socket (the remove_images fast path).
  std::unique_ptr<native_images::Images::Stub> native_images;
  std::unique_ptr<native_leases::Leases::Stub> native_leases;
  std::unique_ptr<native_containers::Containers::Stub> native_containers;
  enum class Native { Unknown, Available, Refused };
  std::mutex native_mutex;
  Native native = Native::Unknown;
  // References were deleted without a collection since the last one (Reclaim::Deferred):
  // their space is freed by reclaim_space(), or by containerd's own scheduled collection
  // should nodeimg never get there.
  std::atomic<bool> reclaim_pending{false};

  void prepare(grpc::ClientContext& ctx) const { ctx.set_deadline(std::chrono::system_clock::now() + timeout); }
  void prepare_native(grpc::ClientContext& ctx) const {
    prepare(ctx);
    ctx.AddMetadata("containerd-namespace", kCriNamespace);
  }

  Error error(std::string_view action, const grpc::Status& s) const {
    std::string hint;
    if (s.error_code() == grpc::StatusCode::UNAVAILABLE)
      hint = " (is the runtime running? set runtime.endpoint if it listens elsewhere)";
    return Error{.message = fmt::format("{} via CRI {}: {}: {}{}", action, info.endpoint, code_name(s.error_code()),
                                        s.error_message(), hint),
                 .unreachable = runtime_gone(s)};
  }
  Error native_error(std::string_view action, const grpc::Status& s) const {
    return Error{.message = fmt::format("{} via containerd {} (namespace {}): {}: {}", action, info.endpoint,
                                        kCriNamespace, code_name(s.error_code()), s.error_message()),
                 .unreachable = runtime_gone(s)};
  }

  // The image as CRI knows it now; nullopt when CRI does not know it.
  Result<std::optional<cri::Image>> image_status(const std::string& id) const {
    grpc::ClientContext ctx;
    prepare(ctx);
    cri::ImageStatusRequest req;
    req.mutable_image()->set_image(id);
    cri::ImageStatusResponse resp;
    auto s = images->ImageStatus(&ctx, req, &resp);
    if (!s.ok()) return std::unexpected(error(fmt::format("image status \"{}\"", id), s));
    if (!resp.has_image() || resp.image().id().empty()) return std::nullopt;
    return resp.image();
  }

  // Whether the native fast path may be used: only on containerd, and only once its images
  // service has answered a probe (a Get of a name that cannot exist: NotFound means it
  // works). Unimplemented or PermissionDenied settles it for the life of the process; any
  // other failure (containerd restarting) means CRI this time and a new probe next time.
  bool use_native() {
    std::lock_guard lock(native_mutex);
    if (native != Native::Unknown) return native == Native::Available;
    if (info.name != "containerd") {
      native = Native::Refused;
      return false;
    }
    grpc::ClientContext ctx;
    prepare_native(ctx);
    native_images::GetImageRequest req;
    req.set_name("nodeimg.invalid/probe:absent");
    native_images::GetImageResponse resp;
    auto s = native_images->Get(&ctx, req, &resp);
    if (native_refused(s))
      native = Native::Refused;
    else if (s.ok() || s.error_code() == grpc::StatusCode::NOT_FOUND)
      native = Native::Available;
    return native == Native::Available;
  }
  void refuse_native() {
    std::lock_guard lock(native_mutex);
    native = Native::Refused;
  }

  grpc::Status delete_reference(const std::string& name, bool sync) const {
    grpc::ClientContext ctx;
    prepare_native(ctx);
    native_images::DeleteImageRequest req;
    req.set_name(name);
    req.set_sync(sync);
    google::protobuf::Empty resp;
    return native_images->Delete(&ctx, req, &resp);
  }

  // One synchronous garbage collection: create an empty lease, delete it with sync.
  grpc::Status collect_garbage() const {
    native_leases::CreateResponse created;
    {
      grpc::ClientContext ctx;
      prepare_native(ctx);
      native_leases::CreateRequest req;  // no id: containerd picks one
      (*req.mutable_labels())["containerd.io/gc.expire"] = rfc3339(std::chrono::system_clock::now() + kLeaseExpiry);
      if (auto s = native_leases->Create(&ctx, req, &created); !s.ok()) return s;
    }
    grpc::ClientContext ctx;
    prepare_native(ctx);
    native_leases::DeleteRequest req;
    req.set_id(created.lease().id());
    req.set_sync(true);
    google::protobuf::Empty resp;
    return native_leases->Delete(&ctx, req, &resp);
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
  impl->native_images = native_images::Images::NewStub(impl->channel);
  impl->native_leases = native_leases::Leases::NewStub(impl->channel);
  impl->native_containers = native_containers::Containers::NewStub(impl->channel);

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

namespace {

// containerd's own containers in CRI's namespace that CRI does not list (made by ctr,
// nerdctl, a node agent): users of their images like any other. CRI's containers and
// sandboxes are containerd containers too; they carry the label below and are left to
// CRI's list (which knows their state). An endpoint without containerd's native API has
// none to add.
constexpr const char* kCriKindLabel = "io.cri-containerd.kind";

Result<std::vector<gc::Container>> foreign_containers(CriRuntime::Impl& impl) {
  std::vector<gc::Container> out;
  if (impl.info.name != "containerd") return out;
  grpc::ClientContext ctx;
  impl.prepare_native(ctx);
  native_containers::ListContainersResponse resp;
  auto s = impl.native_containers->List(&ctx, native_containers::ListContainersRequest{}, &resp);
  if (native_refused(s)) return out;
  if (!s.ok()) return std::unexpected(impl.native_error("list containers", s));
  for (const auto& c : resp.containers()) {
    if (c.labels().contains(kCriKindLabel)) continue;
    out.push_back({.id = c.id(),
                   .name = fmt::format("{} (containerd namespace {}, not CRI)", c.id(), kCriNamespace),
                   .sandbox_id = "",
                   .image = c.image(),
                   .image_id = "",
                   // Not CRI's: its task may be running. Created keeps its image "used now".
                   .state = gc::ContainerState::Created,
                   .created_at = c.created_at().seconds()});
  }
  return out;
}

}  // namespace

Result<std::vector<gc::Container>> CriRuntime::list_containers() {
  grpc::ClientContext ctx;
  impl_->prepare(ctx);
  cri::ListContainersResponse resp;
  if (auto s = impl_->runtime->ListContainers(&ctx, cri::ListContainersRequest{}, &resp); !s.ok())
    return std::unexpected(impl_->error("list containers", s));
  auto foreign = foreign_containers(*impl_);
  if (!foreign) return std::unexpected(foreign.error());
  std::vector<gc::Container> out;
  out.reserve(static_cast<std::size_t>(resp.containers_size()) + foreign->size());
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
  for (auto& c : *foreign) out.push_back(std::move(c));
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
    auto status = impl_->image_status(image.id);
    if (!status) return std::unexpected(status.error());
    if (!*status) return Outcome::NotFound;
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

namespace {

using Outcome = ImageRuntime::Outcome;

// One native batch as it goes through its phases: what each image resolves to, what was
// deleted, and where containerd refused the native API (from then on CRI does the rest).
struct NativeBatch {
  const std::vector<gc::Image>& images;
  std::vector<Result<Outcome>> out;
  std::vector<std::vector<std::string>> refs;  // per image: tags, digests, then the id
  std::vector<bool> removed;
  bool deleted = false, collected = false;
  std::size_t refused_at;  // containerd refused the native API from this image on (size: never)

  explicit NativeBatch(const std::vector<gc::Image>& imgs)
      : images(imgs), out(imgs.size(), Outcome::NotFound), refs(imgs.size()), removed(imgs.size(), false),
        refused_at(imgs.size()) {}
  std::size_t size() const { return images.size(); }
  std::size_t natively_handled() const { return std::min(refused_at, size()); }
};

// 1. Every reference of each image as CRI reports it now (CRI keeps one containerd image
// record per tag, per digest and per "sha256:" id; all must go). Like RemoveImage, this
// takes a tag added since the plan along; a tag moved to another image since is not
// named any more. The id goes last so an image keeps being listed until its tags are gone.
// The ImageStatus calls go `concurrency` at a time (each image's own slots only): they are
// round trips, and one after another they were most of what nodeimg added to the
// runtime's own bulk delete (docs/BENCHMARKS.md, run E1).
void resolve_references(CriRuntime::Impl& impl, NativeBatch& b, int concurrency) {
  parallel_for(b.size(), concurrency, [&](std::size_t i) {
    auto status = impl.image_status(b.images[i].id);
    if (!status) {
      b.out[i] = std::unexpected(status.error());
      return;
    }
    if (!*status) return;  // already gone: NotFound
    const cri::Image& now = **status;
    if (now.id() != b.images[i].id) {
      b.out[i] = fail(fmt::format("remove image \"{}\" via CRI {}: the runtime resolves it to image \"{}\"; not removed",
                                  b.images[i].id, impl.info.endpoint, now.id()));
      return;
    }
    auto& refs = b.refs[i];
    for (const auto* list : {&now.repo_tags(), &now.repo_digests()})
      for (const auto& ref : *list)
        if (!ref.empty() && std::find(refs.begin(), refs.end(), ref) == refs.end()) refs.push_back(ref);
    refs.push_back(now.id());
  });
}

// 2. Deletes them without collecting. With `sync_last` (Reclaim::Now) the very last delete
// waits for one collection, which frees everything deleted so far (this batch and any
// earlier Deferred ones). Deletes are sequential: containerd serialises metadata writes,
// and without the per-image collection each one is cheap.
void delete_references(CriRuntime::Impl& impl, NativeBatch& b, bool sync_last) {
  std::size_t last = b.size();
  for (std::size_t i = 0; i < b.size(); ++i)
    if (!b.refs[i].empty()) last = i;
  for (std::size_t i = 0; i < b.size() && b.refused_at == b.size(); ++i) {
    for (std::size_t j = 0; j < b.refs[i].size(); ++j) {
      const bool sync = sync_last && i == last && j + 1 == b.refs[i].size();
      auto s = impl.delete_reference(b.refs[i][j], sync);
      if (s.ok()) {
        b.removed[i] = b.deleted = true;
        b.collected = b.collected || sync;
        continue;
      }
      if (s.error_code() == grpc::StatusCode::NOT_FOUND) continue;  // gone meanwhile
      if (native_refused(s)) {
        impl.refuse_native();
        b.refused_at = i;
        break;
      }
      b.out[i] = std::unexpected(impl.native_error(
          fmt::format("delete reference \"{}\" of image \"{}\"", b.refs[i][j], b.images[i].id), s));
      break;
    }
    if (b.refused_at == b.size() && b.out[i]) b.out[i] = b.removed[i] ? Outcome::Removed : Outcome::NotFound;
  }
  if (b.deleted) impl.reclaim_pending = !b.collected;
}

// 3. Refused part-way: the rest through CRI RemoveImage (which collects by itself).
void finish_through_cri(CriRuntime& runtime, NativeBatch& b, int concurrency) {
  if (b.refused_at >= b.size()) return;
  const std::vector<gc::Image> rest(b.images.begin() + static_cast<std::ptrdiff_t>(b.refused_at), b.images.end());
  auto results = runtime.ImageRuntime::remove_images(rest, concurrency);
  for (std::size_t k = 0; k < rest.size() && k < results.size(); ++k) {
    const std::size_t i = b.refused_at + k;
    b.out[i] = std::move(results[k]);
    if (b.removed[i] && b.out[i] && *b.out[i] == Outcome::NotFound) b.out[i] = Outcome::Removed;
  }
}

// 4. (Reclaim::Now) The delete that was to collect found its reference gone (or failed):
// collect now, so that re-measuring after the batch sees the space freed. If even that fails the
// references are gone but the space is not known to be free: say so on the last image
// removed rather than report a clean batch.
void collect_if_still_needed(CriRuntime::Impl& impl, NativeBatch& b) {
  if (!b.deleted || b.collected) return;
  auto s = impl.collect_garbage();
  if (s.ok()) {
    impl.reclaim_pending = false;
    return;
  }
  for (std::size_t i = b.natively_handled(); i-- > 0;)
    if (b.removed[i] && b.out[i]) {
      b.out[i] = std::unexpected(impl.native_error(
          fmt::format("image \"{}\": references deleted, but the garbage collection that frees its space failed",
                      b.images[i].id),
          s));
      return;
    }
}

// 5. CRI follows native deletions through containerd's events: waits until it no longer
// knows any image the batch removed, so that callers listing right after see the result.
// One ImageStatus for the last image deleted per poll while CRI still knows it; once it
// does not, one for each of the others, `concurrency` at a time (round trips: see
// resolve_references), and those CRI still knows are asked again on the next poll. (A
// ListImages per poll cost a list of the whole store per batch: O(N) per batch, O(N²) per
// run.) Anything CRI still knows after the wait (a reference created meanwhile) goes
// through RemoveImage.
void await_cri_view(CriRuntime& runtime, CriRuntime::Impl& impl, NativeBatch& b, int concurrency) {
  std::vector<std::size_t> waiting;  // positions, in deletion order
  for (std::size_t i = 0; i < b.natively_handled(); ++i)
    if (b.removed[i] && b.out[i]) waiting.push_back(i);
  const auto deadline = std::chrono::steady_clock::now() + kCriViewWait;
  bool unknown = false;  // CRI did not answer: the fallback below reports its state image by image
  enum Seen : char { Gone, Known, NoAnswer };
  while (!waiting.empty() && !unknown && std::chrono::steady_clock::now() < deadline) {
    auto last = impl.image_status(b.images[waiting.back()].id);
    if (!last) unknown = true;
    if (last && !*last) {
      waiting.pop_back();
      std::vector<Seen> seen(waiting.size(), Known);
      parallel_for(waiting.size(), concurrency, [&](std::size_t k) {
        auto status = impl.image_status(b.images[waiting[k]].id);
        seen[k] = !status ? NoAnswer : *status ? Known : Gone;
      });
      std::vector<std::size_t> still;
      for (std::size_t k = 0; k < waiting.size(); ++k)
        if (seen[k] != Gone) still.push_back(waiting[k]);
      unknown = std::find(seen.begin(), seen.end(), NoAnswer) != seen.end();
      waiting = std::move(still);
    }
    if (!waiting.empty() && !unknown) std::this_thread::sleep_for(kCriViewPoll);
  }
  const std::set<std::string> pending = [&] {
    std::set<std::string> ids;
    for (auto i : waiting) ids.insert(b.images[i].id);
    return ids;
  }();
  for (std::size_t i = 0; i < b.natively_handled() && !pending.empty(); ++i) {
    if (!pending.contains(b.images[i].id) || !b.removed[i] || !b.out[i]) continue;
    auto again = runtime.remove_image(b.images[i]);
    if (!again)
      b.out[i] = std::unexpected(std::move(again.error()));
    else
      b.out[i] = *again == Outcome::NotFound ? Outcome::Removed : *again;
  }
}

}  // namespace

std::vector<Result<ImageRuntime::Outcome>> CriRuntime::remove_images(const std::vector<gc::Image>& images,
                                                                     int concurrency) {
  return remove_images(images, concurrency, Reclaim::Now);
}

std::vector<Result<ImageRuntime::Outcome>> CriRuntime::remove_images(const std::vector<gc::Image>& images,
                                                                     int concurrency, Reclaim reclaim) {
  // One image with Reclaim::Now gains nothing natively (CRI RemoveImage also collects once
  // per image, and its view is up to date when it returns): the fast path starts at two.
  const bool worth_it = images.size() >= 2 || (reclaim == Reclaim::Deferred && !images.empty());
  if (!worth_it || !impl_->use_native()) return ImageRuntime::remove_images(images, concurrency);
  NativeBatch batch(images);
  resolve_references(*impl_, batch, concurrency);
  delete_references(*impl_, batch, reclaim == Reclaim::Now);
  finish_through_cri(*this, batch, concurrency);
  if (reclaim == Reclaim::Now) collect_if_still_needed(*impl_, batch);
  await_cri_view(*this, *impl_, batch, concurrency);
  return std::move(batch.out);
}

Result<void> CriRuntime::reclaim_space() {
  if (!impl_->reclaim_pending) return {};
  if (auto s = impl_->collect_garbage(); !s.ok())
    return std::unexpected(impl_->native_error("collect garbage to free the space of deleted images", s));
  impl_->reclaim_pending = false;
  return {};
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
