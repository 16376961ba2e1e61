// What operators build on, end to end on the binary: every --json document matches its
// schema in docs/schema/ (gc --dry-run, images, kubelet status and apply --dry-run, doctor),
// `gc --dry-run` lists the worst case (the planned removals and the reserves, marked) and
// `images` marks the same, and the tables fit the terminal ($COLUMNS, 80 when unknown,
// -o wide for everything). The images come from a stand-in Docker Engine API (python3) on
// a unix socket: no runtime needed.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/files.hpp"
#include "support/json_schema.hpp"
#include "support/process.hpp"

namespace nodeimg::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Answers the Engine API calls a listing makes from a JSON file: {"images": [...],
// "containers": [...], "root": DIR}. Anything else is a 404.
constexpr const char* kStandIn = R"PY(
import http.server, json, re, socketserver, sys
sock, data = sys.argv[1], json.load(open(sys.argv[2]))
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def reply(self, code, body):
        b = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(b)))
        self.end_headers()
        self.wfile.write(b)
    def do_GET(self):
        p = re.sub(r"^/v[0-9.]+", "", self.path.split("?")[0])
        if p == "/_ping": return self.reply(200, "OK")
        if p == "/version": return self.reply(200, {"Version": "24.0.7", "ApiVersion": "1.43", "MinAPIVersion": "1.12"})
        if p == "/images/json": return self.reply(200, data["images"])
        if p == "/containers/json": return self.reply(200, data["containers"])
        if p == "/info": return self.reply(200, {"DockerRootDir": data["root"]})
        return self.reply(404, {"message": "page not found"})
    def log_message(self, *a): pass
class S(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
S(sock, H).serve_forever()
)PY";

constexpr std::int64_t kTiB = 1LL << 40;
constexpr std::int64_t kDay = 86400;

std::string id_of(char c) { return "sha256:" + std::string(64, c); }

json schema(const std::string& name) {
  std::ifstream in(fs::path(NODEIMG_FIXTURES) / "../../docs/schema" / (name + ".json"));
  return json::parse(in);
}

std::string errors_of(const std::string& name, const json& doc) {
  std::string out;
  for (const auto& e : SchemaValidator(schema(name)).validate(doc)) out += e + "\n";
  return out;
}

class JsonOutput : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = make_temp_dir("nodeimg-e2e-json");
    const std::int64_t now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    const std::string long_ref = "registry.example.com/platform/" + std::string(150, 'x') + "/worker:v1.2.3";
    // Least recently used first: a (40 TiB) covers what must be freed; b and c are the
    // reserves; d is in use; e is kept by a rule. Sizes dwarf any real disk, so that the plan
    // does not depend on how full the machine's disk is.
    const json images = json::array({
        {{"Id", id_of('a')}, {"RepoTags", {"reg.test/old:1"}}, {"RepoDigests", json::array()}, {"Size", 40 * kTiB}},
        {{"Id", id_of('b')}, {"RepoTags", {long_ref}}, {"RepoDigests", json::array()}, {"Size", 30 * kTiB}},
        {{"Id", id_of('c')}, {"RepoTags", {"reg.test/café:ü"}}, {"RepoDigests", json::array()}, {"Size", 20 * kTiB}},
        {{"Id", id_of('d')}, {"RepoTags", {"reg.test/web:1"}}, {"RepoDigests", json::array()}, {"Size", kTiB}},
        {{"Id", id_of('e')}, {"RepoTags", {"reg.test/keepme:1"}}, {"RepoDigests", json::array()}, {"Size", kTiB}}});
    const json containers = json::array({{{"Id", std::string(64, '1')}, {"Names", {"/web"}}, {"Image", "reg.test/web:1"},
                                          {"ImageID", id_of('d')}, {"State", "running"}, {"Created", now - kDay}}});
    std::ofstream((dir_ / "data.json").string()) << json{{"images", images}, {"containers", containers}, {"root", dir_.string()}}.dump();
    socket_ = (dir_ / "docker.sock").string();
    pid_ = ::fork();
    if (pid_ == 0) {
      ::execlp("python3", "python3", "-c", kStandIn, socket_.c_str(), (dir_ / "data.json").c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    // Up to 20 s: python3 starts slowly on a loaded machine.
    for (int i = 0; i < 1000 && !fs::exists(socket_); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));

    root_ = dir_ / "root";
    fs::create_directories(root_ / "etc/nodeimg");
    std::ofstream((root_ / "etc/nodeimg/config.yaml").string())
        << "runtime:\n  endpoint: unix://" << socket_ << "\n"
        << "gc:\n  high: 100TiB free\n  low: 200TiB free\n  keep: [\"reg.test/keepme:*\"]\n";
    json history = {{"version", 2}, {"updatedAt", now}, {"images", json::object()}};
    int age = 50;
    for (const char c : {'a', 'b', 'c', 'd', 'e'}) history["images"][id_of(c)] = {{"firstSeen", now - 90 * kDay}, {"lastUsed", now - (age -= 10) * kDay}};
    fs::create_directories(root_ / "var/lib/nodeimg");
    std::ofstream((root_ / "var/lib/nodeimg/state.json").string()) << history.dump();
  }
  static void TearDownTestSuite() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    fs::remove_all(dir_);
  }
  static ProcessResult nodeimg(std::vector<std::string> args, std::map<std::string, std::string> env = {}) {
    args.insert(args.begin(), {NODEIMG_BINARY, "--root", root_.string()});
    return run(args, env);
  }
  static json document(std::vector<std::string> args) {
    args.push_back("--json");
    const auto r = nodeimg(args);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return json::parse(r.out);
  }

  static inline fs::path dir_, root_;
  static inline std::string socket_;
  static inline pid_t pid_ = -1;
};

TEST_F(JsonOutput, DryRunListsTheWorstCaseMarkedAndImagesAgrees) {
  const json gc = document({"gc", "--dry-run"});
  EXPECT_EQ(errors_of("gc", gc), "") << gc.dump(2);
  EXPECT_EQ(gc["schemaVersion"], 1);
  std::map<std::string, std::string> decision;
  for (const auto& e : gc["removed"]) decision[e["id"]] = e["decision"];
  EXPECT_EQ(decision, (std::map<std::string, std::string>{
                          {id_of('a'), "remove"}, {id_of('b'), "remove-if-needed"}, {id_of('c'), "remove-if-needed"}}))
      << gc.dump(2);
  EXPECT_EQ(gc["counts"]["imagesRemoved"], 1);
  EXPECT_EQ(gc["counts"]["imagesIfNeeded"], 2);

  const json images = document({"images"});
  EXPECT_EQ(errors_of("images", images), "") << images.dump(2);
  std::map<std::string, std::string> next;
  for (const auto& e : images["images"]) next[e["id"]] = e["nextGc"];
  EXPECT_EQ(next, (std::map<std::string, std::string>{{id_of('a'), "remove"},
                                                      {id_of('b'), "remove-if-needed"},
                                                      {id_of('c'), "remove-if-needed"},
                                                      {id_of('d'), "protected"},
                                                      {id_of('e'), "protected"}}));
  for (const auto& e : images["images"]) {
    if (e["id"] == id_of('d')) {
      EXPECT_EQ(e["code"], "in-use");
    }
    if (e["id"] == id_of('e')) {
      EXPECT_EQ(e["rule"], "reg.test/keepme:*");
    }
  }
}

TEST_F(JsonOutput, TablesFitTheTerminalAndWideShowsEverything) {
  for (const std::size_t width : {40u, 80u, 120u}) {
    const auto r = nodeimg({"images"}, {{"COLUMNS", std::to_string(width)}});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.out.find("NEXT GC"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find(" AGE "), std::string::npos) << r.out;
    bool table = false;
    for (std::size_t start = 0; start < r.out.size();) {
      const auto nl = r.out.find('\n', start);
      const std::string line = r.out.substr(start, nl - start);
      table = table || line.starts_with("REFERENCE") || line.starts_with("IMAGE ID");
      if (table) {
        EXPECT_LE(line.size() - std::count_if(line.begin(), line.end(), [](char c) { return (c & 0xC0) == 0x80; }), width) << line;
      }
      start = nl + 1;
    }
    if (width < 80) continue;
    EXPECT_NE(r.out.find("FIRST SEEN"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("/worker:v1.2.3"), std::string::npos) << "the tag end stays visible:\n" << r.out;
    EXPECT_NE(r.out.find(width >= 120 ? "keep:reg.test/keepme:*" : "keep:reg.test/"), std::string::npos) << r.out;
  }
  const auto piped = nodeimg({"gc", "--dry-run"}, {{"COLUMNS", ""}});  // not a terminal, no $COLUMNS: 80
  ASSERT_EQ(piped.exit_code, 0) << piped.err;
  EXPECT_NE(piped.out.find("remove-if-needed"), std::string::npos) << piped.out;
  EXPECT_EQ(piped.out.find(std::string(150, 'x')), std::string::npos) << piped.out;
  const auto wide = nodeimg({"images", "-o", "wide"}, {{"COLUMNS", "80"}});
  ASSERT_EQ(wide.exit_code, 0) << wide.err;
  EXPECT_NE(wide.out.find(std::string(150, 'x')), std::string::npos) << "nothing cut:\n" << wide.out;
  EXPECT_NE(wide.out.find("protected by keep rule \"reg.test/keepme:*\""), std::string::npos) << "the long reason:\n" << wide.out;
  EXPECT_EQ(nodeimg({"images", "-o", "tall"}).exit_code, 2);
}

// kubelet and doctor documents on a platform fixture (no runtime needed for these).
class KubeletJson : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = make_temp_dir("nodeimg-e2e-kjson");
    fs::copy(fs::path(NODEIMG_FIXTURES) / "platforms/kubeadm/root", root_, fs::copy_options::recursive | fs::copy_options::copy_symlinks);
  }
  void TearDown() override { fs::remove_all(root_); }
  // The document on stdout; doctor exits 1 when a finding needs attention, which is fine here.
  json document(std::vector<std::string> args) {
    args.insert(args.begin(), {NODEIMG_BINARY, "--root", root_.string(), "--json"});
    const auto r = run(args);
    EXPECT_TRUE(r.exit_code == 0 || (args[4] == "doctor" && r.exit_code == 1)) << r.exit_code << ": " << r.err;
    return json::parse(r.out);
  }
  fs::path root_;
};

TEST_F(KubeletJson, StatusApplyDryRunAndDoctorMatchTheirSchemas) {
  const json status = document({"kubelet", "status"});
  EXPECT_EQ(errors_of("kubelet-status", status), "") << status.dump(2);
  const json apply = document({"kubelet", "apply", "--dry-run", "--defaults"});
  EXPECT_EQ(errors_of("kubelet-apply", apply), "") << apply.dump(2);
  const json doctor = document({"doctor"});
  EXPECT_EQ(errors_of("doctor", doctor), "") << doctor.dump(2);
  for (const json* j : {&status, &apply, &doctor}) EXPECT_EQ((*j)["schemaVersion"], 1);
}

}  // namespace
}  // namespace nodeimg::testing
