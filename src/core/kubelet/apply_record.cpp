#include "core/kubelet/apply_record.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

namespace nodeimg::kubelet {

namespace {
constexpr int kRecordVersion = 3;
constexpr int kLegacyRecordVersion = 2;
constexpr int kOwnedVersion = 1;
using Json = nlohmann::json;

Json optional_string(const std::optional<std::string>& s) { return s ? Json(*s) : Json(nullptr); }

Result<std::optional<std::string>> read_optional_string(const Json& j, const char* key, std::string_view where) {
  if (!j.contains(key) || j.at(key).is_null()) return std::optional<std::string>{};
  if (!j.at(key).is_string()) return fail(fmt::format("{}: \"{}\" is not a string", where, key));
  return std::optional<std::string>{j.at(key).get<std::string>()};
}

Result<RecordIndexFile> parse_index_file(const Json& e, std::string_view where) {
  if (!e.is_object() || !e.contains("path") || !e.at("path").is_string())
    return fail(fmt::format("{}: a file entry has no path", where));
  RecordIndexFile f{.path = e.at("path").get<std::string>()};
  for (auto [key, slot] : {std::pair{"mode", &f.ownership.mode}, std::pair{"uid", &f.ownership.uid},
                           std::pair{"gid", &f.ownership.gid}}) {
    if (!e.contains(key) || !e.at(key).is_number_unsigned())
      return fail(fmt::format("{}: {}: \"{}\" is not a number", where, f.path, key));
    *slot = e.at(key).get<std::uint32_t>();
  }
  auto before = read_optional_string(e, "before", where);
  if (!before) return std::unexpected(before.error());
  auto after = read_optional_string(e, "after", where);
  if (!after) return std::unexpected(after.error());
  f.before_name = *before;
  f.after_name = *after;
  f.own = e.contains("own") && e.at("own").is_boolean() && e.at("own").get<bool>();
  return f;
}

}  // namespace

RecordIndex index_of(const ApplyRecord& record) {
  RecordIndex index{.id = record.id, .applied_at = record.applied_at, .unit = record.unit,
                    .unit_files_changed = record.unit_files_changed, .healthz_url = record.healthz_url};
  for (std::size_t i = 0; i < record.files.size(); ++i) {
    const auto& f = record.files[i];
    auto name = [&](const char* side) { return fmt::format("files/{}-{}.{}", record.id, i, side); };
    index.files.push_back({.path = f.path, .ownership = f.ownership,
                           .before_name = f.before ? std::optional(name("before")) : std::nullopt,
                           .after_name = f.after ? std::optional(name("after")) : std::nullopt,
                           .own = f.own});
  }
  return index;
}

namespace {

Json step_json(const RecordIndex& index) {
  Json j = {{"id", index.id}, {"appliedAt", index.applied_at}, {"unit", index.unit},
            {"unitFilesChanged", index.unit_files_changed}, {"healthzURL", optional_string(index.healthz_url)},
            {"files", Json::array()}};
  for (const auto& f : index.files)
    j["files"].push_back({{"path", f.path}, {"mode", f.ownership.mode}, {"uid", f.ownership.uid},
                          {"gid", f.ownership.gid}, {"before", optional_string(f.before_name)},
                          {"after", optional_string(f.after_name)}, {"own", f.own}});
  return j;
}

// A backup's name as the index gives it: relative, under files/, no way out of the state
// directory.
bool safe_blob_name(const std::optional<std::string>& name) {
  return !name || (name->starts_with("files/") && name->find("..") == std::string::npos &&
                   name->find('/', 6) == std::string::npos);
}

Result<RecordIndex> parse_step(const Json& j, std::string_view where) {
  if (!j.is_object()) return fail(fmt::format("{}: a step of the history is not an object", where));
  RecordIndex index;
  if (!j.contains("appliedAt") || !j.at("appliedAt").is_string() || !j.contains("unit") || !j.at("unit").is_string())
    return fail(fmt::format("{}: the record lacks appliedAt or unit", where));
  if (j.contains("id")) {
    if (!j.at("id").is_number_unsigned()) return fail(fmt::format("{}: \"id\" is not a number", where));
    index.id = j.at("id").get<std::uint64_t>();
  }
  index.applied_at = j.at("appliedAt").get<std::string>();
  index.unit = j.at("unit").get<std::string>();
  index.unit_files_changed = j.contains("unitFilesChanged") && j.at("unitFilesChanged").is_boolean() &&
                             j.at("unitFilesChanged").get<bool>();
  auto url = read_optional_string(j, "healthzURL", where);
  if (!url) return std::unexpected(url.error());
  index.healthz_url = *url;
  if (!j.contains("files") || !j.at("files").is_array()) return fail(fmt::format("{}: the record lists no files", where));
  for (const auto& e : j.at("files")) {
    auto f = parse_index_file(e, where);
    if (!f) return std::unexpected(f.error());
    if (!safe_blob_name(f->before_name) || !safe_blob_name(f->after_name))
      return fail(fmt::format("{}: {}: a backup name outside files/", where, f->path));
    index.files.push_back(std::move(*f));
  }
  return index;
}

}  // namespace

std::string render_history_index(const std::vector<RecordIndex>& steps) {
  Json j = {{"version", kRecordVersion}, {"steps", Json::array()}};
  for (const auto& s : steps) j["steps"].push_back(step_json(s));
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

Result<std::vector<RecordIndex>> parse_history_index(std::string_view text, std::string_view where) {
  Json j = Json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return fail(fmt::format("{}: unreadable record (not a JSON object)", where));
  const Json version = j.value("version", Json());
  if (version == kLegacyRecordVersion) {  // one apply, as nodeimg before the history wrote it
    auto step = parse_step(j, where);
    if (!step) return std::unexpected(step.error());
    step->id = 0;
    return std::vector<RecordIndex>{std::move(*step)};
  }
  if (version != kRecordVersion)
    return fail(fmt::format("{}: unsupported record version {}", where,
                            version.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)));
  if (!j.contains("steps") || !j.at("steps").is_array()) return fail(fmt::format("{}: the record lists no steps", where));
  std::vector<RecordIndex> steps;
  for (const auto& e : j.at("steps")) {
    auto step = parse_step(e, where);
    if (!step) return std::unexpected(step.error());
    steps.push_back(std::move(*step));
  }
  return steps;
}

ApplyRecord merge_steps(const ApplyRecord& earlier, const ApplyRecord& later) {
  ApplyRecord out{.id = later.id, .applied_at = later.applied_at, .unit = later.unit.empty() ? earlier.unit : later.unit,
                  .unit_files_changed = earlier.unit_files_changed || later.unit_files_changed,
                  .healthz_url = later.healthz_url ? later.healthz_url : earlier.healthz_url};
  auto find = [](const ApplyRecord& r, const std::string& path) -> const RecordedFile* {
    for (const auto& f : r.files)
      if (f.path == path) return &f;
    return nullptr;
  };
  for (const auto& f : earlier.files) {
    RecordedFile merged = f;
    if (const RecordedFile* l = find(later, f.path)) {
      merged.after = l->after;
      merged.own = f.own || l->own;
    }
    out.files.push_back(std::move(merged));
  }
  for (const auto& f : later.files)
    if (!find(earlier, f.path)) out.files.push_back(f);
  return out;
}

std::optional<ApplyRecord> net_record(const ApplyHistory& history) {
  if (history.steps.empty()) return std::nullopt;
  ApplyRecord net = history.steps.front();
  for (std::size_t i = 1; i < history.steps.size(); ++i) net = merge_steps(net, history.steps[i]);
  return net;
}

ApplyHistory with_step(ApplyHistory history, ApplyRecord step) {
  std::uint64_t next = 1;
  for (const auto& s : history.steps) next = std::max(next, s.id + 1);
  step.id = next++;
  history.steps.push_back(std::move(step));
  while (history.steps.size() > kMaxSteps) {
    // A fresh id: the merged step's backups must never overwrite ones the stored index
    // still names (a crash before the new index is written keeps the old one valid).
    ApplyRecord merged = merge_steps(history.steps[0], history.steps[1]);
    merged.id = next++;
    history.steps.erase(history.steps.begin(), history.steps.begin() + 2);
    history.steps.insert(history.steps.begin(), std::move(merged));
  }
  return history;
}

std::string render_owned(const OwnedFiles& owned) {
  Json j = {{"version", kOwnedVersion}, {"files", Json::object()}};
  for (const auto& [path, content] : owned) j["files"][path] = content;
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

Result<OwnedFiles> parse_owned(std::string_view text, std::string_view where) {
  Json j = Json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || j.value("version", 0) != kOwnedVersion || !j.contains("files") ||
      !j.at("files").is_object())
    return fail(fmt::format("{}: unreadable list of nodeimg's own files", where));
  OwnedFiles owned;
  for (const auto& [path, content] : j.at("files").items()) {
    if (!content.is_string()) return fail(fmt::format("{}: {}: not a string", where, path));
    owned[path] = content.get<std::string>();
  }
  return owned;
}

OwnedFiles owned_after(OwnedFiles owned, const std::vector<FileChange>& changes) {
  for (const auto& c : changes) {
    if (!c.own) continue;
    if (c.after) owned[c.path] = *c.after;
    else owned.erase(c.path);
  }
  return owned;
}

OwnedFiles owned_after_revert(OwnedFiles owned, const ApplyRecord& record) {
  for (const auto& f : record.files) {
    if (!f.own) continue;
    if (f.before) owned[f.path] = *f.before;
    else owned.erase(f.path);
  }
  return owned;
}

RevertPlan plan_revert(const ApplyRecord& record, const std::map<std::string, std::optional<std::string>>& current,
                       bool force) {
  RevertPlan plan;
  std::vector<std::string> changed;
  for (const auto& f : record.files) {
    const auto it = current.find(f.path);
    const std::optional<std::string> now = it == current.end() ? std::nullopt : it->second;
    if (now == f.before) continue;  // already as it was
    if (now != f.after) changed.push_back(fmt::format("{} {}", f.path, now ? "was changed" : "was deleted"));
    plan.changes.push_back({.path = f.path, .before = now, .after = f.before, .reason = "revert",
                            .unit_file = record.unit_files_changed, .own = f.own});
  }
  if (!changed.empty() && !force) {
    plan.refusal = fmt::format("{} since nodeimg wrote it (last apply {}); not reverting anything, so that no one "
                               "else's change is lost (`nodeimg kubelet revert --dry-run --force` shows what --force "
                               "would write over it)",
                               fmt::join(changed, ", "), record.applied_at);
    plan.changes.clear();
  }
  return plan;
}

}  // namespace nodeimg::kubelet
