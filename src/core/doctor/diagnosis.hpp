#pragma once
// `nodeimg doctor`: what the command gathered about a node (Observations) in, findings out.
// Pure: no I/O, no clock (`now` is an observation). Every finding has a stable id
// (documented in docs/doctor.md), a severity, what was seen, why it matters and the exact
// fix. A check whose observation is missing (skipped under --root, systemd unreachable)
// yields no finding; the gatherer says why in `skipped`.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/config/app_config.hpp"
#include "core/gc/model.hpp"
#include "core/kubelet/discovery.hpp"
#include "core/kubelet/plan.hpp"

namespace nodeimg::doctor {

// Ok: a check passed (shown, so an operator sees what was checked). Info: a fact that needs
// no action. Warning: needs attention. Error: something is broken.
enum class Severity { Ok, Info, Warning, Error };
std::string_view to_string(Severity s);

struct Finding {
  std::string id{};    // e.g. "prepuller-trap"
  std::string area{};  // kubelet, runtime, disk, systemd, state, metrics
  Severity severity = Severity::Ok;
  std::string seen{};  // what was seen, with figures
  std::string why{};   // why it matters (empty for Ok)
  std::string fix{};   // the command or configuration key that fixes it (empty when none is needed)
};

struct Skip {
  std::string area{};
  std::string reason{};  // "under --root: the runtime of this machine is not the node's"
};

// --- Observations -----------------------------------------------------------------------

struct KubeletObservation {
  std::optional<kubelet::Sources> sources{};  // nullopt: discovery failed (error)
  std::optional<kubelet::Plan> plan{};        // nullopt: planning failed (error)
  std::string error{};
  // nodeimg's kubelet.settings ask for values kubelet refuses together with the others
  // (check_kubelet_combination's message, naming where each value comes from).
  std::string settings_conflict{};
};

struct RuntimeObservation {
  std::string endpoint{};              // the endpoint connected, or what was tried
  std::optional<std::string> error{};  // set when the runtime could not be reached or listed
  std::string name{};                  // containerd, cri-o, docker
  std::string version{};
  std::vector<std::string> sandbox_images{};
  std::optional<std::string> sandbox_image_error{};
  std::vector<gc::Image> images{};
  std::optional<gc::FilesystemUsage> image_filesystem{};  // nullopt: not measured
  std::string image_filesystem_error{};
};

// A unit as systemd reports it over D-Bus. Times are unix seconds, 0 = never / none.
struct UnitObservation {
  std::string name{};
  std::string load_state{};       // loaded, not-found, ...
  std::string unit_file_state{};  // enabled, disabled, static, ...
  std::string active_state{};
  std::string result{};           // services: success, exit-code, ...
  gc::Seconds last_exit = 0;    // services: ExecMainExitTimestamp
  int exit_status = 0;          // services: ExecMainStatus
  gc::Seconds next_elapse = 0;  // timers: NextElapseUSecRealtime
};

struct SystemdObservation {
  std::optional<UnitObservation> gc_timer{};      // nodeimg-gc.timer
  std::optional<UnitObservation> gc_service{};    // nodeimg-gc.service
  std::optional<UnitObservation> kubelet_unit{};  // nodeimg-kubelet.service
  std::string error{};  // why a unit could not be read
};

// The last gc run as nodeimg recorded it (state file or metrics textfile).
struct LastRun {
  gc::Seconds finished_at = 0;
  bool success = true;
  std::string from{};  // the file it was read from
};

enum class HistoryState { Missing, Readable, Corrupt, Unreadable };

// The state of one file nodeimg's last apply wrote, compared with the backup record.
enum class AppliedFileState { AsApplied, AsBefore, ChangedSince };

struct AppliedFile {
  std::string path{};
  AppliedFileState state = AppliedFileState::AsApplied;
};

struct ApplyRecordObservation {
  std::string applied_at{};  // RFC 3339
  std::string unit{};
  std::vector<AppliedFile> files{};
};

struct StateObservation {
  std::string history_path{};  // as shown to the operator
  HistoryState history = HistoryState::Missing;
  std::string history_error{};
  std::size_t history_images = 0;
  std::optional<LastRun> last_run{};
  std::string record_path{};
  std::optional<std::string> record_error{};  // the record exists but cannot be read
  std::optional<ApplyRecordObservation> record{};
};

struct MetricsObservation {
  std::string path{};  // metrics.textfile as shown; empty: metrics are off
  bool directory_exists = false;
  std::optional<LastRun> last_run{};  // from the textfile
};

struct Observations {
  gc::Seconds now = 0;
  AppConfig config;
  std::string config_source{};
  KubeletObservation kubelet;
  std::optional<RuntimeObservation> runtime{};  // nullopt: skipped
  std::optional<SystemdObservation> systemd{};  // nullopt: skipped
  StateObservation state;
  MetricsObservation metrics;
  std::vector<Skip> skipped{};
};

// --- Diagnosis --------------------------------------------------------------------------

// The documented safe size of Node.status.images (kubelet sends the whole Node object on
// every status update; etcd's default request limit is 1.5 MiB, and large Node objects slow
// every watcher of nodes).
inline constexpr std::uint64_t kSafeNodeImagesBytes = 256 * 1024;
// kubelet lists at most this many names (digests first, then tags) per image.
inline constexpr std::size_t kMaxNamesPerImage = 5;
// The gc timer fires every 15 minutes: a last run older than this is stale.
inline constexpr gc::Seconds kStaleRunSeconds = 3600;

struct Diagnosis {
  std::vector<Finding> findings{};
  std::vector<Skip> skipped{};
  bool needs_attention() const;  // any warning or error
};

Diagnosis diagnose(const Observations& observations);

// The bytes `images` add to Node.status.images when kubelet reports the largest `cap` of
// them (-1: all), each with at most kMaxNamesPerImage names, as JSON.
std::uint64_t estimate_node_images_bytes(const std::vector<gc::Image>& images, long long cap);

// The checks, one area each (diagnose runs them all, in this order).
void check_kubelet(const Observations& o, std::vector<Finding>& out);
void check_images_vs_kubelet(const Observations& o, std::vector<Finding>& out);
void check_runtime(const Observations& o, std::vector<Finding>& out);
void check_disk(const Observations& o, std::vector<Finding>& out);
void check_systemd(const Observations& o, std::vector<Finding>& out);
void check_last_run(const Observations& o, std::vector<Finding>& out);
void check_state(const Observations& o, std::vector<Finding>& out);

// The effective value of a managed kubelet setting, when the plan knows it.
std::optional<long long> effective_integer(const kubelet::Plan& plan, std::string_view name);

}  // namespace nodeimg::doctor
