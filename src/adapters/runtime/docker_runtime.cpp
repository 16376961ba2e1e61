#include "adapters/runtime/docker_runtime.hpp"

#include <curl/curl.h>
#include <sys/stat.h>

#include <algorithm>
#include <charconv>
#include <map>
#include <mutex>
#include <set>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/common/parallel.hpp"
#include "core/gc/image_ref.hpp"

namespace nodeimg {

using json = nlohmann::json;

namespace docker {

std::string ImageName::reference() const {
  if (!digest.empty()) return repository + "@" + digest;
  return repository + ":" + (tag.empty() ? "latest" : tag);
}

Result<ImageName> parse_image_name(std::string_view reference) {
  auto bad = [&](std::string_view why) {
    return fail(fmt::format("image reference \"{}\": {}", reference, why));
  };
  if (reference.empty()) return bad("empty");
  for (char c : reference) {
    if (static_cast<unsigned char>(c) <= ' ' || c == 0x7f) return bad("contains whitespace or control characters");
  }
  if (reference.starts_with("sha256:")) return bad("an image id cannot be pulled; name a repository");
  const gc::ReferenceParts parts = gc::split_reference(reference);
  ImageName n;
  if (parts.digest) {
    n.digest = std::string(*parts.digest);
    const auto colon = n.digest.find(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == n.digest.size())
      return bad("digest is not ALGORITHM:HEX");
  }
  if (parts.tag) {
    n.tag = std::string(*parts.tag);
    if (n.tag.empty()) return bad("empty tag");
  }
  const std::string_view rest = parts.name;
  if (rest.empty() || rest.front() == '/' || rest.back() == '/' || rest.find("//") != std::string_view::npos)
    return bad("empty repository name");
  n.repository = std::string(rest);
  if (n.tag.empty() && n.digest.empty()) n.tag = "latest";
  // A repository named "sha256" with a tag reads as an image id (found by tests/fuzz):
  // refuse it rather than pull something the reference cannot name again.
  if (n.digest.empty() && n.repository == "sha256") return bad("a repository named sha256 reads as an image id");
  return n;
}

namespace {

struct ApiVersion {
  int major = 0;
  int minor = 0;
  auto operator<=>(const ApiVersion&) const = default;
};

// "1.41" -> {1, 41}
std::optional<ApiVersion> parse_version(std::string_view v) {
  const auto dot = v.find('.');
  if (dot == std::string_view::npos) return std::nullopt;
  ApiVersion out;
  auto [p1, e1] = std::from_chars(v.data(), v.data() + dot, out.major);
  auto [p2, e2] = std::from_chars(v.data() + dot + 1, v.data() + v.size(), out.minor);
  if (e1 != std::errc() || e2 != std::errc() || p1 != v.data() + dot || p2 != v.data() + v.size()) return std::nullopt;
  return out;
}

}  // namespace

Result<std::string> negotiate_api_version(std::string_view server) {
  const auto have = parse_version(server);
  if (!have) return fail(fmt::format("unrecognized Docker API version \"{}\"", server));
  const auto newest = *parse_version(kNewestApiVersion);
  const auto oldest = *parse_version(kOldestApiVersion);
  if (*have < oldest)
    return fail(fmt::format("Docker API version {} is too old: nodeimg needs at least {}", server, kOldestApiVersion));
  if (*have > newest) return std::string(kNewestApiVersion);
  return fmt::format("{}.{}", have->major, have->minor);
}

gc::ContainerState container_state(std::string_view s) {
  if (s == "running" || s == "paused" || s == "restarting") return gc::ContainerState::Running;
  if (s == "created") return gc::ContainerState::Created;
  if (s == "exited" || s == "dead") return gc::ContainerState::Exited;
  return gc::ContainerState::Unknown;
}

std::string url_encode(std::string_view text, std::string_view keep) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
        c == '_' || c == '~' || keep.find(ch) != std::string_view::npos) {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    }
  }
  return out;
}

}  // namespace docker

namespace {

constexpr std::size_t kMaxBody = 512u << 20;  // a runaway peer must not exhaust memory

std::string path_part(std::string_view s) { return docker::url_encode(s, "/:@"); }

std::string reason_of(long status) {
  switch (status) {
    case 304: return "not modified";
    case 400: return "bad request";
    case 401: return "unauthorized";
    case 403: return "forbidden";
    case 404: return "not found";
    case 409: return "conflict";
    case 500: return "server error";
    case 503: return "unavailable";
    default: return "HTTP";
  }
}

// The daemon's {"message": "…"}, or the start of the body.
std::string daemon_message(const std::string& body) {
  auto j = json::parse(body, nullptr, false);
  if (j.is_object() && j.contains("message") && j["message"].is_string()) return j["message"].get<std::string>();
  std::string s = body.substr(0, 300);
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

std::string string_or(const json& j, const char* key, std::string fallback = {}) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : fallback;
}

std::vector<std::string> strings_of(const json& j, const char* key) {
  std::vector<std::string> out;
  auto it = j.find(key);
  if (it == j.end() || !it->is_array()) return out;
  for (const auto& v : *it)
    if (v.is_string()) out.push_back(v.get<std::string>());
  return out;
}

// Sets each image's size to Size - SharedSize from a /system/df answer (see list_images).
void apply_unique_sizes(const std::string& df_body, std::vector<gc::Image>& images) {
  auto j = json::parse(df_body, nullptr, false);
  if (!j.is_object() || !j.contains("Images") || !j["Images"].is_array()) return;
  std::map<std::string, std::uint64_t> unique;
  for (const auto& e : j["Images"]) {
    if (!e.is_object()) continue;
    const auto size = e.find("Size"), shared = e.find("SharedSize");
    if (size == e.end() || shared == e.end() || !size->is_number_integer() || !shared->is_number_integer()) continue;
    const auto total = size->get<std::int64_t>(), common = shared->get<std::int64_t>();
    if (total < 0 || common < 0 || common > total) continue;
    unique[string_or(e, "Id")] = static_cast<std::uint64_t>(total - common);
  }
  for (auto& image : images)
    if (auto it = unique.find(image.id); it != unique.end()) image.size = it->second;
}

struct Sink {
  std::string body;
  std::string pending;  // an incomplete line, when streaming
  const std::function<void(std::string_view)>* on_line = nullptr;
  bool overflow = false;
};

std::size_t collect(char* data, std::size_t size, std::size_t n, void* out) {
  auto* sink = static_cast<Sink*>(out);
  const std::size_t len = size * n;
  if (sink->on_line) {
    sink->pending.append(data, len);
    std::size_t start = 0;
    for (auto nl = sink->pending.find('\n'); nl != std::string::npos; nl = sink->pending.find('\n', start)) {
      (*sink->on_line)(std::string_view(sink->pending).substr(start, nl - start));
      start = nl + 1;
    }
    sink->pending.erase(0, start);
    if (sink->pending.size() > (1u << 20)) {
      sink->overflow = true;
      return 0;
    }
    return len;
  }
  if (sink->body.size() + len > kMaxBody) {
    sink->overflow = true;
    return 0;
  }
  sink->body.append(data, len);
  return len;
}

}  // namespace

DockerRuntime::DockerRuntime(std::string endpoint, std::string socket_path, std::chrono::milliseconds timeout)
    : socket_path_(std::move(socket_path)), timeout_(timeout) {
  info_.kind = "docker";
  info_.endpoint = std::move(endpoint);
  info_.name = "docker";
}

Error DockerRuntime::error(std::string_view action, std::string_view cause) const {
  return Error{fmt::format("{} via Docker {}: {}", action, info_.endpoint, cause)};
}

Error DockerRuntime::http_error(std::string_view action, const Response& r) const {
  return error(action, fmt::format("{} {}: {}", r.status, reason_of(r.status), daemon_message(r.body)));
}

Result<DockerRuntime::Response> DockerRuntime::call(std::string_view action, std::string_view method,
                                                    const std::string& path, bool versioned,
                                                    const std::function<void(std::string_view)>* on_line) const {
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) return std::unexpected(error(action, "libcurl: no handle"));
  // The host part is ignored by dockerd; the socket path is what connects.
  const std::string url = "http://docker" + (versioned ? "/v" + api_version_ : std::string()) + path;
  const std::string verb(method);
  Sink sink;
  sink.on_line = on_line;
  const long ms = static_cast<long>(timeout_.count());
  CURL* h = curl.get();
  curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, socket_path_.c_str());
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, ms);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, ms);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
  if (verb == "POST") {
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, 0L);
  } else if (verb != "GET") {
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, verb.c_str());
  }
  const CURLcode rc = curl_easy_perform(h);
  if (rc != CURLE_OK) {
    if (sink.overflow) return std::unexpected(error(action, "the daemon's answer is too large"));
    Error e;
    if (rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST) {
      struct stat st {};
      const bool exists = ::stat(socket_path_.c_str(), &st) == 0;
      e = error(action, fmt::format("cannot connect to {}: {} (is dockerd running, and is this the socket "
                                    "of its -H option? set the runtime endpoint otherwise)",
                                    socket_path_, exists ? curl_easy_strerror(rc) : "no such socket"));
    } else if (rc == CURLE_OPERATION_TIMEDOUT) {
      e = error(action, fmt::format("no answer within {} ms", timeout_.count()));
    } else {
      e = error(action, curl_easy_strerror(rc));
    }
    // The daemon is gone (refused, connection lost, no answer in time), not the object.
    e.unreachable = rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST || rc == CURLE_OPERATION_TIMEDOUT ||
                    rc == CURLE_GOT_NOTHING || rc == CURLE_SEND_ERROR || rc == CURLE_RECV_ERROR ||
                    rc == CURLE_PARTIAL_FILE;
    return std::unexpected(std::move(e));
  }
  Response r;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r.status);
  if (on_line && !sink.pending.empty()) (*on_line)(sink.pending);
  r.body = std::move(sink.body);
  return r;
}

Result<std::unique_ptr<DockerRuntime>> DockerRuntime::connect(const std::string& endpoint,
                                                              std::chrono::milliseconds timeout) {
  // curl_global_init is not thread-safe; connect runs before any worker thread exists, so
  // initializing here keeps the later concurrent removals from racing on it.
  static const bool curl_ready = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
  if (!curl_ready) return fail("connect to " + endpoint + ": libcurl could not be initialized");
  std::string path;
  if (endpoint.starts_with("unix://")) {
    path = endpoint.substr(7);
  } else if (endpoint.starts_with("/")) {
    path = endpoint;
  } else {
    return fail(fmt::format("connect to Docker {}: only unix sockets are supported (unix:///var/run/docker.sock)",
                            endpoint));
  }
  if (path.empty() || path.front() != '/')
    return fail(fmt::format("connect to Docker {}: the socket path must be absolute", endpoint));
  const std::string shown = endpoint.starts_with("unix://") ? endpoint : "unix://" + endpoint;
  std::unique_ptr<DockerRuntime> rt(new DockerRuntime(shown, path, timeout));

  auto ping = rt->call("ping", "GET", "/_ping", false);
  if (!ping) return std::unexpected(ping.error());
  if (ping->status != 200) return std::unexpected(rt->http_error("ping", *ping));

  auto version = rt->call("read the version", "GET", "/version", false);
  if (!version) return std::unexpected(version.error());
  if (version->status != 200) return std::unexpected(rt->http_error("read the version", *version));
  auto j = json::parse(version->body, nullptr, false);
  if (!j.is_object()) return std::unexpected(rt->error("read the version", "the answer is not a JSON object"));
  auto api = docker::negotiate_api_version(string_or(j, "ApiVersion"));
  if (!api) return std::unexpected(rt->error("negotiate the API version", api.error().message));
  rt->api_version_ = *api;
  rt->info_.version = string_or(j, "Version", "unknown");
  return rt;
}

Result<json> DockerRuntime::get_array(std::string_view action, const std::string& path) const {
  auto r = call(action, "GET", path);
  if (!r) return std::unexpected(r.error());
  if (r->status != 200) return std::unexpected(http_error(action, *r));
  auto j = json::parse(r->body, nullptr, false);
  if (!j.is_array()) return std::unexpected(error(action, "the answer is not a JSON array"));
  return j;
}

namespace {

// One entry of GET /images/json; nothing for an entry without an id.
std::optional<gc::Image> image_of(const json& e) {
  gc::Image img;
  img.id = string_or(e, "Id");
  if (img.id.empty()) return std::nullopt;
  for (auto& t : strings_of(e, "RepoTags"))
    if (t != "<none>:<none>") img.tags.push_back(std::move(t));
  for (auto& d : strings_of(e, "RepoDigests"))
    if (!d.starts_with("<none>@")) img.digests.push_back(std::move(d));
  if (auto it = e.find("Size"); it != e.end() && it->is_number_integer() && it->get<std::int64_t>() > 0)
    img.size = static_cast<std::uint64_t>(it->get<std::int64_t>());
  img.pinned = false;
  return img;
}

// One entry of GET /containers/json?all=1; nothing for an entry without an id.
std::optional<gc::Container> container_of(const json& e) {
  gc::Container c;
  c.id = string_or(e, "Id");
  if (c.id.empty()) return std::nullopt;
  if (auto names = strings_of(e, "Names"); !names.empty()) {
    c.name = names.front();
    if (c.name.starts_with('/')) c.name.erase(0, 1);
  }
  c.image = string_or(e, "Image");
  c.image_id = string_or(e, "ImageID");
  c.state = docker::container_state(string_or(e, "State"));
  if (auto it = e.find("Created"); it != e.end() && it->is_number_integer()) c.created_at = it->get<gc::Seconds>();
  return c;
}

// The records `parse` makes of the array's objects; anything else is passed over.
template <class Parse>
auto records_of(const json& array, Parse parse) {
  std::vector<typename decltype(parse(array))::value_type> out;
  out.reserve(array.size());
  for (const auto& e : array)
    if (e.is_object())
      if (auto record = parse(e)) out.push_back(std::move(*record));
  return out;
}

}  // namespace

Result<std::vector<gc::Image>> DockerRuntime::list_images() {
  auto j = get_array("list images", "/images/json");
  if (!j) return std::unexpected(j.error());
  std::vector<gc::Image> out = records_of(*j, image_of);
  // /images/json's Size counts every layer, also those the image shares with others (a base
  // image's layers count in each image built on it), so removing an image frees less than
  // its Size and the threshold phase would plan too few removals and stop above low.
  // /system/df reports each image's SharedSize; Size - SharedSize is what deleting the image
  // alone frees (an underestimate when all the images sharing a layer go, which is the safe
  // side: removal stops once re-measured usage is below low). Best effort: Size otherwise.
  if (!out.empty())
    if (auto df = call("read the image disk usage", "GET", "/system/df"); df && df->status == 200)
      apply_unique_sizes(df->body, out);
  return out;
}

Result<std::vector<gc::Container>> DockerRuntime::list_containers() {
  auto j = get_array("list containers", "/containers/json?all=1");
  if (!j) return std::unexpected(j.error());
  return records_of(*j, container_of);
}

Result<std::vector<gc::Sandbox>> DockerRuntime::list_sandboxes() { return std::vector<gc::Sandbox>{}; }

Result<std::vector<std::string>> DockerRuntime::sandbox_images() { return std::vector<std::string>{}; }

Result<std::string> DockerRuntime::image_filesystem() {
  constexpr std::string_view action = "read the data root";
  auto r = call(action, "GET", "/info");
  if (!r) return std::unexpected(r.error());
  if (r->status != 200) return std::unexpected(http_error(action, *r));
  auto j = json::parse(r->body, nullptr, false);
  const std::string root = j.is_object() ? string_or(j, "DockerRootDir") : std::string();
  if (root.empty()) return std::unexpected(error(action, "/info names no DockerRootDir"));
  return root;
}

Result<ImageRuntime::Outcome> DockerRuntime::remove_container(const std::string& id) {
  const std::string action = fmt::format("remove container \"{}\"", id);
  if (id.empty()) return std::unexpected(error(action, "empty container id"));
  auto r = call(action, "DELETE", "/containers/" + path_part(id) + "?v=1");
  if (!r) return std::unexpected(r.error());
  switch (r->status) {
    case 200:
    case 204: return Outcome::Removed;
    case 404: return Outcome::NotFound;
    case 409: return Outcome::InUse;
    default: return std::unexpected(http_error(action, *r));
  }
}

Result<ImageRuntime::Outcome> DockerRuntime::remove_sandbox(const std::string&) { return Outcome::NotFound; }

namespace docker {

std::set<std::string> parent_ids_of(const json& all_images) {
  std::set<std::string> parents;
  if (!all_images.is_array()) return parents;
  for (const auto& e : all_images)
    if (e.is_object())
      if (std::string parent = string_or(e, "ParentId"); !parent.empty()) parents.insert(std::move(parent));
  return parents;
}

std::optional<ImageRuntime::Outcome> blocked_by(const std::string& id, const NodeListing& listing) {
  for (const auto& c : listing.containers)
    if (c.image_id == id || c.image == id) return ImageRuntime::Outcome::InUse;
  if (listing.parents.contains(id)) return ImageRuntime::Outcome::HasDependents;
  return std::nullopt;
}

RemovalOrder children_first(const std::vector<gc::Image>& images, const std::set<std::string>& parents) {
  RemovalOrder order;
  for (std::size_t i = 0; i < images.size(); ++i) (parents.contains(images[i].id) ? order.then : order.first).push_back(i);
  return order;
}

bool deletes_image(std::string_view body, const std::string& id) {
  auto j = json::parse(body, nullptr, false);
  if (!j.is_array() || id.empty()) return false;
  return std::any_of(j.begin(), j.end(), [&](const json& e) { return e.is_object() && string_or(e, "Deleted") == id; });
}

}  // namespace docker

Result<docker::NodeListing> DockerRuntime::take_listing() const {
  auto containers = get_array("list containers", "/containers/json?all=1");
  if (!containers) return std::unexpected(containers.error());
  // all=1: the intermediate images (untagged parents) too, which /images/json hides.
  auto images = get_array("list images with their parents", "/images/json?all=1");
  if (!images) return std::unexpected(images.error());
  return docker::NodeListing{.containers = records_of(*containers, container_of), .parents = docker::parent_ids_of(*images)};
}

Result<ImageRuntime::Outcome> DockerRuntime::remove_image(const gc::Image& image) {
  auto listing = take_listing();
  if (!listing) return std::unexpected(context(fmt::format("remove image \"{}\"", image.id), listing.error()));
  return remove_listed(image, *listing);
}

Result<ImageRuntime::Outcome> DockerRuntime::remove_listed(const gc::Image& image, const docker::NodeListing& listing) const {
  const std::string action = fmt::format("remove image \"{}\"", image.id);
  if (image.id.empty()) return std::unexpected(error(action, "empty image id"));
  const std::string id_path = "/images/" + path_part(image.id);

  // The daemon's current view of the image: its references may have changed since listing.
  auto inspect = call(action, "GET", id_path + "/json");
  if (!inspect) return std::unexpected(inspect.error());
  if (inspect->status == 404) return Outcome::NotFound;
  if (inspect->status != 200) return std::unexpected(http_error(action, *inspect));
  auto j = json::parse(inspect->body, nullptr, false);
  if (!j.is_object()) return std::unexpected(error(action, "image inspect answered no JSON object"));
  const std::string full_id = string_or(j, "Id", image.id);

  // An image some container uses, or that other images are built on (Docker refuses to
  // delete a parent, but only after its tags are gone), stays whole: untagging it first
  // would strip its names and still fail on the id.
  if (auto blocked = docker::blocked_by(full_id, listing)) return *blocked;

  // Every name (tags, then digests) goes first; deleting the last one may already delete
  // the image. Then the id itself. noprune: deleting it never takes an untagged parent
  // along (an image removed without being counted); that parent is listed afterwards, as
  // a dangling image, and judged on its own.
  std::vector<std::string> refs;
  std::set<std::string> seen;
  for (const auto& list : {strings_of(j, "RepoTags"), image.tags, strings_of(j, "RepoDigests"), image.digests}) {
    for (const auto& ref : list) {
      if (ref == "<none>:<none>" || ref.starts_with("<none>@") || !seen.insert(ref).second) continue;
      refs.push_back(ref);
    }
  }
  std::vector<std::string> untagged;
  // A refusal after some names went (a container or a child image appeared since the
  // listing): the tags go back, so the image is left as it was found. The refused one too:
  // refusing for a child, dockerd has already untagged it (putting back a tag the image
  // still has changes nothing).
  auto refused = [&](const Response& r, const std::string* ref) -> Result<Outcome> {
    if (ref && ref->find('@') == std::string::npos) untagged.push_back(*ref);
    if (auto back = retag(full_id, untagged); !back) return std::unexpected(context(action, back.error()));
    return daemon_message(r.body).find("child") != std::string::npos ? Outcome::HasDependents : Outcome::InUse;
  };
  for (const auto& ref : refs) {
    auto r = call(action, "DELETE", "/images/" + path_part(ref) + "?noprune=1");
    if (!r) return std::unexpected(r.error());
    if (r->status == 200) {
      // The last name took the image with it: nothing more to ask.
      if (docker::deletes_image(r->body, full_id)) return Outcome::Removed;
      if (ref.find('@') == std::string::npos) untagged.push_back(ref);
      continue;
    }
    if (r->status == 404) continue;
    if (r->status == 409) return refused(*r, &ref);
    return std::unexpected(http_error(fmt::format("{}: delete reference \"{}\"", action, ref), *r));
  }
  auto del = call(action, "DELETE", id_path + "?noprune=1");
  if (!del) return std::unexpected(del.error());
  if (del->status == 409) return refused(*del, nullptr);
  if (del->status != 200 && del->status != 404) return std::unexpected(http_error(action, *del));
  if (del->status == 200 && docker::deletes_image(del->body, full_id)) return Outcome::Removed;

  auto after = call(action, "GET", id_path + "/json");
  if (!after) return std::unexpected(after.error());
  if (after->status == 404) return Outcome::Removed;
  if (after->status == 200)
    return std::unexpected(error(action, "the image is still present after deleting its references and id"));
  return std::unexpected(http_error(action, *after));
}

Result<void> DockerRuntime::retag(const std::string& id, const std::vector<std::string>& tags) const {
  for (const auto& t : tags) {
    auto name = docker::parse_image_name(t);
    if (!name) return std::unexpected(name.error());
    const std::string action = fmt::format("put tag \"{}\" back on image \"{}\"", t, id);
    auto r = call(action, "POST",
                  "/images/" + path_part(id) + "/tag?repo=" + docker::url_encode(name->repository) +
                      "&tag=" + docker::url_encode(name->tag));
    if (!r) return std::unexpected(r.error());
    if (r->status != 200 && r->status != 201) return std::unexpected(http_error(action, *r));
  }
  return {};
}

void DockerRuntime::remove_all_listed(const std::vector<gc::Image>& images, const std::vector<std::size_t>& at,
                                      const docker::NodeListing& listing, int concurrency,
                                      std::vector<Result<Outcome>>& out, std::optional<Error>& gone) const {
  std::mutex mutex;
  parallel_for(at.size(), concurrency, [&](std::size_t k) {
    {
      std::lock_guard lock(mutex);
      if (gone) {
        out[at[k]] = std::unexpected(*gone);
        return;
      }
    }
    auto r = remove_listed(images[at[k]], listing);
    std::lock_guard lock(mutex);
    if (!r && r.error().unreachable && !gone) gone = r.error();
    out[at[k]] = std::move(r);
  });
}

std::vector<Result<ImageRuntime::Outcome>> DockerRuntime::remove_images(const std::vector<gc::Image>& images,
                                                                         int concurrency) {
  std::vector<Result<Outcome>> out(images.size(), Outcome::NotFound);
  if (images.empty()) return out;
  // One listing for the batch (see the class comment: the daemon's refusal is the safety
  // net for what changes after it).
  auto listing = take_listing();
  if (!listing) {
    for (std::size_t i = 0; i < images.size(); ++i)
      out[i] = std::unexpected(context(fmt::format("remove image \"{}\"", images[i].id), listing.error()));
    return out;
  }
  // Children before their parents: a parent removed in the same batch as an image built on
  // it would otherwise be refused whenever it came first.
  const auto order = docker::children_first(images, listing->parents);
  std::optional<Error> gone;
  remove_all_listed(images, order.first, *listing, concurrency, out, gone);
  if (order.then.empty()) return out;
  // The parents' children may have gone just now: a fresh listing says which are free.
  if (!gone) {
    if (auto fresh = take_listing()) {
      *listing = std::move(*fresh);
    } else {
      gone = context("list images before removing parents", fresh.error());
    }
  }
  remove_all_listed(images, order.then, *listing, concurrency, out, gone);
  return out;
}

Result<std::string> DockerRuntime::pull_image(const std::string& reference) {
  const std::string action = fmt::format("pull image \"{}\"", reference);
  auto name = docker::parse_image_name(reference);
  if (!name) return std::unexpected(error(action, name.error().message));
  const std::string path = "/images/create?fromImage=" + docker::url_encode(name->repository) +
                           "&tag=" + docker::url_encode(name->digest.empty() ? name->tag : name->digest);
  std::string stream_error;
  std::string head;  // the start of the stream: an error status carries one JSON document
  std::function<void(std::string_view)> on_line = [&](std::string_view line) {
    if (head.size() < 4096) head.append(line.substr(0, 4096)).append("\n");
    if (!stream_error.empty()) return;
    auto e = json::parse(line, nullptr, false);
    if (!e.is_object()) return;
    if (auto it = e.find("errorDetail"); it != e.end() && it->is_object()) {
      stream_error = string_or(*it, "message");
    }
    if (stream_error.empty() && e.contains("error")) {
      stream_error = e["error"].is_string() ? e["error"].get<std::string>() : e["error"].dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    }
  };
  auto r = call(action, "POST", path, true, &on_line);
  if (!r) return std::unexpected(r.error());
  if (r->status != 200) {
    return std::unexpected(http_error(action, Response{r->status, head}));
  }
  if (!stream_error.empty()) return std::unexpected(error(action, stream_error));

  auto inspect = call(action, "GET", "/images/" + path_part(name->reference()) + "/json");
  if (!inspect) return std::unexpected(inspect.error());
  if (inspect->status != 200)
    return std::unexpected(http_error(fmt::format("{}: inspect \"{}\"", action, name->reference()), *inspect));
  auto j = json::parse(inspect->body, nullptr, false);
  const std::string id = j.is_object() ? string_or(j, "Id") : std::string();
  if (id.empty()) return std::unexpected(error(action, "the pulled image has no id"));
  return id;
}

}  // namespace nodeimg
