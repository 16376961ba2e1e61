#include "commands/gc/gc_command.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <iostream>
#include <mutex>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "adapters/host/filesystem_usage.hpp"
#include "adapters/host/history_store.hpp"
#include "adapters/host/host_files.hpp"
#include "adapters/host/keep_files.hpp"
#include "adapters/host/run_lock.hpp"
#include "adapters/runtime/runtime_connect.hpp"
#include "commands/gc/gc_executor.hpp"
#include "commands/logging.hpp"
#include "commands/terminal.hpp"
#include "core/common/paths.hpp"
#include "core/common/parallel.hpp"
#include "core/gc/metrics.hpp"
#include "core/gc/planner.hpp"
#include "core/gc/render.hpp"

namespace nodeimg {

namespace {

gc::Seconds unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::string runtime_label(const RuntimeInfo& info) {
  return fmt::format("{} {} ({} {})", info.name.empty() ? info.kind : info.name, info.version, info.kind, info.endpoint);
}

// Everything a GC command learns from the runtime and the host before deciding.
struct Survey {
  std::unique_ptr<ImageRuntime> runtime;
  gc::Inventory inventory;
  gc::History history;   // updated with what the runtime shows now
  gc::RunTotals totals;  // as loaded from the state file
  std::vector<std::string> warnings;
  gc::Seconds now = 0;
};

// Images, containers, sandboxes, the sandbox images and the image filesystem's usage.
Result<void> take_inventory(const Context& ctx, ImageRuntime& rt, Survey& s) {
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
  auto usage = filesystem_usage(*mount);
  if (!usage) return std::unexpected(context("measure the image filesystem", usage.error()));
  s.inventory.usage = *usage;
  return {};
}

// `writes`: whether this command may change the node (a real gc run): only then is a
// corrupt history moved aside.
Result<Survey> survey(const Context& ctx, const HostFiles& files, bool writes) {
  Survey s;
  auto runtime = connect_runtime(ctx.config.runtime, ctx.options.root);
  if (!runtime) return std::unexpected(runtime.error());
  s.runtime = std::move(*runtime);
  spdlog::debug("runtime: {}", runtime_label(s.runtime->info()));
  if (auto ok = take_inventory(ctx, *s.runtime, s); !ok) return std::unexpected(ok.error());
  s.now = unix_now();
  auto loaded = HistoryStore(files, ctx.state_dir()).load(writes);
  if (!loaded) return std::unexpected(loaded.error());
  for (auto& w : loaded->warnings) s.warnings.push_back(std::move(w));
  s.history = gc::update_history(loaded->history, s.inventory, s.now);
  s.totals = loaded->totals;
  return s;
}

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
  if (auto ok = files.write_atomic(path, gc::render_metrics(report, finished, extras), FileOwnership{.mode = 0644, .uid = 0, .gid = 0}); !ok)
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

// The policy for this run: the file's, with the command line's overrides.
Result<gc::Policy> policy_for(const Context& ctx, const gc::PolicyOverrides& overrides) {
  gc::Policy policy = ctx.config.gc;
  // First, so that the message names where each threshold comes from (file line or option).
  if (auto ok = check_gc_order(ctx.config, overrides.high, overrides.low); !ok) return std::unexpected(ok.error());
  if (auto ok = gc::apply_overrides(overrides, policy); !ok) return std::unexpected(ok.error());
  return policy;
}

// gc.keepFromFile, read now (each run follows the list's maintainer): its patterns join
// gc.keep. An error stops the command before anything is removed.
Result<void> add_keep_files(const HostFiles& files, gc::Policy& policy) {
  if (policy.keep_from.empty()) return {};
  auto patterns = read_keep_files(files, policy.keep_from);
  if (!patterns) return std::unexpected(patterns.error());
  spdlog::debug("gc.keepFromFile: {} pattern(s)", patterns->size());
  for (auto& p : *patterns) policy.keep.push_back(std::move(p));
  return {};
}

Result<std::chrono::milliseconds> lock_wait(const GcFlags& flags) {
  auto wait = parse_duration_with_days(flags.lock_timeout);
  if (!wait) return fail("--lock-timeout: " + wait.error().message);
  if (wait->count() < 0) return fail("--lock-timeout: must not be negative");
  return std::chrono::duration_cast<std::chrono::milliseconds>(*wait);
}

// One run at a time: a dry run changes nothing and needs no lock.
Result<std::optional<RunLock>> lock_run(const HostFiles& files, const GcFlags& flags, std::chrono::milliseconds wait) {
  if (flags.dry_run) return std::optional<RunLock>{};
  auto lock = RunLock::acquire(files.host_path("/run/nodeimg/gc.lock"), wait);
  if (!lock) return std::unexpected(lock.error());
  return std::optional<RunLock>(std::move(*lock));
}

// The endpoint(s) a run that could not connect probed: the configured one, or with "auto"
// every well-known socket that exists (those absent were not probed), else "none".
std::string probed_endpoints(const Context& ctx) {
  const RuntimeConfig& config = ctx.config.runtime;
  if (config.endpoint != "auto") return config.endpoint;
  std::string out;
  for (const auto& candidate : well_known_runtimes()) {
    if (config.kind != RuntimeConfig::Kind::Auto && candidate.kind != config.kind) continue;
    const std::string path = under_root(ctx.options.root, candidate.endpoint.substr(std::string_view("unix://").size()));
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0 || !S_ISSOCK(st.st_mode)) continue;
    out += (out.empty() ? "" : ",") + ("unix://" + path);
  }
  return out.empty() ? "none" : out;
}

// A run that could not survey the node says so in the metrics too, so that an alert fires
// on the failure itself rather than on the last good run's figures going stale.
void report_unreachable(const Context& ctx, const HostFiles& files, const GcFlags& flags, const Error& error,
                        std::chrono::steady_clock::time_point started) {
  log::event(spdlog::level::err, "gc failed: " + error.message, {{"NODEIMG_COMMAND", "gc"}, {"NODEIMG_FAILED", "1"}});
  if (flags.dry_run) return;
  // Not a failed removal: the runtime (or the host) could not be surveyed at all.
  gc::RunReport failed{.endpoint = probed_endpoints(ctx), .runtime_reached = false, .outage = error.message};
  failed.duration_seconds = seconds_since(started);
  const auto finished = unix_now();
  write_metrics(ctx, files, failed, finished, {.totals = count_failed_run(ctx, files, failed, finished)});
}

// A run stopped before it surveyed the node for a reason of its own (gc.keepFromFile
// unreadable): it removed nothing, and the metrics say it failed.
void report_not_started(const Context& ctx, const HostFiles& files, const GcFlags& flags, const Error& error,
                        std::chrono::steady_clock::time_point started) {
  log::event(spdlog::level::err, "gc failed: " + error.message + "; nothing was removed",
             {{"NODEIMG_COMMAND", "gc"}, {"NODEIMG_FAILED", "1"}});
  if (flags.dry_run) return;
  gc::RunReport failed;  // no runtime was probed: no runtime figures
  failed.errors.push_back(error.message);
  failed.duration_seconds = seconds_since(started);
  const auto finished = unix_now();
  write_metrics(ctx, files, failed, finished, {.totals = count_failed_run(ctx, files, failed, finished)});
}

// What a run did, and the history that forgets what it removed (saved by `record_run`).
struct RunResult {
  gc::RunReport report;
  gc::History history_after;
};

// Removes what the plan says (or lists it, on a dry run), then counts the images left and
// forgets the removed ones in the history.
RunResult carry_out(const Survey& s, const gc::Plan& plan, const gc::Policy& policy, bool dry_run) {
  gc::RunReport report{.dry_run = dry_run,
                       .runtime = runtime_label(s.runtime->info()),
                       .endpoint = s.runtime->info().endpoint,
                       .started_at = s.now,
                       .before = s.inventory.usage,
                       .images_before = s.inventory.images.size(),
                       .shortfalls = plan.shortfalls};
  gc::History history_after = s.history;
  const std::string mountpoint = s.inventory.usage.mountpoint;
  execute_plan(*s.runtime, s.inventory, plan, policy, [&] { return filesystem_usage(mountpoint); },
               ExecutorOptions{.concurrency = policy.concurrency, .dry_run = dry_run}, report);
  if (dry_run) {
    report.images_after = plan.images_after;
  } else if (!report.runtime_reached) {
    // The runtime is gone: the images left cannot be counted (unknown, not 0), and the
    // history forgets what was removed at the next run.
  } else if (auto after = s.runtime->list_images(); after) {
    report.images_after = after->size();
    // Forget removed images now rather than at the next run.
    gc::Inventory remaining = s.inventory;
    remaining.images = std::move(*after);
    if (auto containers = s.runtime->list_containers(); containers) remaining.containers = std::move(*containers);
    history_after = gc::update_history(s.history, remaining, s.now);
  } else if (after.error().unreachable) {
    report.runtime_reached = false;
    report.outage = "list images after the run: " + after.error().message;
  } else {
    report.errors.push_back("list images after the run: " + after.error().message);
  }
  return {.report = std::move(report), .history_after = std::move(history_after)};
}

// The run's totals go to the state file with the history, then into the metrics.
// A history that cannot be saved fails the run (its totals are then not rendered either:
// counters that were not kept would go back at the next run). The metrics are written
// whatever happened.
void record_run(const Context& ctx, const HostFiles& files, const HistoryStore& store, const Survey& s,
                const gc::Policy& policy, RunResult& run) {
  const auto finished = unix_now();
  std::optional<gc::RunTotals> totals = gc::record_run(s.totals, run.report, finished);
  if (auto ok = store.save(run.history_after, *totals, s.now); !ok) {
    run.report.errors.push_back("save history: " + ok.error().message);
    totals = std::nullopt;
  }
  const auto size = run.report.after.size_bytes;
  write_metrics(ctx, files, run.report, finished,
                {.totals = totals, .high_ratio = gc::used_ratio_at(policy.high, size),
                 .low_ratio = gc::used_ratio_at(policy.low, size)});
}

// The history could not be saved before acting: nothing was removed, and the metrics say
// the run failed (rather than keep the previous run's success).
void report_unsaved(const Context& ctx, const HostFiles& files, const Survey& s, const Error& error,
                    std::chrono::steady_clock::time_point started) {
  spdlog::error("save history: {}", error.message);
  gc::RunReport failed{.runtime = runtime_label(s.runtime->info()),
                       .endpoint = s.runtime->info().endpoint,
                       .started_at = s.now,
                       .before = s.inventory.usage,
                       .after = s.inventory.usage,
                       .images_before = s.inventory.images.size(),
                       .images_after = s.inventory.images.size()};
  failed.errors.push_back("save history: " + error.message + "; nothing was removed");
  failed.duration_seconds = seconds_since(started);
  write_metrics(ctx, files, failed, unix_now(), {});
}

gc::Layout layout_for(const std::string& output) { return {.width = terminal_columns(), .wide = output == "wide"}; }

void print_gc(const Context& ctx, const GcFlags& flags, const gc::GcOutcome& outcome) {
  for (const auto& w : outcome.report.warnings) log::event(spdlog::level::warn, w);
  std::cout << (ctx.options.json ? gc::render_gc_json(outcome) : gc::render_gc_text(outcome, layout_for(flags.output)));
  log::result(gc::gc_log_entry(outcome));
}

}  // namespace

int gc_run(const Context& ctx, const GcFlags& flags) {
  auto policy = policy_for(ctx, flags.policy);
  auto wait = lock_wait(flags);
  if (!policy || !wait) {
    spdlog::error("{}", !policy ? policy.error().message : wait.error().message);
    return kExitUsage;
  }
  const auto started = std::chrono::steady_clock::now();
  HostFiles files(ctx.options.root);
  auto lock = lock_run(files, flags, *wait);
  if (!lock) {
    spdlog::error("{}", lock.error().message);
    return kExitFailed;
  }
  if (auto kept = add_keep_files(files, *policy); !kept) {
    report_not_started(ctx, files, flags, kept.error(), started);
    return kExitFailed;
  }
  auto s = survey(ctx, files, !flags.dry_run);
  if (!s) {
    report_unreachable(ctx, files, flags, s.error(), started);
    return kExitFailed;
  }
  for (const auto& w : s->warnings) log::event(spdlog::level::warn, w);
  // Saved before anything is removed, on purpose: an unwritable state directory stops the
  // run before it acts, and a run killed mid-way (TimeoutStartSec) keeps what it learnt.
  // The save after the run only forgets the images it removed.
  const HistoryStore store(files, ctx.state_dir());
  if (!flags.dry_run)
    if (auto ok = store.save(s->history, s->totals, s->now); !ok) {
      report_unsaved(ctx, files, *s, ok.error(), started);
      return kExitFailed;
    }
  const gc::Plan plan = gc::plan_collection(s->inventory, s->history, *policy, s->now);
  RunResult run = carry_out(*s, plan, *policy, flags.dry_run);
  run.report.duration_seconds = seconds_since(started);
  if (!flags.dry_run) record_run(ctx, files, store, *s, *policy, run);
  print_gc(ctx, flags, {.report = run.report, .plan = plan, .policy = *policy});
  return run.report.failed() ? kExitFailed : kExitOk;
}

int images_list(const Context& ctx, const ImagesFlags& flags) {
  auto policy = policy_for(ctx, flags.policy);
  if (!policy) {
    spdlog::error("{}", policy.error().message);
    return kExitUsage;
  }
  HostFiles files(ctx.options.root);
  if (auto kept = add_keep_files(files, *policy); !kept) {
    spdlog::error("{}", kept.error().message);
    return kExitFailed;
  }
  auto s = survey(ctx, files, false);
  if (!s) {
    spdlog::error("{}", s.error().message);
    return kExitFailed;
  }
  for (const auto& w : s->warnings) spdlog::warn("{}", w);
  // Read-only: the history is updated in memory for the view, never written.
  const gc::Plan plan = gc::plan_collection(s->inventory, s->history, *policy, s->now);
  const gc::ImagesView view = gc::images_view(s->inventory, plan, *policy, runtime_label(s->runtime->info()), s->now);
  if (ctx.options.json) std::cout << gc::render_images_json(view);
  else if (flags.csv) std::cout << gc::render_images_csv(view);
  else std::cout << gc::render_images_text(view, layout_for(flags.output));
  return kExitOk;
}

namespace {

// Pulls the pending items, gc.concurrency at a time; on a terminal, a progress line.
void pull_pending(ImageRuntime& runtime, std::vector<gc::PrepullItem>& items, int concurrency) {
  std::vector<std::size_t> to_pull;
  for (std::size_t i = 0; i < items.size(); ++i)
    if (items[i].status == gc::PrepullItem::Status::Pending) to_pull.push_back(i);
  const bool tty = ::isatty(STDERR_FILENO) == 1 && !log::to_journal();
  std::mutex mutex;
  std::size_t done = 0;
  parallel_for(to_pull.size(), concurrency, [&](std::size_t k) {
    gc::PrepullItem& item = items[to_pull[k]];
    if (tty) {
      std::lock_guard lock(mutex);
      std::cerr << fmt::format("\rpulling {} ({}/{} done)\x1b[K", item.reference, done, to_pull.size()) << std::flush;
    }
    auto r = runtime.pull_image(item.reference);
    std::lock_guard lock(mutex);
    ++done;
    item.status = r ? gc::PrepullItem::Status::Pulled : gc::PrepullItem::Status::Failed;
    item.detail = r ? *r : r.error().message;
    if (!r) spdlog::error("{}", r.error().message);
  });
  if (tty && !to_pull.empty()) std::cerr << "\r\x1b[K";
}

}  // namespace

int prepull(const Context& ctx) {
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
  auto items = gc::prepull_items(ctx.config.gc.prepull, *images);
  pull_pending(**runtime, items, ctx.config.gc.concurrency);
  std::cout << (ctx.options.json ? gc::render_prepull_json(items) : gc::render_prepull_text(items));
  const LogEntry entry = gc::prepull_log_entry(items);
  log::result(entry);
  return entry.failed ? kExitFailed : kExitOk;
}

}  // namespace nodeimg
