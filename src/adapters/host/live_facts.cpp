#include "adapters/host/live_facts.hpp"

#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

namespace nodeimg {

namespace {

std::int64_t to_ns(const timespec& t) { return static_cast<std::int64_t>(t.tv_sec) * 1'000'000'000 + t.tv_nsec; }

// Field 22 (starttime) of /proc/PID/stat. The command name (field 2) is in parentheses and
// may hold spaces and ')': fields are counted after its last ')'.
std::optional<long long> start_ticks(const std::string& stat) {
  const auto close = stat.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream rest(stat.substr(close + 1));
  std::string field;
  for (int n = 3; rest >> field; ++n)
    if (n == 22) {
      try {
        return std::stoll(field);
      } catch (const std::exception&) {
        return std::nullopt;
      }
    }
  return std::nullopt;
}

}  // namespace

Result<std::optional<ProcessStart>> process_start(int pid, const std::string& proc) {
  const std::string path = fmt::format("{}/{}/stat", proc, pid);
  std::ifstream in(path);
  if (!in) return std::optional<ProcessStart>{};  // the process went away
  std::ostringstream text;
  text << in.rdbuf();
  const auto ticks = start_ticks(text.str());
  if (!ticks) return fail(fmt::format("{}: no start time in it", path));
  const long hz = ::sysconf(_SC_CLK_TCK);
  if (hz <= 0) return fail("sysconf(_SC_CLK_TCK) failed");
  timespec real{}, boot{};
  if (::clock_gettime(CLOCK_REALTIME, &real) != 0 || ::clock_gettime(CLOCK_BOOTTIME, &boot) != 0)
    return fail(fmt::format("clock_gettime: {}", std::strerror(errno)));
  const std::int64_t tick_ns = 1'000'000'000 / hz;
  return std::optional<ProcessStart>{
      ProcessStart{.started_ns = to_ns(real) - to_ns(boot) + *ticks * tick_ns, .resolution_ns = tick_ns}};
}

Result<std::optional<std::int64_t>> modified_ns(const std::string& host_path) {
  struct stat st {};
  if (::lstat(host_path.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) return std::optional<std::int64_t>{};
    return fail(fmt::format("stat {}: {}", host_path, std::strerror(errno)));
  }
  return std::optional<std::int64_t>{to_ns(st.st_mtim)};
}

}  // namespace nodeimg
