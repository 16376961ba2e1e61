#pragma once
// The collector's last run as a file for node_exporter's textfile collector (Prometheus
// text exposition format 0.0.4). The command renders it after every run except a dry run
// and writes it atomically to metrics.textfile. Pure: the time the run finished arrives as
// an argument.
//
// The gauges describe the last run, except the filesystem and image figures, which describe
// the node after it. The *_total counters come from the run totals kept in the state file, so
// they survive restarts although the file is replaced whole.
#include <optional>
#include <string>
#include <string_view>

#include "core/gc/history.hpp"
#include "core/gc/report.hpp"

namespace nodeimg::gc {

struct MetricsExtras {
  std::optional<RunTotals> totals{};  // the counters, this run included (nullopt: not rendered)
  std::optional<double> high_ratio{};  // gc.high as a used fraction of the image filesystem
  std::optional<double> low_ratio{};   // gc.low, likewise
};

std::string render_metrics(const RunReport& report, Seconds finished_at, const MetricsExtras& extras = {});

// The totals after `report` (a run that finished at `finished_at`): a run with any failure
// counts as a failure; removals and freed bytes are added.
RunTotals record_run(RunTotals totals, const RunReport& report, Seconds finished_at);

// A threshold as the used fraction of a filesystem of `capacity` bytes it stands for
// (nullopt for a "free" threshold on a filesystem of unknown size).
std::optional<double> used_ratio_at(const Threshold& threshold, std::uint64_t capacity);

// Kubelet's effective image settings, for a textfile of their own (written by `kubelet
// status|apply` and `doctor`, which know them; the gc run does not).
struct KubeletFacts {
  long long node_status_max_images = 50;  // -1: no cap
  std::optional<long long> image_gc_high_threshold_percent{};
  Seconds observed_at = 0;
};
std::string render_kubelet_metrics(const KubeletFacts& facts);

// A label value as the exposition format wants it: \ " and newline escaped.
std::string escape_label_value(std::string_view value);

}  // namespace nodeimg::gc
