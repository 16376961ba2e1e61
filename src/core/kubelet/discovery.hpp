#pragma once
// Where does this node's kubelet really take its configuration from? The running
// process's argv, else its systemd unit (ExecStart, Environment=, EnvironmentFile=, all
// drop-ins, in systemd's order, specifiers expanded, masked units skipped), k3s/RKE2
// `kubelet-arg`s, else the well-known paths of each distribution.
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/common/file_tree.hpp"
#include "core/kubelet/systemd_unit.hpp"

namespace nodeimg::kubelet {

struct DiscoveryOptions {
  std::string unit = "auto";         // or a unit name
  std::string config_file = "auto";  // or a path
  std::string dropin_dir = "auto";   // or a path, or "none"
  // argv of the running kubelet (from /proc), when there is one and /proc may be read.
  std::optional<std::vector<std::string>> running_argv{};
  std::optional<int> running_pid{};
  std::string hostname{};  // for the %H/%l specifiers; empty = unknown
  // Files nodeimg wrote and still owns (from its state): path -> the bytes it wrote.
  std::map<std::string, std::string> owned_files{};
  // Units in whose cgroup a kubelet-bearing process (kubelet, k3s, rke2, kubelite) runs,
  // from /proc/PID/cgroup: unit name -> the lowest such pid. nullopt: not known (--root).
  std::optional<std::map<std::string, int>> running_units{};
};

// One kubelet command-line flag and where it is written.
struct Flag {
  std::string name{};                  // pflag's normalized name: no dashes, '_' read as '-'
  std::string spelling{};              // the name as written, for edits
  std::optional<std::string> value{};  // nullopt for a bare boolean flag
  std::optional<systemd::Origin> origin{};  // where the flag is written
  std::string variable;                   // the environment variable that carries it ($VAR)
  std::string value_variable{};             // `--flag=${VAR}`: VAR holds the value...
  std::optional<systemd::Origin> value_origin{};  // ...and is defined here
  std::string not_editable{};  // why nodeimg will not edit it in place; empty when it can
};

// A unit that could run kubelet, and what says whether it does.
struct UnitCandidate {
  std::string name{};
  std::string fragment{};
  std::vector<std::string> aliases{};  // other names of the same unit (links to its file, [Install] Alias=)
  std::optional<int> running_pid{};    // a kubelet-bearing process runs in its cgroup
  std::string enabled_by{};            // the link that enables it (*.wants/, *.requires/, an Alias=); empty: none
};

struct UnitSources {
  std::string name{};
  std::string fragment{};               // the unit file
  std::vector<std::string> drop_ins{};  // in the order systemd applies them
  std::vector<std::string> environment_files{};  // those that exist
  std::vector<std::string> absent_environment_files{};  // `-`-prefixed ones that do not exist (or match nothing)
  std::optional<systemd::Origin> exec_start{};
  bool embeds_kubelet = false;  // k3s / rke2: kubelet runs inside another binary
};

enum class Source { Default, ConfigFile, DropIn, Flag };

// MicroK8s keeps kubelet's flags one per line in an args file of the snap's revision.
struct ArgsFile {
  std::string path{};    // resolved inside the snap's data directory: /var/snap/microk8s/7001/args/kubelet
  std::string reason{};  // how it was found ("current -> 7001")
};

// A kubelet the unit runs in a container (`podman run … IMAGE FLAGS`, Typhoon on Fedora
// CoreOS): its flags are read but never edited there; its files are the host's through
// the volumes.
struct VolumeMount {
  std::string host{};
  std::string container{};
};
struct ContainerRun {
  std::string runtime{};  // podman, docker, nerdctl
  std::string image{};
  std::vector<VolumeMount> volumes{};
};

// The host path of a path inside the container (the volume with the longest matching
// destination), or nullopt when no volume brings it from the host.
std::optional<std::string> host_path_in(const ContainerRun& run, const std::string& container_path);

struct Sources {
  std::optional<UnitSources> unit{};
  std::optional<ContainerRun> container{};
  std::vector<UnitCandidate> candidates{};  // every kubelet unit seen, in candidate order
  std::string unit_reason{};                // why `unit` is the one
  std::string unit_refusal{};               // several candidates and nothing decides: apply refuses
  std::optional<ArgsFile> args_file{};
  std::vector<std::string> masked{};  // "kubelet.service (masked: /etc/systemd/system/kubelet.service -> /dev/null)"
  std::vector<std::string> argv{};  // the kubelet command line the values come from
  std::string argv_from{};          // "/proc/PID/cmdline", "unit ExecStart", "k3s kubelet-arg" or empty
  std::vector<Flag> flags{};        // the flags of argv that nodeimg reads
  std::vector<std::string> rancher_configs{};  // k3s/RKE2 config.yaml (+ .d) that exist
  std::optional<std::string> config_file{};
  std::string config_file_reason{};
  std::optional<std::string> dropin_dir{};
  std::string dropin_dir_reason{};
  std::vector<std::string> dropin_files{};  // *.conf under dropin_dir, in kubelet's order
  std::map<std::string, std::string> contents{};  // bytes of every file above
  std::vector<std::string> warnings{};

  // The last occurrence of a flag (pflag keeps the last), or nullptr.
  const Flag* flag(std::string_view name) const;
};

Result<Sources> discover(const FileTree& files, const DiscoveryOptions& options);

// Unit names nodeimg looks for, in order, when `unit: auto`.
const std::vector<std::string>& candidate_units();
// The MicroK8s unit whose kubelite process runs kubelet.
inline constexpr std::string_view kMicrok8sUnit = "snap.microk8s.daemon-kubelite.service";
// systemd's unit search path, highest priority first.
const std::vector<std::string>& unit_search_path();
// Unit directories whose files belong to packages: never edited in place.
bool is_vendor_unit_path(std::string_view path);
// The names whose `.d` directories hold drop-ins of unit `name`, most specific first: the
// name, its template's, its dash prefixes' (k3s-agent.service: k3s-.service).
std::vector<std::string> dropin_unit_names(const std::string& name);
// Every drop-in directory of unit `name`, highest precedence first (systemd's order: the
// names above in each unit directory, then the type's own, service.d, in each).
std::vector<std::string> unit_dropin_dirs(const std::string& name);

// `path` made absolute against `working_dir` and lexically cleaned ("//", "/./", "..",
// a trailing slash), as the kernel would resolve it without symlinks.
std::string normalize_path(std::string_view path, std::string_view working_dir = "/");

// pflag's name normalization in kubelet: '_' is read as '-'.
std::string normalize_flag_name(std::string_view name);

}  // namespace nodeimg::kubelet
