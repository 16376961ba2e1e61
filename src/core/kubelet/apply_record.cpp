#include "core/kubelet/apply_record.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace nodeimg::kubelet {

namespace {
constexpr int kRecordVersion = 2;
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
  RecordIndex index{.applied_at = record.applied_at, .unit = record.unit,
                    .unit_files_changed = record.unit_files_changed, .healthz_url = record.healthz_url};
  for (std::size_t i = 0; i < record.files.size(); ++i) {
    const auto& f = record.files[i];
    index.files.push_back({.path = f.path, .ownership = f.ownership,
                           .before_name = f.before ? std::optional(fmt::format("files/{}.before", i)) : std::nullopt,
                           .after_name = f.after ? std::optional(fmt::format("files/{}.after", i)) : std::nullopt,
                           .own = f.own});
  }
  return index;
}

std::string render_record_index(const RecordIndex& index) {
  Json j = {{"version", kRecordVersion}, {"appliedAt", index.applied_at}, {"unit", index.unit},
            {"unitFilesChanged", index.unit_files_changed}, {"healthzURL", optional_string(index.healthz_url)},
            {"files", Json::array()}};
  for (const auto& f : index.files)
    j["files"].push_back({{"path", f.path}, {"mode", f.ownership.mode}, {"uid", f.ownership.uid},
                          {"gid", f.ownership.gid}, {"before", optional_string(f.before_name)},
                          {"after", optional_string(f.after_name)}, {"own", f.own}});
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

Result<RecordIndex> parse_record_index(std::string_view text, std::string_view where) {
  Json j = Json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return fail(fmt::format("{}: unreadable record (not a JSON object)", where));
  if (!j.contains("version") || j.at("version") != kRecordVersion)
    return fail(fmt::format("{}: unsupported record version {}", where, j.value("version", Json()).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)));
  RecordIndex index;
  if (!j.contains("appliedAt") || !j.at("appliedAt").is_string() || !j.contains("unit") || !j.at("unit").is_string())
    return fail(fmt::format("{}: the record lacks appliedAt or unit", where));
  index.applied_at = j.at("appliedAt").get<std::string>();
  index.unit = j.at("unit").get<std::string>();
  index.unit_files_changed = j.value("unitFilesChanged", false);
  auto url = read_optional_string(j, "healthzURL", where);
  if (!url) return std::unexpected(url.error());
  index.healthz_url = *url;
  if (!j.contains("files") || !j.at("files").is_array()) return fail(fmt::format("{}: the record lists no files", where));
  for (const auto& e : j.at("files")) {
    auto f = parse_index_file(e, where);
    if (!f) return std::unexpected(f.error());
    index.files.push_back(std::move(*f));
  }
  return index;
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

RevertPlan plan_revert(const ApplyRecord& record, const std::map<std::string, std::optional<std::string>>& current,
                       bool force) {
  RevertPlan plan;
  for (const auto& f : record.files) {
    const auto it = current.find(f.path);
    const std::optional<std::string> now = it == current.end() ? std::nullopt : it->second;
    if (now == f.before) continue;  // already as it was
    if (now != f.after && !force) {
      plan.refusal = fmt::format("{} changed since nodeimg's apply at {}; not reverting (compare with `nodeimg kubelet "
                                 "status`, or use --force)",
                                 f.path, record.applied_at);
      plan.changes.clear();
      return plan;
    }
    plan.changes.push_back({.path = f.path, .before = now, .after = f.before, .reason = "revert",
                            .unit_file = record.unit_files_changed, .own = f.own});
  }
  return plan;
}

}  // namespace nodeimg::kubelet
