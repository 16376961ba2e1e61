#pragma once
// What `nodeimg doctor` learns about the node before diagnosing it: kubelet's files (and
// process), the container runtime, the image filesystem, systemd's units over D-Bus,
// nodeimg's state and metrics files. Under --root only files are read; what was skipped,
// and why, is in Observations::skipped.
#include "adapters/host/host_files.hpp"
#include "commands/context.hpp"
#include "core/doctor/diagnosis.hpp"

namespace nodeimg {

doctor::Observations gather_observations(const Context& ctx, const HostFiles& files);

}  // namespace nodeimg
