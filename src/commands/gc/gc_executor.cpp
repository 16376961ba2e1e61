#include "commands/gc/gc_executor.hpp"

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "core/gc/planner.hpp"
#include "core/gc/progress.hpp"

namespace nodeimg {

namespace {

using gc::ObjectKind;
using Outcome = ImageRuntime::Outcome;

// Runs fn(i) for every i in [0, n) on at most `workers` threads.
template <class Fn>
void parallel_for(std::size_t n, int workers, Fn fn) {
  const std::size_t threads = std::min<std::size_t>(n, static_cast<std::size_t>(std::max(workers, 1)));
  if (threads <= 1) {
    for (std::size_t i = 0; i < n; ++i) fn(i);
    return;
  }
  std::atomic<std::size_t> next{0};
  std::vector<std::jthread> pool;
  pool.reserve(threads);
  for (std::size_t t = 0; t < threads; ++t)
    pool.emplace_back([&] {
      for (std::size_t i = next++; i < n; i = next++) fn(i);
    });
}

struct Recorder {
  gc::RunReport& report;
  std::mutex mutex;

  void outcome(ObjectKind kind, const gc::Decision& d, const Result<Outcome>& r) {
    std::lock_guard lock(mutex);
    if (!r) {
      report.failures.push_back({kind, d.id, r.error().message});
      spdlog::debug("{} {}: {}", to_string(kind), d.id, r.error().message);
      return;
    }
    switch (*r) {
      case Outcome::Removed:
      case Outcome::NotFound:
        report.removed.push_back({kind, d.id, d.name, d.size, d.phase.value_or(gc::Phase::Threshold),
                                  *r == Outcome::NotFound ? d.reason + " (already gone)" : d.reason});
        break;
      case Outcome::InUse:
        report.skipped.push_back({kind, d.id, d.name, "the runtime refused: in use"});
        break;
    }
  }
  void skip(ObjectKind kind, const gc::Decision& d, std::string reason) {
    std::lock_guard lock(mutex);
    report.skipped.push_back({kind, d.id, d.name, std::move(reason)});
  }
  void fail(ObjectKind kind, const std::string& id, std::string message) {
    std::lock_guard lock(mutex);
    report.failures.push_back({kind, id, std::move(message)});
  }
};

std::vector<const gc::Decision*> planned(const std::vector<gc::Decision>& decisions) {
  std::vector<const gc::Decision*> out;
  for (const auto& d : decisions)
    if (d.remove) out.push_back(&d);
  return out;
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
    for (const auto* d : containers) rec.outcome(ObjectKind::Container, *d, Outcome::Removed);
    for (const auto* d : sandboxes) rec.outcome(ObjectKind::Sandbox, *d, Outcome::Removed);
    for (const auto* d : images) rec.outcome(ObjectKind::Image, *d, Outcome::Removed);
    return;
  }

  parallel_for(containers.size(), options.concurrency, [&](std::size_t i) {
    rec.outcome(ObjectKind::Container, *containers[i], runtime.remove_container(containers[i]->id));
  });
  parallel_for(sandboxes.size(), options.concurrency, [&](std::size_t i) {
    rec.outcome(ObjectKind::Sandbox, *sandboxes[i], runtime.remove_sandbox(sandboxes[i]->id));
  });

  std::map<std::string, const gc::Image*> by_id;
  for (const auto& image : inventory.images) by_id[image.id] = &image;
  const bool blocks_pressure = plan.over_high, inode_pressure = plan.inode_pressure;
  const bool pressure = blocks_pressure || inode_pressure;
  bool relieved = !pressure || gc::pressure_relieved(report.before, policy, blocks_pressure, inode_pressure);

  // Removes `list` in batches; threshold-phase images stop once re-measuring shows relief.
  // A batch holding threshold images has at most `small` of them, so usage is measured
  // often enough not to overshoot low; maxUnusedAge and maxImages removals need no
  // measuring and go in batches up to 8 times larger (a runtime with a bulk path, such as
  // containerd, then collects garbage once for many images).
  auto remove_images = [&](const std::vector<const gc::Decision*>& list, std::size_t small) {
    const std::size_t large = std::max(small, std::min<std::size_t>(small * 8, 64));
    auto batch_end = [&](std::size_t start) {
      std::size_t end = start;
      bool threshold = false;
      while (end < list.size()) {
        threshold = threshold || list[end]->phase == gc::Phase::Threshold;
        if (end - start >= (threshold ? small : large)) break;
        ++end;
      }
      return end;
    };
    for (std::size_t start = 0, end = 0; start < list.size(); start = end) {
      end = batch_end(start);
      std::vector<const gc::Decision*> todo;
      for (std::size_t i = start; i < end; ++i) {
        const auto* d = list[i];
        if (relieved && d->phase == gc::Phase::Threshold) {
          if (d->remove)
            rec.skip(ObjectKind::Image, *d,
                     fmt::format("not needed: usage is now {:.1f}% (low {})", report.after.used_percent(), policy.low.text));
          continue;
        }
        todo.push_back(d);
      }
      if (todo.empty()) continue;
      // Re-list just before removing: an image that came into use since the plan stays.
      auto now_containers = runtime.list_containers();
      if (!now_containers) {
        for (const auto* d : todo) rec.fail(ObjectKind::Image, d->id, "not removed: " + now_containers.error().message);
        continue;
      }
      std::vector<gc::Image> candidates;
      for (const auto* d : todo) candidates.push_back(*by_id.at(d->id));
      const auto users = gc::containers_using(candidates, *now_containers);
      std::vector<std::pair<const gc::Decision*, const gc::Image*>> go;
      for (std::size_t i = 0; i < todo.size(); ++i) {
        if (!users[i].empty()) {
          rec.skip(ObjectKind::Image, *todo[i], "came into use since the plan: " + gc::describe_container(*users[i].front()));
          continue;
        }
        go.emplace_back(todo[i], by_id.at(todo[i]->id));
      }
      // One call per batch: a runtime with a bulk path (containerd) frees the whole batch
      // with one garbage collection; the default removes them on `concurrency` threads.
      if (!go.empty()) {
        std::vector<gc::Image> batch_images;
        batch_images.reserve(go.size());
        for (const auto& entry : go) batch_images.push_back(*entry.second);
        const auto results = runtime.remove_images(batch_images, options.concurrency);
        for (std::size_t i = 0; i < go.size(); ++i)
          rec.outcome(ObjectKind::Image, *go[i].first,
                      i < results.size() ? results[i]
                                         : Result<Outcome>(fail("not removed: the runtime returned no result for it")));
      }
      if (auto usage = measure(); usage) {
        report.after = *usage;
        if (pressure && !relieved && gc::pressure_relieved(*usage, policy, blocks_pressure, inode_pressure)) {
          relieved = true;
          report.stopped_at_low =
              std::any_of(list.begin() + static_cast<std::ptrdiff_t>(end), list.end(),
                          [](const gc::Decision* d) { return d->phase == gc::Phase::Threshold; });
        }
      } else {
        spdlog::debug("re-measure the image filesystem: {}", usage.error().message);
      }
    }
  };
  remove_images(images, static_cast<std::size_t>(std::max(options.concurrency, 1)));

  // Image sizes overstate what removals free (layers shared between images): while the
  // measured usage is still above low, go on with the reserves, least recently used first.
  if (pressure && !relieved) {
    std::vector<gc::Decision> extra;
    for (const auto& d : plan.images)
      if (d.reserve) {
        gc::Decision e = d;
        e.phase = gc::Phase::Threshold;
        e.reason = fmt::format("{}; the planned removals freed less than their sizes (shared layers), and usage is still "
                               "{:.1f}% (low {})",
                               blocks_pressure ? "disk pressure" : "inode pressure", report.after.used_percent(),
                               policy.low.text);
        extra.push_back(std::move(e));
      }
    std::vector<const gc::Decision*> reserves;
    for (const auto& e : extra) reserves.push_back(&e);
    // One at a time: the estimate has already proved wrong, so measure after every removal
    // rather than overshoot low by a batch.
    remove_images(reserves, 1);
  }
  if (auto usage = measure(); usage) report.after = *usage;

  // The plan judged reaching low from image sizes; the measurement is what counts.
  if (pressure) {
    std::erase_if(report.shortfalls, [](const std::string& s) { return s.starts_with("low "); });
    if (!gc::pressure_relieved(report.after, policy, blocks_pressure, inode_pressure))
      report.shortfalls.push_back(fmt::format("low {}: usage is still {:.1f}% (inodes {:.1f}%) after removing every "
                                              "removable image; the rest is protected, in use or not images",
                                              policy.low.text, report.after.used_percent(),
                                              report.after.inodes_used_percent()));
  }
}

}  // namespace nodeimg
