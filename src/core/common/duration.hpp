#pragma once
// Durations in Go's time.ParseDuration syntax ("90s", "1h30m", "2m0s", "500ms"), the
// syntax of kubelet's metav1.Duration fields and of nodeimg's own configuration.
#include <chrono>
#include <string>
#include <string_view>

#include "core/common/error.hpp"

namespace nodeimg {

using Duration = std::chrono::nanoseconds;

Result<Duration> parse_duration(std::string_view s);

// Go's canonical form: "0s", "1.5s", "2m0s", "1h0m0s", "300ms".
std::string format_duration(Duration d);

}  // namespace nodeimg
