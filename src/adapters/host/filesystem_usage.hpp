#pragma once
// Measures a filesystem with statvfs.
#include <string>

#include "core/common/error.hpp"
#include "core/common/filesystem_usage.hpp"

namespace nodeimg {

// statvfs of the filesystem holding `host_path`, or of its nearest existing ancestor; the
// result's mountpoint is `host_path` as given.
Result<FilesystemUsage> filesystem_usage(const std::string& host_path);

}  // namespace nodeimg
