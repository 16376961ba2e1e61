#pragma once
// When a collection run may stop: the executor re-measures the image filesystem after each
// batch of removals and stops removing threshold-selected images once this says so.
#include "core/gc/model.hpp"

namespace nodeimg::gc {

// True once every pressure that started the threshold phase is relieved:
// blocks: usage at or below `low` (used% <= low%, or available >= the low free size);
// inodes: inode usage below inodesHigh (there is no separate low-water mark for inodes).
bool pressure_relieved(const FilesystemUsage& usage, const Policy& policy, bool blocks_pressure, bool inode_pressure);

}  // namespace nodeimg::gc
