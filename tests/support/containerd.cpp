#include "support/containerd.hpp"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "support/cri_pods.hpp"
#include "support/files.hpp"

namespace nodeimg::testing {

namespace fs = std::filesystem;

namespace {

std::string harness(const std::string& name) { return std::string(NODEIMG_HARNESS_DIR) + "/" + name; }

std::string read_trimmed(const std::string& path) {
  std::string s = read_file(path);
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

std::unique_ptr<ContainerdInstance> ContainerdInstance::boot(const ContainerdOptions& options) {
  std::unique_ptr<ContainerdInstance> inst(new ContainerdInstance());
  inst->own_dir_ = options.state_dir.empty();
  inst->state_dir_ = inst->own_dir_ ? make_temp_dir("nodeimg-containerd").string() : options.state_dir;
  std::vector<std::string> argv{harness("containerd"), "start", inst->state_dir_, "--fs-size", options.fs_size,
                                "--sandbox-image", options.sandbox_image};
  if (options.fs_inodes) {
    argv.push_back("--fs-inodes");
    argv.push_back(std::to_string(*options.fs_inodes));
  }
  auto r = run(argv);
  if (r.exit_code != 0) {
    inst->stopped_ = true;  // the harness cleaned up after the failed start
    if (inst->own_dir_ && !mounted_under(inst->state_dir_)) fs::remove_all(inst->state_dir_);
    throw std::runtime_error("containerd harness start failed (" + std::to_string(r.exit_code) + "): " + r.err);
  }
  inst->socket_ = inst->state_dir_ + "/containerd.sock";
  return inst;
}

ContainerdInstance::~ContainerdInstance() {
  if (!stopped_) stop();
}

int ContainerdInstance::stop() {
  if (stopped_) return 0;
  auto r = run({harness("containerd"), "stop", state_dir_});
  stopped_ = true;
  if (r.exit_code != 0) {
    std::fprintf(stderr, "containerd harness stop failed (%d): %s\n", r.exit_code, r.err.c_str());
  } else if (own_dir_ && !mounted_under(state_dir_)) {
    std::error_code ec;
    fs::remove_all(state_dir_, ec);
  }
  return r.exit_code;
}

std::string ContainerdInstance::image_fs_path() const { return read_trimmed(state_dir_ + "/image-fs"); }
std::string ContainerdInstance::snapshotter() const { return read_trimmed(state_dir_ + "/snapshotter"); }
int ContainerdInstance::pid() const { return std::stoi(read_trimmed(state_dir_ + "/containerd.pid")); }

ProcessResult ContainerdInstance::ctr(const std::vector<std::string>& args) const {
  std::vector<std::string> argv{harness("containerd"), "ctr", state_dir_};
  argv.insert(argv.end(), args.begin(), args.end());
  return run(argv);
}

void ContainerdInstance::import(const std::string& tar, std::chrono::milliseconds timeout) const {
  auto r = run({harness("containerd"), "import", state_dir_, tar});
  if (r.exit_code != 0) throw std::runtime_error("containerd harness import failed: " + r.err);
  const auto wanted = archive_image_names(tar);
  CriPods cri(endpoint());
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    std::set<std::string> tags;
    for (const auto& image : cri.images()) tags.insert(image.repo_tags().begin(), image.repo_tags().end());
    if (std::all_of(wanted.begin(), wanted.end(), [&](const std::string& n) { return tags.contains(n); })) return;
    if (std::chrono::steady_clock::now() > deadline) throw std::runtime_error("CRI does not list imported images");
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

std::vector<int> ContainerdInstance::shim_pids() const {
  std::vector<int> pids;
  const std::string address_arg = std::string("-address") + '\0' + socket_ + '\0';
  for (const auto& entry : fs::directory_iterator("/proc")) {
    const auto name = entry.path().filename().string();
    if (name.empty() || !std::all_of(name.begin(), name.end(), ::isdigit)) continue;
    std::ifstream in(entry.path() / "cmdline");
    std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (cmdline.find("containerd-shim") != std::string::npos && cmdline.find(address_arg) != std::string::npos) {
      pids.push_back(std::stoi(name));
    }
  }
  return pids;
}

void make_images(const std::string& out_tar, const std::vector<std::string>& specs, bool with_pause) {
  std::vector<std::string> argv{harness("make-images")};
  if (with_pause) argv.push_back("--pause");
  argv.push_back(out_tar);
  argv.insert(argv.end(), specs.begin(), specs.end());
  auto r = run(argv);
  if (r.exit_code != 0) throw std::runtime_error("make-images failed: " + r.err);
}

void make_oci_single(const std::string& spec, const std::string& out_tar) {
  auto r = run({harness("make-images"), "--oci-single", spec, out_tar});
  if (r.exit_code != 0) throw std::runtime_error("make-images --oci-single failed: " + r.err);
}

std::vector<std::string> archive_image_names(const std::string& tar) {
  auto r = run({"tar", "-xOf", tar, "index.json"});
  if (r.exit_code != 0) throw std::runtime_error("no index.json in " + tar + ": " + r.err);
  std::vector<std::string> names;
  static const std::regex re(R"re("io\.containerd\.image\.name"\s*:\s*"([^"]+)")re");
  for (std::sregex_iterator it(r.out.begin(), r.out.end(), re), end; it != end; ++it) names.push_back((*it)[1]);
  return names;
}

}  // namespace nodeimg::testing
