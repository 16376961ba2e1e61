#pragma once
// A filesystem's size and what is left of it, as statvfs reports them. One record for both
// capabilities: the collector's thresholds and kubelet's nodeStatusMaxImages: auto.
#include <cstdint>
#include <string>

namespace nodeimg {

struct FilesystemUsage {
  std::string mountpoint{};          // the path that was measured (host path)
  std::uint64_t size_bytes = 0;      // f_blocks * f_frsize; 0 when unknown
  std::uint64_t available_bytes = 0; // f_bavail * f_frsize: what an unprivileged writer may use
  std::uint64_t inodes = 0;          // 0 when the filesystem reports none (btrfs)
  std::uint64_t inodes_free = 0;
  // 0 when the size (or inode count) is unknown.
  double used_percent() const;
  double inodes_used_percent() const;
};

}  // namespace nodeimg
