#include "core/gc/progress.hpp"

namespace nodeimg::gc {

bool pressure_relieved(const FilesystemUsage& usage, const Policy& policy, bool blocks_pressure, bool inode_pressure) {
  if (usage.capacity_bytes == 0) return true;  // nothing measurable: never keep removing on a guess
  if (blocks_pressure) {
    const bool below = policy.low.kind == Threshold::Kind::UsedPercent ? usage.used_percent() <= policy.low.percent
                                                                        : usage.available_bytes >= policy.low.bytes;
    if (!below) return false;
  }
  if (inode_pressure && usage.inodes > 0 && usage.inodes_used_percent() >= policy.inodes_high) return false;
  return true;
}

}  // namespace nodeimg::gc
