#include "core/gc/execution.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "core/gc/planner.hpp"
#include "core/gc/threshold.hpp"

namespace nodeimg::gc {

namespace {

std::size_t small_of(std::size_t per_batch) { return std::max<std::size_t>(per_batch, 1); }
std::size_t large_of(std::size_t per_batch) {
  const std::size_t small = small_of(per_batch);
  return std::max(small, std::min<std::size_t>(small * 8, 64));
}

// Whether threshold image `d` no longer fits the step (none open, or its budget spent
// once it has its minimum of images).
bool outside_step(const Decision& d, std::size_t small, const ThresholdStep& step) {
  return !step.open || (step.images >= small && d.size > step.budget);
}

}  // namespace

namespace {
constexpr double kMaxScale = 64;
}

ThresholdStep open_step(std::uint64_t short_of_low, double scale) {
  const double budget = static_cast<double>(short_of_low / 2) * std::clamp(scale, 1.0, kMaxScale);
  return {.open = true, .images = 0, .budget = static_cast<std::uint64_t>(budget), .planned = 0};
}

double next_scale(double scale, const StepResult& last) {
  if (last.planned == 0) return scale;
  const double limit = std::min(2 * std::max(scale, 1.0), kMaxScale);
  if (last.freed == 0) return limit;
  return std::clamp(static_cast<double>(last.planned) / static_cast<double>(last.freed), 1.0, limit);
}

bool starts_step(const std::vector<const Decision*>& list, std::size_t start, std::size_t per_batch,
                 const ThresholdStep& step) {
  return start < list.size() && list[start]->phase == Phase::Threshold &&
         outside_step(*list[start], small_of(per_batch), step);
}

Batch next_batch(const std::vector<const Decision*>& list, std::size_t start, std::size_t per_batch,
                 ThresholdStep& step) {
  const std::size_t small = small_of(per_batch), large = large_of(per_batch);
  // Asked without opening the step the first image needs: a step of `small` images.
  if (starts_step(list, start, per_batch, step)) step = open_step(0);
  Batch b{.end = start};
  while (b.end < list.size() && b.end - start < large) {
    const Decision& d = *list[b.end];
    if (d.phase == Phase::Threshold) {
      if (outside_step(d, small, step)) {  // it starts the next step, in a batch of its own
        b.ends_step = b.threshold;
        step.open = false;
        break;
      }
      step.budget -= std::min(step.budget, d.size);
      step.planned += d.size;
      ++step.images;
      b.threshold = true;
    }
    ++b.end;
  }
  if (b.threshold && b.end == list.size()) {
    b.ends_step = true;
    step.open = false;
  }
  return b;
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

std::uint64_t PressureWatch::bytes_short_of_low(const FilesystemUsage& now) const {
  if (relieved_ || !blocks_ || inodes_ || now.size_bytes == 0) return 0;
  auto relieved_with = [&](std::uint64_t freed) {
    FilesystemUsage v = now;
    v.available_bytes = std::min(now.size_bytes, now.available_bytes + std::min(freed, now.size_bytes));
    return pressure_relieved(v, policy_, blocks_, inodes_);
  };
  // Bisection: relieved_with(hi) holds, relieved_with(lo) does not.
  std::uint64_t lo = 0, hi = now.size_bytes;
  if (relieved_with(lo) || !relieved_with(hi)) return 0;
  while (hi - lo > 1) {
    const std::uint64_t mid = lo + (hi - lo) / 2;
    (relieved_with(mid) ? hi : lo) = mid;
  }
  return hi;
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
