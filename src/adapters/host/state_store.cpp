#include "adapters/host/state_store.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace nodeimg {

namespace {
constexpr int kVersion = 1;
}

std::string StateStore::record_path() const { return dir_ + "/kubelet/last-apply.json"; }

// Backups are stored as separate files (their bytes may be anything); the record, written
// last and atomically, refers to them. A crash before the record is written leaves the
// previous record intact.
Result<void> StateStore::save(const ApplyRecord& record) const {
  const std::string base = dir_ + "/kubelet";
  if (auto ok = files_.make_directories(base + "/files", 0700); !ok) return ok;
  nlohmann::json j = {{"version", kVersion},
                      {"appliedAt", record.applied_at},
                      {"unit", record.unit},
                      {"unitFilesChanged", record.unit_files_changed},
                      {"files", nlohmann::json::array()}};
  const FileOwnership private_file{0600, 0, 0};
  for (std::size_t i = 0; i < record.files.size(); ++i) {
    const auto& f = record.files[i];
    nlohmann::json e = {{"path", f.path},
                        {"mode", f.ownership.mode},
                        {"uid", f.ownership.uid},
                        {"gid", f.ownership.gid},
                        {"before", nullptr},
                        {"after", nullptr}};
    if (f.before) {
      const std::string name = fmt::format("files/{}.before", i);
      if (auto ok = files_.write_atomic(base + "/" + name, *f.before, private_file); !ok) return ok;
      e["before"] = name;
    }
    if (f.after) {
      const std::string name = fmt::format("files/{}.after", i);
      if (auto ok = files_.write_atomic(base + "/" + name, *f.after, private_file); !ok) return ok;
      e["after"] = name;
    }
    j["files"].push_back(std::move(e));
  }
  return files_.write_atomic(record_path(), j.dump(2) + "\n", private_file);
}

Result<std::optional<ApplyRecord>> StateStore::load() const {
  auto text = files_.read(record_path());
  if (!text) return std::unexpected(text.error());
  if (!*text) return std::optional<ApplyRecord>{};
  const std::string base = dir_ + "/kubelet/";
  try {
    auto j = nlohmann::json::parse(**text);
    if (j.at("version").get<int>() != kVersion)
      return fail(fmt::format("{}: unsupported record version {}", record_path(), j.at("version").dump()));
    ApplyRecord r;
    r.applied_at = j.at("appliedAt").get<std::string>();
    r.unit = j.at("unit").get<std::string>();
    r.unit_files_changed = j.value("unitFilesChanged", false);
    for (const auto& e : j.at("files")) {
      BackedUpFile f;
      f.path = e.at("path").get<std::string>();
      f.ownership = {e.at("mode").get<mode_t>(), e.at("uid").get<uid_t>(), e.at("gid").get<gid_t>()};
      for (auto [key, slot] : {std::pair{"before", &f.before}, std::pair{"after", &f.after}}) {
        if (e.at(key).is_null()) continue;
        auto content = files_.read(base + e.at(key).get<std::string>());
        if (!content) return std::unexpected(content.error());
        if (!*content) return fail(fmt::format("{}: backup {} is missing", record_path(), e.at(key).get<std::string>()));
        *slot = std::move(**content);
      }
      r.files.push_back(std::move(f));
    }
    return std::optional<ApplyRecord>{std::move(r)};
  } catch (const nlohmann::json::exception& e) {
    return fail(fmt::format("{}: unreadable record: {}", record_path(), e.what()));
  }
}

Result<void> StateStore::clear() const {
  if (auto ok = files_.remove(record_path()); !ok) return ok;
  // The backup files are small; stale ones are overwritten by the next apply.
  return {};
}

}  // namespace nodeimg
