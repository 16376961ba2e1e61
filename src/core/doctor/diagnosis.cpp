#include "core/doctor/diagnosis.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace nodeimg::doctor {

std::string_view to_string(Severity s) {
  switch (s) {
    case Severity::Ok: return "ok";
    case Severity::Info: return "info";
    case Severity::Warning: return "warning";
    case Severity::Error: return "error";
  }
  return "?";
}

bool Diagnosis::needs_attention() const {
  return std::ranges::any_of(findings, [](const Finding& f) { return f.severity >= Severity::Warning; });
}

namespace {

void check_history(const StateObservation& s, std::vector<Finding>& out) {
  switch (s.history) {
    case HistoryState::Missing:
      out.push_back({.id = "history", .area = "state", .severity = Severity::Info,
                     .seen = "no gc history yet (" + s.history_path + ")",
                     .why = "the first gc run creates it; until then every image counts as first seen now"});
      return;
    case HistoryState::Corrupt:
      out.push_back({.id = "history", .area = "state", .severity = Severity::Warning,
                     .seen = fmt::format("the gc history {} is corrupt: {}", s.history_path, s.history_error),
                     .why = "gc cannot tell which images were used least recently; the next run moves the file aside "
                            "and starts afresh",
                     .fix = "run `nodeimg gc` (it keeps the bad file as state.json.corrupt)"});
      return;
    case HistoryState::Unreadable:
      out.push_back({.id = "history", .area = "state", .severity = Severity::Warning,
                     .seen = fmt::format("the gc history {} cannot be read: {}", s.history_path, s.history_error),
                     .why = "gc cannot tell which images were used least recently",
                     .fix = "check the file and its directory (root-owned, 0644 in a 0755 directory)"});
      return;
    case HistoryState::Readable:
      out.push_back({.id = "history", .area = "state", .severity = Severity::Ok,
                     .seen = fmt::format("gc history {}: {} images tracked", s.history_path, s.history_images)});
      return;
  }
}

void check_apply_record(const StateObservation& s, std::vector<Finding>& out) {
  if (s.record_error) {
    out.push_back({.id = "apply-record", .area = "state", .severity = Severity::Warning,
                   .seen = "the record of nodeimg's last kubelet apply cannot be read: " + *s.record_error,
                   .why = "`nodeimg kubelet revert` cannot put kubelet's files back",
                   .fix = "inspect " + s.record_path + "; a new `nodeimg kubelet apply` that changes something replaces it"});
    return;
  }
  if (!s.record) {
    out.push_back({.id = "apply-record", .area = "state", .severity = Severity::Info,
                   .seen = "no record of a kubelet apply: nothing to revert"});
    return;
  }
  const auto& r = *s.record;
  std::vector<std::string> changed;
  std::size_t as_before = 0;
  for (const auto& f : r.files) {
    if (f.state == AppliedFileState::ChangedSince) changed.push_back(f.path);
    if (f.state == AppliedFileState::AsBefore) ++as_before;
  }
  if (!changed.empty()) {
    std::string list;
    for (const auto& p : changed) list += (list.empty() ? "" : ", ") + p;
    out.push_back({.id = "apply-record", .area = "state", .severity = Severity::Warning,
                   .seen = fmt::format("{} changed since nodeimg's apply at {}", list, r.applied_at),
                   .why = "something else rewrote kubelet's configuration (a platform generator, configuration "
                          "management); `nodeimg kubelet revert` refuses to undo it without --force",
                   .fix = "compare with `nodeimg kubelet status`, then `nodeimg kubelet apply`; enable "
                          "nodeimg-kubelet.service to re-apply at every boot"});
  } else if (as_before == r.files.size()) {
    out.push_back({.id = "apply-record", .area = "state", .severity = Severity::Info,
                   .seen = fmt::format("a revert is pending: the apply of {} is recorded but its {} file(s) are already "
                                       "as they were before it",
                                       r.applied_at, r.files.size()),
                   .why = "`nodeimg kubelet revert` would only clear the record",
                   .fix = "nodeimg kubelet revert"});
  } else {
    out.push_back({.id = "apply-record", .area = "state", .severity = Severity::Info,
                   .seen = fmt::format("last kubelet apply at {} changed {} file(s){}; `nodeimg kubelet revert` would "
                                       "put them back",
                                       r.applied_at, r.files.size(), r.unit.empty() ? "" : " (unit " + r.unit + ")")});
  }
}

void check_metrics(const MetricsObservation& m, std::vector<Finding>& out) {
  if (m.path.empty()) {
    out.push_back({.id = "metrics", .area = "metrics", .severity = Severity::Info,
                   .seen = "metrics are off (metrics.textfile is empty)",
                   .why = "no alert can fire on a failing or stalled collector",
                   .fix = "set metrics.textfile to a file in node_exporter's textfile collector directory"});
  } else if (!m.directory_exists) {
    out.push_back({.id = "metrics", .area = "metrics", .severity = Severity::Info,
                   .seen = "the directory of " + m.path + " does not exist: metrics are not written",
                   .why = "no alert can fire on a failing or stalled collector",
                   .fix = "install prometheus-node-exporter (its textfile collector reads that directory), or point "
                          "metrics.textfile at the directory yours reads"});
  } else {
    out.push_back({.id = "metrics", .area = "metrics", .severity = Severity::Ok,
                   .seen = "metrics are written to " + m.path});
  }
}

}  // namespace

void check_state(const Observations& o, std::vector<Finding>& out) {
  check_history(o.state, out);
  check_apply_record(o.state, out);
  check_metrics(o.metrics, out);
}

Diagnosis diagnose(const Observations& o) {
  Diagnosis d;
  check_kubelet(o, d.findings);
  check_images_vs_kubelet(o, d.findings);
  check_runtime(o, d.findings);
  check_disk(o, d.findings);
  check_systemd(o, d.findings);
  check_last_run(o, d.findings);
  check_state(o, d.findings);
  d.skipped = o.skipped;
  return d;
}

}  // namespace nodeimg::doctor
