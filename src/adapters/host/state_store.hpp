#pragma once
// Where nodeimg keeps its kubelet state: the history of its applies since it first touched
// kubelet's files (format in core/kubelet/apply_record) with the files' bytes beside it
// (files/), and the list of files it owns. Lives in STATEDIR/kubelet, never in a drop-in
// directory. A history emptied by a full revert leaves no backup behind.
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

  // Backups are written first, the index last and atomically: a crash in between leaves
  // the previous history intact (backup names are never reused with other bytes). Then
  // the backups no step names any more are removed; an empty history removes the index.
  Result<void> save_history(const kubelet::ApplyHistory& history) const;
  Result<kubelet::ApplyHistory> load_history() const;  // empty when none recorded
  // Every step merged: the files before nodeimg first touched them and as it last wrote
  // them (what a full revert undoes); nullopt when nothing is recorded.
  Result<std::optional<ApplyRecord>> load() const;
  Result<void> clear() const { return save_history({}); }
  std::string record_path() const;

  Result<kubelet::OwnedFiles> load_owned() const;  // empty when none recorded
  // An empty list removes the file.
  Result<void> save_owned(const kubelet::OwnedFiles& owned) const;
  // Refuses before anything is written when the state directory cannot be written safely.
  Result<void> check_writable() const;

 private:
  const HostFiles& files_;
  std::string dir_;
};

}  // namespace nodeimg
