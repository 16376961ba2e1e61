#pragma once
// Where does this node's kubelet really take its configuration from? The running
// process's argv, else its systemd unit (ExecStart, Environment=, EnvironmentFile=, all
// drop-ins, in systemd's order), else the well-known paths of each distribution.
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
  std::optional<std::vector<std::string>> running_argv;
  std::optional<int> running_pid;
};

// One kubelet command-line flag and where it is written.
struct Flag {
  std::string name;                  // without dashes
  std::optional<std::string> value;  // nullopt for a bare boolean flag
  std::optional<systemd::Origin> origin;  // where the flag (and its value) is written
  std::string variable;                   // the environment variable that carries it
};

struct UnitSources {
  std::string name;
  std::string fragment;               // the unit file
  std::vector<std::string> drop_ins;  // in the order systemd applies them
  std::vector<std::string> environment_files;  // those that exist
  std::optional<systemd::Origin> exec_start;
  bool embeds_kubelet = false;  // k3s / rke2: kubelet runs inside another binary
};

enum class Source { Default, ConfigFile, DropIn, Flag };

struct Sources {
  std::optional<UnitSources> unit;
  std::vector<std::string> argv;  // the kubelet command line the values come from
  std::string argv_from;          // "/proc/PID/cmdline", "unit ExecStart" or empty
  std::vector<Flag> flags;        // the flags of argv that nodeimg reads
  std::optional<std::string> config_file;
  std::string config_file_reason;
  std::optional<std::string> dropin_dir;
  std::string dropin_dir_reason;
  std::vector<std::string> dropin_files;  // *.conf under dropin_dir, in kubelet's order
  std::map<std::string, std::string> contents;  // bytes of every file above
  std::vector<std::string> warnings;

  // The last occurrence of a flag (pflag keeps the last), or nullptr.
  const Flag* flag(std::string_view name) const;
};

Result<Sources> discover(const FileTree& files, const DiscoveryOptions& options);

// Unit names nodeimg looks for, in order, when `unit: auto`.
const std::vector<std::string>& candidate_units();
// systemd's unit search path, highest priority first.
const std::vector<std::string>& unit_search_path();

}  // namespace nodeimg::kubelet
