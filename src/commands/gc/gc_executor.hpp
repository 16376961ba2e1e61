#pragma once
// Carries out a collection plan against a runtime: exited containers, then NotReady
// sandboxes, then images in LRU order, each phase with at most `concurrency` removals in
// flight; images in batches, re-listing containers before each one, as
// core/gc/execution.hpp rules: maxUnusedAge and maxImages batches leave their space to be
// reclaimed once (ImageRuntime::Reclaim::Deferred) before the next measurement and at the
// end; threshold removals go in measured steps, the space reclaimed and the image
// filesystem re-measured after each step. Safety over speed:
// - An image that has come into use since the plan is skipped (never removed).
// - "Not found" counts as done; "in use" as skipped; other errors are recorded and the run
//   goes on with the next object.
// - An error saying the runtime itself is gone (Error::unreachable: connection refused or
//   lost, no answer in time) is not the object's: the run stops there, the report carries
//   the outage once (runtime_reached false) and the planned removals not attempted are
//   counted in it, not reported as failures.
// - A failed re-measure is a warning in the report; the run goes on with what the plan
//   selected, and takes no reserve (only a measurement can say more is needed).
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
// skips, failures, warnings and `after`.
void execute_plan(ImageRuntime& runtime, const gc::Inventory& inventory, const gc::Plan& plan, const gc::Policy& policy,
                  const MeasureUsage& measure, const ExecutorOptions& options, gc::RunReport& report);

}  // namespace nodeimg
