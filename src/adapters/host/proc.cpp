#include "adapters/host/proc.hpp"

#include <dirent.h>

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
}  // namespace

Result<std::optional<ProcessInfo>> find_process(const std::string& name, const std::string& proc) {
  DIR* d = ::opendir(proc.c_str());
  if (!d) return fail(fmt::format("list {}: {}", proc, std::strerror(errno)));
  std::optional<ProcessInfo> best;
  while (auto* e = ::readdir(d)) {
    const std::string pid_text = e->d_name;
    if (pid_text.empty() || pid_text.find_first_not_of("0123456789") != std::string::npos) continue;
    auto comm = slurp(proc + "/" + pid_text + "/comm");
    if (!comm) continue;  // the process went away
    while (!comm->empty() && comm->back() == '\n') comm->pop_back();
    if (*comm != name) continue;
    auto cmdline = slurp(proc + "/" + pid_text + "/cmdline");
    if (!cmdline || cmdline->empty()) continue;
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
  }
  ::closedir(d);
  return best;
}

}  // namespace nodeimg
