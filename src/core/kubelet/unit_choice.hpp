#pragma once
// Which systemd unit runs kubelet when several could (rke2-server beside rke2-agent, k3s
// beside k3s-agent, a leftover kubelet.service): the one a kubelet-bearing process runs
// in; else the one enabled; else the only one; else nodeimg refuses and names them all.
// Internal to discovery.
#include <optional>
#include <string>

#include "core/common/file_tree.hpp"
#include "core/kubelet/discovery.hpp"

namespace nodeimg::kubelet {

struct Fragment {
  std::string path{};                 // empty: no such unit
  std::optional<std::string> mask{};  // set: masked, the unit does not exist for systemd
  std::optional<std::string> link_target{};  // the file is a link to this path (an alias when the name differs)
};

// The highest-priority file of the unit, as systemd picks it (its bytes go to
// sources.contents).
Result<Fragment> find_fragment(const FileTree& files, const std::string& name, Sources& sources);

// Fills sources.candidates and sources.masked; returns the unit to read, with
// sources.unit_reason saying why, or nullopt when there is no candidate or nothing decides
// between several (sources.unit_refusal then says so). Only for `unit: auto`.
Result<std::optional<std::string>> choose_unit(const FileTree& files, const DiscoveryOptions& options,
                                               Sources& sources);

// The link in a *.wants/ or *.requires/ directory (or an [Install] Alias= link) that
// enables a unit with one of `names`; empty when there is none.
Result<std::string> enabling_link(const FileTree& files, const std::vector<std::string>& names,
                                  const std::vector<std::string>& install_aliases);

}  // namespace nodeimg::kubelet
