#include "core/kubelet/live_check.hpp"

#include <algorithm>
#include <set>

#include <fmt/format.h>

namespace nodeimg::kubelet {

const std::vector<BootRewrittenFile>& boot_rewritten_files() {
  // From the shared kubelet reference: nodeadm-config.service regenerates EKS AL2023's
  // kubelet files on every boot; GKE's node startup scripts write /etc/default/kubelet
  // (KUBELET_OPTS, with --node-status-max-images=25) at every boot; k3s and RKE2 write
  // their defaults drop-in at each start of their agent.
  static const std::vector<BootRewrittenFile> table = {
      {.path = "/etc/kubernetes/kubelet/config.json", .by = "EKS nodeadm (nodeadm-config.service)"},
      {.path = "/etc/kubernetes/kubelet/config.json.d/40-nodeadm.conf", .by = "EKS nodeadm (nodeadm-config.service)"},
      {.path = "/etc/eks/kubelet/environment", .by = "EKS nodeadm (nodeadm-config.service)"},
      {.path = "/etc/default/kubelet", .by = "GKE's node startup scripts", .platform_marker = "/home/kubernetes/"},
      {.path = "/var/lib/rancher/k3s/agent/etc/kubelet.conf.d/00-k3s-defaults.conf", .by = "k3s (at each start)"},
      {.path = "/var/lib/rancher/rke2/agent/etc/kubelet.conf.d/00-rke2-defaults.conf", .by = "RKE2 (at each start)"},
  };
  return table;
}

namespace {

bool on_platform(std::string_view marker, const Sources& sources) {
  if (marker.empty()) return true;
  std::vector<std::string> seen;
  if (!sources.argv.empty()) seen.push_back(sources.argv.front());
  if (sources.config_file) seen.push_back(*sources.config_file);
  if (sources.unit) {
    seen.push_back(sources.unit->fragment);
    seen.insert(seen.end(), sources.unit->drop_ins.begin(), sources.unit->drop_ins.end());
    seen.insert(seen.end(), sources.unit->environment_files.begin(), sources.unit->environment_files.end());
  }
  return std::any_of(seen.begin(), seen.end(), [&](const std::string& p) { return p.starts_with(marker); });
}

}  // namespace

std::vector<BootRewriteWarning> boot_rewrite_warnings(const std::vector<std::string>& paths, const Sources& sources) {
  std::vector<BootRewriteWarning> out;
  std::set<std::string> seen;
  for (const auto& path : paths) {
    if (!seen.insert(path).second) continue;
    for (const auto& entry : boot_rewritten_files()) {
      if (entry.path != path || !on_platform(entry.platform_marker, sources)) continue;
      out.push_back({.path = path, .by = std::string(entry.by),
                     .message = fmt::format("{} is rewritten at boot by {}: nodeimg's edit there lasts until then; "
                                            "nodeimg-kubelet.service re-applies it at each boot before kubelet starts "
                                            "(keep it enabled: systemctl enable nodeimg-kubelet.service)",
                                            path, entry.by)});
    }
  }
  return out;
}

std::vector<std::string> deciding_files(const SettingState& setting, const Sources& sources) {
  std::vector<std::string> files = setting.source_files;
  // A drop-in added, removed or renamed changes which file decides: the directory's own
  // mtime says when that last happened (nodeimg's atomic writes rename into it too).
  if (sources.dropin_dir) files.push_back(*sources.dropin_dir);
  return files;
}

std::vector<PendingRestart> pending_restarts(const std::vector<SettingState>& settings, const Sources& sources,
                                             const LiveFacts& facts) {
  std::vector<PendingRestart> out;
  if (!facts.kubelet_started_ns) return out;
  // Known to be newer only past the end of the start time's resolution.
  const std::int64_t started_by = *facts.kubelet_started_ns + facts.started_resolution_ns;
  for (const auto& s : settings) {
    if (!s.desired) continue;
    for (const auto& file : deciding_files(s, sources)) {
      const auto it = std::find_if(facts.modified.begin(), facts.modified.end(),
                                   [&](const FileModified& m) { return m.path == file; });
      if (it == facts.modified.end() || it->modified_ns <= started_by) continue;
      out.push_back({.setting = s.name, .file = file, .modified_ns = it->modified_ns});
      break;
    }
  }
  return out;
}

std::string_view to_string(CheckVerdict v) {
  switch (v) {
    case CheckVerdict::Refused: return "refused";
    case CheckVerdict::Drift: return "drift";
    case CheckVerdict::RestartPending: return "restart-pending";
    case CheckVerdict::InEffect: return "in-effect";
  }
  return "?";
}

CheckVerdict check_verdict(const std::string& blocker, const Plan* plan, const std::vector<PendingRestart>& pending) {
  if (!blocker.empty() || !plan) return CheckVerdict::Refused;
  if (!plan->changes.empty()) return CheckVerdict::Drift;
  for (const auto& s : plan->settings)
    if (s.desired && !s.edit.empty()) return CheckVerdict::Drift;
  if (!pending.empty()) return CheckVerdict::RestartPending;
  return CheckVerdict::InEffect;
}

}  // namespace nodeimg::kubelet
