#pragma once
// Where nodeimg keeps its kubelet state: the record of its last apply (format in
// core/kubelet/apply_record) with the files' bytes beside it, and the list of files it
// owns. Lives in STATEDIR/kubelet, never in a drop-in directory.
#include <optional>
#include <string>

#include "adapters/host/host_files.hpp"
#include "core/kubelet/apply_record.hpp"

namespace nodeimg {

using kubelet::ApplyRecord;

class StateStore {
 public:
  // `dir` is a node path such as /var/lib/nodeimg; files are reached through `files`.
  StateStore(const HostFiles& files, std::string dir) : files_(files), dir_(std::move(dir)) {}

  // Backups are written first, the record last and atomically: a crash in between
  // leaves the previous record intact.
  Result<void> save(const ApplyRecord& record) const;
  Result<std::optional<ApplyRecord>> load() const;
  Result<void> clear() const;
  std::string record_path() const;

  Result<kubelet::OwnedFiles> load_owned() const;  // empty when none recorded
  Result<void> save_owned(const kubelet::OwnedFiles& owned) const;
  // Refuses before anything is written when the state directory cannot be written safely.
  Result<void> check_writable() const;

 private:
  const HostFiles& files_;
  std::string dir_;
};

}  // namespace nodeimg
