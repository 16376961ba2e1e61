#include "adapters/host/proc.hpp"

#include <dirent.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

namespace nodeimg {

namespace {
std::optional<std::string> slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Calls visit(pid_text, comm) for every process under `proc` whose comm is readable (a
// process that went away meanwhile is skipped).
template <typename Visit>
Result<void> for_each_process(const std::string& proc, Visit visit) {
  DIR* d = ::opendir(proc.c_str());
  if (!d) return fail(fmt::format("list {}: {}", proc, std::strerror(errno)));
  while (auto* e = ::readdir(d)) {
    const std::string pid_text = e->d_name;
    if (pid_text.empty() || pid_text.find_first_not_of("0123456789") != std::string::npos) continue;
    auto comm = slurp(proc + "/" + pid_text + "/comm");
    if (!comm) continue;
    while (!comm->empty() && comm->back() == '\n') comm->pop_back();
    visit(pid_text, *comm);
  }
  ::closedir(d);
  return {};
}
}  // namespace

Result<std::optional<ProcessInfo>> find_process(const std::string& name, const std::string& proc) {
  std::optional<ProcessInfo> best;
  auto listed = for_each_process(proc, [&](const std::string& pid_text, const std::string& comm) {
    if (comm != name) return;
    auto cmdline = slurp(proc + "/" + pid_text + "/cmdline");
    if (!cmdline || cmdline->empty()) return;
    ProcessInfo info;
    info.pid = std::stoi(pid_text);
    std::size_t start = 0;
    while (start < cmdline->size()) {
      auto nul = cmdline->find('\0', start);
      if (nul == std::string::npos) nul = cmdline->size();
      info.argv.push_back(cmdline->substr(start, nul - start));
      start = nul + 1;
    }
    if (!best || info.pid < best->pid) best = std::move(info);
  });
  if (!listed) return std::unexpected(listed.error());
  return best;
}

std::string unit_of_cgroup(std::string_view text) {
  std::string unified{}, named{};
  while (!text.empty()) {
    const auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    const auto first = line.find(':');
    const auto second = first == std::string_view::npos ? first : line.find(':', first + 1);
    if (second == std::string_view::npos) continue;
    const std::string_view controllers = line.substr(first + 1, second - first - 1);
    std::string_view path = line.substr(second + 1);
    std::string unit{};
    while (!path.empty()) {
      const auto slash = path.find('/');
      const std::string_view part = path.substr(0, slash);
      if (part.ends_with(".service")) unit = std::string(part);
      path = slash == std::string_view::npos ? std::string_view{} : path.substr(slash + 1);
    }
    if (controllers == "name=systemd") named = unit;
    else if (controllers.empty() && line.starts_with("0:")) unified = unit;
  }
  return named.empty() ? unified : named;
}

const std::vector<std::string>& kubelet_bearing_commands() {
  static const std::vector<std::string> names = {"kubelet", "k3s", "k3s-server", "k3s-agent", "rke2", "kubelite"};
  return names;
}

Result<std::map<std::string, int>> units_running(const std::vector<std::string>& commands, const std::string& proc) {
  std::map<std::string, int> out{};
  auto listed = for_each_process(proc, [&](const std::string& pid_text, const std::string& comm) {
    if (std::find(commands.begin(), commands.end(), comm) == commands.end()) return;
    auto cgroup = slurp(proc + "/" + pid_text + "/cgroup");
    if (!cgroup) return;
    const std::string unit = unit_of_cgroup(*cgroup);
    if (unit.empty()) return;
    const int pid = std::stoi(pid_text);
    if (auto it = out.find(unit); it == out.end() || pid < it->second) out[unit] = pid;
  });
  if (!listed) return std::unexpected(listed.error());
  return out;
}

}  // namespace nodeimg
