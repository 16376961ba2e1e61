#include "commands/doctor/gather.hpp"

#include <chrono>
#include <sstream>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "adapters/host/filesystem_usage.hpp"
#include "adapters/host/proc.hpp"
#include "adapters/host/state_store.hpp"
#include "adapters/host/unit_facts.hpp"
#include "adapters/runtime/runtime_connect.hpp"
#include "commands/kubelet/kubelet_command.hpp"
#include "core/gc/history.hpp"

namespace nodeimg {

namespace {

using doctor::Observations;


// The same discovery options (running process and units, owned files, hostname), desired
// values and combination check as `nodeimg kubelet apply`, so doctor judges the unit and
// the values apply would act on.
doctor::KubeletObservation gather_kubelet(const Context& ctx, const HostFiles& files) {
  doctor::KubeletObservation k;
  StateStore store(files, ctx.state_dir());
  auto options = kubelet_discovery_options(ctx, files, store);
  if (!options) {
    k.error = options.error().message;
    return k;
  }
  auto sources = kubelet::discover(files, *options);
  if (!sources) {
    k.error = sources.error().message;
    return k;
  }
  k.sources = std::move(*sources);
  auto desired = desired_values(ctx, files, *k.sources);
  if (!desired) {
    k.error = desired.error().message;
    return k;
  }
  auto planned = plan_desired(ctx, files, *options, *k.sources, *desired);
  k.plan = std::move(planned.plan);
  k.error = std::move(planned.error);
  k.settings_conflict = std::move(planned.settings_conflict);
  return k;
}

doctor::RuntimeObservation gather_runtime(const Context& ctx) {
  doctor::RuntimeObservation r;
  r.endpoint = ctx.config.runtime.endpoint == "auto" ? "the well-known sockets (runtime.endpoint: auto)"
                                                      : ctx.config.runtime.endpoint;
  auto runtime = connect_runtime(ctx.config.runtime, ctx.options.root);
  if (!runtime) {
    r.error = runtime.error().message;
    return r;
  }
  auto& rt = **runtime;
  r.endpoint = rt.info().endpoint;
  r.name = rt.info().name.empty() ? rt.info().kind : rt.info().name;
  r.version = rt.info().version;
  auto images = rt.list_images();
  if (!images) {
    r.error = images.error().message;
    return r;
  }
  r.images = std::move(*images);
  if (!ctx.config.runtime.sandbox_image.empty()) r.sandbox_images.push_back(ctx.config.runtime.sandbox_image);
  if (auto pause = rt.sandbox_images(); pause) r.sandbox_images.insert(r.sandbox_images.end(), pause->begin(), pause->end());
  else r.sandbox_image_error = pause.error().message;
  auto mount = rt.image_filesystem();
  auto usage = mount ? filesystem_usage(*mount) : Result<FilesystemUsage>(std::unexpected(mount.error()));
  if (usage) r.image_filesystem = gc::FilesystemUsage{*mount, usage->size_bytes, usage->available_bytes, usage->inodes, usage->inodes_free};
  else r.image_filesystem_error = usage.error().message;
  return r;
}

doctor::UnitObservation unit_of(const std::string& name, const UnitFacts& f) {
  return {.name = name, .load_state = f.load_state, .unit_file_state = f.unit_file_state, .active_state = f.active_state,
          .result = f.result, .last_exit = static_cast<gc::Seconds>(f.exit_usec / 1'000'000), .exit_status = f.exit_status,
          .next_elapse = static_cast<gc::Seconds>(f.next_elapse_usec / 1'000'000)};
}

std::optional<doctor::SystemdObservation> gather_systemd(Observations& o) {
  auto bus = SystemdUnits::connect();
  if (!bus) {
    o.skipped.push_back({.area = "systemd", .reason = "cannot reach systemd: " + bus.error().message});
    return std::nullopt;
  }
  doctor::SystemdObservation s;
  for (auto [name, slot] : {std::pair{"nodeimg-gc.timer", &s.gc_timer}, std::pair{"nodeimg-gc.service", &s.gc_service},
                            std::pair{"nodeimg-kubelet.service", &s.kubelet_unit}}) {
    auto facts = (*bus)->facts(name);
    if (!facts) {
      o.skipped.push_back({.area = "systemd", .reason = facts.error().message});
      return std::nullopt;
    }
    *slot = unit_of(name, *facts);
  }
  return s;
}

void gather_history(const Context& ctx, const HostFiles& files, doctor::StateObservation& s) {
  const std::string path = ctx.state_dir() + "/state.json";
  s.history_path = files.host_path(path);
  auto text = files.read(path);
  if (!text) {
    s.history = doctor::HistoryState::Unreadable;
    s.history_error = text.error().message;
    return;
  }
  if (!*text) return;  // Missing
  auto state = gc::parse_state(**text);
  if (!state) {
    s.history = doctor::HistoryState::Corrupt;
    s.history_error = state.error().message;
    return;
  }
  s.history = doctor::HistoryState::Readable;
  s.history_images = state->history.size();
  if (state->totals.last_run_finished_at > 0)
    s.last_run = doctor::LastRun{.finished_at = state->totals.last_run_finished_at,
                                 .success = state->totals.last_run_success, .from = s.history_path};
}

void gather_record(const Context& ctx, const HostFiles& files, doctor::StateObservation& s) {
  StateStore store(files, ctx.state_dir());
  s.record_path = files.host_path(store.record_path());
  auto record = store.load();
  if (!record) {
    s.record_error = record.error().message;
    return;
  }
  if (!*record) return;
  doctor::ApplyRecordObservation r{.applied_at = (*record)->applied_at, .unit = (*record)->unit};
  for (const auto& f : (*record)->files) {
    auto now = files.read(f.path);
    const auto state = !now                  ? doctor::AppliedFileState::ChangedSince
                       : *now == f.after     ? doctor::AppliedFileState::AsApplied
                       : *now == f.before    ? doctor::AppliedFileState::AsBefore
                                             : doctor::AppliedFileState::ChangedSince;
    r.files.push_back({.path = f.path, .state = state});
  }
  s.record = std::move(r);
}

// The last run's time and result from the metrics textfile (for nodes whose state predates
// the run totals).
std::optional<doctor::LastRun> last_run_from_metrics(const std::string& text, const std::string& shown) {
  std::istringstream in(text);
  std::optional<gc::Seconds> at;
  std::optional<bool> success;
  for (std::string line; std::getline(in, line);) {
    std::istringstream words(line);
    std::string name, value;
    if (!(words >> name >> value)) continue;
    try {
      if (name == "nodeimg_gc_last_run_timestamp_seconds") at = static_cast<gc::Seconds>(std::stod(value));
      if (name == "nodeimg_gc_last_run_success") success = std::stod(value) == 1;
    } catch (const std::exception&) {
      // not a number: not a figure nodeimg wrote
    }
  }
  if (!at || !success) return std::nullopt;
  return doctor::LastRun{.finished_at = *at, .success = *success, .from = shown};
}

void gather_metrics(const Context& ctx, const HostFiles& files, doctor::MetricsObservation& m) {
  const std::string& path = ctx.config.metrics.textfile;
  if (path.empty()) return;
  m.path = files.host_path(path);
  const auto slash = path.rfind('/');
  auto dir = files.list(path.substr(0, slash == 0 ? 1 : slash));
  m.directory_exists = dir && *dir;
  if (auto text = files.read(path); text && *text) m.last_run = last_run_from_metrics(**text, m.path);
}

}  // namespace

Observations gather_observations(const Context& ctx, const HostFiles& files) {
  Observations o;
  o.now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  o.config = ctx.config;
  o.config_source = ctx.config_source;
  o.kubelet = gather_kubelet(ctx, files);
  if (ctx.rooted()) {
    const std::string why = fmt::format("under --root {}: ", ctx.options.root);
    o.skipped.push_back({.area = "kubelet", .reason = why + "the running kubelet (/proc) is not read; files only"});
    o.skipped.push_back({.area = "runtime", .reason = why + "the container runtime, its images and the image "
                                                              "filesystem belong to the running system"});
    o.skipped.push_back({.area = "systemd", .reason = why + "the units' state belongs to the running system"});
  } else {
    o.runtime = gather_runtime(ctx);
    o.systemd = gather_systemd(o);
  }
  gather_history(ctx, files, o.state);
  gather_record(ctx, files, o.state);
  gather_metrics(ctx, files, o.metrics);
  return o;
}

}  // namespace nodeimg
