#pragma once
// A real systemd (with a real system bus) in a throwaway container, booted by
// tests/harness/systemd-container, which keeps the shared machine safe (private cgroups,
// PID-only signalling, PID 1's cgroups checked unchanged on stop).
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "support/process.hpp"

namespace nodeimg::testing {

class SystemdContainer {
 public:
  // Boots a container; `binds` are "HOST:CONTAINER" read-only bind mounts.
  static std::unique_ptr<SystemdContainer> boot(const std::vector<std::string>& binds);
  ~SystemdContainer();

  // Stops it; returns the harness's exit code (3: PID 1's cgroups changed).
  int stop();

  std::string host_path(const std::string& container_path) const;
  void write(const std::string& path, const std::string& content, unsigned mode = 0644) const;
  std::string read(const std::string& path) const;
  bool exists(const std::string& path) const;
  void remove(const std::string& path) const;

  ProcessResult exec(const std::vector<std::string>& argv) const;
  // `systemctl show` of the named properties.
  std::map<std::string, std::string> show(const std::string& unit, const std::vector<std::string>& properties) const;
  // systemctl inside the container; throws on failure.
  void systemctl(const std::vector<std::string>& args) const;
  std::string bus_address() const;

 private:
  std::string state_dir_;
  std::string leader_;
  bool stopped_ = false;
};

}  // namespace nodeimg::testing
