#pragma once
// `nodeimg kubelet status|apply|revert`.
#include "adapters/host/host_files.hpp"
#include "adapters/host/state_store.hpp"
#include "commands/context.hpp"
#include "core/kubelet/discovery.hpp"
#include "core/kubelet/plan.hpp"

namespace nodeimg {

struct ApplyFlags {
  bool dry_run = false;
  bool no_restart = false;
  bool defaults = false;  // apply even when running on the built-in defaults (no configuration file)
};

struct StatusFlags {
  bool check = false;  // exit kExitNotInEffect unless every managed setting is in effect
};

// `kubelet status --check`: a managed setting is not in effect (differs on disk, or the
// running kubelet started before the file that now sets it was written). Distinct from 1
// (failed, or apply would refuse) and 2 (usage or configuration error).
inline constexpr int kExitNotInEffect = 3;

struct RevertFlags {
  bool dry_run = false;
  bool force = false;
  bool no_restart = false;
  bool last = false;  // undo only the last apply, not everything since nodeimg first touched the files
};

// How discovery finds this node's kubelet: nodeimg's kubelet.* settings, the hostname (for
// specifiers), the files nodeimg owns, and (unless under --root) the running kubelet process
// and the units kubelet-bearing processes run in. Shared with `doctor`, so both choose the
// same unit by the same rule.
Result<kubelet::DiscoveryOptions> kubelet_discovery_options(const Context& ctx, const HostFiles& files,
                                                            const StateStore& store);

// The plan that sets `desired`. When it cannot be made or is refused and nodeimg's own
// kubelet.settings ask for a combination kubelet refuses, `settings_conflict` says so,
// naming the lines (a configuration error), and there is no plan. Only then is the plan of
// the current values made: a plan that succeeds has already checked the combination.
struct DesiredPlan {
  std::optional<kubelet::Plan> plan;
  std::string error;              // why the plan could not be made
  std::string settings_conflict;  // check_kubelet_combination's message
};
DesiredPlan plan_desired(const Context& ctx, const HostFiles& files, const kubelet::DiscoveryOptions& options,
                         const kubelet::Sources& sources, const kubelet::Values& desired);

// The values nodeimg's configuration asks kubelet for, as `kubelet apply` sets them (shared
// with `doctor`, so both judge the node by the same desired values).
Result<kubelet::Values> desired_values(const Context& ctx, const HostFiles& files, const kubelet::Sources& sources);

int kubelet_status(const Context& ctx, const StatusFlags& flags = {});
int kubelet_apply(const Context& ctx, const ApplyFlags& flags);
int kubelet_revert(const Context& ctx, const RevertFlags& flags);

}  // namespace nodeimg
