#include "adapters/host/state_store.hpp"

#include <set>

#include <fmt/format.h>

namespace nodeimg {

namespace {
const FileOwnership kPrivateFile{.mode = 0600, .uid = 0, .gid = 0};
}

std::string StateStore::record_path() const { return dir_ + "/kubelet/last-apply.json"; }

Result<void> StateStore::check_writable() const {
  if (auto ok = files_.make_directories(dir_ + "/kubelet/files", 0700); !ok) return ok;
  auto probe = files_.inspect_for_write(record_path());
  if (!probe) return std::unexpected(probe.error());
  return {};
}

namespace {

// The backup names `index` refers to.
std::set<std::string> names_in(const std::vector<kubelet::RecordIndex>& index) {
  std::set<std::string> names;
  for (const auto& step : index)
    for (const auto& f : step.files)
      for (const auto* n : {&f.before_name, &f.after_name})
        if (*n) names.insert(**n);
  return names;
}

}  // namespace

Result<void> StateStore::save_history(const kubelet::ApplyHistory& history) const {
  const std::string base = dir_ + "/kubelet/";
  std::vector<kubelet::RecordIndex> index;
  for (const auto& step : history.steps) index.push_back(kubelet::index_of(step));
  if (!history.steps.empty()) {
    if (auto ok = files_.make_directories(base + "files", 0700); !ok) return ok;
    for (std::size_t s = 0; s < history.steps.size(); ++s)
      for (std::size_t i = 0; i < history.steps[s].files.size(); ++i) {
        const auto& f = history.steps[s].files[i];
        const auto& names = index[s].files[i];
        if (f.before)
          if (auto ok = files_.write_atomic(base + *names.before_name, *f.before, kPrivateFile); !ok) return ok;
        if (f.after)
          if (auto ok = files_.write_atomic(base + *names.after_name, *f.after, kPrivateFile); !ok) return ok;
      }
    if (auto ok = files_.write_atomic(record_path(), kubelet::render_history_index(index), kPrivateFile); !ok) return ok;
  } else if (auto ok = files_.remove(record_path()); !ok) {
    return ok;
  }
  // The index now names only these backups: every other one goes (a revert leaves none).
  auto listed = files_.list(base + "files");
  if (!listed) return std::unexpected(listed.error());
  if (!*listed) return {};
  const auto keep = names_in(index);
  for (const auto& e : **listed)
    if (e.is_regular && !keep.contains("files/" + e.name))
      if (auto ok = files_.remove(base + "files/" + e.name); !ok) return ok;
  return {};
}

Result<kubelet::ApplyHistory> StateStore::load_history() const {
  auto text = files_.read(record_path());
  if (!text) return std::unexpected(text.error());
  if (!*text) return kubelet::ApplyHistory{};
  auto index = kubelet::parse_history_index(**text, record_path());
  if (!index) return std::unexpected(index.error());
  kubelet::ApplyHistory history;
  const std::string base = dir_ + "/kubelet/";
  for (const auto& step : *index) {
    ApplyRecord r{.id = step.id, .applied_at = step.applied_at, .unit = step.unit,
                  .unit_files_changed = step.unit_files_changed, .healthz_url = step.healthz_url};
    for (const auto& e : step.files) {
      kubelet::RecordedFile f{.path = e.path, .ownership = e.ownership, .own = e.own};
      for (auto [name, slot] : {std::pair{&e.before_name, &f.before}, std::pair{&e.after_name, &f.after}}) {
        if (!*name) continue;
        auto content = files_.read(base + **name);
        if (!content) return std::unexpected(content.error());
        if (!*content) return fail(fmt::format("{}: backup {} is missing", record_path(), **name));
        *slot = std::move(**content);
      }
      r.files.push_back(std::move(f));
    }
    history.steps.push_back(std::move(r));
  }
  return history;
}

Result<std::optional<ApplyRecord>> StateStore::load() const {
  auto history = load_history();
  if (!history) return std::unexpected(history.error());
  return kubelet::net_record(*history);
}

Result<kubelet::OwnedFiles> StateStore::load_owned() const {
  const std::string path = dir_ + "/kubelet/owned.json";
  auto text = files_.read(path);
  if (!text) return std::unexpected(text.error());
  if (!*text) return kubelet::OwnedFiles{};
  return kubelet::parse_owned(**text, path);
}

Result<void> StateStore::save_owned(const kubelet::OwnedFiles& owned) const {
  if (owned.empty()) return files_.remove(dir_ + "/kubelet/owned.json");
  if (auto ok = files_.make_directories(dir_ + "/kubelet", 0700); !ok) return ok;
  return files_.write_atomic(dir_ + "/kubelet/owned.json", kubelet::render_owned(owned), kPrivateFile);
}

}  // namespace nodeimg
