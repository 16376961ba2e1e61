// DockerRuntime against a real dockerd (tests/harness/dockerd: private data root on a
// tmpfs, private exec root, socket and containerd), with images from make-images, real
// containers in the created, running and exited states and, when the registry harness is
// available, pulls from a local registry; and against a scripted fake daemon. The adapter's
// pure helpers are tested in unit/docker_helpers_test.cpp.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <string>
#include <thread>

#include "adapters/runtime/docker_runtime.hpp"
#include "support/containerd.hpp"
#include "support/dockerd.hpp"
#include "support/files.hpp"
#include "support/registry.hpp"

namespace nt = nodeimg::testing;
using nodeimg::DockerRuntime;
using nodeimg::ImageRuntime;
using Outcome = nodeimg::ImageRuntime::Outcome;
using namespace std::chrono;
namespace gc = nodeimg::gc;
namespace docker = nodeimg::docker;

// ---- connecting -----------------------------------------------------------------------

TEST(DockerConnect, MissingSocketNamesIt) {
  const std::string path = "/tmp/nodeimg-no-such-dir-" + std::to_string(::getpid()) + "/docker.sock";
  auto rt = DockerRuntime::connect("unix://" + path, seconds(2));
  ASSERT_FALSE(rt);
  const auto& msg = rt.error().message;
  EXPECT_NE(msg.find("unix://" + path), std::string::npos) << msg;
  EXPECT_NE(msg.find("no such socket"), std::string::npos) << msg;
  EXPECT_NE(msg.find("dockerd"), std::string::npos) << msg;
}

TEST(DockerConnect, RefusingSocketNamesIt) {
  // A socket file with no listener behind it: connection refused.
  const std::string dir = "/tmp/nodeimg-dead-sock-" + std::to_string(::getpid());
  std::filesystem::create_directories(dir);
  const std::string path = dir + "/docker.sock";
  auto r = nt::run({"python3", "-c", "import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])", path});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto rt = DockerRuntime::connect("unix://" + path, seconds(2));
  std::filesystem::remove_all(dir);
  ASSERT_FALSE(rt);
  EXPECT_NE(rt.error().message.find("unix://" + path), std::string::npos) << rt.error().message;
  EXPECT_NE(rt.error().message.find("cannot connect"), std::string::npos) << rt.error().message;
}

TEST(DockerConnect, RejectsNonUnixEndpoints) {
  auto rt = DockerRuntime::connect("tcp://127.0.0.1:2375", seconds(1));
  ASSERT_FALSE(rt);
  EXPECT_NE(rt.error().message.find("tcp://127.0.0.1:2375"), std::string::npos);
}

// ---- against a scripted daemon: what a real one does only under failure ----------------

namespace {

// A tiny HTTP server on a unix socket that speaks a newer API than the adapter knows,
// streams a pull failure with HTTP 200 and fails container removal with a 500. It logs
// every request line, so the version prefix can be checked.
constexpr const char* kFakeDaemon = R"PY(
import http.server, json, socketserver, sys
sock, log = sys.argv[1], sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def reply(self, code, body, ctype="application/json"):
        b = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(b)))
        self.end_headers()
        self.wfile.write(b)
    def route(self):
        with open(log, "a") as f:
            f.write(self.command + " " + self.path + "\n")
        p = self.path
        if p == "/_ping": return self.reply(200, "OK", "text/plain")
        if p == "/version":
            return self.reply(200, json.dumps({"Version": "99.1.0", "ApiVersion": "1.45", "MinAPIVersion": "1.24"}))
        if p.startswith("/v1.41/images/create"):
            return self.reply(200, '{"status":"Pulling from x"}\n{"status":"Downloading","progress":"[=>  ]"}\n'
                                   '{"errorDetail":{"message":"layer sha256:ab broke"},"error":"layer sha256:ab broke"}\n')
        if p.startswith("/v1.41/containers/"):
            return self.reply(500, json.dumps({"message": "driver \"overlay2\" failed to remove root filesystem"}))
        return self.reply(404, json.dumps({"message": "page not found"}))
    do_GET = do_POST = do_DELETE = route
    def log_message(self, *a): pass
class S(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
S(sock, H).serve_forever()
)PY";

class FakeDaemon {
 public:
  FakeDaemon() {
    dir_ = nt::make_temp_dir("nodeimg-fake-docker").string();
    socket_ = dir_ + "/docker.sock";
    log_ = dir_ + "/requests.log";
    pid_ = ::fork();
    if (pid_ == 0) {
      ::execlp("python3", "python3", "-c", kFakeDaemon, socket_.c_str(), log_.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    // Up to 20 s: python3 starts slowly on a loaded 2-core machine.
    for (int i = 0; i < 1000 && !std::filesystem::exists(socket_); ++i) std::this_thread::sleep_for(milliseconds(20));
  }
  ~FakeDaemon() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::string endpoint() const { return "unix://" + socket_; }
  std::string requests() const { return nt::read_file(log_); }

 private:
  std::string dir_, socket_, log_;
  pid_t pid_ = -1;
};

}  // namespace

TEST(DockerScripted, CapsTheVersionAndDetectsStreamedErrors) {
  FakeDaemon fake;
  auto rt = DockerRuntime::connect(fake.endpoint(), seconds(5));
  ASSERT_TRUE(rt) << rt.error().message;
  EXPECT_EQ(rt->get()->api_version(), std::string(docker::kNewestApiVersion));
  EXPECT_EQ(rt->get()->info().version, "99.1.0");

  auto pulled = rt->get()->pull_image("example.com/a b:1");  // not a reference: refused locally
  ASSERT_FALSE(pulled);
  pulled = rt->get()->pull_image("example.com/app:1");
  ASSERT_FALSE(pulled);
  EXPECT_EQ(pulled.error().message,
            "pull image \"example.com/app:1\" via Docker " + fake.endpoint() + ": layer sha256:ab broke");

  auto removed = rt->get()->remove_container("abc");
  ASSERT_FALSE(removed);
  EXPECT_EQ(removed.error().message, "remove container \"abc\" via Docker " + fake.endpoint() +
                                         ": 500 server error: driver \"overlay2\" failed to remove root filesystem");

  const auto log = fake.requests();
  EXPECT_NE(log.find("POST /v1.41/images/create?fromImage=example.com%2Fapp&tag=1\n"), std::string::npos) << log;
  EXPECT_NE(log.find("DELETE /v1.41/containers/abc?v=1\n"), std::string::npos) << log;
}

// ---- against a real dockerd -----------------------------------------------------------------

namespace {

const gc::Image* find_by_tag(const std::vector<gc::Image>& images, const std::string& tag) {
  for (const auto& i : images)
    if (std::find(i.tags.begin(), i.tags.end(), tag) != i.tags.end()) return &i;
  return nullptr;
}

const gc::Container* find_container(const std::vector<gc::Container>& cs, const std::string& id) {
  for (const auto& c : cs)
    if (c.id == id) return &c;
  return nullptr;
}

}  // namespace

class DockerRuntimeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    work_ = nt::make_temp_dir("nodeimg-docker-test").string();
    const std::string tar = work_ + "/images.tar";
    nt::make_images(tar, {"example.com/nodeimg/multi:1", "example.com/nodeimg/used:1", "example.com/nodeimg/run:1",
                          "example.com/nodeimg/keep:1=64KiB", "example.com/nodeimg/gone:1",
                          "example.com/nodeimg/racing:1", "example.com/nodeimg/racing-listed:1",
                          "example.com/nodeimg/racing-child:1"});
    dockerd_ = nt::DockerdInstance::boot().release();
    std::fprintf(stderr, "dockerd booted in %.2f s (storage driver %s)\n", dockerd_->boot_seconds(),
                 dockerd_->storage_driver().c_str());
    const auto t0 = steady_clock::now();
    dockerd_->load(tar);
    std::fprintf(stderr, "docker load of 5 images: %ld ms\n",
                 static_cast<long>(duration_cast<milliseconds>(steady_clock::now() - t0).count()));
  }
  static void TearDownTestSuite() {
    if (dockerd_) {
      const std::string state = dockerd_->state_dir();
      EXPECT_EQ(dockerd_->stop(), 0);
      delete dockerd_;
      dockerd_ = nullptr;
      EXPECT_FALSE(nt::mounted_under(state)) << "mounts left under " << state;
      EXPECT_FALSE(std::filesystem::exists(state)) << state;
    }
    std::error_code ec;
    std::filesystem::remove_all(work_, ec);
  }

  void SetUp() override {
    ASSERT_NE(dockerd_, nullptr);
    auto rt = DockerRuntime::connect(dockerd_->endpoint(), seconds(30));
    ASSERT_TRUE(rt) << rt.error().message;
    rt_ = std::move(*rt);
  }

  static nt::DockerdInstance* dockerd_;
  static std::string work_;
  std::unique_ptr<DockerRuntime> rt_;
};

nt::DockerdInstance* DockerRuntimeTest::dockerd_ = nullptr;
std::string DockerRuntimeTest::work_;

TEST_F(DockerRuntimeTest, ConnectsAndNegotiatesTheApiVersion) {
  EXPECT_EQ(rt_->info().kind, "docker");
  EXPECT_EQ(rt_->info().name, "docker");
  EXPECT_EQ(rt_->info().endpoint, dockerd_->endpoint());
  EXPECT_TRUE(rt_->info().version.starts_with("20.10")) << rt_->info().version;
  EXPECT_EQ(rt_->api_version(), "1.41");
  // A bare path is accepted and shown as unix://.
  auto bare = DockerRuntime::connect(dockerd_->socket_path(), seconds(5));
  ASSERT_TRUE(bare) << bare.error().message;
  EXPECT_EQ(bare->get()->info().endpoint, dockerd_->endpoint());
}

TEST_F(DockerRuntimeTest, ListsImagesWithTags) {
  auto images = rt_->list_images();
  ASSERT_TRUE(images) << images.error().message;
  const auto* keep = find_by_tag(*images, "example.com/nodeimg/keep:1");
  ASSERT_NE(keep, nullptr);
  EXPECT_EQ(keep->id, dockerd_->image_id("example.com/nodeimg/keep:1"));
  EXPECT_TRUE(keep->id.starts_with("sha256:")) << keep->id;
  EXPECT_GT(keep->size, 64u * 1024);
  EXPECT_FALSE(keep->pinned);
  EXPECT_TRUE(keep->digests.empty());  // loaded, not pulled
  for (const auto& i : *images) {
    for (const auto& t : i.tags) EXPECT_NE(t, "<none>:<none>");
    for (const auto& d : i.digests) EXPECT_FALSE(d.starts_with("<none>@")) << d;
  }
  EXPECT_TRUE(rt_->list_sandboxes().value().empty());
  EXPECT_TRUE(rt_->sandbox_images().value().empty());
}

TEST_F(DockerRuntimeTest, ListsContainersInEveryState) {
  const std::string image = "example.com/nodeimg/run:1";
  const std::string image_id = dockerd_->image_id(image);
  const auto created = dockerd_->create_container(image, "state-created", {"sleep", "1000"});
  const auto running = dockerd_->create_container(image, "state-running", {"sleep", "1000"});
  dockerd_->start(running);
  const auto exited = dockerd_->create_container(image_id, "state-exited", {"sh", "-c", "exit 3"});
  dockerd_->start(exited);
  EXPECT_EQ(dockerd_->wait_until_exited(exited), 3);

  auto cs = rt_->list_containers();
  ASSERT_TRUE(cs) << cs.error().message;
  struct Expected {
    std::string name;
    gc::ContainerState state;
  };
  const std::map<std::string, Expected> want = {
      {created, {.name = "state-created", .state = gc::ContainerState::Created}},
      {running, {.name = "state-running", .state = gc::ContainerState::Running}},
      {exited, {.name = "state-exited", .state = gc::ContainerState::Exited}}};
  const auto now = duration_cast<seconds>(system_clock::now().time_since_epoch()).count();
  for (const auto& [id, expected] : want) {
    const auto* c = find_container(*cs, id);
    ASSERT_NE(c, nullptr) << expected.name;
    EXPECT_EQ(c->name, expected.name);
    EXPECT_EQ(c->state, expected.state) << expected.name;
    EXPECT_EQ(c->image_id, image_id) << expected.name;
    EXPECT_EQ(c->sandbox_id, "");
    EXPECT_NEAR(static_cast<double>(c->created_at), static_cast<double>(now), 120.0);
  }
  EXPECT_EQ(find_container(*cs, created)->image, image);
  EXPECT_EQ(find_container(*cs, exited)->image, image_id);

  // A running container is refused, never forced.
  auto r = rt_->remove_container(running);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*r, Outcome::InUse);
  EXPECT_EQ(dockerd_->container_status(running), "running");
  // So is the image of any container, in any state; nothing is untagged.
  const gc::Image img{image_id, {image}, {}, 0, false};
  auto ri = rt_->remove_image(img);
  ASSERT_TRUE(ri) << ri.error().message;
  EXPECT_EQ(*ri, Outcome::InUse);
  EXPECT_EQ(dockerd_->image_id(image), image_id);

  dockerd_->api("POST", "/containers/" + running + "/kill");
  dockerd_->wait_until_exited(running);
  for (const auto& id : {created, running, exited}) EXPECT_EQ(rt_->remove_container(id).value(), Outcome::Removed);
}

TEST_F(DockerRuntimeTest, RemovesAnExitedContainer) {
  const auto id = dockerd_->create_container("example.com/nodeimg/run:1", "exited-to-remove", {"true"});
  dockerd_->start(id);
  dockerd_->wait_until_exited(id);
  auto r = rt_->remove_container(id);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*r, Outcome::Removed);
  EXPECT_EQ(dockerd_->container_status(id), "");
  r = rt_->remove_container(id);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*r, Outcome::NotFound);
}

TEST_F(DockerRuntimeTest, RemovesAnUnusedImageWithAllItsTags) {
  const std::string id = dockerd_->image_id("example.com/nodeimg/multi:1");
  ASSERT_FALSE(id.empty());
  dockerd_->tag(id, "example.com/nodeimg/multi", "2");
  dockerd_->tag(id, "other.example.com/multi", "latest");
  auto images = rt_->list_images();
  ASSERT_TRUE(images) << images.error().message;
  const auto* multi = find_by_tag(*images, "example.com/nodeimg/multi:1");
  ASSERT_NE(multi, nullptr);
  EXPECT_EQ(multi->tags.size(), 3u);
  // Plain deletion by id needs force with several tags: the adapter must not need it.
  EXPECT_EQ(dockerd_->request("DELETE", "/images/" + id).status, 409);

  const auto t0 = steady_clock::now();
  auto r = rt_->remove_image(*multi);
  const auto ms = duration_cast<milliseconds>(steady_clock::now() - t0).count();
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*r, Outcome::Removed);
  std::fprintf(stderr, "remove_image with 3 tags: %ld ms\n", static_cast<long>(ms));
  EXPECT_EQ(dockerd_->image_id(id), "");
  for (const auto* t : {"example.com/nodeimg/multi:1", "example.com/nodeimg/multi:2", "other.example.com/multi:latest"})
    EXPECT_EQ(dockerd_->image_id(t), "") << t;
  auto again = rt_->remove_image(*multi);
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(*again, Outcome::NotFound);
}

TEST_F(DockerRuntimeTest, RefusesAnImageUsedByAStoppedContainer) {
  const std::string tag = "example.com/nodeimg/used:1";
  const std::string id = dockerd_->image_id(tag);
  dockerd_->tag(id, "example.com/nodeimg/used", "2");
  const auto c = dockerd_->create_container(tag, "uses-image", {"true"});
  dockerd_->start(c);
  dockerd_->wait_until_exited(c);

  auto images = rt_->list_images();
  ASSERT_TRUE(images);
  const auto* used = find_by_tag(*images, tag);
  ASSERT_NE(used, nullptr);
  auto r = rt_->remove_image(*used);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*r, Outcome::InUse);
  // Still there, with both tags.
  EXPECT_EQ(dockerd_->image_id(tag), id);
  EXPECT_EQ(dockerd_->image_id("example.com/nodeimg/used:2"), id);

  // Once the container is gone, the image goes.
  EXPECT_EQ(rt_->remove_container(c).value(), Outcome::Removed);
  r = rt_->remove_image(*used);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*r, Outcome::Removed);
  EXPECT_EQ(dockerd_->image_id(id), "");
}

namespace {

// An interposer on the Engine API socket in front of the real dockerd: it forwards every
// request, and right after the first successful DELETE of a tag of the repository it creates
// a container from the image (by id) through the real daemon — a container that appears between
// the adapter's first untag and its last, which no pre-check can see.
constexpr const char* kRacingProxy = R"PY(
import http.client, http.server, json, socket, socketserver, sys, urllib.parse
listen, upstream, repository, image_id = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
# delete: after the first untag of the repository, create a container from the image.
# containers: right after answering the first container listing, the same (the listing is stale).
# child: right after the first listing of every image (all=1), build a child image on it
# (commit of a container made from it, the container then removed): the listing is stale.
mode = sys.argv[5] if len(sys.argv) > 5 else "delete"
fired = []
class Upstream(http.client.HTTPConnection):
    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.connect(upstream)
def forward(method, path, body=None, headers=None):
    c = Upstream("docker")
    c.request(method, path, body=body, headers=headers or {})
    r = c.getresponse()
    return r.status, r.getheader("Content-Type", "application/json"), r.read()
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def route(self):
        n = int(self.headers.get("Content-Length", "0") or 0)
        body = self.rfile.read(n) if n else None
        headers = {"Content-Type": self.headers["Content-Type"]} if self.headers["Content-Type"] else {}
        status, ctype, data = forward(self.command, self.path, body, headers)
        name = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path.split("/images/", 1)[-1])
        if mode == "delete":
            trigger = self.command == "DELETE" and "/images/" in self.path and status == 200 and \
                name.startswith(repository + ":")
        elif mode == "containers":
            trigger = self.command == "GET" and "/containers/json" in self.path
        else:
            trigger = self.command == "GET" and "/images/json" in self.path and "all=1" in self.path
        if trigger and not fired:
            fired.append(name)
            spec = json.dumps({"Image": image_id, "Cmd": ["true"], "HostConfig": {"NetworkMode": "none"}})
            _, _, made = forward("POST", "/containers/create?name=racer", spec, {"Content-Type": "application/json"})
            if mode == "child":
                cid = json.loads(made)["Id"]
                forward("POST", "/commit?container=" + cid + "&repo=" + repository + "-built-on&tag=1")
                forward("DELETE", "/containers/" + cid)
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
    do_GET = do_POST = do_DELETE = do_HEAD = route
    def log_message(self, *a): pass
class S(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
S(listen, H).serve_forever()
)PY";

}  // namespace

// The adapter untags first and deletes the id last; a container created in between makes
// dockerd refuse the last name (409). The tags it already took go back, so the image is
// left as it was found, and the outcome is "in use" — never a nameless image reported as
// skipped.
TEST_F(DockerRuntimeTest, TagsTakenBeforeARefusalArePutBack) {
  const std::string trigger = "example.com/nodeimg/racing:1";
  const std::string id = dockerd_->image_id(trigger);
  ASSERT_FALSE(id.empty());
  dockerd_->tag(id, "example.com/nodeimg/racing", "2");
  dockerd_->tag(id, "example.com/nodeimg/racing", "3");
  const std::string dir = nt::make_temp_dir("nodeimg-docker-racing").string();
  const std::string sock = dir + "/docker.sock";
  const pid_t proxy = ::fork();
  if (proxy == 0) {
    ::execlp("python3", "python3", "-c", kRacingProxy, sock.c_str(), dockerd_->socket_path().c_str(),
             "example.com/nodeimg/racing", id.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  for (int i = 0; i < 1000 && !std::filesystem::exists(sock); ++i) std::this_thread::sleep_for(milliseconds(20));
  auto through_proxy = DockerRuntime::connect("unix://" + sock, seconds(30));
  std::optional<nodeimg::Result<Outcome>> outcome;
  if (through_proxy) {
    auto images = through_proxy->get()->list_images();
    if (images && find_by_tag(*images, trigger)) outcome = through_proxy->get()->remove_image(*find_by_tag(*images, trigger));
  }
  ::kill(proxy, SIGKILL);
  ::waitpid(proxy, nullptr, 0);
  std::filesystem::remove_all(dir);
  ASSERT_TRUE(through_proxy) << through_proxy.error().message;
  ASSERT_TRUE(outcome.has_value()) << "the image was not listed through the interposer";
  ASSERT_TRUE(*outcome) << outcome->error().message;
  EXPECT_EQ(**outcome, Outcome::InUse);
  // The container really appeared mid-removal, and every tag is back on the image.
  EXPECT_EQ(dockerd_->container_status("racer"), "created");
  for (const auto* tag : {"example.com/nodeimg/racing:1", "example.com/nodeimg/racing:2", "example.com/nodeimg/racing:3"})
    EXPECT_EQ(dockerd_->image_id(tag), id) << tag << " was not put back";
  EXPECT_EQ(rt_->remove_container("racer").value(), Outcome::Removed);
}

namespace {

struct ProxiedBatch {
  std::optional<nodeimg::Result<Outcome>> outcome;  // of the one image, through remove_images
  std::string connect_error;
};

// remove_images({the image tagged `trigger`}) through the interposer in `mode`.
ProxiedBatch remove_through_proxy(nt::DockerdInstance& dockerd, DockerRuntime& direct, const std::string& trigger,
                                  const std::string& repository, const std::string& id, const char* mode) {
  const std::string dir = nt::make_temp_dir("nodeimg-docker-racing").string();
  const std::string sock = dir + "/docker.sock";
  const pid_t proxy = ::fork();
  if (proxy == 0) {
    ::execlp("python3", "python3", "-c", kRacingProxy, sock.c_str(), dockerd.socket_path().c_str(), repository.c_str(),
             id.c_str(), mode, static_cast<char*>(nullptr));
    ::_exit(127);
  }
  for (int i = 0; i < 1000 && !std::filesystem::exists(sock); ++i) std::this_thread::sleep_for(milliseconds(20));
  ProxiedBatch out;
  auto through_proxy = DockerRuntime::connect("unix://" + sock, seconds(30));
  auto images = direct.list_images();  // not through the interposer: its first listing is the batch's
  if (!through_proxy) {
    out.connect_error = through_proxy.error().message;
  } else if (images && find_by_tag(*images, trigger)) {
    auto results = through_proxy->get()->remove_images({*find_by_tag(*images, trigger)}, 1);
    if (results.size() == 1) out.outcome = std::move(results[0]);
  }
  ::kill(proxy, SIGKILL);
  ::waitpid(proxy, nullptr, 0);
  std::filesystem::remove_all(dir);
  return out;
}

}  // namespace

// remove_images lists containers and parents once per batch; a container created right
// after that listing is not in it, and dockerd's own refusal (never forced) keeps the
// image: every tag is back, the outcome is InUse.
TEST_F(DockerRuntimeTest, AContainerCreatedAfterTheBatchListingStillKeepsTheImage) {
  const std::string repository = "example.com/nodeimg/racing-listed";
  const std::string id = dockerd_->image_id(repository + ":1");
  ASSERT_FALSE(id.empty());
  dockerd_->tag(id, repository, "2");
  const auto batch = remove_through_proxy(*dockerd_, *rt_, repository + ":1", repository, id, "containers");
  ASSERT_EQ(batch.connect_error, "");
  ASSERT_TRUE(batch.outcome.has_value()) << "the image was not listed";
  ASSERT_TRUE(*batch.outcome) << batch.outcome->error().message;
  EXPECT_EQ(**batch.outcome, Outcome::InUse);
  EXPECT_EQ(dockerd_->container_status("racer"), "created");
  for (const auto& tag : {repository + ":1", repository + ":2"}) EXPECT_EQ(dockerd_->image_id(tag), id) << tag << " was not put back";
  EXPECT_EQ(rt_->remove_container("racer").value(), Outcome::Removed);
}

// The same for a child image built on it right after the batch's listing: dockerd untags
// the last name and only then refuses (the image has a child); that name is put back too.
TEST_F(DockerRuntimeTest, AChildBuiltAfterTheBatchListingStillKeepsTheParentWithItsTags) {
  const std::string repository = "example.com/nodeimg/racing-child";
  const std::string id = dockerd_->image_id(repository + ":1");
  ASSERT_FALSE(id.empty());
  dockerd_->tag(id, repository, "2");
  const auto batch = remove_through_proxy(*dockerd_, *rt_, repository + ":1", repository, id, "child");
  ASSERT_EQ(batch.connect_error, "");
  ASSERT_TRUE(batch.outcome.has_value()) << "the image was not listed";
  ASSERT_TRUE(*batch.outcome) << batch.outcome->error().message;
  EXPECT_EQ(**batch.outcome, Outcome::HasDependents);
  const std::string child = dockerd_->image_id(repository + "-built-on:1");
  ASSERT_FALSE(child.empty()) << "the interposer built no child";
  for (const auto& tag : {repository + ":1", repository + ":2"}) EXPECT_EQ(dockerd_->image_id(tag), id) << tag << " was not put back";
  // Child gone, the parent goes, counted as removed.
  EXPECT_EQ(dockerd_->request("DELETE", "/images/" + child).status, 200);
  auto images = rt_->list_images();
  ASSERT_TRUE(images);
  ASSERT_NE(find_by_tag(*images, repository + ":1"), nullptr);
  const auto results = rt_->remove_images({*find_by_tag(*images, repository + ":1")}, 2);
  ASSERT_EQ(results.size(), 1u);
  ASSERT_TRUE(results[0]) << results[0].error().message;
  EXPECT_EQ(*results[0], Outcome::Removed);
  EXPECT_EQ(dockerd_->image_id(id), "");
}

TEST_F(DockerRuntimeTest, MissingImageIsNotFound) {
  const gc::Image missing{"sha256:" + std::string(64, '0'), {"example.com/nodeimg/nothing:1"}, {}, 0, false};
  auto r = rt_->remove_image(missing);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*r, Outcome::NotFound);
  // An image whose tags were stale in the listing but whose id is gone: NotFound too.
  const std::string id = dockerd_->image_id("example.com/nodeimg/gone:1");
  ASSERT_FALSE(id.empty());
  dockerd_->api("DELETE", "/images/example.com/nodeimg/gone:1");
  r = rt_->remove_image(gc::Image{id, {"example.com/nodeimg/gone:1"}, {}, 0, false});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*r, Outcome::NotFound);
  EXPECT_EQ(rt_->remove_sandbox("anything").value(), Outcome::NotFound);
}

TEST_F(DockerRuntimeTest, ImageFilesystemIsTheDataRoot) {
  auto fs = rt_->image_filesystem();
  ASSERT_TRUE(fs) << fs.error().message;
  EXPECT_EQ(*fs, dockerd_->data_root());
}

TEST_F(DockerRuntimeTest, ErrorsNameActionObjectEndpointAndDaemonMessage) {
  auto r = rt_->pull_image("sha256:" + std::string(64, '1'));
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("via Docker " + dockerd_->endpoint()), std::string::npos) << r.error().message;
  // Nothing listens on port 1: the daemon's own error comes back.
  r = rt_->pull_image("127.0.0.1:1/nodeimg/nothing:1");
  ASSERT_FALSE(r);
  const auto& msg = r.error().message;
  EXPECT_NE(msg.find("pull image \"127.0.0.1:1/nodeimg/nothing:1\" via Docker " + dockerd_->endpoint()),
            std::string::npos)
      << msg;
  EXPECT_NE(msg.find("127.0.0.1:1"), std::string::npos) << msg;
  std::fprintf(stderr, "%s\n", msg.c_str());
}

TEST_F(DockerRuntimeTest, CallsFromSeveralThreads) {
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10; ++i) {
        if (!rt_->list_containers() || !rt_->list_images()) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
}

TEST_F(DockerRuntimeTest, PullsFromALocalRegistry) {
  if (::access((std::string(NODEIMG_HARNESS_DIR) + "/registry").c_str(), X_OK) != 0 ||
      ::access("/usr/bin/skopeo", X_OK) != 0 || ::access("/usr/bin/docker-registry", X_OK) != 0)
    GTEST_SKIP() << "no registry harness, skopeo or docker-registry";
  auto registry = nt::LocalRegistry::start();
  const std::string oci = work_ + "/pull.tar";
  nt::make_oci_single("example.com/nodeimg/pull:1=32KiB", oci);
  const std::string ref = registry->push(oci, "nodeimg/pull:1");

  auto id = rt_->pull_image(ref);
  ASSERT_TRUE(id) << id.error().message;
  EXPECT_TRUE(id->starts_with("sha256:")) << *id;
  EXPECT_EQ(dockerd_->image_id(ref), *id);

  auto images = rt_->list_images();
  ASSERT_TRUE(images);
  const auto* pulled = find_by_tag(*images, ref);
  ASSERT_NE(pulled, nullptr);
  EXPECT_EQ(pulled->id, *id);
  ASSERT_EQ(pulled->digests.size(), 1u);
  EXPECT_TRUE(pulled->digests[0].starts_with(registry->host() + "/nodeimg/pull@sha256:")) << pulled->digests[0];

  // Pulling by digest gives the same image.
  auto by_digest = rt_->pull_image(pulled->digests[0]);
  ASSERT_TRUE(by_digest) << by_digest.error().message;
  EXPECT_EQ(*by_digest, *id);

  // A tag the registry does not have: an error streamed with HTTP 200 or a 404.
  auto missing = rt_->pull_image(registry->host() + "/nodeimg/pull:nope");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("pull image \"" + registry->host() + "/nodeimg/pull:nope\""),
            std::string::npos)
      << missing.error().message;
  std::fprintf(stderr, "%s\n", missing.error().message.c_str());

  // Tag + digest references both go.
  auto r = rt_->remove_image(*pulled);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*r, Outcome::Removed);
  EXPECT_EQ(dockerd_->image_id(*id), "");
  EXPECT_EQ(registry->stop(), 0);
}

// Many images removed one by one; prints the rate (dockerd 20.10, overlay2 on tmpfs).
TEST_F(DockerRuntimeTest, DeleteRate) {
  constexpr int kImages = 40;
  std::vector<std::string> specs;
  for (int i = 0; i < kImages; ++i) specs.push_back("example.com/nodeimg/bulk:" + std::to_string(i));
  const std::string tar = work_ + "/bulk.tar";
  nt::make_images(tar, specs);
  auto t0 = steady_clock::now();
  dockerd_->load(tar);
  const auto load_ms = duration_cast<milliseconds>(steady_clock::now() - t0).count();
  auto images = rt_->list_images();
  ASSERT_TRUE(images);
  std::vector<gc::Image> bulk;
  for (const auto& i : *images)
    if (!i.tags.empty() && i.tags[0].starts_with("example.com/nodeimg/bulk:")) bulk.push_back(i);
  ASSERT_EQ(bulk.size(), static_cast<std::size_t>(kImages));

  t0 = steady_clock::now();
  for (std::size_t i = 0; i < bulk.size() / 2; ++i) ASSERT_EQ(rt_->remove_image(bulk[i]).value(), Outcome::Removed);
  const auto seq_ms = duration_cast<milliseconds>(steady_clock::now() - t0).count();

  t0 = steady_clock::now();
  std::vector<std::thread> threads;
  std::atomic<int> removed{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (std::size_t i = bulk.size() / 2 + static_cast<std::size_t>(t); i < bulk.size(); i += 4) {
        auto r = rt_->remove_image(bulk[i]);
        if (r && *r == Outcome::Removed) ++removed;
      }
    });
  }
  for (auto& th : threads) th.join();
  const auto par_ms = duration_cast<milliseconds>(steady_clock::now() - t0).count();
  EXPECT_EQ(removed.load(), kImages - kImages / 2);
  std::fprintf(stderr, "load %d images: %ld ms; remove %d sequentially: %.1f ms/image; %d with 4 threads: %.1f ms/image\n",
               kImages, static_cast<long>(load_ms), kImages / 2, static_cast<double>(seq_ms) / (kImages / 2),
               kImages - kImages / 2, static_cast<double>(par_ms) / (kImages - kImages / 2));
  images = rt_->list_images();
  ASSERT_TRUE(images);
  for (const auto& i : *images)
    for (const auto& t : i.tags) EXPECT_FALSE(t.starts_with("example.com/nodeimg/bulk:")) << t;
}
