#include "core/common/filesystem_usage.hpp"

#include <algorithm>

namespace nodeimg {

double FilesystemUsage::used_percent() const {
  if (size_bytes == 0) return 0;
  return 100.0 * static_cast<double>(size_bytes - std::min(available_bytes, size_bytes)) / static_cast<double>(size_bytes);
}

double FilesystemUsage::inodes_used_percent() const {
  if (inodes == 0) return 0;
  return 100.0 * static_cast<double>(inodes - std::min(inodes_free, inodes)) / static_cast<double>(inodes);
}

}  // namespace nodeimg
