#include "support/systemd_container.hpp"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "support/files.hpp"

namespace nodeimg::testing {

namespace fs = std::filesystem;

namespace {
const std::string kHarness = std::string(NODEIMG_HARNESS_DIR) + "/systemd-container";
}

std::unique_ptr<SystemdContainer> SystemdContainer::boot(const std::vector<std::string>& binds) {
  auto c = std::unique_ptr<SystemdContainer>(new SystemdContainer());
  c->state_dir_ = make_temp_dir("nodeimg-container").string();
  std::vector<std::string> argv = {kHarness, "start", c->state_dir_};
  for (const auto& b : binds) argv.push_back("--bind-ro=" + b);
  auto r = run(argv);
  if (r.exit_code != 0) {
    run({kHarness, "stop", c->state_dir_});
    c->stopped_ = true;
    throw std::runtime_error("boot the systemd container: " + r.err);
  }
  std::ifstream in(c->state_dir_ + "/leader.pid");
  in >> c->leader_;
  if (c->leader_.empty()) throw std::runtime_error("boot the systemd container: no leader PID");
  return c;
}

SystemdContainer::~SystemdContainer() {
  if (!stopped_) stop();
  std::error_code ec;
  fs::remove_all(state_dir_, ec);
}

int SystemdContainer::stop() {
  stopped_ = true;
  return run({kHarness, "stop", state_dir_}).exit_code;
}

std::string SystemdContainer::host_path(const std::string& p) const { return "/proc/" + leader_ + "/root" + p; }

void SystemdContainer::write(const std::string& path, const std::string& content, unsigned mode) const {
  fs::create_directories(fs::path(host_path(path)).parent_path());
  {
    std::ofstream out(host_path(path), std::ios::binary | std::ios::trunc);
    out << content;
  }
  ::chmod(host_path(path).c_str(), mode);
}

std::string SystemdContainer::read(const std::string& path) const {
  if (!fs::exists(host_path(path))) throw std::runtime_error("read " + path + " in the container: cannot open");
  return read_file(host_path(path));
}

bool SystemdContainer::exists(const std::string& path) const { return fs::exists(host_path(path)); }

void SystemdContainer::remove(const std::string& path) const {
  std::error_code ec;
  fs::remove_all(host_path(path), ec);
}

ProcessResult SystemdContainer::exec(const std::vector<std::string>& argv) const {
  std::vector<std::string> full = {kHarness, "exec", state_dir_};
  full.insert(full.end(), argv.begin(), argv.end());
  return run(full, {{"PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}});
}

std::map<std::string, std::string> SystemdContainer::show(const std::string& unit,
                                                          const std::vector<std::string>& properties) const {
  std::vector<std::string> argv = {"systemctl", "show", unit};
  for (const auto& p : properties) argv.push_back("-p" + p);
  auto r = exec(argv);
  std::map<std::string, std::string> out;
  std::istringstream lines(r.out);
  std::string line;
  while (std::getline(lines, line)) {
    auto eq = line.find('=');
    if (eq != std::string::npos) out[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return out;
}

void SystemdContainer::systemctl(const std::vector<std::string>& args) const {
  std::vector<std::string> argv = {"systemctl"};
  argv.insert(argv.end(), args.begin(), args.end());
  auto r = exec(argv);
  if (r.exit_code != 0) throw std::runtime_error("systemctl failed in the container: " + r.err);
}

std::string SystemdContainer::bus_address() const { return "unix:path=" + state_dir_ + "/bus/system_bus_socket"; }

}  // namespace nodeimg::testing
