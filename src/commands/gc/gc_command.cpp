#include "commands/gc/gc_command.hpp"

#include <unistd.h>

#include <chrono>
#include <ctime>
#include <iostream>
#include <atomic>
#include <map>
#include <mutex>
#include <thread>

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "adapters/host/filesystem_usage.hpp"
#include "adapters/host/history_store.hpp"
#include "adapters/host/host_files.hpp"
#include "adapters/host/run_lock.hpp"
#include "adapters/runtime/runtime_connect.hpp"
#include "commands/gc/gc_executor.hpp"
#include "commands/logging.hpp"
#include "core/gc/metrics.hpp"
#include "core/gc/planner.hpp"

namespace nodeimg {

using nlohmann::json;

namespace {

gc::Seconds unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string rfc3339(gc::Seconds t) {
  if (t <= 0) return "";
  return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", fmt::gmtime(static_cast<std::time_t>(t)));
}

std::string short_id(const std::string& id) {
  const auto colon = id.find(':');
  const std::string hex = colon == std::string::npos ? id : id.substr(colon + 1);
  return hex.substr(0, 12);
}

std::string runtime_label(const RuntimeInfo& info) {
  return fmt::format("{} {} ({} {})", info.name.empty() ? info.kind : info.name, info.version, info.kind, info.endpoint);
}

Result<gc::FilesystemUsage> measure(const std::string& mountpoint) {
  auto u = filesystem_usage(mountpoint);
  if (!u) return std::unexpected(u.error());
  return gc::FilesystemUsage{mountpoint, u->size_bytes, u->available_bytes, u->inodes, u->inodes_free};
}

// Everything a GC command learns from the runtime and the host before deciding.
struct Survey {
  std::unique_ptr<ImageRuntime> runtime;
  gc::Inventory inventory;
  gc::History history;           // updated with what the runtime shows now
  gc::RunTotals totals;          // as loaded from the state file
  std::vector<std::string> warnings;
  gc::Seconds now = 0;
};

// `writes`: whether this command may change the node (a real gc run): only then is a
// corrupt history moved aside.
Result<Survey> survey(const Context& ctx, const HostFiles& files, bool writes) {
  Survey s;
  auto runtime = connect_runtime(ctx.config.runtime, ctx.options.root);
  if (!runtime) return std::unexpected(runtime.error());
  s.runtime = std::move(*runtime);
  auto& rt = *s.runtime;
  spdlog::debug("runtime: {}", runtime_label(rt.info()));

  auto images = rt.list_images();
  if (!images) return std::unexpected(images.error());
  auto containers = rt.list_containers();
  if (!containers) return std::unexpected(containers.error());
  auto sandboxes = rt.list_sandboxes();
  if (!sandboxes) return std::unexpected(sandboxes.error());
  s.inventory.images = std::move(*images);
  s.inventory.containers = std::move(*containers);
  s.inventory.sandboxes = std::move(*sandboxes);
  if (!ctx.config.runtime.sandbox_image.empty()) s.inventory.sandbox_images.push_back(ctx.config.runtime.sandbox_image);
  if (auto pause = rt.sandbox_images(); pause) {
    for (auto& p : *pause) s.inventory.sandbox_images.push_back(std::move(p));
  } else {
    s.warnings.push_back("the runtime did not say which sandbox image it uses: " + pause.error().message);
  }
  auto mount = rt.image_filesystem();
  if (!mount) return std::unexpected(mount.error());
  auto usage = measure(*mount);
  if (!usage) return std::unexpected(context("measure the image filesystem", usage.error()));
  s.inventory.usage = *usage;

  s.now = unix_now();
  HistoryStore store(files, ctx.state_dir());
  auto loaded = store.load(writes);
  if (!loaded) return std::unexpected(loaded.error());
  for (auto& w : loaded->warnings) s.warnings.push_back(std::move(w));
  s.history = gc::update_history(loaded->history, s.inventory, s.now);
  s.totals = loaded->totals;
  return s;
}

json usage_json(const gc::FilesystemUsage& u) {
  return {{"capacityBytes", u.capacity_bytes},  {"availableBytes", u.available_bytes},
          {"usedPercent", u.used_percent()},    {"inodes", u.inodes},
          {"inodesFree", u.inodes_free},        {"inodesUsedPercent", u.inodes_used_percent()}};
}

std::string usage_text(const gc::FilesystemUsage& u) {
  return fmt::format("{:.1f}% used ({} free of {}), inodes {:.1f}% used", u.used_percent(),
                     gc::human_bytes(u.available_bytes), gc::human_bytes(u.capacity_bytes), u.inodes_used_percent());
}

std::string phase_text(const std::optional<gc::Phase>& p) { return p ? std::string(to_string(*p)) : ""; }

void write_metrics(const Context& ctx, const HostFiles& files, const gc::RunReport& report, gc::Seconds finished,
                   const gc::MetricsExtras& extras) {
  const std::string& path = ctx.config.metrics.textfile;
  if (path.empty()) return;
  const auto slash = path.rfind('/');
  auto dir = files.list(path.substr(0, slash == 0 ? 1 : slash));
  if (!dir || !*dir) {
    spdlog::debug("metrics: {} has no directory (is node_exporter's textfile collector set up?); not written",
                  files.host_path(path));
    return;
  }
  if (auto ok = files.write_atomic(path, gc::render_metrics(report, finished, extras), FileOwnership{0644, 0, 0}); !ok)
    log::event(spdlog::level::warn, "metrics not written: " + ok.error().message);
}

// A run that failed before it could plan still counts: its failure goes into the totals of
// the state file (the history itself is kept as it was). Returns the totals for the metrics.
std::optional<gc::RunTotals> count_failed_run(const Context& ctx, const HostFiles& files, const gc::RunReport& failed,
                                              gc::Seconds finished) {
  HistoryStore store(files, ctx.state_dir());
  auto loaded = store.load();
  if (!loaded) return std::nullopt;
  const auto totals = gc::record_run(loaded->totals, failed, finished);
  if (auto ok = store.save(loaded->history, totals, finished); !ok) {
    log::event(spdlog::level::warn, "save history: " + ok.error().message);
    return std::nullopt;
  }
  return totals;
}

}  // namespace

Result<void> apply_overrides(const PolicyOverrides& o, gc::Policy& policy) {
  if (o.high) {
    auto t = parse_threshold(*o.high);
    if (!t) return fail("--high: " + t.error().message);
    policy.high = *t;
  }
  if (o.low) {
    auto t = parse_threshold(*o.low);
    if (!t) return fail("--low: " + t.error().message);
    policy.low = *t;
  }
  if (o.inodes_high) {
    auto t = parse_threshold(*o.inodes_high);
    if (!t || t->kind != gc::Threshold::Kind::UsedPercent) return fail("--inodes-high: must be a percentage such as 90%");
    policy.inodes_high = t->percent;
  }
  for (auto [text, slot, name] : {std::tuple{&o.min_age, &policy.min_age, "--min-age"},
                                  std::tuple{&o.max_unused_age, &policy.max_unused_age, "--max-unused-age"}}) {
    if (!*text) continue;
    auto d = parse_duration(**text);
    if (!d) return fail(fmt::format("{}: {}", name, d.error().message));
    if (d->count() < 0) return fail(fmt::format("{}: must not be negative", name));
    *slot = std::chrono::duration_cast<std::chrono::seconds>(*d).count();
  }
  if (o.max_images) {
    if (*o.max_images < 0) return fail("--max-images: must be >= 0 (0 = off)");
    policy.max_images = static_cast<std::size_t>(*o.max_images);
  }
  if (o.concurrency) {
    if (*o.concurrency < 1 || *o.concurrency > 64) return fail("--concurrency: must be between 1 and 64");
    policy.concurrency = *o.concurrency;
  }
  for (const auto& k : o.keep) {
    auto p = gc::ReferencePattern::parse(k);
    if (!p) return fail("--keep: " + p.error().message);
    policy.keep.push_back(std::move(*p));
  }
  if (auto ordered = check_threshold_order(policy); !ordered) return fail("--high/--low: " + ordered.error().message);
  return {};
}

int gc_run(const Context& ctx, const GcFlags& flags) {
  gc::Policy policy = ctx.config.gc;
  if (auto ok = apply_overrides(flags.policy, policy); !ok) {
    spdlog::error("{}", ok.error().message);
    return kExitUsage;
  }
  auto lock_wait = parse_duration(flags.lock_timeout);
  if (!lock_wait || lock_wait->count() < 0) {
    spdlog::error("--lock-timeout: {}", lock_wait ? "must not be negative" : lock_wait.error().message);
    return kExitUsage;
  }
  const auto started = std::chrono::steady_clock::now();
  HostFiles files(ctx.options.root);

  // 1. One run at a time (a dry run changes nothing and needs no lock).
  std::optional<RunLock> lock;
  if (!flags.dry_run) {
    auto l = RunLock::acquire(files.host_path("/run/nodeimg/gc.lock"),
                              std::chrono::duration_cast<std::chrono::milliseconds>(*lock_wait));
    if (!l) {
      spdlog::error("{}", l.error().message);
      return kExitFailed;
    }
    lock.emplace(std::move(*l));
  }

  // 2–3. Inventory, measure, history.
  auto s = survey(ctx, files, !flags.dry_run);
  if (!s) {
    log::event(spdlog::level::err, "gc failed: " + s.error().message, {{"NODEIMG_COMMAND", "gc"}, {"NODEIMG_FAILED", "1"}});
    if (!flags.dry_run) {
      // Say so in the metrics too, so that an alert fires on the failure itself rather than
      // on the last good run's figures going stale.
      gc::RunReport failed;
      failed.runtime_reached = false;
      failed.runtime = ctx.config.runtime.endpoint;
      failed.failures.push_back({gc::ObjectKind::Image, "", s.error().message});
      failed.duration_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
      const auto finished = unix_now();
      write_metrics(ctx, files, failed, finished, {.totals = count_failed_run(ctx, files, failed, finished)});
    }
    return kExitFailed;
  }
  for (const auto& w : s->warnings) log::event(spdlog::level::warn, w);
  // Saved before anything is removed, on purpose: an unwritable state directory stops the
  // run before it acts, and a run killed mid-way (TimeoutStartSec) keeps what it learnt.
  // The save after the run only forgets the images it removed.
  HistoryStore store(files, ctx.state_dir());
  if (!flags.dry_run)
    if (auto ok = store.save(s->history, s->totals, s->now); !ok) {
      spdlog::error("save history: {}", ok.error().message);
      return kExitFailed;
    }

  // 4. Plan.
  const gc::Plan plan = gc::plan_collection(s->inventory, s->history, policy, s->now);

  // 5. Execute.
  gc::RunReport report;
  report.dry_run = flags.dry_run;
  report.runtime = runtime_label(s->runtime->info());
  report.started_at = s->now;
  report.before = s->inventory.usage;
  report.images_before = s->inventory.images.size();
  report.shortfalls = plan.shortfalls;
  const std::string mountpoint = s->inventory.usage.mountpoint;
  execute_plan(*s->runtime, s->inventory, plan, policy, [&] { return measure(mountpoint); },
               ExecutorOptions{policy.concurrency, flags.dry_run}, report);
  gc::History history_after = s->history;
  if (flags.dry_run) {
    report.images_after = plan.images_after;
  } else if (auto after = s->runtime->list_images(); after) {
    report.images_after = after->size();
    // Forget removed images now rather than at the next run.
    gc::Inventory remaining = s->inventory;
    remaining.images = std::move(*after);
    if (auto containers = s->runtime->list_containers(); containers) remaining.containers = std::move(*containers);
    history_after = gc::update_history(s->history, remaining, s->now);
  } else {
    report.failures.push_back({gc::ObjectKind::Image, "", "list images after the run: " + after.error().message});
  }
  report.duration_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (!flags.dry_run) {
    // The run's totals go to the state file with the history, then into the metrics.
    const auto finished = unix_now();
    const auto totals = gc::record_run(s->totals, report, finished);
    if (auto ok = store.save(history_after, totals, s->now); !ok)
      log::event(spdlog::level::warn, "save history: " + ok.error().message);
    const auto capacity = report.after.capacity_bytes;
    write_metrics(ctx, files, report, finished,
                  {.totals = totals, .high_ratio = gc::used_ratio_at(policy.high, capacity),
                   .low_ratio = gc::used_ratio_at(policy.low, capacity)});
  }

  // 6. Report.
  const auto n_containers = report.count(gc::ObjectKind::Container);
  const auto n_sandboxes = report.count(gc::ObjectKind::Sandbox);
  const auto n_images = report.count(gc::ObjectKind::Image);
  if (ctx.options.json) {
    json j = {{"command", "gc"},
              {"dryRun", report.dry_run},
              {"runtime", report.runtime},
              {"startedAt", rfc3339(report.started_at)},
              {"durationSeconds", report.duration_seconds},
              {"filesystem", {{"mountpoint", mountpoint}, {"before", usage_json(report.before)}, {"after", usage_json(report.after)}}},
              {"bytesFreed", report.bytes_freed()},
              {"plan",
               {{"overHigh", plan.over_high},
                {"inodePressure", plan.inode_pressure},
                {"bytesToFree", plan.bytes_to_free},
                {"estimatedBytes", plan.estimated_freed},
                {"high", policy.high.text},
                {"low", policy.low.text}}},
              {"counts",
               {{"containersRemoved", n_containers},
                {"sandboxesRemoved", n_sandboxes},
                {"imagesRemoved", n_images},
                {"skipped", report.skipped.size()},
                {"failures", report.failures.size()}}},
              {"imagesBefore", report.images_before},
              {"imagesAfter", report.images_after},
              {"stoppedAtLow", report.stopped_at_low},
              {"shortfalls", report.shortfalls},
              {"removed", json::array()},
              {"skipped", json::array()},
              {"failures", json::array()},
              {"kept", json::array()}};
    for (const auto& r : report.removed)
      j["removed"].push_back({{"kind", to_string(r.kind)}, {"id", r.id}, {"name", r.name}, {"size", r.size},
                              {"phase", to_string(r.phase)}, {"reason", r.reason}});
    for (const auto& r : report.skipped)
      j["skipped"].push_back({{"kind", to_string(r.kind)}, {"id", r.id}, {"name", r.name}, {"reason", r.reason}});
    for (const auto& r : report.failures)
      j["failures"].push_back({{"kind", to_string(r.kind)}, {"id", r.id}, {"message", r.message}});
    for (const auto* list : {&plan.containers, &plan.sandboxes, &plan.images})
      for (const auto& d : *list)
        if (!d.remove) j["kept"].push_back({{"id", d.id}, {"name", d.name}, {"reason", d.reason}});
    std::cout << j.dump(2) << "\n";
  } else {
    std::cout << fmt::format("{} {}\n", flags.dry_run ? "would collect on" : "collected on", report.runtime);
    std::cout << fmt::format("image filesystem {}: {}\n", mountpoint, usage_text(report.before));
    for (const auto& r : report.removed)
      std::cout << fmt::format("  {} {:9} {:12} {:40} {:>10}  [{}] {}\n", flags.dry_run ? "would remove" : "removed",
                               to_string(r.kind), short_id(r.id), r.name,
                               r.kind == gc::ObjectKind::Image ? gc::human_bytes(r.size) : "", to_string(r.phase), r.reason);
    for (const auto& r : report.skipped)
      std::cout << fmt::format("  skipped {:9} {:12} {:40} {}\n", to_string(r.kind), short_id(r.id), r.name, r.reason);
    for (const auto& r : report.failures) std::cout << fmt::format("  FAILED  {:9} {}\n", to_string(r.kind), r.message);
    for (const auto& sf : report.shortfalls) std::cout << "  shortfall: " << sf << "\n";
    if (!flags.dry_run) std::cout << fmt::format("after: {}\n", usage_text(report.after));
  }

  const std::string summary = fmt::format(
      "gc{}: {} {} containers, {} sandboxes, {} images ({} -> {} images); {}; {} skipped, {} failed{}",
      flags.dry_run ? " (dry run)" : "", flags.dry_run ? "would remove" : "removed", n_containers, n_sandboxes, n_images,
      report.images_before, flags.dry_run ? plan.images_after : report.images_after,
      flags.dry_run ? fmt::format("disk {:.1f}% used", report.before.used_percent())
                    : fmt::format("freed {} (disk {:.1f}% -> {:.1f}% used)", gc::human_bytes(report.bytes_freed()),
                                  report.before.used_percent(), report.after.used_percent()),
      report.skipped.size(), report.failures.size(),
      report.shortfalls.empty() ? "" : fmt::format("; shortfall: {}", fmt::join(report.shortfalls, "; ")));
  log::event(report.failures.empty() ? spdlog::level::info : spdlog::level::err, summary,
             {{"NODEIMG_COMMAND", "gc"},
              {"NODEIMG_DRY_RUN", flags.dry_run ? "1" : "0"},
              {"NODEIMG_RUNTIME", report.runtime},
              {"NODEIMG_CONTAINERS_REMOVED", std::to_string(n_containers)},
              {"NODEIMG_SANDBOXES_REMOVED", std::to_string(n_sandboxes)},
              {"NODEIMG_IMAGES_REMOVED", std::to_string(n_images)},
              {"NODEIMG_IMAGES_AFTER", std::to_string(report.images_after)},
              {"NODEIMG_BYTES_FREED", std::to_string(report.bytes_freed())},
              {"NODEIMG_USED_PERCENT_BEFORE", fmt::format("{:.1f}", report.before.used_percent())},
              {"NODEIMG_USED_PERCENT_AFTER", fmt::format("{:.1f}", report.after.used_percent())},
              {"NODEIMG_SKIPPED", std::to_string(report.skipped.size())},
              {"NODEIMG_FAILURES", std::to_string(report.failures.size())},
              {"NODEIMG_SHORTFALL", report.shortfalls.empty() ? "0" : "1"}});
  return report.failures.empty() ? kExitOk : kExitFailed;
}

int images_list(const Context& ctx, const ImagesFlags& flags) {
  gc::Policy policy = ctx.config.gc;
  if (auto ok = apply_overrides(flags.policy, policy); !ok) {
    spdlog::error("{}", ok.error().message);
    return kExitUsage;
  }
  HostFiles files(ctx.options.root);
  auto s = survey(ctx, files, false);
  if (!s) {
    spdlog::error("{}", s.error().message);
    return kExitFailed;
  }
  for (const auto& w : s->warnings) spdlog::warn("{}", w);
  // Read-only: the history is updated in memory for the view, never written.
  const gc::Plan plan = gc::plan_collection(s->inventory, s->history, policy, s->now);
  std::map<std::string, const gc::Decision*> decision;
  for (const auto& d : plan.images) decision[d.id] = &d;

  struct Row {
    const gc::Image* image;
    const gc::Decision* decision;
    std::vector<std::string> users;
  };
  std::vector<Row> rows;
  const auto users = gc::containers_using(s->inventory.images, s->inventory.containers);
  for (std::size_t i = 0; i < s->inventory.images.size(); ++i) {
    Row row{&s->inventory.images[i], decision.at(s->inventory.images[i].id), {}};
    for (const auto* c : users[i]) row.users.push_back(gc::describe_container(*c));
    rows.push_back(std::move(row));
  }
  // In the order the next gc would consider them: removals first (LRU), then the rest.
  std::map<std::string, std::size_t> order;
  for (std::size_t i = 0; i < plan.images.size(); ++i) order[plan.images[i].id] = i;
  std::sort(rows.begin(), rows.end(), [&](const Row& a, const Row& b) { return order[a.image->id] < order[b.image->id]; });

  auto next_gc = [](const gc::Decision& d) { return d.remove ? "remove" : "keep"; };
  if (ctx.options.json) {
    json out = {{"runtime", runtime_label(s->runtime->info())},
                {"filesystem", {{"mountpoint", s->inventory.usage.mountpoint}, {"usage", usage_json(s->inventory.usage)}}},
                {"images", json::array()}};
    for (const auto& r : rows)
      out["images"].push_back({{"id", r.image->id},
                               {"tags", r.image->tags},
                               {"digests", r.image->digests},
                               {"size", r.image->size},
                               {"firstSeen", rfc3339(r.decision->first_seen)},
                               {"lastUsed", rfc3339(r.decision->last_used)},
                               {"inUseBy", r.users},
                               {"pinned", r.image->pinned},
                               {"nextGc", next_gc(*r.decision)},
                               {"phase", phase_text(r.decision->phase)},
                               {"reason", r.decision->reason}});
    std::cout << out.dump(2) << "\n";
    return kExitOk;
  }
  if (flags.csv) {
    auto q = [](const std::string& v) {
      std::string out = "\"";
      for (char c : v) out += c == '"' ? std::string("\"\"") : std::string(1, c);
      return out + "\"";
    };
    std::cout << "id,tags,digests,size,first_seen,last_used,in_use_by,pinned,next_gc,reason\n";
    for (const auto& r : rows)
      std::cout << fmt::format("{},{},{},{},{},{},{},{},{},{}\n", q(r.image->id), q(fmt::format("{}", fmt::join(r.image->tags, " "))),
                               q(fmt::format("{}", fmt::join(r.image->digests, " "))), r.image->size,
                               rfc3339(r.decision->first_seen), rfc3339(r.decision->last_used),
                               q(fmt::format("{}", fmt::join(r.users, " "))), r.image->pinned ? "true" : "false",
                               next_gc(*r.decision), q(r.decision->reason));
    return kExitOk;
  }
  std::cout << fmt::format("{} images on {}; image filesystem {}: {}\n", rows.size(), runtime_label(s->runtime->info()),
                           s->inventory.usage.mountpoint, usage_text(s->inventory.usage));
  std::cout << fmt::format("{:12}  {:45}  {:>10}  {:>8}  {:>8}  {:6}  {}\n", "IMAGE ID", "REFERENCE", "SIZE", "AGE", "UNUSED",
                           "NEXT", "WHY");
  for (const auto& r : rows) {
    std::string ref = r.image->tags.empty() ? (r.image->digests.empty() ? "<none>" : r.image->digests[0]) : r.image->tags[0];
    if (r.image->tags.size() > 1) ref += fmt::format(" (+{})", r.image->tags.size() - 1);
    std::cout << fmt::format("{:12}  {:45}  {:>10}  {:>8}  {:>8}  {:6}  {}\n", short_id(r.image->id), ref,
                             gc::human_bytes(r.image->size), gc::human_age(s->now - r.decision->first_seen),
                             r.users.empty() ? gc::human_age(s->now - r.decision->last_used) : "in use",
                             next_gc(*r.decision), r.decision->reason);
  }
  return kExitOk;
}

int prepull(const Context& ctx) {
  const auto& refs = ctx.config.gc.prepull;
  auto runtime = connect_runtime(ctx.config.runtime, ctx.options.root);
  if (!runtime) {
    spdlog::error("{}", runtime.error().message);
    return kExitFailed;
  }
  auto images = (*runtime)->list_images();
  if (!images) {
    spdlog::error("{}", images.error().message);
    return kExitFailed;
  }
  struct Item {
    std::string ref;
    std::string status;  // present, pulled, failed
    std::string detail;  // image id or error
  };
  std::vector<Item> items;
  std::vector<std::size_t> to_pull;
  for (const auto& ref : refs) {
    const auto it = std::find_if(images->begin(), images->end(), [&](const gc::Image& i) { return gc::refers_to(i, ref); });
    if (it != images->end()) {
      items.push_back({ref, "present", it->id});
    } else {
      items.push_back({ref, "pending", ""});
      to_pull.push_back(items.size() - 1);
    }
  }
  const bool tty = ::isatty(STDERR_FILENO) == 1 && !log::to_journal();
  std::mutex mutex;
  std::size_t done = 0;
  std::atomic<std::size_t> next{0};
  {
    std::vector<std::jthread> workers;
    const auto n = std::min<std::size_t>(to_pull.size(), static_cast<std::size_t>(ctx.config.gc.concurrency));
    for (std::size_t w = 0; w < n; ++w)
      workers.emplace_back([&] {
        for (std::size_t k = next++; k < to_pull.size(); k = next++) {
          Item& item = items[to_pull[k]];
          if (tty) {
            std::lock_guard lock(mutex);
            std::cerr << fmt::format("\rpulling {} ({}/{} done)\x1b[K", item.ref, done, to_pull.size()) << std::flush;
          }
          auto r = (*runtime)->pull_image(item.ref);
          std::lock_guard lock(mutex);
          ++done;
          item.status = r ? "pulled" : "failed";
          item.detail = r ? *r : r.error().message;
          if (!r) spdlog::error("{}", r.error().message);
        }
      });
  }
  if (tty && !to_pull.empty()) std::cerr << "\r\x1b[K";
  std::size_t present = 0, pulled = 0, failed = 0;
  for (const auto& i : items) (i.status == "present" ? present : i.status == "pulled" ? pulled : failed)++;
  if (ctx.options.json) {
    json out = {{"command", "prepull"}, {"present", present}, {"pulled", pulled}, {"failed", failed}, {"images", json::array()}};
    for (const auto& i : items)
      out["images"].push_back({{"reference", i.ref}, {"status", i.status}, {i.status == "failed" ? "error" : "id", i.detail}});
    std::cout << out.dump(2) << "\n";
  } else {
    for (const auto& i : items) std::cout << fmt::format("{:8} {} {}\n", i.status, i.ref, i.detail);
  }
  log::event(failed ? spdlog::level::err : spdlog::level::info,
             fmt::format("prepull: {} images: {} present, {} pulled, {} failed", items.size(), present, pulled, failed),
             {{"NODEIMG_COMMAND", "prepull"},
              {"NODEIMG_PULLED", std::to_string(pulled)},
              {"NODEIMG_FAILURES", std::to_string(failed)}});
  return failed ? kExitFailed : kExitOk;
}

}  // namespace nodeimg
