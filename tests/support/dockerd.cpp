#include "support/dockerd.hpp"

#include <unistd.h>

#include <cctype>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>

#include <nlohmann/json.hpp>

#include "adapters/runtime/docker_runtime.hpp"
#include "support/files.hpp"
#include "support/process.hpp"

namespace nodeimg::testing {

namespace fs = std::filesystem;

namespace {
const std::string kHarness = std::string(NODEIMG_HARNESS_DIR) + "/dockerd";
constexpr const char* kApi = "/v1.41";

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

// The adapter's encoder; '/', ':' and '@' stay as they are in image references.
std::string encode(const std::string& s) { return docker::url_encode(s, "/:@"); }
}  // namespace

std::unique_ptr<DockerdInstance> DockerdInstance::boot(const Options& options) {
  auto d = std::unique_ptr<DockerdInstance>(new DockerdInstance());
  if (options.state_dir.empty()) {
    d->state_dir_ = make_temp_dir("nodeimg-dockerd").string();
    d->own_dir_ = true;
  } else {
    d->state_dir_ = options.state_dir;
  }
  std::vector<std::string> argv = {kHarness, "start", d->state_dir_};
  if (!options.fs_size.empty()) argv.insert(argv.end(), {"--fs-size", options.fs_size});
  if (!options.storage_driver.empty()) argv.insert(argv.end(), {"--storage-driver", options.storage_driver});
  const auto t0 = std::chrono::steady_clock::now();
  auto r = run(argv);
  d->boot_seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (r.exit_code != 0) {
    d->stop();
    throw std::runtime_error("boot dockerd: " + r.err);
  }
  d->socket_ = trim(r.out);
  return d;
}

DockerdInstance::~DockerdInstance() {
  if (!stopped_) stop();
}

int DockerdInstance::stop() {
  if (stopped_) return 0;
  stopped_ = true;
  const int rc = run({kHarness, "stop", state_dir_}).exit_code;
  if (rc == 0 && own_dir_) {
    std::error_code ec;
    fs::remove_all(state_dir_, ec);
  }
  return rc;
}

std::string DockerdInstance::storage_driver() const {
  std::ifstream in(state_dir_ + "/driver");
  std::string s;
  in >> s;
  return s;
}

void DockerdInstance::load(const std::string& tar) const {
  auto r = run({kHarness, "load", state_dir_, tar});
  if (r.exit_code != 0) throw std::runtime_error("docker load " + tar + ": " + r.err);
}

DockerdInstance::Reply DockerdInstance::request(const std::string& method, const std::string& path,
                                             const std::string& json_body) const {
  std::vector<std::string> argv = {"curl", "-sS", "--max-time", "120", "--unix-socket", socket_, "-X", method,
                                   "-w", "\n%{http_code}"};
  if (!json_body.empty()) argv.insert(argv.end(), {"-H", "Content-Type: application/json", "--data-binary", "@-"});
  argv.push_back("http://docker" + std::string(kApi) + path);
  auto r = run(argv, {}, json_body);
  if (r.exit_code != 0) throw std::runtime_error(method + " " + path + ": curl: " + r.err);
  const auto nl = r.out.rfind('\n');
  if (nl == std::string::npos) throw std::runtime_error(method + " " + path + ": no status");
  return {.status = std::stoi(r.out.substr(nl + 1)), .body = r.out.substr(0, nl)};
}

std::string DockerdInstance::api(const std::string& method, const std::string& path,
                                 const std::string& json_body) const {
  auto [status, body] = request(method, path, json_body);
  if (status < 200 || status >= 300)
    throw std::runtime_error(method + " " + path + ": HTTP " + std::to_string(status) + ": " + body);
  return body;
}

std::string DockerdInstance::create_container(const std::string& image, const std::string& name,
                                              const std::vector<std::string>& command) const {
  nlohmann::json spec = {{"Image", image}, {"Cmd", command}, {"HostConfig", {{"NetworkMode", "none"}}}};
  auto body = api("POST", "/containers/create?name=" + encode(name), spec.dump());
  return nlohmann::json::parse(body).at("Id").get<std::string>();
}

void DockerdInstance::start(const std::string& container) const {
  api("POST", "/containers/" + encode(container) + "/start");
}

int DockerdInstance::wait_until_exited(const std::string& container, std::chrono::milliseconds timeout) const {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    auto j = nlohmann::json::parse(api("GET", "/containers/" + encode(container) + "/json"));
    const auto& state = j.at("State");
    if (!state.at("Running").get<bool>() && state.at("Status") != "created") return state.at("ExitCode").get<int>();
    if (std::chrono::steady_clock::now() > deadline)
      throw std::runtime_error("container " + container + " still running after the timeout");
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

void DockerdInstance::tag(const std::string& image, const std::string& repo, const std::string& tag) const {
  api("POST", "/images/" + encode(image) + "/tag?repo=" + encode(repo) + "&tag=" + encode(tag));
}

std::string DockerdInstance::image_id(const std::string& reference) const {
  auto [status, body] = request("GET", "/images/" + encode(reference) + "/json");
  if (status == 404) return "";
  if (status != 200) throw std::runtime_error("inspect image " + reference + ": HTTP " + std::to_string(status));
  return nlohmann::json::parse(body).at("Id").get<std::string>();
}

std::string DockerdInstance::container_status(const std::string& container) const {
  auto [status, body] = request("GET", "/containers/" + encode(container) + "/json");
  if (status == 404) return "";
  if (status != 200) throw std::runtime_error("inspect container " + container + ": HTTP " + std::to_string(status));
  return nlohmann::json::parse(body).at("State").at("Status").get<std::string>();
}

}  // namespace nodeimg::testing
