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
  std::string applied_at{};
  std::string unit{};
  bool unit_files_changed = false;
  std::optional<std::string> healthz_url{};
  std::vector<RecordIndexFile> files{};
};

// The index for `record`, naming file i's bytes "files/I.before" / "files/I.after".
RecordIndex index_of(const ApplyRecord& record);
std::string render_record_index(const RecordIndex& index);
// `where` names the record in messages.
Result<RecordIndex> parse_record_index(std::string_view text, std::string_view where);

// Files nodeimg wrote for itself (its drop-in, unit overrides): path -> bytes written.
using OwnedFiles = std::map<std::string, std::string>;
std::string render_owned(const OwnedFiles& owned);
Result<OwnedFiles> parse_owned(std::string_view text, std::string_view where);
// The owned list once `changes` are written (own files created or updated are added,
// own files removed are dropped).
OwnedFiles owned_after(OwnedFiles owned, const std::vector<FileChange>& changes);

// What `revert` writes: each recorded file back to its `before`. A file changed since
// the apply by someone else is a refusal unless `force`. `current` maps every recorded
// path to its bytes now (nullopt: absent).
struct RevertPlan {
  std::vector<FileChange> changes{};
  std::string refusal{};
};
RevertPlan plan_revert(const ApplyRecord& record, const std::map<std::string, std::optional<std::string>>& current,
                       bool force);

}  // namespace nodeimg::kubelet
