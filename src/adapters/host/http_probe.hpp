#pragma once
// A plain HTTP GET with a timeout (libcurl), for kubelet's /healthz.
#include <string>

#include "core/common/duration.hpp"
#include "core/common/error.hpp"

namespace nodeimg {

// The body of a 200 response; any other status or a transport failure is an error.
Result<std::string> http_get(const std::string& url, Duration timeout);

}  // namespace nodeimg
