#include "commands/kubelet/kubelet_command.hpp"

#include <unistd.h>

#include <chrono>
#include <iostream>

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "adapters/host/filesystem_usage.hpp"
#include "adapters/host/host_files.hpp"
#include "adapters/host/live_facts.hpp"
#include "adapters/host/proc.hpp"
#include "adapters/host/state_store.hpp"
#include "adapters/host/systemd_bus.hpp"
#include "commands/kubelet/restart_verifier.hpp"
#include "commands/kubelet_metrics.hpp"
#include "commands/logging.hpp"
#include "core/common/schema_version.hpp"
#include "core/common/text.hpp"
#include "core/config/kubelet_combination.hpp"
#include "core/common/time.hpp"
#include "core/common/unified_diff.hpp"
#include "core/kubelet/apply_record.hpp"
#include "core/kubelet/live_check.hpp"
#include "core/kubelet/plan.hpp"
#include "core/kubelet/policy.hpp"
#include "core/kubelet/settings.hpp"

namespace nodeimg {

using kubelet::Json;

namespace {

// Everything a kubelet command learns about the node before acting. `plan` is absent
// when the sources cannot be read as kubelet reads them; `error` then says why, and
// the sources are still shown.
struct Survey {
  kubelet::DiscoveryOptions options;
  kubelet::Sources sources;
  kubelet::Values desired;
  std::optional<kubelet::Plan> plan;
  std::string error;
  std::optional<int> running_pid;
  kubelet::LiveFacts live;  // kubelet's start time and the deciding files' mtimes
  std::string config_error;  // nodeimg's configuration asks for values kubelet refuses together (exit 2)
};

// kubelet's files are refused under sticky world-writable directories (see HostFiles).
HostFiles kubelet_files(const Context& ctx) { return HostFiles(ctx.options.root, StickyDirs::Refused); }


// For the %H/%l specifiers: the node's hostname (under --root, its /etc/hostname).
std::string node_hostname(const Context& ctx, const HostFiles& files) {
  if (ctx.rooted()) {
    auto text = files.read("/etc/hostname");
    return text && *text ? std::string(text::trim(**text)) : std::string();
  }
  char name[256] = {};
  return ::gethostname(name, sizeof name - 1) == 0 ? std::string(name) : std::string();
}

// When the running kubelet started and when each file deciding a managed value was last
// written (for "restart pending"). Facts that cannot be read leave the check unknown.
void gather_live_facts(const HostFiles& files, Survey& s) {
  if (!s.running_pid || !s.plan) return;
  auto start = process_start(*s.running_pid);
  if (!start || !*start) {
    spdlog::debug("kubelet's start time: {}", start ? "the process went away" : start.error().message);
    return;
  }
  s.live.kubelet_started_ns = (*start)->started_ns;
  s.live.started_resolution_ns = (*start)->resolution_ns;
  for (const auto& setting : s.plan->settings)
    for (const auto& path : kubelet::deciding_files(setting, s.sources)) {
      auto mtime = modified_ns(files.host_path(path));
      if (mtime && *mtime) s.live.modified.push_back({.path = path, .modified_ns = **mtime});
      else if (!mtime) spdlog::debug("{}", mtime.error().message);
    }
}

Result<Survey> survey(const Context& ctx, const HostFiles& files, const StateStore& store) {
  Survey s;
  auto options = kubelet_discovery_options(ctx, files, store);
  if (!options) return std::unexpected(options.error());
  s.options = std::move(*options);
  s.running_pid = s.options.running_pid;
  auto sources = kubelet::discover(files, s.options);
  if (!sources) return std::unexpected(sources.error());
  s.sources = std::move(*sources);
  // k3s, RKE2 and MicroK8s run kubelet inside their own process: no process is named
  // kubelet, and the process in the chosen unit's cgroup started when kubelet did.
  if (!s.running_pid && s.sources.unit)
    for (const auto& candidate : s.sources.candidates)
      if (candidate.name == s.sources.unit->name && candidate.running_pid) s.running_pid = candidate.running_pid;
  auto desired = desired_values(ctx, files, s.sources);
  if (!desired) return std::unexpected(desired.error());
  s.desired = std::move(*desired);
  auto planned = plan_desired(ctx, files, s.options, s.sources, s.desired);
  if (!planned.settings_conflict.empty()) {
    s.config_error = std::move(planned.settings_conflict);
    return s;
  }
  s.plan = std::move(planned.plan);
  s.error = std::move(planned.error);
  gather_live_facts(files, s);
  return s;
}

// What stops apply, if anything: a plan that could not be made, or a refusal.
std::string blocker(const Survey& s) { return s.plan ? s.plan->refusal : s.error; }

kubelet::RestartInputs restart_inputs(const Context& ctx, const std::string& unit, bool no_restart) {
  return {.enabled = ctx.config.kubelet.restart, .no_restart = no_restart, .rooted = ctx.rooted(), .has_unit = !unit.empty()};
}

std::optional<std::string> healthz_of(const Context& ctx, const Survey& s) {
  return kubelet::healthz_url(ctx.config.kubelet.healthz, s.plan ? s.plan->healthz : kubelet::Endpoint{});
}

std::string unit_name(const Survey& s) { return s.sources.unit ? s.sources.unit->name : ""; }

std::string action_of(const kubelet::FileChange& c) { return !c.before ? "created" : !c.after ? "removed" : "modified"; }

std::string diff_of(const kubelet::FileChange& c) {
  return unified_diff(c.path, c.before.value_or(""), c.after.value_or(""), c.before.has_value(), 3, c.after.has_value());
}

Json effective_after(const kubelet::Plan& plan, bool applied) {
  Json out = Json::object();
  for (const auto& s : plan.settings) out[s.name] = applied && s.desired ? *s.desired : s.effective;
  return out;
}

void print_json(Json j) {
  j["schemaVersion"] = kJsonSchemaVersion;  // every document, docs/json.md
  std::cout << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
}

std::string show(const Json& v) { return v.is_null() ? "(unset)" : kubelet::render_scalar(v); }

int report_failure(const Context& ctx, Json j, const std::string& message) {
  log::event(spdlog::level::err, message, {{"NODEIMG_COMMAND", "kubelet"}, {"NODEIMG_RESULT", "failed"}});
  if (ctx.options.json) {
    j["error"] = message;
    print_json(j);
  }
  return kExitFailed;
}

}  // namespace

DesiredPlan plan_desired(const Context& ctx, const HostFiles& files, const kubelet::DiscoveryOptions& options,
                         const kubelet::Sources& sources, const kubelet::Values& desired) {
  DesiredPlan out;
  auto plan = kubelet::plan(files, options, sources, desired);
  if (plan && plan->refusal.empty()) {
    out.plan = std::move(*plan);
    return out;  // the plan checked the combination kubelet will get: nothing to explain
  }
  if (plan) out.plan = std::move(*plan);
  else out.error = plan.error().message;
  if (auto current = kubelet::plan(files, options, sources, {}); current)
    if (auto ok = check_kubelet_combination(ctx.config, current->settings, desired); !ok) {
      out.settings_conflict = ok.error().message;
      out.plan.reset();
    }
  return out;
}

Result<kubelet::DiscoveryOptions> kubelet_discovery_options(const Context& ctx, const HostFiles& files,
                                                            const StateStore& store) {
  kubelet::DiscoveryOptions options;
  options.unit = ctx.config.kubelet.unit;
  options.config_file = ctx.config.kubelet.config_file;
  options.dropin_dir = ctx.config.kubelet.dropin_dir;
  options.hostname = node_hostname(ctx, files);
  auto owned = store.load_owned();
  if (!owned) return std::unexpected(owned.error());
  options.owned_files = std::move(*owned);
  if (ctx.rooted()) return options;  // under --root, /proc belongs to another system and is not read
  auto proc = find_process("kubelet");
  if (!proc) return std::unexpected(proc.error());
  if (*proc) {
    options.running_argv = (*proc)->argv;
    options.running_pid = (*proc)->pid;
  }
  auto units = units_running(kubelet_bearing_commands());
  if (!units) return std::unexpected(units.error());
  options.running_units = std::move(*units);
  return options;
}

// The values nodeimg's configuration asks kubelet for ("auto" measures kubelet's root-dir).
Result<kubelet::Values> desired_values(const Context& ctx, const HostFiles& files, const kubelet::Sources& sources) {
  kubelet::Values values;
  const auto& k = ctx.config.kubelet;
  if (k.max_images_mode == KubeletConfig::MaxImages::Value) {
    values.push_back({.name = "nodeStatusMaxImages", .value = k.max_images});
  } else if (k.max_images_mode == KubeletConfig::MaxImages::Auto) {
    std::string root_dir = "/var/lib/kubelet";
    if (const auto* f = sources.flag("root-dir"); f && f->value) root_dir = kubelet::normalize_path(*f->value);
    auto usage = filesystem_usage(files.host_path(root_dir));
    if (!usage) return std::unexpected(context("nodeStatusMaxImages: auto", usage.error()));
    const long long n = auto_max_images(usage->size_bytes);
    spdlog::debug("nodeStatusMaxImages auto: filesystem of {} is {} bytes -> {}", root_dir, usage->size_bytes, n);
    values.push_back({.name = "nodeStatusMaxImages", .value = n});
  }
  for (const auto& s : k.settings) values.push_back(s);
  return values;
}

namespace {

Json flag_json(const kubelet::Flag& f) {
  Json j = {{"name", f.name},
            {"value", f.value ? Json(*f.value) : Json(nullptr)},
            {"origin", f.origin ? Json(systemd::to_string(*f.origin)) : Json(nullptr)}};
  if (f.spelling != f.name) j["spelledAs"] = f.spelling;
  if (!f.value_variable.empty())
    j["valueFrom"] = fmt::format("${} ({})", f.value_variable, systemd::to_string(*f.value_origin));
  if (!f.not_editable.empty()) j["notEditable"] = f.not_editable;
  return j;
}

// Every kubelet unit seen, and what decided between them (issue 12).
Json candidates_json(const kubelet::Sources& src) {
  Json out = Json::array();
  for (const auto& c : src.candidates)
    out.push_back({{"name", c.name}, {"fragment", c.fragment}, {"aliases", c.aliases},
                   {"runningPid", c.running_pid ? Json(*c.running_pid) : Json(nullptr)},
                   {"enabledBy", c.enabled_by.empty() ? Json(nullptr) : Json(c.enabled_by)},
                   {"chosen", src.unit && src.unit->name == c.name}});
  return out;
}

Json sources_json(const Survey& s) {
  const auto& src = s.sources;
  Json j;
  j["unit"] = src.unit ? Json{{"name", src.unit->name},
                              {"fragment", src.unit->fragment},
                              {"dropIns", src.unit->drop_ins},
                              {"environmentFiles", src.unit->environment_files},
                              {"absentEnvironmentFiles", src.unit->absent_environment_files},
                              {"embedsKubelet", src.unit->embeds_kubelet}}
                       : Json(nullptr);
  j["unitCandidates"] = candidates_json(src);
  j["unitChoice"] = src.unit_refusal.empty() ? Json(src.unit_reason) : Json(nullptr);
  j["maskedUnits"] = src.masked;
  j["process"] = s.running_pid ? Json(*s.running_pid) : Json(nullptr);
  j["commandLine"] = {{"from", src.argv_from}, {"argv", src.argv}};
  j["flags"] = Json::array();
  for (const auto& f : src.flags) j["flags"].push_back(flag_json(f));
  j["rancherConfigs"] = src.rancher_configs;
  const bool have_doc = s.plan && s.plan->config;
  j["configFile"] = src.config_file
                        ? Json{{"path", *src.config_file},
                               {"format", have_doc ? std::string(kubelet::to_string(s.plan->config->format)) : ""},
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
                   {"inSync", s.edit.empty() && (!s.desired || plan.refusal.empty())},
                   {"edit", s.edit.empty() ? Json(nullptr) : Json(s.edit)}});
  return arr;
}

void print_candidates(const kubelet::Sources& src) {
  for (const auto& c : src.candidates)
    std::cout << fmt::format("  candidate:    {} ({}{}{}){}\n", c.name, c.running_pid ? fmt::format("running: pid {}, ", *c.running_pid) : "",
                             c.enabled_by.empty() ? "not enabled" : "enabled: " + c.enabled_by,
                             c.aliases.empty() ? "" : fmt::format(", also named {}", fmt::join(c.aliases, ", ")),
                             src.unit && src.unit->name == c.name ? "  <- chosen" : "");
  if (!src.unit_refusal.empty()) std::cout << "  unit:         none chosen: " << src.unit_refusal << "\n";
}

void print_unit(const Context& ctx, const Survey& s) {
  const auto& src = s.sources;
  print_candidates(src);
  if (src.unit) {
    std::cout << fmt::format("  unit:         {}{}\n                {}\n", src.unit->name,
                             src.unit_reason.empty() ? "" : " (" + src.unit_reason + ")", src.unit->fragment);
    for (const auto& d : src.unit->drop_ins) std::cout << fmt::format("                {} (drop-in)\n", d);
    for (const auto& e : src.unit->environment_files) std::cout << fmt::format("                {} (EnvironmentFile)\n", e);
    for (const auto& e : src.unit->absent_environment_files)
      std::cout << fmt::format("                {} (EnvironmentFile, optional, absent)\n", e);
  } else if (src.unit_refusal.empty()) {
    std::cout << "  unit:         none found (" << fmt::format("{}", fmt::join(kubelet::candidate_units(), ", ")) << ")\n";
  }
  for (const auto& m : src.masked) std::cout << fmt::format("  masked unit:  {}\n", m);
  std::cout << fmt::format("  process:      {}\n", s.running_pid ? fmt::format("kubelet, pid {}", *s.running_pid)
                                                   : ctx.rooted() ? "not read under --root"
                                                                  : "no kubelet process running");
}

void print_sources(const Context& ctx, const Survey& s, const std::optional<std::string>& url) {
  const auto& src = s.sources;
  std::cout << "kubelet configuration sources" << (ctx.rooted() ? " (under --root " + ctx.options.root + ")" : "") << "\n";
  print_unit(ctx, s);
  if (!src.unit_refusal.empty()) return;  // without the unit, nothing else was read
  std::cout << fmt::format("  command line: {}\n", src.argv_from.empty() ? "none" : src.argv_from);
  for (const auto& f : src.flags)
    std::cout << fmt::format("                --{}{}{}{}\n", f.spelling, f.value ? "=" + *f.value : "",
                             f.origin ? "  (" + systemd::to_string(*f.origin) + ")" : "",
                             f.value_variable.empty() ? "" : "  value from $" + f.value_variable);
  for (const auto& r : src.rancher_configs) std::cout << fmt::format("                {} (kubelet-arg)\n", r);
  const bool have_doc = s.plan && s.plan->config;
  if (src.config_file)
    std::cout << fmt::format("  config file:  {} ({}; {})\n", *src.config_file,
                             have_doc ? kubelet::to_string(s.plan->config->format) : "?", src.config_file_reason);
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
}

void print_settings(const Survey& s, bool will_restart) {
  const kubelet::Plan& plan = *s.plan;
  std::cout << "\n" << fmt::format("{:<28} {:<10} {:<10} {}\n", "SETTING", "EFFECTIVE", "DESIRED", "SOURCE / ACTION");
  for (const auto& st : plan.settings) {
    std::string source = st.source == kubelet::Source::Default
                             ? "kubelet default" + (st.source_detail.empty() ? "" : " (" + st.source_detail + ")")
                             : st.source_detail;
    std::cout << fmt::format("{:<28} {:<10} {:<10} {}\n", st.name, show(st.effective),
                             st.desired ? show(*st.desired) : "-", source);
    if (!st.edit.empty()) std::cout << fmt::format("{:<51}-> apply sets {}\n", "", st.edit);
  }
  std::cout << "\n";
  if (!plan.refusal.empty()) return;
  if (plan.changes.empty()) {
    std::cout << "apply: nothing to change\n";
    return;
  }
  std::cout << fmt::format("apply: would write {} file(s){}{}\n", plan.changes.size(),
                           plan.daemon_reload ? ", reload systemd" : "",
                           will_restart ? ", restart " + unit_name(s) + " and verify it" : "");
}

}  // namespace

namespace {

// Whether what nodeimg asked for is live: restarts pending, files rewritten at boot, and
// the verdict of `status --check`.
struct Liveness {
  std::vector<kubelet::PendingRestart> pending;
  std::vector<kubelet::BootRewriteWarning> boot;
  kubelet::CheckVerdict verdict = kubelet::CheckVerdict::InEffect;
};

// The files nodeimg edits or has edited: the changes apply would make, those in its
// history, its own files.
std::vector<std::string> edited_paths(const Survey& s, const StateStore& store) {
  std::vector<std::string> paths;
  if (s.plan)
    for (const auto& c : s.plan->changes) paths.push_back(c.path);
  if (auto net = store.load(); net && *net)
    for (const auto& f : (**net).files) paths.push_back(f.path);
  for (const auto& owned : s.options.owned_files) paths.push_back(owned.first);
  return paths;
}

Liveness liveness(const Survey& s, const StateStore& store) {
  Liveness l;
  if (s.plan) l.pending = kubelet::pending_restarts(s.plan->settings, s.sources, s.live);
  l.boot = kubelet::boot_rewrite_warnings(edited_paths(s, store), s.sources);
  l.verdict = kubelet::check_verdict(blocker(s), s.plan ? &*s.plan : nullptr, l.pending);
  return l;
}

std::string time_of(std::int64_t ns) { return rfc3339(ns / 1'000'000'000); }

std::string pending_text(const Survey& s, const kubelet::PendingRestart& p) {
  return fmt::format("{}: {} was written at {}, after kubelet (pid {}) started at {}: the running kubelet does not use "
                     "it yet; restart {}",
                     p.setting, p.file, time_of(p.modified_ns), s.running_pid.value_or(0),
                     time_of(*s.live.kubelet_started_ns), unit_name(s).empty() ? "kubelet" : unit_name(s));
}

void add_liveness_json(const Survey& s, const Liveness& l, Json& j) {
  const bool known = s.live.kubelet_started_ns.has_value();
  j["kubeletStartedAt"] = known ? Json(time_of(*s.live.kubelet_started_ns)) : Json(nullptr);
  j["restartPending"] = known ? Json(!l.pending.empty()) : Json(nullptr);
  for (auto& setting : j["settings"]) {
    setting["restartPending"] = nullptr;
    for (const auto& p : l.pending)
      if (setting["name"] == p.setting)
        setting["restartPending"] = {{"file", p.file}, {"modifiedAt", time_of(p.modified_ns)}};
  }
  j["rewrittenAtBoot"] = Json::array();
  for (const auto& b : l.boot) j["rewrittenAtBoot"].push_back({{"path", b.path}, {"by", b.by}, {"message", b.message}});
  j["inEffect"] = l.verdict == kubelet::CheckVerdict::InEffect;
  j["check"] = kubelet::to_string(l.verdict);
}

void print_liveness(const Survey& s, const Liveness& l) {
  for (const auto& b : l.boot) std::cout << "warning: " << b.message << "\n";
  for (const auto& p : l.pending) std::cout << "restart pending: " << pending_text(s, p) << "\n";
}

// `status --check` on a terminal: one verdict line, then one line per setting not in effect.
void print_check(const Survey& s, const Liveness& l) {
  if (l.verdict == kubelet::CheckVerdict::Refused) return;  // the reason goes to stderr
  std::vector<std::string> lines;
  for (const auto& st : s.plan->settings) {
    if (!st.desired) continue;
    if (!st.edit.empty())
      lines.push_back(fmt::format("{} is {} ({}), desired {}: `nodeimg kubelet apply` sets {}", st.name,
                                  show(st.effective), st.source_detail.empty() ? "kubelet default" : st.source_detail,
                                  show(*st.desired), st.edit));
  }
  for (const auto& p : l.pending) lines.push_back("restart pending: " + pending_text(s, p));
  std::vector<std::string> live;
  for (const auto& st : s.plan->settings)
    if (st.desired) live.push_back(fmt::format("{} {}", st.name, show(*st.desired)));
  if (l.verdict == kubelet::CheckVerdict::InEffect)
    std::cout << fmt::format("kubelet: in effect: {}{}\n", live.empty() ? "no managed setting" : fmt::format("{}", fmt::join(live, ", ")),
                             s.live.kubelet_started_ns ? "" : " (on disk; whether kubelet runs with them is not known here)");
  else
    std::cout << fmt::format("kubelet: NOT in effect ({})\n", kubelet::to_string(l.verdict));
  for (const auto& line : lines) std::cout << "  " << line << "\n";
  for (const auto& b : l.boot) std::cout << "  warning: " << b.message << "\n";
}

int check_exit_code(kubelet::CheckVerdict v) {
  switch (v) {
    case kubelet::CheckVerdict::InEffect: return kExitOk;
    case kubelet::CheckVerdict::Refused: return kExitFailed;
    default: return kExitNotInEffect;
  }
}

}  // namespace

int kubelet_status(const Context& ctx, const StatusFlags& flags) {
  HostFiles files = kubelet_files(ctx);
  StateStore store(files, ctx.state_dir());
  auto s = survey(ctx, files, store);
  if (!s) return report_failure(ctx, Json::object(), "kubelet status: " + s.error().message);
  if (!s->config_error.empty()) {
    spdlog::error("kubelet status: {}", s->config_error);
    return kExitUsage;
  }
  // nodeimg's own metrics file: sticky directories are fine there, unlike kubelet's files.
  if (s->plan) write_kubelet_metrics(ctx, HostFiles(ctx.options.root), *s->plan);
  const auto url = healthz_of(ctx, *s);
  const bool restart = kubelet::should_restart(restart_inputs(ctx, unit_name(*s), false));
  const std::string problem = blocker(*s);
  const Liveness live = liveness(*s, store);
  if (ctx.options.json) {
    Json j = sources_json(*s);
    j["healthz"] = url ? Json(*url) : Json(nullptr);
    j["settings"] = s->plan ? settings_json(*s->plan) : Json::array();
    Json pending = Json::array();
    if (s->plan)
      for (const auto& c : s->plan->changes) pending.push_back({{"path", c.path}, {"action", action_of(c)}, {"reason", c.reason}});
    j["apply"] = {{"changes", pending}, {"daemonReload", s->plan && s->plan->daemon_reload},
                  {"restart", !pending.empty() && restart}, {"refused", problem.empty() ? Json(nullptr) : Json(problem)}};
    j["inSync"] = problem.empty() && pending.empty();
    add_liveness_json(*s, live, j);
    if (!problem.empty()) j["error"] = problem;
    print_json(j);
  } else if (flags.check) {
    print_check(*s, live);
  } else {
    print_sources(ctx, *s, url);
    if (s->plan && s->sources.unit_refusal.empty()) print_settings(*s, restart);
    print_liveness(*s, live);
  }
  if (!problem.empty())  // The sources are shown above; what stops apply goes to stderr with exit 1.
    spdlog::error("kubelet status: apply would refuse: {}", problem);
  if (flags.check) return check_exit_code(live.verdict);
  return problem.empty() ? kExitOk : kExitFailed;
}

namespace {

// Files nodeimg creates are root:root 0644, whatever their neighbours are.
const FileOwnership kNewFile{.mode = 0644, .uid = 0, .gid = 0};

// The outcome of writing a set of changes all or none.
struct WriteOutcome {
  std::optional<Error> error;            // set: not every change was written
  std::vector<std::string> not_restored;  // after a failure: files left changed ("path: why")
  bool ok() const { return !error; }
};

// Writes `changes` in order; on a failure puts back what was already written, in
// reverse order, and says which files could not be put back.
WriteOutcome write_all_or_none(const HostFiles& files, const std::vector<kubelet::FileChange>& changes) {
  WriteOutcome out;
  std::vector<const kubelet::FileChange*> done;
  for (const auto& c : changes) {
    auto ok = c.after ? files.write_atomic(c.path, *c.after, kNewFile) : files.remove(c.path);
    if (ok) {
      done.push_back(&c);
      continue;
    }
    out.error = ok.error();
    for (auto it = done.rbegin(); it != done.rend(); ++it) {
      const auto& d = **it;
      auto undo = d.before ? files.write_atomic(d.path, *d.before, kNewFile) : files.remove(d.path);
      if (!undo) out.not_restored.push_back(d.path + ": " + undo.error().message);
    }
    break;
  }
  return out;
}

std::vector<kubelet::FileChange> inverse(const std::vector<kubelet::FileChange>& changes) {
  std::vector<kubelet::FileChange> out;
  for (auto it = changes.rbegin(); it != changes.rend(); ++it)
    out.push_back({.path = it->path, .before = it->after, .after = it->before, .reason = it->reason,
                   .unit_file = it->unit_file, .own = it->own});
  return out;
}

// What is true after a failed write: every file put back, or which ones were not.
std::string after_failed_write(const WriteOutcome& w) {
  if (w.not_restored.empty()) return w.error->message + "; every file written was put back";
  return fmt::format("{}; these files could NOT be put back: {}", w.error->message, fmt::join(w.not_restored, "; "));
}

// Everything that can be checked before the first byte is written: each target can be
// written safely, the state directory too, and (when restarting) the bus answers and
// the unit is loaded.
Result<std::unique_ptr<SystemdBus>> preflight(const HostFiles& files, const StateStore& store,
                                              const std::vector<kubelet::FileChange>& changes, const std::string& unit,
                                              bool restart) {
  for (const auto& c : changes)
    if (c.before)
      if (auto ok = files.inspect_for_write(c.path); !ok) return std::unexpected(ok.error());
  if (auto ok = store.check_writable(); !ok) return std::unexpected(context("nodeimg's state", ok.error()));
  std::unique_ptr<SystemdBus> bus;
  if (restart) {
    auto connected = SystemdBus::connect();
    if (!connected) return std::unexpected(connected.error());
    auto st = (*connected)->status(unit);
    if (!st) return std::unexpected(st.error());
    if (st->load_state != "loaded")
      return fail(fmt::format("systemd reports {} as {} (LoadState); nodeimg will not change a unit systemd cannot "
                              "start",
                              unit, st->load_state));
    bus = std::move(*connected);
  }
  // Last, once everything else is known to be fine: the directories of new files (a unit
  // override's UNIT.d) are created root-owned 0755, through the same safety checks.
  for (const auto& c : changes) {
    if (c.before) continue;
    if (auto ok = files.make_directories(c.path.substr(0, c.path.rfind('/')), 0755); !ok) return std::unexpected(ok.error());
    if (auto ok = files.inspect_for_write(c.path); !ok) return std::unexpected(ok.error());
  }
  return bus;
}

ApplyRecord record_of(const HostFiles& files, const Survey& s, const std::optional<std::string>& url) {
  ApplyRecord record{.applied_at = rfc3339(std::chrono::system_clock::now()), .unit = unit_name(s), .unit_files_changed = s.plan->daemon_reload,
                     .healthz_url = url};
  for (const auto& c : s.plan->changes) {
    auto owner = files.inspect_for_write(c.path);
    const FileOwnership o = owner && *owner ? **owner : kNewFile;
    record.files.push_back({.path = c.path, .before = c.before, .after = c.after,
                            .ownership = {.mode = o.mode, .uid = o.uid, .gid = o.gid}, .own = c.own});
  }
  return record;
}

Result<UnitStatus> reload_restart_verify(ServiceManager& bus, bool reload, const VerifyOptions& verify) {
  if (reload)
    if (auto ok = bus.reload(); !ok) return std::unexpected(ok.error());
  auto verifier = RestartVerifier::with_system_clock(bus);
  return verifier.restart_and_verify(verify);
}

int apply_dry_run(const Context& ctx, const Survey& s, Json& j, const kubelet::RestartInputs& rin) {
  const bool restart = kubelet::should_restart(rin);
  j["changed"] = true;
  j["daemonReload"] = s.plan->daemon_reload && restart;
  j["restart"] = restart;
  j["effective"] = effective_after(*s.plan, true);
  if (ctx.options.json) {
    print_json(j);
    return kExitOk;
  }
  for (const auto& c : s.plan->changes) std::cout << diff_of(c);
  if (s.plan->daemon_reload) std::cout << "would reload systemd (daemon-reload)\n";
  if (restart)
    std::cout << fmt::format("would restart {} over D-Bus and verify {} for {}\n", unit_name(s),
                             healthz_of(ctx, s).value_or("its state"), format_duration(ctx.config.kubelet.settle));
  else
    std::cout << "would not restart kubelet (" << kubelet::no_restart_reason(rin) << ")\n";
  std::cout << "dry run: nothing was written\n";
  return kExitOk;
}

}  // namespace

namespace {

// A managed setting's value before and after an apply or revert, for the audit record.
struct ValueChange {
  std::string name;
  Json before;
  Json after;
};

std::vector<ValueChange> planned_values(const kubelet::Plan& plan) {
  std::vector<ValueChange> out;
  for (const auto& st : plan.settings)
    if (st.desired && !st.edit.empty()) out.push_back({.name = st.name, .before = st.effective, .after = *st.desired});
  return out;
}

struct AuditRecord {
  std::string_view command;  // kubelet-apply, kubelet-revert
  std::string_view result;   // applied, reverted, rolled-back, failed
  const std::vector<kubelet::FileChange>& changes;
  std::vector<ValueChange> values;
  std::string unit;
  std::string kubelet_invocation_id{};  // the restarted kubelet's, when verified
};

// The audit trail: one journal entry per apply or revert that wrote files, with every file,
// every value before and after, and the invocation ids (journalctl -t nodeimg
// NODEIMG_COMMAND=kubelet-apply NODEIMG_AUDIT=1).
void audit(const Context& ctx, const AuditRecord& a) {
  log::Fields fields{{"NODEIMG_COMMAND", std::string(a.command)}, {"NODEIMG_AUDIT", "1"},
                     {"NODEIMG_RESULT", std::string(a.result)}};
  std::vector<std::string> parts;
  for (const auto& v : a.values) {
    fields.push_back({"NODEIMG_SETTING", v.name});
    fields.push_back({"NODEIMG_BEFORE", v.name + "=" + show(v.before)});
    fields.push_back({"NODEIMG_AFTER", v.name + "=" + show(v.after)});
    parts.push_back(fmt::format("{} {} -> {}", v.name, show(v.before), show(v.after)));
  }
  for (const auto& c : a.changes) {
    fields.push_back({"NODEIMG_FILE", c.path});
    fields.push_back({"NODEIMG_FILE_ACTION", action_of(c) + " " + c.path});
    parts.push_back(action_of(c) + " " + c.path);
  }
  if (!a.unit.empty()) fields.push_back({"NODEIMG_UNIT", a.unit});
  if (!a.kubelet_invocation_id.empty()) fields.push_back({"NODEIMG_KUBELET_INVOCATION_ID", a.kubelet_invocation_id});
  if (ctx.rooted()) fields.push_back({"NODEIMG_ROOT", ctx.options.root});
  const bool bad = a.result == "failed" || a.result == "rolled-back";
  log::audit(bad ? spdlog::level::err : spdlog::level::info,
             fmt::format("{} {}: {}", a.command, a.result, fmt::join(parts, "; ")), fields);
}

// Files the platform rewrites at boot among those apply changes: said on stderr and in --json.
void warn_boot_rewrites(const Survey& s, Json& j) {
  std::vector<std::string> paths;
  for (const auto& c : s.plan->changes) paths.push_back(c.path);
  j["rewrittenAtBoot"] = Json::array();
  for (const auto& b : kubelet::boot_rewrite_warnings(paths, s.sources)) {
    spdlog::warn("kubelet apply: {}", b.message);
    j["rewrittenAtBoot"].push_back({{"path", b.path}, {"by", b.by}, {"message", b.message}});
  }
}

struct ApplyRun {
  const Context& ctx;
  const HostFiles& files;
  const StateStore& store;
  const Survey& s;
  Json& j;
  const kubelet::ApplyHistory& previous;  // the history before this apply, put back when it is undone
};

// After a failed restart: the previous files back (all or none), then a verified restart
// on them. The record goes only once the files are back.
int roll_back(const ApplyRun& run, ServiceManager& bus, const VerifyOptions& verify, const std::string& failure) {
  const auto& changes = run.s.plan->changes;
  const std::string unit = verify.unit;
  log::event(spdlog::level::err, "kubelet apply: " + failure + "; rolling back",
             {{"NODEIMG_COMMAND", "kubelet-apply"}, {"NODEIMG_UNIT", unit}});
  const auto w = write_all_or_none(run.files, inverse(changes));
  std::string rollback;
  if (!w.ok()) {
    rollback = fmt::format("could not put the previous files back: {}. The record of this apply is kept in {}: fix "
                           "the cause and run `nodeimg kubelet revert`",
                           after_failed_write(w), run.files.host_path(run.store.record_path()));
    run.j["rolledBack"] = false;
  } else {
    run.j["rolledBack"] = true;
    run.j["changed"] = false;
    run.j["effective"] = effective_after(*run.s.plan, false);
    if (auto ok = run.store.save_owned(run.s.options.owned_files); !ok) spdlog::warn("kubelet apply: {}", ok.error().message);
    if (auto ok = run.store.save_history(run.previous); !ok) spdlog::warn("kubelet apply: {}", ok.error().message);
    auto again = reload_restart_verify(bus, run.s.plan->daemon_reload, verify);
    rollback = again ? fmt::format("restored the previous files; {} is healthy again", unit)
                     : "restored the previous files, but " + again.error().message;
  }
  audit(run.ctx, {.command = "kubelet-apply", .result = w.ok() ? "rolled-back" : "failed", .changes = changes,
                  .values = planned_values(*run.s.plan), .unit = unit});
  return report_failure(run.ctx, run.j,
                        fmt::format("kubelet apply failed: {}. Rolled back: {}. See `journalctl -u {}`.", failure, rollback, unit));
}

int restart_and_report(const ApplyRun& run, ServiceManager& bus, const std::optional<std::string>& url) {
  const std::string unit = unit_name(run.s);
  const auto& k = run.ctx.config.kubelet;
  VerifyOptions verify{.unit = unit, .healthz_url = url, .timeout = k.restart_timeout, .settle = k.settle};
  auto outcome = reload_restart_verify(bus, run.s.plan->daemon_reload, verify);
  run.j["daemonReload"] = run.s.plan->daemon_reload;
  run.j["restarted"] = true;
  if (!outcome) return roll_back(run, bus, verify, outcome.error().message);
  run.j["verified"] = true;
  run.j["mainPID"] = outcome->main_pid;
  run.j["invocationID"] = outcome->invocation_id;
  log::result({.message = fmt::format("kubelet apply: restarted {} and verified it healthy for {}", unit,
                                      format_duration(verify.settle)),
               .fields = {{"NODEIMG_COMMAND", "kubelet-apply"}, {"NODEIMG_CHANGED", "1"}, {"NODEIMG_RESTARTED", "1"},
                          {"NODEIMG_UNIT", unit}}});
  audit(run.ctx, {.command = "kubelet-apply", .result = "applied", .changes = run.s.plan->changes,
                  .values = planned_values(*run.s.plan), .unit = unit, .kubelet_invocation_id = outcome->invocation_id});
  write_kubelet_metrics(run.ctx, HostFiles(run.ctx.options.root), *run.s.plan, /*applied=*/true);
  if (run.ctx.options.json) print_json(run.j);
  else std::cout << fmt::format("restarted {} over D-Bus: healthy ({}), stable for {}\n", unit,
                                verify.healthz_url.value_or("unit active"), format_duration(verify.settle));
  return kExitOk;
}

int write_and_restart(const ApplyRun& run, const kubelet::RestartInputs& rin) {
  const auto& changes = run.s.plan->changes;
  const bool restart = kubelet::should_restart(rin);
  auto bus = preflight(run.files, run.store, changes, unit_name(run.s), restart);
  if (!bus) return report_failure(run.ctx, run.j, "kubelet apply: " + bus.error().message + "; nothing was written");
  const auto url = healthz_of(run.ctx, run.s);
  if (auto ok = run.store.save_history(kubelet::with_step(run.previous, record_of(run.files, run.s, url))); !ok)
    return report_failure(run.ctx, run.j, "kubelet apply: save the backup before writing: " + ok.error().message +
                                              "; nothing was written");
  if (auto ok = run.store.save_owned(kubelet::owned_after(run.s.options.owned_files, changes)); !ok)
    return report_failure(run.ctx, run.j, "kubelet apply: " + ok.error().message + "; nothing was written");
  const auto w = write_all_or_none(run.files, changes);
  if (!w.ok()) {
    if (w.not_restored.empty()) {
      (void)run.store.save_owned(run.s.options.owned_files);
      (void)run.store.save_history(run.previous);
    }
    audit(run.ctx, {.command = "kubelet-apply", .result = "failed", .changes = changes,
                    .values = planned_values(*run.s.plan), .unit = unit_name(run.s)});
    return report_failure(run.ctx, run.j, "kubelet apply: " + after_failed_write(w));
  }
  run.j["changed"] = true;
  run.j["effective"] = effective_after(*run.s.plan, true);
  for (const auto& c : changes) {
    if (!run.ctx.options.json) std::cout << diff_of(c);
    log::result({.message = fmt::format("kubelet apply: {} {}", action_of(c), c.path),
                 .fields = {{"NODEIMG_COMMAND", "kubelet-apply"}, {"NODEIMG_FILE", c.path}}});
  }
  if (restart) return restart_and_report(run, **bus, url);
  audit(run.ctx, {.command = "kubelet-apply", .result = "applied", .changes = changes,
                  .values = planned_values(*run.s.plan), .unit = unit_name(run.s)});
  log::event(spdlog::level::warn, "kubelet apply: changed files; " + kubelet::no_restart_reason(rin),
             {{"NODEIMG_COMMAND", "kubelet-apply"}, {"NODEIMG_CHANGED", "1"}, {"NODEIMG_RESTARTED", "0"}});
  if (run.ctx.options.json) print_json(run.j);
  return kExitOk;
}

}  // namespace

int kubelet_apply(const Context& ctx, const ApplyFlags& flags) {
  // Changing kubelet is never done on a guess: without a configuration file, only on request.
  if (ctx.on_defaults() && !flags.defaults) {
    spdlog::error("kubelet apply: refusing to change kubelet without a configuration: {} does not exist; write it "
                  "(see nodeimg.yaml(5)), pass --config FILE, or pass --defaults to apply the built-in defaults",
                  ctx.missing_default);
    return kExitUsage;
  }
  HostFiles files = kubelet_files(ctx);
  StateStore store(files, ctx.state_dir());
  Json j = {{"changed", false}, {"dryRun", flags.dry_run}, {"files", Json::array()}, {"daemonReload", false},
            {"restarted", false}, {"verified", false}, {"rolledBack", false}};
  auto s = survey(ctx, files, store);
  if (!s) return report_failure(ctx, j, "kubelet apply: " + s.error().message);
  if (!s->config_error.empty()) {
    spdlog::error("kubelet apply: {} (nothing was written)", s->config_error);
    return kExitUsage;
  }
  const std::string unit = unit_name(*s);
  j["unit"] = unit.empty() ? Json(nullptr) : Json(unit);
  if (const std::string problem = blocker(*s); !problem.empty())
    return report_failure(ctx, j, "kubelet apply: " + problem + " (nothing was written)");
  const auto& changes = s->plan->changes;
  for (const auto& c : changes) j["files"].push_back({{"path", c.path}, {"action", action_of(c)}, {"diff", diff_of(c)}});
  if (changes.empty()) {
    j["effective"] = effective_after(*s->plan, false);
    if (ctx.options.json) print_json(j);
    else std::cout << "kubelet: nothing to change; every managed setting already has its desired value\n";
    log::result({.message = "kubelet apply: nothing to change",
                 .fields = {{"NODEIMG_COMMAND", "kubelet-apply"}, {"NODEIMG_CHANGED", "0"}}});
    // The files are right, but the running kubelet may not use them yet (a --no-restart apply).
    for (const auto& p : kubelet::pending_restarts(s->plan->settings, s->sources, s->live))
      spdlog::warn("kubelet apply: restart pending: {}", pending_text(*s, p));
    write_kubelet_metrics(ctx, HostFiles(ctx.options.root), *s->plan);
    return kExitOk;
  }
  warn_boot_rewrites(*s, j);
  const auto rin = restart_inputs(ctx, unit, flags.no_restart);
  if (flags.dry_run) return apply_dry_run(ctx, *s, j, rin);
  // Kept, not replaced: a full revert goes back to the files before nodeimg first touched them.
  auto history = store.load_history();
  if (!history)
    return report_failure(ctx, j, "kubelet apply: " + history.error().message +
                                      " (the record of earlier applies is needed to revert them; nothing was written)");
  return write_and_restart({.ctx = ctx, .files = files, .store = store, .s = *s, .j = j, .previous = *history}, rin);
}

namespace {

// The health endpoint after a revert: from the restored files, else what apply verified.
std::optional<std::string> revert_healthz(const Context& ctx, const HostFiles& files, const StateStore& store,
                                          const ApplyRecord& record) {
  auto s = survey(ctx, files, store);
  if (s && s->plan) return healthz_of(ctx, *s);
  spdlog::warn("kubelet revert: cannot read the restored configuration ({}); verifying with {}",
               s ? s->error : s.error().message, record.healthz_url.value_or("the unit's state"));
  return record.healthz_url;
}

int revert_restart(const Context& ctx, const HostFiles& files, const StateStore& store, const ApplyRecord& record,
                   ServiceManager& bus, const std::string& unit, Json& j) {
  const auto& k = ctx.config.kubelet;
  VerifyOptions verify{.unit = unit, .healthz_url = revert_healthz(ctx, files, store, record),
                       .timeout = k.restart_timeout, .settle = k.settle};
  auto outcome = reload_restart_verify(bus, record.unit_files_changed, verify);
  j["restarted"] = true;
  if (!outcome)
    return report_failure(ctx, j, fmt::format("kubelet revert: restored the files, but {}. See `journalctl -u {}`.",
                                              outcome.error().message, unit));
  j["verified"] = true;
  j["invocationID"] = outcome->invocation_id;
  return kExitOk;
}

}  // namespace

namespace {

// What a revert undoes and the history left after it: everything since nodeimg first
// touched the files (the originals come back, nothing remains), or only the last apply.
struct RevertTarget {
  ApplyRecord record;
  kubelet::ApplyHistory remaining;
};

RevertTarget revert_target(const kubelet::ApplyHistory& history, bool last) {
  if (!last) return {.record = *kubelet::net_record(history), .remaining = {}};
  kubelet::ApplyHistory rest = history;
  rest.steps.pop_back();
  return {.record = history.steps.back(), .remaining = std::move(rest)};
}

// The managed settings' effective values on disk, for the audit record; empty when they
// cannot be read.
std::map<std::string, Json> effective_on_disk(const Context& ctx, const HostFiles& files, const StateStore& store) {
  std::map<std::string, Json> out;
  if (auto s = survey(ctx, files, store); s && s->plan)
    for (const auto& st : s->plan->settings) out[st.name] = st.effective;
  return out;
}

std::vector<ValueChange> value_changes(const std::map<std::string, Json>& before, const std::map<std::string, Json>& after) {
  std::vector<ValueChange> out;
  for (const auto& [name, value] : before)
    if (auto it = after.find(name); it != after.end() && it->second != value)
      out.push_back({.name = name, .before = value, .after = it->second});
  return out;
}

std::string revert_action(const kubelet::FileChange& c) {
  return !c.after ? "removed" : !c.before ? "re-created" : "restored";
}

int revert_dry_run(const Context& ctx, const kubelet::RevertPlan& rp, bool restart, Json& j) {
  j["changed"] = !rp.changes.empty();
  j["restart"] = restart;
  if (ctx.options.json) {
    print_json(j);
    return kExitOk;
  }
  for (const auto& c : rp.changes)
    std::cout << diff_of(c) << fmt::format("would be {}: {}\n", revert_action(c), c.path);
  std::cout << "dry run: nothing was written\n";
  return kExitOk;
}

// The state once the files are back: the owned list from the target state, then the
// history without what was undone (a full revert leaves no backup behind).
void forget_reverted(const StateStore& store, const RevertTarget& t) {
  if (auto owned = store.load_owned(); owned) {
    if (auto ok = store.save_owned(kubelet::owned_after_revert(*owned, t.record)); !ok)
      spdlog::warn("kubelet revert: {}", ok.error().message);
  } else {
    spdlog::warn("kubelet revert: {}", owned.error().message);
  }
  if (auto ok = store.save_history(t.remaining); !ok) spdlog::warn("kubelet revert: {}", ok.error().message);
}

}  // namespace

int kubelet_revert(const Context& ctx, const RevertFlags& flags) {
  HostFiles files = kubelet_files(ctx);
  StateStore store(files, ctx.state_dir());
  Json j = {{"changed", false}, {"dryRun", flags.dry_run}, {"scope", flags.last ? "last" : "all"},
            {"files", Json::array()}, {"restarted", false}, {"verified", false}};
  auto history = store.load_history();
  if (!history) return report_failure(ctx, j, "kubelet revert: " + history.error().message);
  if (history->steps.empty()) {
    // A revert killed after it removed the index leaves backups no index names: finish it.
    if (!flags.dry_run)
      if (auto ok = store.clear(); !ok) return report_failure(ctx, j, "kubelet revert: " + ok.error().message);
    if (ctx.options.json) print_json(j);
    else std::cout << "kubelet revert: nothing to revert (no record of an apply in " << files.host_path(store.record_path()) << ")\n";
    return kExitOk;
  }
  const RevertTarget target = revert_target(*history, flags.last);
  std::map<std::string, std::optional<std::string>> current;
  for (const auto& f : target.record.files) {
    auto now = files.read(f.path);
    if (!now) return report_failure(ctx, j, "kubelet revert: " + now.error().message);
    current[f.path] = *now;
  }
  const auto rp = kubelet::plan_revert(target.record, current, flags.force);
  if (!rp.refusal.empty()) return report_failure(ctx, j, "kubelet revert: " + rp.refusal);
  for (const auto& c : rp.changes) j["files"].push_back({{"path", c.path}, {"action", action_of(c)}, {"diff", diff_of(c)}});
  const std::string unit = ctx.config.kubelet.unit != "auto" ? ctx.config.kubelet.unit : target.record.unit;
  const bool restart = kubelet::should_restart(restart_inputs(ctx, unit, flags.no_restart)) && !rp.changes.empty();
  if (flags.dry_run) return revert_dry_run(ctx, rp, restart, j);
  auto bus = preflight(files, store, rp.changes, unit, restart);
  if (!bus) return report_failure(ctx, j, "kubelet revert: " + bus.error().message + "; nothing was written");
  const auto values_before = effective_on_disk(ctx, files, store);
  const auto w = write_all_or_none(files, rp.changes);
  if (!w.ok()) {
    audit(ctx, {.command = "kubelet-revert", .result = "failed", .changes = rp.changes, .values = {}, .unit = unit});
    return report_failure(ctx, j, "kubelet revert: " + after_failed_write(w) + "; the record is kept");
  }
  j["changed"] = !rp.changes.empty();
  if (!ctx.options.json)
    for (const auto& c : rp.changes) std::cout << diff_of(c) << fmt::format("kubelet revert: {} {}\n", revert_action(c), c.path);
  forget_reverted(store, target);
  const auto values = value_changes(values_before, effective_on_disk(ctx, files, store));
  if (restart)
    if (int rc = revert_restart(ctx, files, store, target.record, **bus, unit, j); rc != kExitOk) {
      audit(ctx, {.command = "kubelet-revert", .result = "failed", .changes = rp.changes, .values = values, .unit = unit});
      return rc;
    }
  if (!rp.changes.empty())
    audit(ctx, {.command = "kubelet-revert", .result = "reverted", .changes = rp.changes, .values = values, .unit = unit,
                .kubelet_invocation_id = j.value("invocationID", std::string())});
  log::result({.message = fmt::format("kubelet revert: restored {} file(s)", rp.changes.size()),
               .fields = {{"NODEIMG_COMMAND", "kubelet-revert"}, {"NODEIMG_CHANGED", rp.changes.empty() ? "0" : "1"}}});
  if (ctx.options.json) print_json(j);
  else if (rp.changes.empty()) std::cout << "kubelet revert: the files are already as they were; the record is cleared\n";
  return kExitOk;
}

}  // namespace nodeimg
