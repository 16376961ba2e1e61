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

std::string_view to_string(Source s);

struct SettingState {
  std::string name{};
  Json effective{};
  Source source = Source::Default;
  std::string source_detail{};  // "/var/lib/kubelet/config.yaml:7", "--node-status-max-images (/etc/default/kubelet:1)"
  // The files whose text decides the value (a flag's: where it is written and where its
  // $VAR is defined); empty for kubelet's default.
  std::vector<std::string> source_files{};
  std::optional<Json> desired{};
  std::string edit{};  // where apply changes it; empty when it already has the desired value
};

struct FileChange {
  std::string path{};
  std::optional<std::string> before{};  // nullopt: the file is created
  std::optional<std::string> after{};   // nullopt: the file is removed
  std::string reason{};
  bool unit_file = false;  // systemd must reload before the restart
  bool own = false;        // nodeimg's own file (its drop-in or unit override): recorded as owned
};

struct Endpoint {
  std::string address = "127.0.0.1";
  long long port = 10248;  // 0: kubelet serves no healthz
};

struct Plan {
  std::vector<SettingState> settings{};  // every managed setting, desired or not
  std::vector<FileChange> changes;     // empty when nothing needs to change (or refused)
  // Set when nodeimg cannot make the desired values true safely: what decides the value,
  // where, and what the operator can do. `changes` is then empty.
  std::string refusal{};
  bool daemon_reload = false;
  Endpoint healthz{};
  std::string root_dir = "/var/lib/kubelet";
  // The parsed config file, if any; when an edit of it is planned, its text is the
  // change's `before` (not kept twice).
  std::optional<Document> config{};
};

// Resolves the effective values and plans the edits for `desired` (field -> value,
// already validated). The plan is checked before it is returned: replayed over the
// files it would write, it must yield exactly the desired values, change nothing else,
// and pass kubelet's cross-field validation. Input kubelet itself would reject is an error.
Result<Plan> plan(const FileTree& files, const DiscoveryOptions& options, const Sources& sources,
                  const Values& desired);

// The file name nodeimg gives its drop-in: after every other top-level entry of the
// directory as kubelet's walk sorts them (byte order), or nullopt when no name can be.
std::optional<std::string> own_dropin_name(const std::vector<std::string>& other_top_level_names);

// The first line of every file nodeimg writes for itself.
extern const std::string_view kOwnMarker;

// A file nodeimg may change or delete: it wrote it (its state says so, with these exact
// bytes) and it carries the marker.
bool is_owned(const DiscoveryOptions& options, const std::string& path, const std::string& content);

}  // namespace nodeimg::kubelet
