#pragma once
// nodeimg's record of its last kubelet apply, and the list of files it owns, as text
// formats (errors as values, like the GC history format). The record keeps the files as
// they were before the apply and as it wrote them, so that `nodeimg kubelet revert` can
// put them back and refuse to when someone else changed them since. The bytes of each
// file are stored beside the record under the names the record gives.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/error.hpp"
#include "core/kubelet/plan.hpp"

namespace nodeimg::kubelet {

struct RecordedOwnership {
  std::uint32_t mode = 0644;
  std::uint32_t uid = 0;
  std::uint32_t gid = 0;
};

struct RecordedFile {
  std::string path{};
  std::optional<std::string> before{};  // nullopt: nodeimg created the file
  std::optional<std::string> after{};   // nullopt: nodeimg removed the file
  RecordedOwnership ownership{};        // of the original, for re-creating a removed file
  bool own = false;                   // one of nodeimg's own files
};

struct ApplyRecord {
  std::uint64_t id = 0;      // names its backups; never reused while the history holds it
  std::string applied_at{};  // RFC 3339, UTC
  std::string unit{};
  bool unit_files_changed = false;
  std::optional<std::string> healthz_url{};  // what apply verified, for revert's own check
  std::vector<RecordedFile> files{};
};

// The record's index: everything but the file bytes, which live in `before_name` /
// `after_name` beside it.
struct RecordIndexFile {
  std::string path{};
  RecordedOwnership ownership{};
  std::optional<std::string> before_name{};
  std::optional<std::string> after_name{};
  bool own = false;
};
struct RecordIndex {
  std::uint64_t id = 0;
  std::string applied_at{};
  std::string unit{};
  bool unit_files_changed = false;
  std::optional<std::string> healthz_url{};
  std::vector<RecordIndexFile> files{};
};

// The index for `record`, naming file i's bytes "files/ID-I.before" / "files/ID-I.after".
RecordIndex index_of(const ApplyRecord& record);

// Every apply since nodeimg first touched the files (since the last full revert), oldest
// first: `revert` puts back the first step's `before` of every file (the originals),
// `revert --last` only the last step's.
struct ApplyHistory {
  std::vector<ApplyRecord> steps{};
};
// At most this many steps are kept: the oldest two are merged into one beyond it, which
// keeps the originals (a node that re-applies at every boot does not grow its state).
inline constexpr std::size_t kMaxSteps = 16;

// The history with `step` appended (given a fresh id), merged down to kMaxSteps.
ApplyHistory with_step(ApplyHistory history, ApplyRecord step);
// One step that does what `earlier` then `later` did: each file's `before` from the first
// step that touched it, its `after` from the last.
ApplyRecord merge_steps(const ApplyRecord& earlier, const ApplyRecord& later);
// Every step merged (what a full revert undoes); nullopt when the history is empty.
std::optional<ApplyRecord> net_record(const ApplyHistory& history);

// The history's index as stored (version 3). Version 2 (one apply, bytes in
// "files/I.before") still parses, as a history of one step with id 0.
std::string render_history_index(const std::vector<RecordIndex>& steps);
// `where` names the record in messages.
Result<std::vector<RecordIndex>> parse_history_index(std::string_view text, std::string_view where);

// Files nodeimg wrote for itself (its drop-in, unit overrides): path -> bytes written.
using OwnedFiles = std::map<std::string, std::string>;
std::string render_owned(const OwnedFiles& owned);
Result<OwnedFiles> parse_owned(std::string_view text, std::string_view where);
// The owned list once `changes` are written (own files created or updated are added,
// own files removed are dropped).
OwnedFiles owned_after(OwnedFiles owned, const std::vector<FileChange>& changes);

// The owned list once `record` is reverted: each of nodeimg's own files recorded there is
// owned with its `before` bytes again, or no longer owned when it did not exist before.
// Stated from the target state, not from what was written, so that a revert re-run after
// an interruption (the files already back) still leaves the list right.
OwnedFiles owned_after_revert(OwnedFiles owned, const ApplyRecord& record);

// What `revert` writes: each recorded file back to its `before`. A file changed (or
// deleted) since nodeimg wrote it is a refusal naming every such file, unless `force`.
// `current` maps every recorded path to its bytes now (nullopt: absent).
struct RevertPlan {
  std::vector<FileChange> changes{};
  std::string refusal{};
};
RevertPlan plan_revert(const ApplyRecord& record, const std::map<std::string, std::optional<std::string>>& current,
                       bool force);

}  // namespace nodeimg::kubelet
