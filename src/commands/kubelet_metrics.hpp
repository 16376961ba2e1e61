#pragma once
// kubelet's effective image settings as node_exporter textfile metrics, in a file of their
// own beside metrics.textfile (nodeimg.prom -> nodeimg-kubelet.prom): the gc run rewrites its
// file whole and does not know kubelet's settings, so `kubelet status|apply` and `doctor`,
// which do, write this one. Alerts compare it with nodeimg_images (docs/alerts.yaml).
#include <string>

#include "adapters/host/host_files.hpp"
#include "commands/context.hpp"
#include "core/kubelet/plan.hpp"

namespace nodeimg {

// "" when metrics are off.
std::string kubelet_metrics_path(const std::string& textfile);

// Writes the file atomically when the textfile directory exists; a failure is logged as a
// warning, never fatal. Nothing is written on a dry run: callers do not call it then.
// With `applied`, the plan's desired values are in effect (after a verified apply).
void write_kubelet_metrics(const Context& ctx, const HostFiles& files, const kubelet::Plan& plan, bool applied = false);

}  // namespace nodeimg
