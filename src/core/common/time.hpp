#pragma once
// Time as text, in one place: RFC 3339 in UTC ("2026-11-29T19:36:01Z"), as GC reports,
// apply records and containerd's gc.expire labels want it. Pure: the time is an argument.
#include <chrono>
#include <cstdint>
#include <string>

namespace nodeimg {

// `unix_seconds` as RFC 3339 in UTC, whole seconds.
std::string rfc3339(std::int64_t unix_seconds);
std::string rfc3339(std::chrono::system_clock::time_point t);

}  // namespace nodeimg
