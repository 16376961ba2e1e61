#include "commands/gc/gc_executor.hpp"

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <set>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "core/common/parallel.hpp"
#include "core/gc/execution.hpp"
#include "core/gc/planner.hpp"

namespace nodeimg {

namespace {

using gc::ObjectKind;
using Outcome = ImageRuntime::Outcome;

// Writes outcomes into the report; safe from the worker threads. An error saying the
// runtime is gone (not about the object) is the run's outage, recorded once: from then on
// nothing more is tried.
struct Recorder {
  gc::RunReport& report;
  std::mutex mutex;
  std::atomic<bool> lost{false};

  // Records the outage (the first one only); returns whether `e` was one.
  bool outage(const Error& e) {
    if (!e.unreachable) return false;
    std::lock_guard lock(mutex);
    if (!lost.exchange(true)) {
      report.runtime_reached = false;
      report.outage = e.message;
      spdlog::debug("runtime lost: {}", e.message);
    }
    return true;
  }
  // Whether the runtime is gone: nothing more is attempted.
  bool gone() const { return lost.load(); }

  void outcome(ObjectKind kind, const gc::Decision& d, const Result<Outcome>& r) {
    if (!r && outage(r.error())) return;
    std::lock_guard lock(mutex);
    if (!r) {
      report.failures.push_back({.kind = kind, .id = d.id, .message = r.error().message});
      spdlog::debug("{} {}: {}", to_string(kind), d.id, r.error().message);
      return;
    }
    switch (*r) {
      case Outcome::Removed:
      case Outcome::NotFound:
        report.removed.push_back({.kind = kind,
                                  .id = d.id,
                                  .name = d.name,
                                  .size = d.size,
                                  .phase = d.phase.value_or(gc::Phase::Threshold),
                                  .reason = *r == Outcome::NotFound ? d.reason + " (already gone)" : d.reason});
        break;
      case Outcome::InUse:
        report.skipped.push_back(
            {.kind = kind, .id = d.id, .name = d.name, .reason = "the runtime refused: in use", .code = gc::SkipCode::InUse});
        break;
      case Outcome::HasDependents:
        report.skipped.push_back({.kind = kind,
                                  .id = d.id,
                                  .name = d.name,
                                  .reason = "the runtime refused: other images are built on it (left whole, names kept)"});
        break;
    }
  }
  void skip(ObjectKind kind, const gc::Decision& d, gc::SkipCode code, std::string reason) {
    std::lock_guard lock(mutex);
    report.skipped.push_back({.kind = kind, .id = d.id, .name = d.name, .reason = std::move(reason), .code = code});
  }
  void fail(ObjectKind kind, const std::string& id, std::string message) {
    std::lock_guard lock(mutex);
    report.failures.push_back({.kind = kind, .id = id, .message = std::move(message)});
  }
};

std::vector<const gc::Decision*> planned(const std::vector<gc::Decision>& decisions) {
  std::vector<const gc::Decision*> out;
  for (const auto& d : decisions)
    if (d.remove) out.push_back(&d);
  return out;
}

// An image the batch will ask the runtime to remove, with the decision that chose it.
struct Go {
  const gc::Decision* decision;
  const gc::Image* image;
};

// Removes images batch by batch, as core/gc/execution.hpp rules.
class ImageRemover {
 public:
  ImageRemover(ImageRuntime& runtime, const gc::Inventory& inventory, const gc::Policy& policy, const MeasureUsage& measure,
               int concurrency, Recorder& rec, gc::PressureWatch& watch)
      : runtime_(runtime), policy_(policy), measure_(measure), concurrency_(concurrency), rec_(rec), watch_(watch) {
    for (const auto& image : inventory.images) by_id_[image.id] = &image;
  }

  // With `by_budget` a threshold step plans half of what the last measurement is short of
  // low; without, a step is `per_batch` images (the reserves: the sizes have proved wrong).
  void remove(const std::vector<const gc::Decision*>& list, std::size_t per_batch, bool by_budget) {
    gc::ThresholdStep step;
    for (std::size_t start = 0, end = 0; start < list.size() && !rec_.gone(); start = end) {
      if (gc::starts_step(list, start, per_batch, step)) {
        // Measure what earlier batches freed: it may already relieve the pressure.
        if (pending_) remeasure(list, start);
        learn(step);
        step = gc::open_step(by_budget ? watch_.bytes_short_of_low(rec_.report.after) : 0, scale_);
        step_start_available_ = rec_.report.after.available_bytes;
      }
      const gc::Batch batch = gc::next_batch(list, start, per_batch, step);
      end = batch.end;
      const auto todo = still_needed(list, start, end);
      if (todo.empty()) continue;
      remove_batch(unused_now(todo), batch.ends_step ? ImageRuntime::Reclaim::Now : ImageRuntime::Reclaim::Deferred);
      if (batch.ends_step) remeasure(list, end);
    }
    learn(step);  // the reserves, if any, go on with what this list's last step taught
  }

  // Whether Deferred batches left space unreclaimed (and so unmeasured).
  bool pending() const { return pending_; }

  // The last measurement: when it fails, the report keeps the previous one and says so.
  void measure_after(const char* when) {
    if (!rec_.gone()) reclaim();
    auto usage = measure_();
    if (!usage) return measure_failed(when, usage.error());
    rec_.report.after = *usage;
    watch_.observe(*usage);
  }

 private:
  // The batch's decisions, less threshold-selected images no longer needed (recorded as skips).
  std::vector<const gc::Decision*> still_needed(const std::vector<const gc::Decision*>& list, std::size_t start,
                                                std::size_t end) {
    std::vector<const gc::Decision*> todo;
    for (std::size_t i = start; i < end; ++i) {
      const auto* d = list[i];
      if (watch_.relieved() && d->phase == gc::Phase::Threshold) {
        if (d->remove)
          rec_.skip(ObjectKind::Image, *d, gc::SkipCode::LowReached,
                    fmt::format("not needed: usage is now {:.1f}% (low {})", rec_.report.after.used_percent(), policy_.low.text));
        continue;
      }
      todo.push_back(d);
    }
    return todo;
  }

  // Re-lists the containers just before removing: an image that came into use since the plan stays.
  std::vector<Go> unused_now(const std::vector<const gc::Decision*>& todo) {
    auto containers = runtime_.list_containers();
    if (!containers) {
      if (rec_.outage(containers.error())) return {};
      for (const auto* d : todo) rec_.fail(ObjectKind::Image, d->id, "not removed: " + containers.error().message);
      return {};
    }
    std::vector<gc::Image> candidates;
    for (const auto* d : todo) candidates.push_back(*by_id_.at(d->id));
    const auto users = gc::containers_using(candidates, *containers);
    std::vector<Go> go;
    for (std::size_t i = 0; i < todo.size(); ++i) {
      if (!users[i].empty()) {
        rec_.skip(ObjectKind::Image, *todo[i], gc::SkipCode::CameIntoUse, "came into use since the plan: " + gc::describe_container(*users[i].front()));
        continue;
      }
      go.push_back({.decision = todo[i], .image = by_id_.at(todo[i]->id)});
    }
    return go;
  }

  // One call per batch: a runtime with a bulk path (containerd) deletes the whole batch's
  // references and collects garbage at most once (Now), or not at all (Deferred: the space
  // is reclaimed before the next measurement); the default removes them on `concurrency`
  // threads.
  void remove_batch(const std::vector<Go>& go, ImageRuntime::Reclaim reclaim) {
    if (go.empty()) return;
    std::vector<gc::Image> images;
    images.reserve(go.size());
    for (const auto& g : go) images.push_back(*g.image);
    const auto results = runtime_.remove_images(images, concurrency_, reclaim);
    pending_ = pending_ || reclaim == ImageRuntime::Reclaim::Deferred;
    for (std::size_t i = 0; i < go.size(); ++i)
      rec_.outcome(ObjectKind::Image, *go[i].decision,
                   i < results.size() ? results[i] : Result<Outcome>(fail("not removed: the runtime returned no result for it")));
  }

  // The scale of the next step, from what the step that just ended planned and freed (by
  // the measurements at its start and now); nothing learnt without a fresh measurement.
  void learn(const gc::ThresholdStep& ended) {
    if (ended.planned == 0 || !watch_.measured()) return;
    const std::uint64_t now = rec_.report.after.available_bytes;
    scale_ = gc::next_scale(
        scale_, {.planned = ended.planned, .freed = now > step_start_available_ ? now - step_start_available_ : 0});
  }

  // Frees what Deferred batches left pending (before any measurement). A failure is the
  // run's (the references are gone, the space is not known to be free).
  void reclaim() {
    if (!pending_) return;
    pending_ = false;
    auto r = runtime_.reclaim_space();
    if (!r && !rec_.outage(r.error())) rec_.fail(ObjectKind::Image, "(garbage collection)", r.error().message);
  }

  // Reclaims and measures; `end`: where the rest of `list` starts (for stopped_at_low).
  void remeasure(const std::vector<const gc::Decision*>& list, std::size_t end) {
    reclaim();
    auto usage = measure_();
    if (!usage) return measure_failed("after a batch of removals", usage.error());
    rec_.report.after = *usage;
    if (watch_.observe(*usage))
      rec_.report.stopped_at_low = std::any_of(list.begin() + static_cast<std::ptrdiff_t>(end), list.end(),
                                               [](const gc::Decision* d) { return d->phase == gc::Phase::Threshold; });
  }

  void measure_failed(const char* when, const Error& e) {
    watch_.observe_failure();
    std::lock_guard lock(rec_.mutex);
    rec_.report.warnings.push_back(fmt::format("re-measure the image filesystem {}: {}; going on with the plan's estimate "
                                               "(no reserves are taken without a measurement)",
                                               when, e.message));
  }

  ImageRuntime& runtime_;
  const gc::Policy& policy_;
  const MeasureUsage& measure_;
  int concurrency_;
  Recorder& rec_;
  gc::PressureWatch& watch_;
  bool pending_ = false;  // a Deferred batch ran since the last reclaim_space
  double scale_ = 1.0;    // threshold steps: see core/gc/execution.hpp
  std::uint64_t step_start_available_ = 0;  // the measurement a step opened on
  std::map<std::string, const gc::Image*> by_id_;
};

// The planned removals the report says nothing about (neither removed, skipped nor failed).
std::size_t not_attempted(std::initializer_list<const std::vector<const gc::Decision*>*> lists, const gc::RunReport& report) {
  std::set<std::string> told;
  for (const auto& r : report.removed) told.insert(r.id);
  for (const auto& r : report.skipped) told.insert(r.id);
  for (const auto& r : report.failures) told.insert(r.id);
  std::size_t n = 0;
  for (const auto* list : lists)
    for (const auto* d : *list) n += told.contains(d->id) ? 0 : 1;
  return n;
}

void record_dry_run(const std::vector<const gc::Decision*>& list, ObjectKind kind, Recorder& rec) {
  for (const auto* d : list) rec.outcome(kind, *d, Outcome::Removed);
}

}  // namespace

void execute_plan(ImageRuntime& runtime, const gc::Inventory& inventory, const gc::Plan& plan, const gc::Policy& policy,
                  const MeasureUsage& measure, const ExecutorOptions& options, gc::RunReport& report) {
  Recorder rec{report, {}};
  const auto containers = planned(plan.containers);
  const auto sandboxes = planned(plan.sandboxes);
  const auto images = planned(plan.images);
  report.after = report.before;
  if (options.dry_run) {
    record_dry_run(containers, ObjectKind::Container, rec);
    record_dry_run(sandboxes, ObjectKind::Sandbox, rec);
    record_dry_run(images, ObjectKind::Image, rec);
    return;
  }
  parallel_for(containers.size(), options.concurrency, [&](std::size_t i) {
    if (!rec.gone()) rec.outcome(ObjectKind::Container, *containers[i], runtime.remove_container(containers[i]->id));
  });
  parallel_for(sandboxes.size(), options.concurrency, [&](std::size_t i) {
    if (!rec.gone()) rec.outcome(ObjectKind::Sandbox, *sandboxes[i], runtime.remove_sandbox(sandboxes[i]->id));
  });

  gc::PressureWatch watch(plan, policy, report.before);
  ImageRemover remover(runtime, inventory, policy, measure, options.concurrency, rec, watch);
  remover.remove(images, static_cast<std::size_t>(std::max(options.concurrency, 1)), /*by_budget=*/true);
  // Whether reserves are needed is a measurement's call: of everything the plan removed.
  if (remover.pending()) remover.measure_after("after the planned removals");
  const std::vector<gc::Decision> reserves = watch.reserves(plan, report.after);
  std::vector<const gc::Decision*> reserve_list;
  for (const auto& d : reserves) reserve_list.push_back(&d);
  // The sizes have proved wrong: steps as small as one image, planned on the scale the
  // measurements taught (half the measured shortfall, by what removals really freed).
  remover.remove(reserve_list, 1, /*by_budget=*/true);
  remover.measure_after("at the end of the run");
  if (rec.gone()) {
    // What the plan still wanted was not attempted: say so once, with the outage.
    report.outage += fmt::format("; stopped there: {} planned removal(s) not attempted",
                                 not_attempted({&containers, &sandboxes, &images}, report));
    return;  // a shortfall judged against a run cut short would mislead
  }
  watch.settle_shortfalls(report.shortfalls, report.after);
}

}  // namespace nodeimg
