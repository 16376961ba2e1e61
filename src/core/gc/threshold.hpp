#pragma once
// Disk thresholds, in one place: how `high`/`low` are written ("75%", "20GiB free"), that
// low frees more than high starts at, when a threshold is reached, how many bytes a run
// must free to reach low, and when the pressure that started a run is relieved. The config
// parser, the command-line overrides, the planner and the executor all ask here.
#include <cstdint>
#include <string_view>

#include "core/common/error.hpp"
#include "core/gc/model.hpp"

namespace nodeimg::gc {

// "75%" (used) or "20GiB free"; sizes in B, kB/MB/GB/TB or KiB/MiB/GiB/TiB.
Result<Threshold> parse_threshold(std::string_view text);

// inodesHigh: a percentage only ("90%").
Result<double> parse_inode_threshold(std::string_view text);

// Whether `low` frees more than `high` starts at. Mixed kinds (a percentage and a free size)
// cannot be compared without the filesystem: always accepted (see bytes_to_reach_low).
Result<void> check_threshold_order(const Threshold& high, const Threshold& low);

// Blocks: used% >= percent, or available <= the free size. Size 0 (unknown or empty
// filesystem): never reached.
bool threshold_reached(const Threshold& t, const FilesystemUsage& u);

// Inodes: used% >= inodesHigh, on a filesystem that counts inodes.
bool inode_pressure(const FilesystemUsage& u, double inodes_high);

// Bytes to free (on top of what is available) so that usage is at `low`, and in any case
// out of `high`: a low that would not even take the disk out of high (possible with mixed
// kinds, "80%" and "20GiB free") is raised to just below high. 0 when high is not reached.
std::uint64_t bytes_to_reach_low(const Threshold& high, const Threshold& low, const FilesystemUsage& u);

// True once every pressure that started the threshold phase is relieved:
// blocks: usage at or below `low` (used% <= low%, or available >= the low free size);
// inodes: inode usage below inodesHigh (there is no separate low-water mark for inodes).
// Nothing measurable (size 0): relieved, so that nothing is removed on a guess.
bool pressure_relieved(const FilesystemUsage& usage, const Policy& policy, bool blocks_pressure, bool inode_pressure);

}  // namespace nodeimg::gc
