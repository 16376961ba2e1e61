#include "core/gc/metrics.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <utility>

#include <fmt/format.h>

namespace nodeimg::gc {

namespace {

// Go's ParseFloat syntax, which Prometheus reads: shortest round-trip decimal, or one of
// +Inf, -Inf, NaN.
std::string number(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  return fmt::format("{}", v);
}
std::string number(std::uint64_t v) { return fmt::format("{}", v); }
std::string number(std::int64_t v) { return fmt::format("{}", v); }
std::string number(bool v) { return v ? "1" : "0"; }

// HELP text escapes only backslash and newline.
std::string escape_help(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\\') out += "\\\\";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

using Labels = std::initializer_list<std::pair<std::string_view, std::string_view>>;

class Writer {
 public:
  void family(std::string_view name, std::string_view help, std::string_view type = "gauge") {
    name_ = name;
    out_ += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, escape_help(help), name, type);
  }
  void sample(const std::string& value, Labels labels = {}) {
    out_ += name_;
    if (labels.size() > 0) {
      out_ += '{';
      bool first = true;
      for (const auto& [k, v] : labels) {
        if (!first) out_ += ',';
        first = false;
        out_ += fmt::format("{}=\"{}\"", k, escape_label_value(v));
      }
      out_ += '}';
    }
    out_ += ' ';
    out_ += value;
    out_ += '\n';
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
  std::string name_;
};

constexpr ObjectKind kKinds[] = {ObjectKind::Container, ObjectKind::Sandbox, ObjectKind::Image};

template <class List>
std::uint64_t count_kind(const List& list, ObjectKind kind) {
  std::uint64_t n = 0;
  for (const auto& item : list) n += item.kind == kind ? 1 : 0;
  return n;
}

}  // namespace

std::string escape_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

namespace {

void render_totals(Writer& w, const RunTotals& t) {
  w.family("nodeimg_gc_runs_total", "Garbage collection runs by result (failure: a removal failed, the runtime "
           "was unreachable or lost, or the run failed), kept in the state file across restarts.", "counter");
  w.sample(number(t.runs_success), {{"result", "success"}});
  w.sample(number(t.runs_failure), {{"result", "failure"}});
  w.family("nodeimg_gc_removed_total", "Objects removed by garbage collection, by kind, over every run.", "counter");
  w.sample(number(t.removed_containers), {{"kind", "container"}});
  w.sample(number(t.removed_sandboxes), {{"kind", "sandbox"}});
  w.sample(number(t.removed_images), {{"kind", "image"}});
  w.family("nodeimg_gc_freed_bytes_total", "Bytes freed on the image filesystem over every run (statvfs).", "counter");
  w.sample(number(t.freed_bytes));
}

void render_thresholds(Writer& w, const MetricsExtras& e) {
  if (e.high_ratio) {
    w.family("nodeimg_gc_high_ratio", "gc.high as the used fraction of the image filesystem at which a run collects.");
    w.sample(number(*e.high_ratio));
  }
  if (e.low_ratio) {
    w.family("nodeimg_gc_low_ratio", "gc.low as the used fraction of the image filesystem a run frees down to.");
    w.sample(number(*e.low_ratio));
  }
}

}  // namespace

RunTotals record_run(RunTotals t, const RunReport& report, Seconds finished_at) {
  const bool success = !report.failed();
  (success ? t.runs_success : t.runs_failure) += 1;
  t.removed_containers += report.count(ObjectKind::Container);
  t.removed_sandboxes += report.count(ObjectKind::Sandbox);
  t.removed_images += report.count(ObjectKind::Image);
  t.freed_bytes += report.bytes_freed();
  t.last_run_finished_at = finished_at;
  t.last_run_success = success;
  return t;
}

std::optional<double> used_ratio_at(const Threshold& threshold, std::uint64_t capacity) {
  if (threshold.kind == Threshold::Kind::UsedPercent) return threshold.percent / 100.0;
  if (capacity == 0) return std::nullopt;
  const auto free = static_cast<double>(std::min(threshold.bytes, capacity));
  return 1.0 - free / static_cast<double>(capacity);
}

std::string render_kubelet_metrics(const KubeletFacts& facts) {
  Writer w;
  w.family("nodeimg_kubelet_node_status_max_images",
           "kubelet's effective nodeStatusMaxImages: how many images it reports in Node.status.images (-1: all).");
  w.sample(number(std::int64_t{facts.node_status_max_images}));
  if (facts.image_gc_high_threshold_percent) {
    w.family("nodeimg_kubelet_image_gc_high_threshold_ratio",
             "kubelet's effective imageGCHighThresholdPercent as a fraction: where kubelet's own image GC starts.");
    w.sample(number(static_cast<double>(*facts.image_gc_high_threshold_percent) / 100.0));
  }
  w.family("nodeimg_kubelet_facts_timestamp_seconds", "When nodeimg last read kubelet's effective settings, in unix time.");
  w.sample(number(std::int64_t{facts.observed_at}));
  return w.take();
}

namespace {

void render_runtime(Writer& w, const RunReport& report) {
  w.family("nodeimg_gc_runtime_reachable",
           "1 when the container runtime answered throughout the last run, 0 when it could not be reached or "
           "stopped answering during it.");
  w.sample(number(report.runtime_reached));

  w.family("nodeimg_gc_runtime_info",
           "The container runtime the last run talked to (runtime: name and version, empty when it did not answer) "
           "and the endpoint it probed.");
  w.sample("1", {{"runtime", report.runtime}, {"endpoint", report.endpoint}});
}

std::string render_run(const RunReport& report, Seconds finished_at) {
  Writer w;
  w.family("nodeimg_gc_last_run_timestamp_seconds", "When the last garbage collection run finished, in unix time.");
  w.sample(number(std::int64_t{finished_at}));

  w.family("nodeimg_gc_last_run_duration_seconds", "How long the last garbage collection run took.");
  w.sample(number(report.duration_seconds));

  w.family("nodeimg_gc_last_run_success",
           "1 when the last run had no failure (a shortfall is not a failure), 0 when a removal failed, the runtime "
           "was unreachable or lost, or the run could not save its history.");
  w.sample(number(!report.failed()));

  // A run that stopped before it probed any runtime (gc.keepFromFile unreadable) says
  // nothing about the runtime.
  if (!report.endpoint.empty() || !report.runtime.empty()) render_runtime(w, report);

  w.family("nodeimg_gc_removed", "Objects the last run removed, by kind.");
  for (auto kind : kKinds) w.sample(number(std::uint64_t{report.count(kind)}), {{"kind", to_string(kind)}});

  w.family("nodeimg_gc_skipped", "Objects the last run planned to remove and then left (in use, low reached), by kind.");
  for (auto kind : kKinds) w.sample(number(count_kind(report.skipped, kind)), {{"kind", to_string(kind)}});

  w.family("nodeimg_gc_failures",
           "Removals that failed with an error in the last run, by kind (an unreachable runtime is "
           "nodeimg_gc_runtime_reachable 0, not failures).");
  for (auto kind : kKinds) w.sample(number(count_kind(report.failures, kind)), {{"kind", to_string(kind)}});

  w.family("nodeimg_gc_freed_bytes",
           "Bytes the last run freed on the image filesystem, measured with statvfs (available after - before).");
  w.sample(number(report.bytes_freed()));

  w.family("nodeimg_gc_shortfall",
           "1 when the last run could not reach gc.low or gc.maxImages because the rest is protected or in use.");
  w.sample(number(!report.shortfalls.empty()));

  w.family("nodeimg_gc_stopped_at_low", "1 when the last run stopped early because usage fell below gc.low.");
  w.sample(number(report.stopped_at_low));

  // Unknown figures (a filesystem that reports no capacity or no inodes, as btrfs does for
  // inodes) are left out rather than reported as 0.
  const auto& fs = report.after;
  if (fs.size_bytes > 0) {
    w.family("nodeimg_image_filesystem_used_ratio", "Used fraction of the image filesystem's blocks after the last run.");
    w.sample(number(fs.used_percent() / 100.0), {{"mountpoint", fs.mountpoint}});
  }
  if (fs.inodes > 0) {
    w.family("nodeimg_image_filesystem_inodes_used_ratio",
             "Used fraction of the image filesystem's inodes after the last run.");
    w.sample(number(fs.inodes_used_percent() / 100.0), {{"mountpoint", fs.mountpoint}});
  }

  // A run that could not count the images left (the runtime was unreachable, or lost
  // mid-run) knows nothing of them: no sample, not 0.
  if (report.images_after) {
    w.family("nodeimg_images", "Images in the runtime after the last run (by image id, all tags together).");
    w.sample(number(std::uint64_t{*report.images_after}));
  }
  return w.take();
}

}  // namespace

std::string render_metrics(const RunReport& report, Seconds finished_at, const MetricsExtras& extras) {
  std::string out = render_run(report, finished_at);
  Writer w;
  if (extras.totals) render_totals(w, *extras.totals);
  render_thresholds(w, extras);
  return out + w.take();
}

}  // namespace nodeimg::gc
