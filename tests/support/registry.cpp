#include "support/registry.hpp"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <stdexcept>

#include "support/files.hpp"
#include "support/process.hpp"

namespace nodeimg::testing {

namespace fs = std::filesystem;

namespace {
std::string script() { return std::string(NODEIMG_HARNESS_DIR) + "/registry"; }
}  // namespace

std::unique_ptr<LocalRegistry> LocalRegistry::start(const std::string& state_dir) {
  std::unique_ptr<LocalRegistry> reg(new LocalRegistry());
  reg->own_dir_ = state_dir.empty();
  if (reg->own_dir_) {
    reg->state_dir_ = make_temp_dir("nodeimg-registry").string();
  } else {
    reg->state_dir_ = state_dir;
  }
  auto r = run({script(), "start", reg->state_dir_});
  if (r.exit_code != 0) {
    run({script(), "stop", reg->state_dir_});
    reg->stopped_ = true;
    throw std::runtime_error("registry harness start failed: " + r.err);
  }
  reg->port_ = std::stoi(r.out);
  return reg;
}

LocalRegistry::~LocalRegistry() {
  if (!stopped_) stop();
}

std::string LocalRegistry::push(const std::string& oci_tar, const std::string& repo_tag) const {
  auto r = run({script(), "push", state_dir_, oci_tar, repo_tag});
  if (r.exit_code != 0) throw std::runtime_error("registry push failed: " + r.err);
  auto out = r.out;
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

int LocalRegistry::stop() {
  if (stopped_) return 0;
  auto r = run({script(), "stop", state_dir_});
  stopped_ = true;
  if (r.exit_code != 0) {
    std::fprintf(stderr, "registry harness stop failed (%d): %s\n", r.exit_code, r.err.c_str());
  } else if (own_dir_) {
    std::error_code ec;
    fs::remove_all(state_dir_, ec);
  }
  return r.exit_code;
}

}  // namespace nodeimg::testing
