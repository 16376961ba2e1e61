#pragma once
// Is what nodeimg asked for actually in effect? Three pure judgements over facts the
// adapters gather: the files a platform rewrites at boot (one table), whether the running
// kubelet started before the files that now decide its values were written ("restart
// pending"), and the verdict of `nodeimg kubelet status --check`.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/kubelet/discovery.hpp"
#include "core/kubelet/plan.hpp"

namespace nodeimg::kubelet {

// A kubelet file that a platform's own tooling writes anew at every boot (or start of its
// agent): an edit nodeimg makes there lasts until then, and nodeimg-kubelet.service
// (ordered after the generators, before kubelet) re-applies it.
struct BootRewrittenFile {
  std::string_view path;
  std::string_view by;  // who rewrites it, as an operator would look it up
  // A prefix that one of the node's kubelet sources (argv[0], config file, unit files,
  // environment files) must start with for the entry to apply; empty: the path alone
  // identifies the platform. (/etc/default/kubelet is GKE's only when kubelet lives under
  // /home/kubernetes; kubeadm and AKS nodes use the same name and keep it.)
  std::string_view platform_marker = "";
};
const std::vector<BootRewrittenFile>& boot_rewritten_files();

struct BootRewriteWarning {
  std::string path{};
  std::string by{};
  std::string message{};  // the whole warning, with what keeps the setting
};
// One warning for each of `paths` (files nodeimg edits or has edited) found in the table
// for this node's platform (`sources`), in the order given, each path once.
std::vector<BootRewriteWarning> boot_rewrite_warnings(const std::vector<std::string>& paths, const Sources& sources);

// When a file that decides a managed value was last written.
struct FileModified {
  std::string path;
  std::int64_t modified_ns = 0;
};

// When the running kubelet started, and when each file was last modified, as wall-clock
// nanoseconds since the epoch. `started_resolution_ns` is how coarse the start time is
// (/proc gives clock ticks): a file is known to be newer only past start + resolution.
struct LiveFacts {
  std::optional<std::int64_t> kubelet_started_ns{};  // nullopt: unknown (under --root, no process)
  std::int64_t started_resolution_ns = 0;
  std::vector<FileModified> modified{};  // absent files are left out
};

// A managed setting whose deciding file (or the drop-in directory, where adding or
// removing a file changes what decides) was written after the running kubelet started:
// its value on disk is not necessarily the live one.
struct PendingRestart {
  std::string setting{};
  std::string file{};
  std::int64_t modified_ns = 0;
};

// The files whose modification after kubelet's start makes `setting`'s value not yet live.
std::vector<std::string> deciding_files(const SettingState& setting, const Sources& sources);

// For every setting with a desired value (nodeimg manages only those), the first deciding
// file newer than the running kubelet; empty when the start time is unknown.
std::vector<PendingRestart> pending_restarts(const std::vector<SettingState>& settings, const Sources& sources,
                                             const LiveFacts& facts);

// The verdict of `status --check`, worst first: apply would refuse (or the files cannot
// be read as kubelet reads them), a managed value differs on disk, a value on disk is not
// live yet, or everything is in effect.
enum class CheckVerdict { Refused, Drift, RestartPending, InEffect };
std::string_view to_string(CheckVerdict v);
// `blocker`: why apply would refuse or the plan could not be made (empty when none).
CheckVerdict check_verdict(const std::string& blocker, const Plan* plan, const std::vector<PendingRestart>& pending);

}  // namespace nodeimg::kubelet
