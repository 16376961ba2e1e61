#pragma once
// ImageRuntime over the Kubernetes CRI (runtime.v1, gRPC on a unix socket): containerd,
// CRI-O, cri-dockerd. Uses nodeimg's own wire-compatible proto subset (src/cri).
//
// containerd fast path for remove_images: each CRI RemoveImage makes containerd 1.6 collect
// garbage synchronously over the whole store, so removing N images costs O(N x store size).
// When the runtime reports runtime_name "containerd" and its native images service
// (containerd.services.images.v1.Images, same socket, namespace k8s.io) answers a one-time
// probe, a batch of two or more is removed by deleting every reference of every image (its tags, its
// digests and its "sha256:" id, as CRI reports them just before) without collecting, then
// one synchronous collection at the end: `sync` on the batch's last delete, or, when that
// reference was already gone, an empty lease deleted with `sync`. With Reclaim::Deferred
// (a batch of one too) there is no collection at all: the space stays pending until
// reclaim_space(), one collection for every deferred batch (as `ctr images rm --sync`
// does for all the names it is given), so a run of count and age removals costs about
// what the runtime's own bulk delete costs, while containers are still re-listed before
// each batch. It then waits until CRI no longer knows what it removed (ImageStatus on the
// batch's own images, concurrency at a time; CRI follows native deletions through events); an image
// CRI still lists after that goes through CRI RemoveImage. A probe answered Unimplemented
// or PermissionDenied (or such an answer later) means CRI RemoveImage from then on.
// Usage is never checked by containerd on either path: the executor's re-list is the guard.
// So on containerd list_containers also returns the containers of containerd's own
// containers service in namespace k8s.io that CRI does not list (made by ctr, nerdctl, a
// node agent: no "io.cri-containerd.kind" label), as created containers named
// "ID (containerd namespace k8s.io, not CRI)": their images are in use.
#include <chrono>
#include <memory>

#include "adapters/runtime/image_runtime.hpp"

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
  std::vector<Result<Outcome>> remove_images(const std::vector<gc::Image>& images, int concurrency) override;
  std::vector<Result<Outcome>> remove_images(const std::vector<gc::Image>& images, int concurrency,
                                             Reclaim reclaim) override;
  Result<void> reclaim_space() override;
  Result<std::string> pull_image(const std::string& reference) override;

  struct Impl;

 private:
  explicit CriRuntime(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace nodeimg
