#pragma once
// The rules by which a plan's image removals are carried out, pure: the executor
// (commands/gc/gc_executor) does the removing and measuring and asks here what to do next.
//
// Batches. Before each batch of images the containers are listed again (an image that came
// into use since the plan stays) and after it the image filesystem is measured again. A
// batch that holds a threshold-selected image has at most `per_batch` images, so that usage
// is measured often enough not to overshoot low; a batch of only maxUnusedAge and maxImages
// removals (carried out whatever the disk) has up to 8 times that, at most 64, so that a
// runtime with a bulk path (containerd) collects garbage once for many images.
//
// Pressure. Threshold-selected images stop as soon as a measurement shows the pressure that
// started the run relieved. Image sizes overstate what a removal frees (shared layers), so
// while the last measurement still shows pressure once the selected removals are done, the
// run goes on with the plan's reserves, one at a time. Only a measurement justifies removing
// more than the plan selected: after a failed measurement no reserve is taken.
#include <cstddef>
#include <string>
#include <vector>

#include "core/gc/model.hpp"

namespace nodeimg::gc {

// Where the batch that starts at `start` of `list` ends (exclusive); see above.
std::size_t batch_end(const std::vector<const Decision*>& list, std::size_t start, std::size_t per_batch);

// Disk and inode pressure through a run, from the plan's measurement and each re-measurement.
class PressureWatch {
 public:
  PressureWatch(const Plan& plan, const Policy& policy, const FilesystemUsage& before);

  // Whether a threshold-selected image still to go is no longer needed.
  bool relieved() const { return relieved_; }
  // A fresh measurement; true when it is the one that relieved the pressure.
  bool observe(const FilesystemUsage& usage);
  // The measurement failed: what the disk looks like now is unknown.
  void observe_failure() { measured_ = false; }

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
