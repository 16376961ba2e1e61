#pragma once
// Effective-value resolution (flags > drop-ins in lexical order > config file > default)
// and the smallest safe edit that makes the effective values the desired ones.
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/kubelet/discovery.hpp"
#include "core/kubelet/document.hpp"

namespace nodeimg::kubelet {

using Values = std::vector<std::pair<std::string, Json>>;

std::string_view to_string(Source s);

struct SettingState {
  std::string name;
  Json effective;
  Source source = Source::Default;
  std::string source_detail;  // "/var/lib/kubelet/config.yaml:7", "--node-status-max-images (/etc/default/kubelet:1)"
  std::optional<Json> desired;
  std::string edit;  // where apply changes it; empty when it already has the desired value
};

struct FileChange {
  std::string path;
  std::optional<std::string> before;  // nullopt: the file is created
  std::optional<std::string> after;   // nullopt: the file is removed
  std::string reason;
  bool unit_file = false;  // systemd must reload before the restart
};

struct Endpoint {
  std::string address = "127.0.0.1";
  long long port = 10248;  // 0: kubelet serves no healthz
};

struct Plan {
  std::vector<SettingState> settings;  // every managed setting, desired or not
  std::vector<FileChange> changes;     // empty when nothing needs to change
  bool daemon_reload = false;
  Endpoint healthz;
  std::string root_dir = "/var/lib/kubelet";
  std::optional<Document> config;  // the parsed config file, if any
};

// Resolves the effective values and plans the edits for `desired` (field -> value,
// already validated). The plan is checked before it is returned: replayed over the
// files it would write, it must yield exactly the desired values, change nothing else,
// and pass kubelet's cross-field validation. Any bad input is an error and no plan.
Result<Plan> plan(const FileTree& files, const DiscoveryOptions& options, const Sources& sources,
                  const Values& desired);

// The file name nodeimg gives its drop-in: after every other *.conf in the directory.
std::string own_dropin_name(const std::vector<std::string>& other_relative_paths);
bool is_own_dropin(std::string_view name);

}  // namespace nodeimg::kubelet
