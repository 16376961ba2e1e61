#pragma once
// nodeimg's record of its last kubelet apply: the files as they were before it and as it
// wrote them, so that `nodeimg kubelet revert` can put them back (and refuse to when
// someone else changed them since). Lives in STATEDIR/kubelet, never in a drop-in dir.
#include <optional>
#include <string>
#include <vector>

#include "adapters/host/host_files.hpp"

namespace nodeimg {

struct BackedUpFile {
  std::string path;
  std::optional<std::string> before;  // nullopt: nodeimg created the file
  std::optional<std::string> after;   // nullopt: nodeimg removed the file
  FileOwnership ownership;            // of the original, for re-creating a removed file
};

struct ApplyRecord {
  std::string applied_at;  // RFC 3339, UTC
  std::string unit;
  bool unit_files_changed = false;
  std::vector<BackedUpFile> files;
};

class StateStore {
 public:
  // `dir` is a node path such as /var/lib/nodeimg; files are reached through `files`.
  StateStore(const HostFiles& files, std::string dir) : files_(files), dir_(std::move(dir)) {}

  Result<void> save(const ApplyRecord& record) const;
  Result<std::optional<ApplyRecord>> load() const;
  Result<void> clear() const;
  std::string record_path() const;

 private:
  const HostFiles& files_;
  std::string dir_;
};

}  // namespace nodeimg
