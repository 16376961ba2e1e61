#include "commands/kubelet/kubelet_command.hpp"

#include <chrono>
#include <iostream>

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "adapters/host/filesystem_usage.hpp"
#include "adapters/host/host_files.hpp"
#include "adapters/host/proc.hpp"
#include "adapters/host/state_store.hpp"
#include "adapters/host/systemd_bus.hpp"
#include "commands/kubelet_metrics.hpp"
#include "commands/logging.hpp"
#include "commands/kubelet/restart_verifier.hpp"
#include "core/kubelet/plan.hpp"
#include "core/kubelet/settings.hpp"
#include "core/common/unified_diff.hpp"

namespace nodeimg {

using kubelet::Json;

namespace {

// Everything a kubelet command learns about the node before acting.
struct Survey {
  kubelet::DiscoveryOptions options;
  kubelet::Sources sources;
  kubelet::Values desired;
  kubelet::Plan plan;
  std::optional<int> running_pid;
};

std::string now_rfc3339() {
  return fmt::format("{:%Y-%m-%dT%H:%M:%SZ}", fmt::gmtime(std::chrono::system_clock::to_time_t(std::chrono::system_clock::now())));
}

Result<kubelet::Values> desired_values(const Context& ctx, const HostFiles& files, const kubelet::Sources& sources) {
  kubelet::Values values;
  const auto& k = ctx.config.kubelet;
  if (k.max_images_mode == KubeletConfig::MaxImages::Value) {
    values.emplace_back("nodeStatusMaxImages", k.max_images);
  } else if (k.max_images_mode == KubeletConfig::MaxImages::Auto) {
    std::string root_dir = "/var/lib/kubelet";
    if (const auto* f = sources.flag("root-dir"); f && f->value) root_dir = *f->value;
    auto usage = filesystem_usage(files.host_path(root_dir));
    if (!usage) return std::unexpected(context("nodeStatusMaxImages: auto", usage.error()));
    const long long n = auto_max_images(usage->size_bytes);
    spdlog::debug("nodeStatusMaxImages auto: filesystem of {} is {} bytes -> {}", root_dir, usage->size_bytes, n);
    values.emplace_back("nodeStatusMaxImages", n);
  }
  for (const auto& s : k.settings) values.push_back(s);
  return values;
}

Result<Survey> survey(const Context& ctx, const HostFiles& files) {
  Survey s;
  s.options.unit = ctx.config.kubelet.unit;
  s.options.config_file = ctx.config.kubelet.config_file;
  s.options.dropin_dir = ctx.config.kubelet.dropin_dir;
  if (!ctx.rooted()) {
    // Under --root, /proc belongs to another system and is not read.
    auto proc = find_process("kubelet");
    if (!proc) return std::unexpected(proc.error());
    if (*proc) {
      s.options.running_argv = (*proc)->argv;
      s.options.running_pid = (*proc)->pid;
      s.running_pid = (*proc)->pid;
    }
  }
  auto sources = kubelet::discover(files, s.options);
  if (!sources) return std::unexpected(sources.error());
  s.sources = std::move(*sources);
  auto desired = desired_values(ctx, files, s.sources);
  if (!desired) return std::unexpected(desired.error());
  s.desired = std::move(*desired);
  auto plan = kubelet::plan(files, s.options, s.sources, s.desired);
  if (!plan) return std::unexpected(plan.error());
  s.plan = std::move(*plan);
  return s;
}

std::optional<std::string> healthz_url(const Context& ctx, const kubelet::Plan& plan) {
  if (ctx.config.kubelet.healthz != "auto") return ctx.config.kubelet.healthz;
  if (plan.healthz.port == 0) return std::nullopt;
  std::string host = plan.healthz.address;
  if (host.empty() || host == "0.0.0.0") host = "127.0.0.1";
  if (host == "::") host = "::1";
  if (host.find(':') != std::string::npos) host = "[" + host + "]";
  return fmt::format("http://{}:{}/healthz", host, plan.healthz.port);
}

std::string unit_name(const Survey& s) { return s.sources.unit ? s.sources.unit->name : ""; }

std::string action_of(const kubelet::FileChange& c) {
  return !c.before ? "created" : !c.after ? "removed" : "modified";
}

std::string diff_of(const kubelet::FileChange& c) {
  return unified_diff(c.path, c.before.value_or(""), c.after.value_or(""), c.before.has_value());
}

Json effective_after(const kubelet::Plan& plan, bool applied) {
  Json out = Json::object();
  for (const auto& s : plan.settings) out[s.name] = applied && s.desired ? *s.desired : s.effective;
  return out;
}

void print_json(const Json& j) { std::cout << j.dump(2) << "\n"; }

Json sources_json(const Survey& s) {
  const auto& src = s.sources;
  Json j;
  if (src.unit) {
    j["unit"] = {{"name", src.unit->name},
                 {"fragment", src.unit->fragment},
                 {"dropIns", src.unit->drop_ins},
                 {"environmentFiles", src.unit->environment_files},
                 {"embedsKubelet", src.unit->embeds_kubelet}};
  } else {
    j["unit"] = nullptr;
  }
  j["process"] = s.running_pid ? Json(*s.running_pid) : Json(nullptr);
  j["commandLine"] = {{"from", src.argv_from}, {"argv", src.argv}};
  j["flags"] = Json::array();
  for (const auto& f : src.flags)
    j["flags"].push_back({{"name", f.name},
                          {"value", f.value ? Json(*f.value) : Json(nullptr)},
                          {"origin", f.origin ? Json(systemd::to_string(*f.origin)) : Json(nullptr)}});
  j["configFile"] = src.config_file
                        ? Json{{"path", *src.config_file},
                               {"format", s.plan.config ? std::string(kubelet::to_string(s.plan.config->format)) : ""},
                               {"reason", src.config_file_reason}}
                        : Json{{"path", nullptr}, {"reason", src.config_file_reason}};
  j["dropInDir"] = src.dropin_dir ? Json{{"path", *src.dropin_dir}, {"reason", src.dropin_dir_reason}, {"files", src.dropin_files}}
                                  : Json{{"path", nullptr}, {"reason", src.dropin_dir_reason}, {"files", Json::array()}};
  j["warnings"] = src.warnings;
  return j;
}

Json settings_json(const kubelet::Plan& plan) {
  Json arr = Json::array();
  for (const auto& s : plan.settings)
    arr.push_back({{"name", s.name},
                   {"effective", s.effective},
                   {"source", kubelet::to_string(s.source)},
                   {"sourceDetail", s.source_detail},
                   {"desired", s.desired ? *s.desired : Json(nullptr)},
                   {"inSync", s.edit.empty()},
                   {"edit", s.edit.empty() ? Json(nullptr) : Json(s.edit)}});
  return arr;
}

std::string show(const Json& v) { return v.is_null() ? "(unset)" : kubelet::render_scalar(v); }

void print_status(const Context& ctx, const Survey& s, const std::optional<std::string>& url, bool will_restart) {
  const auto& src = s.sources;
  std::cout << "kubelet configuration sources";
  if (ctx.rooted()) std::cout << " (under --root " << ctx.options.root << ")";
  std::cout << "\n";
  if (src.unit) {
    std::cout << fmt::format("  unit:         {}\n                {}\n", src.unit->name, src.unit->fragment);
    for (const auto& d : src.unit->drop_ins) std::cout << fmt::format("                {} (drop-in)\n", d);
    for (const auto& e : src.unit->environment_files) std::cout << fmt::format("                {} (EnvironmentFile)\n", e);
  } else {
    std::cout << "  unit:         none found (" << fmt::format("{}", fmt::join(kubelet::candidate_units(), ", ")) << ")\n";
  }
  std::cout << fmt::format("  process:      {}\n", s.running_pid ? fmt::format("kubelet, pid {}", *s.running_pid)
                                                   : ctx.rooted() ? "not read under --root"
                                                                  : "no kubelet process running");
  std::cout << fmt::format("  command line: {}\n", src.argv_from.empty() ? "none" : src.argv_from);
  for (const auto& f : src.flags)
    std::cout << fmt::format("                --{}{}{}\n", f.name, f.value ? "=" + *f.value : "",
                             f.origin ? "  (" + systemd::to_string(*f.origin) + ")" : "");
  if (src.config_file)
    std::cout << fmt::format("  config file:  {} ({}; {})\n", *src.config_file,
                             s.plan.config ? kubelet::to_string(s.plan.config->format) : "?", src.config_file_reason);
  else
    std::cout << fmt::format("  config file:  none ({})\n", src.config_file_reason);
  if (src.dropin_dir) {
    std::cout << fmt::format("  drop-in dir:  {} ({})\n", *src.dropin_dir, src.dropin_dir_reason);
    for (const auto& f : src.dropin_files) std::cout << fmt::format("                {}\n", f);
  } else {
    std::cout << fmt::format("  drop-in dir:  none ({})\n", src.dropin_dir_reason);
  }
  std::cout << fmt::format("  healthz:      {}\n", url.value_or("none (healthzPort is 0)"));
  for (const auto& w : src.warnings) std::cout << "  warning:      " << w << "\n";

  std::cout << "\n" << fmt::format("{:<28} {:<10} {:<10} {}\n", "SETTING", "EFFECTIVE", "DESIRED", "SOURCE / ACTION");
  for (const auto& st : s.plan.settings) {
    std::string source = st.source == kubelet::Source::Default ? "kubelet default" : st.source_detail;
    std::cout << fmt::format("{:<28} {:<10} {:<10} {}\n", st.name, show(st.effective),
                             st.desired ? show(*st.desired) : "-", source);
    if (!st.edit.empty()) std::cout << fmt::format("{:<51}-> apply sets {}\n", "", st.edit);
  }
  std::cout << "\n";
  if (s.plan.changes.empty()) {
    std::cout << "apply: nothing to change\n";
  } else {
    std::cout << fmt::format("apply: would write {} file(s){}{}\n", s.plan.changes.size(),
                             s.plan.daemon_reload ? ", reload systemd" : "",
                             will_restart ? ", restart " + unit_name(s) + " and verify it" : "");
  }
}

bool should_restart(const Context& ctx, const Survey& s, bool no_restart) {
  return ctx.config.kubelet.restart && !no_restart && !ctx.rooted() && s.sources.unit.has_value();
}

// Writes `changes` in order; on a failure puts back what was written and reports it.
Result<void> write_changes(const HostFiles& files, const std::vector<kubelet::FileChange>& changes,
                           const std::optional<FileOwnership>& new_file) {
  std::vector<const kubelet::FileChange*> done;
  for (const auto& c : changes) {
    auto ok = c.after ? files.write_atomic(c.path, *c.after, new_file) : files.remove(c.path);
    if (!ok) {
      for (auto it = done.rbegin(); it != done.rend(); ++it) {
        const auto& d = **it;
        auto undo = d.before ? files.write_atomic(d.path, *d.before, new_file) : files.remove(d.path);
        if (!undo) spdlog::error("could not put back {}: {}", d.path, undo.error().message);
      }
      return ok;
    }
    done.push_back(&c);
  }
  return {};
}

std::vector<kubelet::FileChange> inverse(const std::vector<kubelet::FileChange>& changes) {
  std::vector<kubelet::FileChange> out;
  for (auto it = changes.rbegin(); it != changes.rend(); ++it) out.push_back({it->path, it->after, it->before, it->reason, it->unit_file});
  return out;
}

int report_failure(const Context& ctx, Json j, const std::string& message) {
  log::event(spdlog::level::err, message, {{"NODEIMG_COMMAND", "kubelet"}, {"NODEIMG_RESULT", "failed"}});
  if (ctx.options.json) {
    j["error"] = message;
    print_json(j);
  }
  return kExitFailed;
}

}  // namespace

int kubelet_status(const Context& ctx) {
  HostFiles files(ctx.options.root);
  auto s = survey(ctx, files);
  if (!s) {
    spdlog::error("kubelet status: {}", s.error().message);
    return kExitFailed;
  }
  write_kubelet_metrics(ctx, files, s->plan);
  const auto url = healthz_url(ctx, s->plan);
  const bool restart = should_restart(ctx, *s, false);
  if (ctx.options.json) {
    Json j = sources_json(*s);
    j["healthz"] = url ? Json(*url) : Json(nullptr);
    j["settings"] = settings_json(s->plan);
    Json pending = Json::array();
    for (const auto& c : s->plan.changes) pending.push_back({{"path", c.path}, {"action", action_of(c)}, {"reason", c.reason}});
    j["apply"] = {{"changes", pending}, {"daemonReload", s->plan.daemon_reload},
                  {"restart", !s->plan.changes.empty() && restart}};
    j["inSync"] = s->plan.changes.empty();
    print_json(j);
  } else {
    print_status(ctx, *s, url, restart);
  }
  return kExitOk;
}

int kubelet_apply(const Context& ctx, const ApplyFlags& flags) {
  HostFiles files(ctx.options.root);
  Json j = {{"changed", false}, {"dryRun", flags.dry_run}, {"files", Json::array()}, {"daemonReload", false},
            {"restarted", false}, {"verified", false}, {"rolledBack", false}};
  auto s = survey(ctx, files);
  if (!s) return report_failure(ctx, j, "kubelet apply: " + s.error().message);
  const std::string unit = unit_name(*s);
  j["unit"] = unit.empty() ? Json(nullptr) : Json(unit);
  const bool restart = should_restart(ctx, *s, flags.no_restart);
  const auto& changes = s->plan.changes;

  for (const auto& c : changes)
    j["files"].push_back({{"path", c.path}, {"action", action_of(c)}, {"diff", diff_of(c)}});
  if (changes.empty()) {
    j["effective"] = effective_after(s->plan, false);
    if (ctx.options.json) print_json(j);
    else std::cout << "kubelet: nothing to change; every managed setting already has its desired value\n";
    log::event(spdlog::level::info, "kubelet apply: nothing to change",
               {{"NODEIMG_COMMAND", "kubelet-apply"}, {"NODEIMG_CHANGED", "0"}});
    write_kubelet_metrics(ctx, files, s->plan);
    return kExitOk;
  }

  if (flags.dry_run) {
    j["changed"] = true;
    j["daemonReload"] = s->plan.daemon_reload && restart;
    j["restart"] = restart;
    j["effective"] = effective_after(s->plan, true);
    if (ctx.options.json) {
      print_json(j);
    } else {
      for (const auto& c : changes) std::cout << diff_of(c);
      if (s->plan.daemon_reload) std::cout << "would reload systemd (daemon-reload)\n";
      if (restart)
        std::cout << fmt::format("would restart {} over D-Bus and verify {} for {}\n", unit,
                                 healthz_url(ctx, s->plan).value_or("its state"), format_duration(ctx.config.kubelet.settle));
      else
        std::cout << "would not restart kubelet (" << (ctx.rooted() ? "--root" : !s->sources.unit ? "no unit found" : "restart disabled") << ")\n";
      std::cout << "dry run: nothing was written\n";
    }
    return kExitOk;
  }

  // Refuse before writing anything if any target cannot be written safely.
  for (const auto& c : changes)
    if (auto ok = files.inspect_for_write(c.path); !ok) return report_failure(ctx, j, "kubelet apply: " + ok.error().message);

  // New files (nodeimg's drop-in) take the config file's ownership, else 0644 root.
  std::optional<FileOwnership> new_file;
  if (s->sources.config_file)
    if (auto o = files.inspect_for_write(*s->sources.config_file); o && *o) new_file = **o;

  StateStore store(files, ctx.state_dir());
  ApplyRecord record{now_rfc3339(), unit, s->plan.daemon_reload, {}};
  for (const auto& c : changes) {
    auto owner = files.inspect_for_write(c.path);
    record.files.push_back({c.path, c.before, c.after, owner && *owner ? **owner : new_file.value_or(FileOwnership{})});
  }
  if (auto ok = store.save(record); !ok)
    return report_failure(ctx, j, "kubelet apply: save the backup before writing: " + ok.error().message);
  if (auto ok = write_changes(files, changes, new_file); !ok)
    return report_failure(ctx, j, "kubelet apply: " + ok.error().message + " (every file was put back)");
  j["changed"] = true;
  j["effective"] = effective_after(s->plan, true);
  if (!ctx.options.json)
    for (const auto& c : changes) std::cout << diff_of(c);
  for (const auto& c : changes)
    log::event(spdlog::level::info, fmt::format("kubelet apply: {} {}", action_of(c), c.path),
               {{"NODEIMG_COMMAND", "kubelet-apply"}, {"NODEIMG_FILE", c.path}});

  if (!restart) {
    const std::string why = ctx.rooted() ? "under --root nothing is restarted"
                          : !s->sources.unit ? "no kubelet unit was found; restart kubelet yourself"
                                             : "restart is disabled; the new values take effect at kubelet's next restart";
    log::event(spdlog::level::warn, "kubelet apply: changed files; " + why,
               {{"NODEIMG_COMMAND", "kubelet-apply"}, {"NODEIMG_CHANGED", "1"}, {"NODEIMG_RESTARTED", "0"}});
    if (ctx.options.json) print_json(j);
    return kExitOk;
  }

  auto bus = SystemdBus::connect();
  if (!bus) {
    (void)write_changes(files, inverse(changes), new_file);
    (void)store.clear();
    j["rolledBack"] = true;
    return report_failure(ctx, j, "kubelet apply: " + bus.error().message + "; the files were put back");
  }
  VerifyOptions verify{unit, healthz_url(ctx, s->plan), ctx.config.kubelet.restart_timeout, ctx.config.kubelet.settle};
  auto verifier = RestartVerifier::with_system_clock(**bus);
  Result<UnitStatus> outcome = [&]() -> Result<UnitStatus> {
    if (s->plan.daemon_reload)
      if (auto ok = (*bus)->reload(); !ok) return std::unexpected(ok.error());
    return verifier.restart_and_verify(verify);
  }();
  j["daemonReload"] = s->plan.daemon_reload;
  j["restarted"] = true;
  if (outcome) {
    j["verified"] = true;
    j["mainPID"] = outcome->main_pid;
    j["invocationID"] = outcome->invocation_id;
    log::event(spdlog::level::info,
               fmt::format("kubelet apply: restarted {} and verified it healthy for {}", unit, format_duration(verify.settle)),
               {{"NODEIMG_COMMAND", "kubelet-apply"}, {"NODEIMG_CHANGED", "1"}, {"NODEIMG_RESTARTED", "1"},
                {"NODEIMG_UNIT", unit}});
    write_kubelet_metrics(ctx, files, s->plan, /*applied=*/true);
    if (ctx.options.json) print_json(j);
    else std::cout << fmt::format("restarted {} over D-Bus: healthy ({}), stable for {}\n", unit,
                                  verify.healthz_url.value_or("unit active"), format_duration(verify.settle));
    return kExitOk;
  }

  // Roll back: the previous files, the previous unit definitions, a verified restart.
  const std::string failure = outcome.error().message;
  log::event(spdlog::level::err, "kubelet apply: " + failure + "; rolling back",
             {{"NODEIMG_COMMAND", "kubelet-apply"}, {"NODEIMG_UNIT", unit}});
  j["rolledBack"] = true;
  j["changed"] = false;
  j["effective"] = effective_after(s->plan, false);
  std::string rollback;
  if (auto restored = write_changes(files, inverse(changes), new_file); !restored) {
    rollback = "could not restore the previous files: " + restored.error().message;
  } else {
    (void)store.clear();
    Result<UnitStatus> again = [&]() -> Result<UnitStatus> {
      if (s->plan.daemon_reload)
        if (auto ok = (*bus)->reload(); !ok) return std::unexpected(ok.error());
      return verifier.restart_and_verify(verify);
    }();
    rollback = again ? fmt::format("restored the previous files; {} is healthy again", unit)
                     : "restored the previous files, but " + again.error().message;
  }
  return report_failure(ctx, j,
                        fmt::format("kubelet apply failed: {}. Rolled back: {}. See `journalctl -u {}`.", failure, rollback, unit));
}

int kubelet_revert(const Context& ctx, const RevertFlags& flags) {
  HostFiles files(ctx.options.root);
  StateStore store(files, ctx.state_dir());
  Json j = {{"changed", false}, {"dryRun", flags.dry_run}, {"files", Json::array()}, {"restarted", false}, {"verified", false}};
  auto record = store.load();
  if (!record) return report_failure(ctx, j, "kubelet revert: " + record.error().message);
  if (!*record) {
    if (ctx.options.json) print_json(j);
    else std::cout << "kubelet revert: nothing to revert (no record of an apply in " << files.host_path(store.record_path()) << ")\n";
    return kExitOk;
  }
  std::vector<kubelet::FileChange> changes;
  for (const auto& f : (*record)->files) {
    auto current = files.read(f.path);
    if (!current) return report_failure(ctx, j, "kubelet revert: " + current.error().message);
    if (*current == f.before) continue;  // already as it was
    if (*current != f.after && !flags.force)
      return report_failure(ctx, j, fmt::format("kubelet revert: {} changed since nodeimg's apply at {}; not reverting "
                                                "(compare with `nodeimg kubelet status`, or use --force)",
                                                f.path, (*record)->applied_at));
    changes.push_back({f.path, *current, f.before, "revert", false});
  }
  for (const auto& c : changes) j["files"].push_back({{"path", c.path}, {"action", action_of(c)}, {"diff", diff_of(c)}});
  const std::string unit = ctx.config.kubelet.unit != "auto" ? ctx.config.kubelet.unit : (*record)->unit;
  const bool restart = ctx.config.kubelet.restart && !flags.no_restart && !ctx.rooted() && !unit.empty() && !changes.empty();
  if (flags.dry_run) {
    j["changed"] = !changes.empty();
    j["restart"] = restart;
    if (ctx.options.json) print_json(j);
    else {
      for (const auto& c : changes) std::cout << diff_of(c);
      std::cout << "dry run: nothing was written\n";
    }
    return kExitOk;
  }
  std::optional<FileOwnership> ownership;
  for (const auto& c : changes) {
    for (const auto& f : (*record)->files)
      if (f.path == c.path) ownership = f.ownership;
    auto ok = c.after ? files.write_atomic(c.path, *c.after, ownership) : files.remove(c.path);
    if (!ok) return report_failure(ctx, j, "kubelet revert: " + ok.error().message);
    if (!ctx.options.json) std::cout << diff_of(c);
  }
  j["changed"] = !changes.empty();
  if (auto ok = store.clear(); !ok) spdlog::warn("kubelet revert: {}", ok.error().message);
  if (restart) {
    auto bus = SystemdBus::connect();
    if (!bus) return report_failure(ctx, j, "kubelet revert: " + bus.error().message);
    if ((*record)->unit_files_changed)
      if (auto ok = (*bus)->reload(); !ok) return report_failure(ctx, j, "kubelet revert: " + ok.error().message);
    // The revert's own health endpoint comes from the restored files.
    auto s = survey(ctx, files);
    std::optional<std::string> url = s ? healthz_url(ctx, s->plan) : std::nullopt;
    VerifyOptions verify{unit, url, ctx.config.kubelet.restart_timeout, ctx.config.kubelet.settle};
    auto verifier = RestartVerifier::with_system_clock(**bus);
    auto outcome = verifier.restart_and_verify(verify);
    j["restarted"] = true;
    if (!outcome)
      return report_failure(ctx, j, fmt::format("kubelet revert: restored the files, but {}. See `journalctl -u {}`.",
                                                outcome.error().message, unit));
    j["verified"] = true;
  }
  log::event(spdlog::level::info, fmt::format("kubelet revert: restored {} file(s)", changes.size()),
             {{"NODEIMG_COMMAND", "kubelet-revert"}, {"NODEIMG_CHANGED", changes.empty() ? "0" : "1"}});
  if (ctx.options.json) print_json(j);
  else if (changes.empty()) std::cout << "kubelet revert: the files are already as they were before the last apply\n";
  return kExitOk;
}

}  // namespace nodeimg
