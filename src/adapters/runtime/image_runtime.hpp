#pragma once
// A container runtime as the garbage collector sees it: what images, containers and
// sandboxes exist, where images are stored, and how to remove and pull them. Implemented
// over CRI (containerd, CRI-O, cri-dockerd: cri_runtime) and the Docker Engine API
// (docker_runtime); tests use in-memory fakes.
//
// Contract shared by every implementation:
// - No method ever forces anything: a removal the runtime refuses because the object is in
//   use comes back as Outcome::InUse, never retried with force.
// - Removing something that is already gone is Outcome::NotFound, not an error.
// - An error meaning the runtime itself is gone (connection refused or lost, no answer
//   within the timeout) has Error::unreachable set; the collector then stops the run.
// - Errors name the action, the object and the endpoint, e.g.
//   `remove image "sha256:…" via CRI unix:///run/containerd/containerd.sock: Unavailable: …`.
// - remove_*, list_containers and pull_image may be called from several threads at once.
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/common/error.hpp"
#include "core/common/parallel.hpp"
#include "core/gc/model.hpp"

namespace nodeimg {

struct RuntimeInfo {
  std::string kind;      // "cri" or "docker"
  std::string endpoint;  // unix:///path
  std::string name;      // "containerd", "cri-o", "docker"
  std::string version;   // the runtime's own version
};

class ImageRuntime {
 public:
  // HasDependents: other images are built on it (Docker's parent images); left whole.
  enum class Outcome { Removed, NotFound, InUse, HasDependents };

  virtual ~ImageRuntime() = default;

  virtual const RuntimeInfo& info() const = 0;

  virtual Result<std::vector<gc::Image>> list_images() = 0;
  // Every container in every state (created, running, exited, unknown).
  virtual Result<std::vector<gc::Container>> list_containers() = 0;
  // Pod sandboxes, ready or not (Docker has none: empty).
  virtual Result<std::vector<gc::Sandbox>> list_sandboxes() = 0;
  // The runtime's configured sandbox (pause) image references, when it tells.
  virtual Result<std::vector<std::string>> sandbox_images() = 0;
  // The host path of the filesystem holding image data, for statvfs.
  virtual Result<std::string> image_filesystem() = 0;

  virtual Result<Outcome> remove_container(const std::string& id) = 0;
  // Stops the sandbox (its containers go with it), then removes it.
  virtual Result<Outcome> remove_sandbox(const std::string& id) = 0;
  // Removes the image with all its tags and digests.
  virtual Result<Outcome> remove_image(const gc::Image& image) = 0;
  // Removes a batch of images: one result per image, in order, each meaning what
  // remove_image's would. When it returns, what the batch removed is gone from
  // list_images and its disk space has been reclaimed as far as the runtime reclaims it
  // synchronously. The default runs remove_image on at most `concurrency` threads; a
  // runtime with a cheaper bulk path (containerd: one garbage collection per batch instead
  // of one per image) overrides it.
  // Once a removal answers that the runtime is gone (Error::unreachable), the images not
  // yet started are not tried: they get that same error.
  virtual std::vector<Result<Outcome>> remove_images(const std::vector<gc::Image>& images, int concurrency) {
    std::vector<Result<Outcome>> out(images.size(), Outcome::NotFound);
    std::mutex mutex;
    std::optional<Error> gone;
    parallel_for(images.size(), concurrency, [&](std::size_t i) {
      {
        std::lock_guard lock(mutex);
        if (gone) {
          out[i] = std::unexpected(*gone);
          return;
        }
      }
      auto r = remove_image(images[i]);
      std::lock_guard lock(mutex);
      if (!r && r.error().unreachable && !gone) gone = r.error();
      out[i] = std::move(r);
    });
    return out;
  }
  // How a batch of removals leaves disk space. Now: reclaimed, as far as the runtime
  // reclaims it synchronously, when remove_images returns (the caller measures usage next).
  // Deferred: what the batch removed is gone from list_images when the call returns (and
  // from the runtime's own image records), but its space may stay pending until
  // reclaim_space(): a runtime whose reclaiming is one collection over the whole store
  // (containerd) then collects once for many batches instead of once per batch. A runtime
  // without such a cost (Docker) reclaims at once either way: the default.
  enum class Reclaim { Now, Deferred };
  virtual std::vector<Result<Outcome>> remove_images(const std::vector<gc::Image>& images, int concurrency,
                                                     Reclaim /*reclaim*/) {
    return remove_images(images, concurrency);
  }
  // Reclaims what Deferred batches left pending (a no-op when nothing is); afterwards usage
  // can be measured. An error means the references are gone but the space is not known
  // to be free (containerd also runs its own scheduled collections).
  virtual Result<void> reclaim_space() { return {}; }
  // Pulls `reference`; returns the image id (or the runtime's image reference).
  virtual Result<std::string> pull_image(const std::string& reference) = 0;
};

}  // namespace nodeimg
