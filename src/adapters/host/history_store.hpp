#pragma once
// The collector's history file (STATEDIR/state.json) on the node: read, and written
// atomically, with the run totals behind the *_total metrics. A missing file is an empty
// history; a corrupt or unreadable one is moved
// aside (state.json.corrupt) and reported as a warning, so the next run rebuilds it instead
// of failing forever.
#include <string>
#include <vector>

#include "adapters/host/host_files.hpp"
#include "core/gc/history.hpp"

namespace nodeimg {

struct LoadedHistory {
  gc::History history;
  gc::RunTotals totals;  // zero for a missing, version-1 or corrupt file
  std::vector<std::string> warnings;
};

class HistoryStore {
 public:
  HistoryStore(const HostFiles& files, std::string dir) : files_(files), path_(std::move(dir) + "/state.json") {}

  // With `repair` false (dry runs, `nodeimg images`) a corrupt file is reported, not moved.
  Result<LoadedHistory> load(bool repair = true) const;
  // Writes the history and the run totals together: every save must carry the totals it
  // loaded (or updated), or the *_total counters would go back to zero.
  Result<void> save(const gc::History& history, const gc::RunTotals& totals, gc::Seconds now) const;
  const std::string& path() const { return path_; }

 private:
  // Moves the corrupt file to state.json.corrupt; says what became of it, with the cause
  // when it could not be moved.
  std::string move_aside(const std::string& text) const;

  const HostFiles& files_;
  std::string path_;
};

}  // namespace nodeimg
