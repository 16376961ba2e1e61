#pragma once
// ImageRuntime over the Docker Engine API: HTTP on dockerd's unix socket (libcurl, one easy
// handle per request, so every method may be called from several threads at once) with
// JSON bodies. Docker has no pod sandboxes: list_sandboxes and sandbox_images are empty.
//
// Removals never force. An image with several references (tags, digests) cannot be deleted
// by id without force, so remove_image deletes each reference and then the id, and reports
// Removed only once the id is really gone. An image that any container (in any state) uses
// is left untouched: InUse; one that other images are built on (a parent: ParentId of
// another image, intermediate ones included): HasDependents.
//
// Two layers keep such an image whole:
// - The safety net is dockerd itself: without force it refuses (409) to delete the last
//   name or the id of an image that any container uses or that has a child, and nodeimg
//   never forces. Should it refuse part-way (a container or a child image created since the
//   listing), the tags removed are put back, the one whose delete was refused included
//   (for a child, dockerd untags before it refuses). Repo digests cannot be put back (Docker
//   records them only when pulling or pushing): only they can be lost to such a race.
// - The optimisation: one listing of containers and of every image's parent
//   (NodeListing), taken once per remove_images batch (and once per remove_image), is
//   checked before an image's first name goes, so that an image known to be in use or a
//   parent is not even untagged. Listing per image made a run O(N²) in the node's images.
// Deletes pass noprune, so no untagged parent ever disappears along with an image without
// being counted. remove_images removes children before their parents (a fresh listing
// before the parents: their children may have gone in the same batch).
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "adapters/runtime/image_runtime.hpp"

namespace nodeimg {

namespace docker {

// The newest Engine API version this adapter was verified against (dockerd 20.10), and the
// oldest it accepts.
inline constexpr std::string_view kNewestApiVersion = "1.41";
inline constexpr std::string_view kOldestApiVersion = "1.24";

// A reference split the way POST /images/create wants it: "127.0.0.1:5000/repo:tag" ->
// {"127.0.0.1:5000/repo", "tag", ""}; "repo@sha256:…" -> {"repo", "", "sha256:…"}; a bare
// name gets tag "latest". The repository is left as written (no docker.io/ prefix).
struct ImageName {
  std::string repository;
  std::string tag;
  std::string digest;
  // "repo:tag" or "repo@digest" (the digest wins when both are given).
  std::string reference() const;
};
Result<ImageName> parse_image_name(std::string_view reference);

// The version to speak: the server's ApiVersion capped at kNewestApiVersion; an error when
// the server is older than kOldestApiVersion or the version does not parse.
Result<std::string> negotiate_api_version(std::string_view server_api_version);

// Docker's container State ("running", "exited", …) as the collector sees it.
gc::ContainerState container_state(std::string_view docker_state);

// Percent-encodes everything but unreserved characters; `keep` lists extra characters
// left as they are (for path parts: "/:@").
std::string url_encode(std::string_view text, std::string_view keep = "");

// The node as one listing saw it (GET /containers/json?all=1, GET /images/json?all=1):
// what the checks before an image's first name goes read.
struct NodeListing {
  std::vector<gc::Container> containers;
  std::set<std::string> parents;  // ids other images are built on (their ParentId)
};
// The ParentId values of a GET /images/json?all=1 answer (intermediate images included).
std::set<std::string> parent_ids_of(const nlohmann::json& all_images);
// Why `listing` says image `id` (the full "sha256:…") must stay whole: InUse (a container
// names it by id), HasDependents (an image is built on it); nothing when it may go.
std::optional<ImageRuntime::Outcome> blocked_by(const std::string& id, const NodeListing& listing);
// Positions in `images`: `first` those no image is built on, `then` the parents, each in
// the given order (a child must go before its parent can).
struct RemovalOrder {
  std::vector<std::size_t> first;
  std::vector<std::size_t> then;
};
RemovalOrder children_first(const std::vector<gc::Image>& images, const std::set<std::string>& parents);
// Whether a DELETE /images/… answer (an array of {"Untagged": …} / {"Deleted": …}) says
// image `id` itself was deleted.
bool deletes_image(std::string_view body, const std::string& id);

}  // namespace docker

class DockerRuntime final : public ImageRuntime {
 public:
  // `endpoint` is "unix:///var/run/docker.sock" (a bare absolute path is accepted too).
  // Pings the daemon, reads /version and negotiates the API version. `timeout` bounds
  // every request (a whole pull included).
  static Result<std::unique_ptr<DockerRuntime>> connect(const std::string& endpoint,
                                                        std::chrono::milliseconds timeout);

  const RuntimeInfo& info() const override { return info_; }
  // The negotiated API version, e.g. "1.41".
  const std::string& api_version() const { return api_version_; }

  Result<std::vector<gc::Image>> list_images() override;
  Result<std::vector<gc::Container>> list_containers() override;
  Result<std::vector<gc::Sandbox>> list_sandboxes() override;
  Result<std::vector<std::string>> sandbox_images() override;
  Result<std::string> image_filesystem() override;

  Result<Outcome> remove_container(const std::string& id) override;
  Result<Outcome> remove_sandbox(const std::string& id) override;
  Result<Outcome> remove_image(const gc::Image& image) override;
  std::vector<Result<Outcome>> remove_images(const std::vector<gc::Image>& images, int concurrency) override;
  using ImageRuntime::remove_images;  // Reclaim::Deferred is Now: Docker frees an image as it removes it
  Result<std::string> pull_image(const std::string& reference) override;

  struct Response {
    long status = 0;
    std::string body;
  };

 private:
  DockerRuntime(std::string endpoint, std::string socket_path, std::chrono::milliseconds timeout);

  // One HTTP exchange. `path` already carries its query string and is prefixed with the
  // negotiated version unless `versioned` is false. Transport failures are errors (naming
  // `action`); any HTTP status is a Response. When `on_line` is set, the body is also
  // handed over line by line as it streams in.
  Result<Response> call(std::string_view action, std::string_view method, const std::string& path,
                        bool versioned = true, const std::function<void(std::string_view)>* on_line = nullptr) const;
  // GET `path`, which must answer 200 with a JSON array.
  Result<nlohmann::json> get_array(std::string_view action, const std::string& path) const;
  // "ACTION via Docker ENDPOINT: STATUS REASON: MESSAGE"
  Error http_error(std::string_view action, const Response& r) const;
  Error error(std::string_view action, std::string_view cause) const;
  // The containers and every image's parent, now.
  Result<docker::NodeListing> take_listing() const;
  // remove_image against `listing` (see the class comment).
  Result<Outcome> remove_listed(const gc::Image& image, const docker::NodeListing& listing) const;
  // Removes images[at[k]] into out[at[k]] on at most `concurrency` threads; once one
  // answers that the daemon is gone (`gone`), the rest get that error.
  void remove_all_listed(const std::vector<gc::Image>& images, const std::vector<std::size_t>& at,
                         const docker::NodeListing& listing, int concurrency, std::vector<Result<Outcome>>& out,
                         std::optional<Error>& gone) const;
  // Puts `tags` ("repo:tag") back on image `id`.
  Result<void> retag(const std::string& id, const std::vector<std::string>& tags) const;

  RuntimeInfo info_;
  std::string socket_path_;
  std::string api_version_;
  std::chrono::milliseconds timeout_;
};

}  // namespace nodeimg
