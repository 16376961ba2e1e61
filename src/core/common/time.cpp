#include "core/common/time.hpp"

#include <ctime>

namespace nodeimg {

std::string rfc3339(std::int64_t unix_seconds) {
  const auto secs = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  ::gmtime_r(&secs, &tm);
  char buf[64];
  const std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return std::string(buf, n);
}

std::string rfc3339(std::chrono::system_clock::time_point t) {
  return rfc3339(std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count());
}

}  // namespace nodeimg
