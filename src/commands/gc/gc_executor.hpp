#pragma once
// Carries out a collection plan against a runtime: exited containers, then NotReady
// sandboxes, then images in LRU order, each phase with at most `concurrency` removals in
// flight (images go in batches: `concurrency` at a time while thresholds are being worked
// down, up to 8 times that for maxUnusedAge and maxImages removals). Safety over speed:
// - Just before each batch of images, containers are listed again and any image that has
//   come into use since the plan is skipped (never removed).
// - "Not found" counts as done; "in use" as skipped; other errors are recorded and the run
//   goes on with the next object.
// - After each batch the image filesystem is measured again, and threshold-selected images
//   stop as soon as the pressure that started the run is relieved (maxUnusedAge and
//   maxImages selections are carried out whatever the disk). Image sizes overstate what a
//   removal frees (shared layers), so while the measurement is still above low the
//   executor goes on with the plan's reserves, least recently used first; the low
//   shortfall is decided by the final measurement, not by the sizes.
// With dry_run nothing is removed: the report lists what would be.
#include <functional>

#include "adapters/runtime/image_runtime.hpp"
#include "core/gc/model.hpp"
#include "core/gc/report.hpp"

namespace nodeimg {

struct ExecutorOptions {
  int concurrency = 4;
  bool dry_run = false;
};

using MeasureUsage = std::function<Result<gc::FilesystemUsage>()>;

// `report` arrives with before/images_before/runtime filled in; the executor adds removals,
// skips, failures and `after`.
void execute_plan(ImageRuntime& runtime, const gc::Inventory& inventory, const gc::Plan& plan, const gc::Policy& policy,
                  const MeasureUsage& measure, const ExecutorOptions& options, gc::RunReport& report);

}  // namespace nodeimg
