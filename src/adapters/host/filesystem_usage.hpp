#pragma once
#include <cstdint>
#include <string>

#include "core/common/error.hpp"

namespace nodeimg {

struct FilesystemUsage {
  std::uint64_t size_bytes = 0;
  std::uint64_t available_bytes = 0;
  std::uint64_t inodes = 0;
  std::uint64_t inodes_free = 0;
};

// statvfs of the filesystem holding `host_path`, or of its nearest existing ancestor.
Result<FilesystemUsage> filesystem_usage(const std::string& host_path);

}  // namespace nodeimg
