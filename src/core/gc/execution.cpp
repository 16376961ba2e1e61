#include "core/gc/execution.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "core/gc/planner.hpp"
#include "core/gc/threshold.hpp"

namespace nodeimg::gc {

std::size_t batch_end(const std::vector<const Decision*>& list, std::size_t start, std::size_t per_batch) {
  const std::size_t small = std::max<std::size_t>(per_batch, 1);
  const std::size_t large = std::max(small, std::min<std::size_t>(small * 8, 64));
  std::size_t end = start;
  bool threshold = false;
  while (end < list.size()) {
    threshold = threshold || list[end]->phase == Phase::Threshold;
    if (end - start >= (threshold ? small : large)) break;
    ++end;
  }
  return end;
}

PressureWatch::PressureWatch(const Plan& plan, const Policy& policy, const FilesystemUsage& before)
    : policy_(policy), blocks_(plan.over_high), inodes_(plan.inode_pressure), protected_by_(plan.protected_by) {
  relieved_ = !(blocks_ || inodes_) || pressure_relieved(before, policy_, blocks_, inodes_);
}

bool PressureWatch::observe(const FilesystemUsage& usage) {
  measured_ = true;
  if (relieved_ || !pressure_relieved(usage, policy_, blocks_, inodes_)) return false;
  relieved_ = true;
  return true;
}

std::vector<Decision> PressureWatch::reserves(const Plan& plan, const FilesystemUsage& now) const {
  std::vector<Decision> out;
  if (relieved_ || !measured_) return out;
  for (const auto& d : plan.images) {
    if (!d.reserve) continue;
    Decision e = d;
    e.phase = Phase::Threshold;
    e.reason = fmt::format("{} (removed if needed): the planned removals freed less than their sizes (shared layers), "
                           "and usage is still {:.1f}% (low {})",
                           blocks_ ? "disk pressure" : "inode pressure", now.used_percent(), policy_.low.text);
    out.push_back(std::move(e));
  }
  return out;
}

void PressureWatch::settle_shortfalls(std::vector<Shortfall>& shortfalls, const FilesystemUsage& after) const {
  if (!(blocks_ || inodes_) || !measured_) return;
  std::erase_if(shortfalls, [](const Shortfall& s) { return s.kind == Shortfall::Kind::Low; });
  if (pressure_relieved(after, policy_, blocks_, inodes_)) return;
  const std::string why = explain_protected(protected_by_, policy_);
  shortfalls.push_back(
      {.kind = Shortfall::Kind::Low,
       .message = fmt::format("low {}: usage is still {:.1f}% (inodes {:.1f}%) after removing every removable image; "
                              "the rest is {}",
                              policy_.low.text, after.used_percent(), after.inodes_used_percent(),
                              why.empty() ? "not images" : "protected or not images: " + why),
       .needed_bytes = bytes_to_reach_low(policy_.low, policy_.low, after),
       .protected_by = protected_by_});
}

}  // namespace nodeimg::gc
