#pragma once
// The rules by which a plan's image removals are carried out, pure: the executor
// (commands/gc/gc_executor) does the removing and measuring and asks here what to do next.
//
// Batches. Before each batch of images the containers are listed again (an image that came
// into use since the plan stays). A batch has at most 8 times `per_batch` images, at most
// 64 (and at least `per_batch`). maxUnusedAge and maxImages removals (carried out whatever
// the disk) need no measuring: their batches leave the space to be reclaimed later
// (ImageRuntime::Reclaim::Deferred; containerd then collects garbage once for many batches
// instead of once per batch), before the next measurement.
//
// Threshold steps. Threshold-selected removals go in measured steps. A step opens at the
// start of a batch, on a fresh measurement (what earlier batches left to reclaim is
// reclaimed first), and plans by image sizes up to half of what that measurement is still
// short of low: an image frees at most about twice its compressed size (runtimes.md), so a
// step does not overshoot low. Sizes also overstate what a removal frees (layers shared
// with images that stay): when the last step freed less than the sizes it planned, the
// next one plans its half of the shortfall scaled by that ratio, so that it expects to free
// half of it; the scale at most doubles from one step to the next (at most 64), so a step
// never rests on more than one doubling of a measured estimate. A step has at least
// `per_batch` images (exactly `per_batch` when opened on no budget). A step may span
// several batches; its last batch reclaims the space and is measured. 1000 images by
// threshold take a few steps per halving of the shortfall, not 1000 / per_batch.
//
// Pressure. Threshold-selected images stop as soon as a measurement shows the pressure that
// started the run relieved. Image sizes overstate what a removal frees (shared layers), so
// while the last measurement still shows pressure once the selected removals are done, the
// run goes on with the plan's reserves, in steps as small as one image (per_batch 1) planned
// on the scale the measurements taught. Only a measurement justifies removing
// more than the plan selected: after a failed measurement no reserve is taken.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/gc/model.hpp"

namespace nodeimg::gc {

// The threshold step in progress (see "Threshold steps" above).
struct ThresholdStep {
  bool open = false;
  std::size_t images = 0;      // threshold images the step has planned so far
  std::uint64_t budget = 0;    // bytes (by image sizes) it may still plan
  std::uint64_t planned = 0;   // bytes (by image sizes) it has planned
};

// A step opened on a measurement `short_of_low` bytes short of low: it plans half of that,
// times `scale` (see next_scale).
ThresholdStep open_step(std::uint64_t short_of_low, double scale = 1.0);

// What a finished step planned (by image sizes) and what the measurements around it
// showed freed.
struct StepResult {
  std::uint64_t planned = 0;
  std::uint64_t freed = 0;
};
// The next step's scale: planned / freed of the last step, at least 1, at most twice
// `scale` and at most 64. A step that planned nothing leaves the scale as it is.
double next_scale(double scale, const StepResult& last);

// Whether the batch that starts at `start` starts a new threshold step: the caller then
// reclaims and measures, and opens it (open_step) before asking next_batch.
bool starts_step(const std::vector<const Decision*>& list, std::size_t start, std::size_t per_batch,
                 const ThresholdStep& step);

struct Batch {
  std::size_t end = 0;     // exclusive
  bool threshold = false;  // holds threshold-selected images
  bool ends_step = false;  // the step's last batch: reclaim now and measure after it
};

// The batch that starts at `start` of `list`; counts its threshold images into `step`
// (closing it where it ends). Never empty while start < list.size().
Batch next_batch(const std::vector<const Decision*>& list, std::size_t start, std::size_t per_batch,
                 ThresholdStep& step);

// Disk and inode pressure through a run, from the plan's measurement and each re-measurement.
class PressureWatch {
 public:
  PressureWatch(const Plan& plan, const Policy& policy, const FilesystemUsage& before);

  // Whether a threshold-selected image still to go is no longer needed.
  bool relieved() const { return relieved_; }
  // Whether the last measurement succeeded.
  bool measured() const { return measured_; }
  // A fresh measurement; true when it is the one that relieved the pressure.
  bool observe(const FilesystemUsage& usage);
  // The measurement failed: what the disk looks like now is unknown.
  void observe_failure() { measured_ = false; }

  // Bytes still to free before the last measurement `now` shows the pressure relieved,
  // by the very rule the run stops on; 0 when relieved, when bytes alone cannot relieve
  // it (inode pressure) or when nothing is measurable.
  std::uint64_t bytes_short_of_low(const FilesystemUsage& now) const;

  // The reserves to go on with (as threshold removals, with the reason why), or none.
  std::vector<Decision> reserves(const Plan& plan, const FilesystemUsage& now) const;
  // The plan judged reaching low from image sizes; the last measurement is what counts: the
  // plan's low shortfall is replaced by one from the measurement (or by none). After a
  // failed measurement the plan's estimate stands.
  void settle_shortfalls(std::vector<Shortfall>& shortfalls, const FilesystemUsage& after) const;

 private:
  const Policy& policy_;
  bool blocks_ = false;    // the plan saw usage at or above high
  bool inodes_ = false;    // the plan saw inode usage at or above inodesHigh
  bool relieved_ = true;
  bool measured_ = true;   // the last measurement succeeded
  std::vector<ReasonCount> protected_by_;  // the plan's: what a measured shortfall explains
};

}  // namespace nodeimg::gc
