// Node checks: the container runtime, the image filesystem against nodeimg's and kubelet's
// thresholds, nodeimg's systemd units, the last gc run, and nodeimg's own state.
#include <algorithm>
#include <ctime>

#include <fmt/chrono.h>
#include <fmt/format.h>

#include "core/doctor/diagnosis.hpp"
#include "core/gc/planner.hpp"

namespace nodeimg::doctor {

namespace {

constexpr std::string_view kConfigFile = "/etc/nodeimg/config.yaml";

std::string when(gc::Seconds t, gc::Seconds now) {
  const std::string at = fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", fmt::gmtime(static_cast<std::time_t>(t)));
  if (t >= now) return fmt::format("{} (in {})", at, gc::human_age(t - now));
  return fmt::format("{} ({} ago)", at, gc::human_age(now - t));
}

// A threshold as the used percentage it stands for on a filesystem of `capacity` bytes.
std::optional<double> used_percent_at(const gc::Threshold& t, std::uint64_t capacity) {
  if (t.kind == gc::Threshold::Kind::UsedPercent) return t.percent;
  if (capacity == 0) return std::nullopt;
  return 100.0 * (1.0 - static_cast<double>(std::min(t.bytes, capacity)) / static_cast<double>(capacity));
}

void check_thresholds(const Observations& o, const gc::FilesystemUsage& fs, std::vector<Finding>& out) {
  if (!o.kubelet.plan) return;
  const auto kubelet_high = effective_integer(*o.kubelet.plan, "imageGCHighThresholdPercent");
  const auto high = used_percent_at(o.config.gc.high, fs.size_bytes);
  if (!kubelet_high || !high) return;
  if (*high >= static_cast<double>(*kubelet_high) && *kubelet_high < 100) {
    out.push_back({.id = "gc-high-not-below-kubelet", .area = "disk", .severity = Severity::Warning,
                   .seen = fmt::format("nodeimg starts collecting at {} ({:.0f}% used), kubelet at "
                                       "imageGCHighThresholdPercent {}%",
                                       o.config.gc.high.text, *high, *kubelet_high),
                   .why = "kubelet's own image GC acts first: it forgets last use on every restart, ignores nodeimg's "
                          "keep/prepull protections and gives no reasons",
                   .fix = fmt::format("set gc.high below {}% in {} (e.g. {}%), and gc.low below it", *kubelet_high,
                                      kConfigFile, std::max<long long>(*kubelet_high - 10, 1))});
    return;
  }
  out.push_back({.id = "gc-high-not-below-kubelet", .area = "disk", .severity = Severity::Ok,
                 .seen = fmt::format("nodeimg starts at {} ({:.0f}% used), before kubelet's {}%", o.config.gc.high.text,
                                     *high, *kubelet_high)});
}

void check_usage(const Observations& o, const gc::FilesystemUsage& fs, std::vector<Finding>& out) {
  const auto high = used_percent_at(o.config.gc.high, fs.size_bytes);
  const std::string summary = fmt::format("image filesystem {}: {:.1f}% used ({} free of {}), inodes {:.1f}% used",
                                          fs.mountpoint, fs.used_percent(), gc::human_bytes(fs.available_bytes),
                                          gc::human_bytes(fs.size_bytes), fs.inodes_used_percent());
  bool flagged = false;
  if (high && fs.size_bytes > 0 && fs.used_percent() >= *high) {
    flagged = true;
    out.push_back({.id = "disk-above-high", .area = "disk", .severity = Severity::Warning,
                   .seen = fmt::format("{}; gc.high is {}", summary, o.config.gc.high.text),
                   .why = "the disk is past the point where nodeimg collects; if it stays there, the rest is protected "
                          "or in use, and kubelet's own GC and then pod eviction come next",
                   .fix = "run `nodeimg gc` (its \"shortfalls\" say what blocks it; `nodeimg images` shows every "
                          "image's protection), or review gc.keep / gc.keepNewest / prepull in " +
                          std::string(kConfigFile)});
  }
  if (fs.inodes > 0 && fs.inodes_used_percent() >= o.config.gc.inodes_high) {
    flagged = true;
    out.push_back({.id = "inodes-above-high", .area = "disk", .severity = Severity::Warning,
                   .seen = fmt::format("{}; gc.inodesHigh is {:.0f}%", summary, o.config.gc.inodes_high),
                   .why = "when inodes run out, no image can be pulled and no container started, however much space "
                          "is free",
                   .fix = "run `nodeimg gc`; images with many small files cost most inodes (`nodeimg images`)"});
  }
  if (!flagged)
    out.push_back({.id = "disk-above-high", .area = "disk", .severity = Severity::Ok,
                   .seen = fmt::format("{}; below gc.high {}", summary, o.config.gc.high.text)});
}

void check_timer(const std::optional<UnitObservation>& timer, gc::Seconds now, std::vector<Finding>& out) {
  const std::string enable = "systemctl enable --now nodeimg-gc.timer";
  if (!timer || timer->load_state != "loaded") {
    out.push_back({.id = "gc-timer", .area = "systemd", .severity = Severity::Warning,
                   .seen = "nodeimg-gc.timer is not installed" + (timer ? " (" + timer->load_state + ")" : std::string()),
                   .why = "nothing collects images periodically: the disk fills until kubelet's own GC or evictions act",
                   .fix = "install nodeimg's package (it ships the units), then `" + enable + "`"});
  } else if (timer->unit_file_state != "enabled") {
    out.push_back({.id = "gc-timer", .area = "systemd", .severity = Severity::Warning,
                   .seen = fmt::format("nodeimg-gc.timer is {} ({})", timer->unit_file_state, timer->active_state),
                   .why = "nothing collects images periodically after the next reboot (or now, if it is inactive)",
                   .fix = enable});
  } else if (timer->active_state != "active") {
    out.push_back({.id = "gc-timer", .area = "systemd", .severity = Severity::Warning,
                   .seen = fmt::format("nodeimg-gc.timer is enabled but {}", timer->active_state),
                   .why = "nothing collects images until the next boot",
                   .fix = "systemctl start nodeimg-gc.timer"});
  } else {
    out.push_back({.id = "gc-timer", .area = "systemd", .severity = Severity::Ok,
                   .seen = timer->next_elapse > 0
                               ? fmt::format("nodeimg-gc.timer is enabled and fires next at {}", when(timer->next_elapse, now))
                               : "nodeimg-gc.timer is enabled and active"});
  }
}

void check_kubelet_unit(const std::optional<UnitObservation>& unit, std::vector<Finding>& out) {
  const std::string why = "platforms regenerate kubelet's files at boot (nodeadm, k3s, RKE2, kubeadm upgrades, "
                          "kubespray): without this unit kubelet comes back with their nodeStatusMaxImages";
  if (!unit || unit->load_state != "loaded") {
    out.push_back({.id = "kubelet-unit", .area = "systemd", .severity = Severity::Warning,
                   .seen = "nodeimg-kubelet.service is not installed", .why = why,
                   .fix = "install nodeimg's package, then `systemctl enable nodeimg-kubelet.service`"});
  } else if (unit->unit_file_state != "enabled") {
    out.push_back({.id = "kubelet-unit", .area = "systemd", .severity = Severity::Warning,
                   .seen = "nodeimg-kubelet.service is " + unit->unit_file_state, .why = why,
                   .fix = "systemctl enable nodeimg-kubelet.service"});
  } else {
    out.push_back({.id = "kubelet-unit", .area = "systemd", .severity = Severity::Ok,
                   .seen = "nodeimg-kubelet.service is enabled: it re-applies kubelet's settings at every boot"});
  }
}

}  // namespace

void check_runtime(const Observations& o, std::vector<Finding>& out) {
  if (!o.runtime) return;
  const auto& r = *o.runtime;
  if (r.error) {
    out.push_back({.id = "runtime-unreachable", .area = "runtime", .severity = Severity::Error,
                   .seen = fmt::format("cannot reach the container runtime at {}: {}", r.endpoint, *r.error),
                   .why = "gc cannot collect, prepull cannot pull, and doctor cannot count the node's images",
                   .fix = fmt::format("start the runtime (`systemctl status containerd`, crio or docker), or set "
                                      "runtime.endpoint in {}",
                                      kConfigFile)});
    return;
  }
  out.push_back({.id = "runtime-unreachable", .area = "runtime", .severity = Severity::Ok,
                 .seen = fmt::format("{} {} at {}: {} images", r.name, r.version, r.endpoint, r.images.size())});
  if (!r.sandbox_images.empty()) {
    std::string list;
    for (const auto& s : r.sandbox_images) list += (list.empty() ? "" : ", ") + s;
    out.push_back({.id = "sandbox-image", .area = "runtime", .severity = Severity::Ok,
                   .seen = "sandbox (pause) image: " + list + " (never collected)"});
  } else {
    out.push_back({.id = "sandbox-image", .area = "runtime", .severity = Severity::Info,
                   .seen = "the runtime does not say which sandbox (pause) image it uses" +
                           (r.sandbox_image_error ? ": " + *r.sandbox_image_error : std::string()),
                   .why = "nodeimg still keeps every image a sandbox uses, but an unused pause image could be collected "
                          "and pulled again at the next pod start",
                   .fix = fmt::format("set runtime.sandboxImage in {}", kConfigFile)});
  }
}

void check_disk(const Observations& o, std::vector<Finding>& out) {
  if (!o.runtime || o.runtime->error) return;
  if (!o.runtime->image_filesystem) {
    out.push_back({.id = "image-filesystem", .area = "disk", .severity = Severity::Warning,
                   .seen = "could not measure the image filesystem: " + o.runtime->image_filesystem_error,
                   .why = "gc measures the same filesystem to decide when to act: it will fail the same way",
                   .fix = "check that the runtime's image directory exists and is readable"});
    return;
  }
  check_thresholds(o, *o.runtime->image_filesystem, out);
  check_usage(o, *o.runtime->image_filesystem, out);
}

void check_systemd(const Observations& o, std::vector<Finding>& out) {
  if (!o.systemd) return;
  const auto& s = *o.systemd;
  check_timer(s.gc_timer, o.now, out);
  check_kubelet_unit(s.kubelet_unit, out);
  if (s.gc_service && s.gc_service->last_exit > 0 && s.gc_service->result != "success")
    out.push_back({.id = "gc-service-failed", .area = "systemd", .severity = Severity::Warning,
                   .seen = fmt::format("nodeimg-gc.service last exited at {} with result {} (status {})",
                                       when(s.gc_service->last_exit, o.now), s.gc_service->result,
                                       s.gc_service->exit_status),
                   .why = "the periodic collection is failing: the disk is not being looked after",
                   .fix = "read `journalctl -u nodeimg-gc.service`, fix the cause, then `systemctl start "
                          "nodeimg-gc.service`"});
}

void check_last_run(const Observations& o, std::vector<Finding>& out) {
  std::vector<LastRun> runs;
  if (o.state.last_run) runs.push_back(*o.state.last_run);
  if (o.metrics.last_run) runs.push_back(*o.metrics.last_run);
  if (o.systemd && o.systemd->gc_service && o.systemd->gc_service->last_exit > 0)
    runs.push_back({.finished_at = o.systemd->gc_service->last_exit, .success = o.systemd->gc_service->result == "success",
                    .from = "nodeimg-gc.service"});
  if (runs.empty()) {
    out.push_back({.id = "gc-last-run", .area = "state", .severity = Severity::Warning,
                   .seen = "no gc run recorded (state, metrics textfile, nodeimg-gc.service)",
                   .why = "nodeimg has not looked after this node's images yet",
                   .fix = "systemctl start nodeimg-gc.service (or `nodeimg gc`), and `systemctl enable --now "
                          "nodeimg-gc.timer`"});
    return;
  }
  // The latest run; at the same time a failure wins.
  const auto last = *std::ranges::max_element(runs, [](const LastRun& a, const LastRun& b) {
    return a.finished_at != b.finished_at ? a.finished_at < b.finished_at : a.success && !b.success;
  });
  const std::string seen = fmt::format("last gc run finished at {} and {} (from {})", when(last.finished_at, o.now),
                                       last.success ? "succeeded" : "failed", last.from);
  if (!last.success) {
    out.push_back({.id = "gc-last-run", .area = "state", .severity = Severity::Warning, .seen = seen,
                   .why = "the last collection failed: the disk is not being looked after",
                   .fix = "read `journalctl -t nodeimg NODEIMG_COMMAND=gc`, then run `nodeimg gc` to retry"});
  } else if (o.now - last.finished_at > kStaleRunSeconds) {
    out.push_back({.id = "gc-last-run", .area = "state", .severity = Severity::Warning, .seen = seen,
                   .why = fmt::format("the timer runs gc every 15 minutes: no run for over {} means it is stopped",
                                      gc::human_age(kStaleRunSeconds)),
                   .fix = "systemctl enable --now nodeimg-gc.timer; `systemctl list-timers nodeimg-gc.timer` shows "
                          "the next run"});
  } else {
    out.push_back({.id = "gc-last-run", .area = "state", .severity = Severity::Ok, .seen = seen});
  }
}

}  // namespace nodeimg::doctor
