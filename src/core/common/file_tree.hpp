#pragma once
// The only way the pure core sees a node's files: an interface, implemented over the
// real filesystem by adapters/host_files and in memory by tests (ninja's DiskInterface).
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/common/error.hpp"

namespace nodeimg {

struct DirEntry {
  std::string name;
  bool is_directory = false;
  bool is_regular = false;
};

class FileTree {
 public:
  virtual ~FileTree() = default;
  // The file's bytes, or nullopt when it does not exist. Paths are absolute paths on the
  // node ("/var/lib/kubelet/config.yaml"), whatever root the implementation maps them to.
  virtual Result<std::optional<std::string>> read(const std::string& path) const = 0;
  // The directory's entries sorted by name, or nullopt when it does not exist.
  virtual Result<std::optional<std::vector<DirEntry>>> list(const std::string& path) const = 0;
  // The target of `path` when it is a symbolic link, else nullopt (systemd masks a unit
  // with a link to /dev/null). Trees without links keep the default.
  virtual Result<std::optional<std::string>> read_link(const std::string& /*path*/) const {
    return std::optional<std::string>{};
  }
};

// A tree seen through pending changes: what the node will look like once they are
// written (nullopt content = removed). Used to check a plan before writing it.
class OverlayTree final : public FileTree {
 public:
  OverlayTree(const FileTree& base, std::map<std::string, std::optional<std::string>> changes)
      : base_(base), changes_(std::move(changes)) {}
  Result<std::optional<std::string>> read(const std::string& path) const override;
  Result<std::optional<std::vector<DirEntry>>> list(const std::string& path) const override;
  Result<std::optional<std::string>> read_link(const std::string& path) const override;

 private:
  const FileTree& base_;
  std::map<std::string, std::optional<std::string>> changes_;
};

}  // namespace nodeimg
