#pragma once
// The collector's history file (STATEDIR/state.json) on the node: read, and written
// atomically. A missing file is an empty history; a corrupt or unreadable one is moved
// aside (state.json.corrupt) and reported as a warning, so the next run rebuilds it instead
// of failing forever.
#include <string>
#include <vector>

#include "adapters/host/host_files.hpp"
#include "core/gc/model.hpp"

namespace nodeimg {

struct LoadedHistory {
  gc::History history;
  std::vector<std::string> warnings;
};

class HistoryStore {
 public:
  HistoryStore(const HostFiles& files, std::string dir) : files_(files), path_(std::move(dir) + "/state.json") {}

  // With `repair` false (dry runs, `nodeimg images`) a corrupt file is reported, not moved.
  Result<LoadedHistory> load(bool repair = true) const;
  Result<void> save(const gc::History& history, gc::Seconds now) const;
  const std::string& path() const { return path_; }

 private:
  // Moves the corrupt file to state.json.corrupt; says what became of it, with the cause
  // when it could not be moved.
  std::string move_aside(const std::string& text) const;

  const HostFiles& files_;
  std::string path_;
};

}  // namespace nodeimg
