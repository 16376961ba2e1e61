#pragma once
// Durations in Go's time.ParseDuration syntax ("90s", "1h30m", "2m0s", "500ms"), the
// syntax of kubelet's metav1.Duration fields; nodeimg's own configuration and options also
// take days ("30d", "1d12h").
#include <chrono>
#include <string>
#include <string_view>

#include "core/common/error.hpp"

namespace nodeimg {

using Duration = std::chrono::nanoseconds;

// Go's syntax only: for the values kubelet reads (it refuses "30d").
Result<Duration> parse_duration(std::string_view s);

// Go's syntax plus the unit "d" (24h, as every day on a node's clock is long enough for an
// image's age): for nodeimg's own settings and options.
Result<Duration> parse_duration_with_days(std::string_view s);

// Go's canonical form: "0s", "1.5s", "2m0s", "1h0m0s", "300ms".
std::string format_duration(Duration d);

}  // namespace nodeimg
