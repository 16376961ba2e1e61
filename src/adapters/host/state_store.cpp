#include "adapters/host/state_store.hpp"

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

Result<void> StateStore::save(const ApplyRecord& record) const {
  const std::string base = dir_ + "/kubelet/";
  if (auto ok = files_.make_directories(base + "files", 0700); !ok) return ok;
  const kubelet::RecordIndex index = kubelet::index_of(record);
  for (std::size_t i = 0; i < record.files.size(); ++i) {
    const auto& f = record.files[i];
    const auto& names = index.files[i];
    if (f.before)
      if (auto ok = files_.write_atomic(base + *names.before_name, *f.before, kPrivateFile); !ok) return ok;
    if (f.after)
      if (auto ok = files_.write_atomic(base + *names.after_name, *f.after, kPrivateFile); !ok) return ok;
  }
  return files_.write_atomic(record_path(), kubelet::render_record_index(index), kPrivateFile);
}

Result<std::optional<ApplyRecord>> StateStore::load() const {
  auto text = files_.read(record_path());
  if (!text) return std::unexpected(text.error());
  if (!*text) return std::optional<ApplyRecord>{};
  auto index = kubelet::parse_record_index(**text, record_path());
  if (!index) return std::unexpected(index.error());
  ApplyRecord r{.applied_at = index->applied_at, .unit = index->unit,
                .unit_files_changed = index->unit_files_changed, .healthz_url = index->healthz_url};
  const std::string base = dir_ + "/kubelet/";
  for (const auto& e : index->files) {
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
  return std::optional<ApplyRecord>{std::move(r)};
}

Result<void> StateStore::clear() const {
  // The backup files are small; stale ones are overwritten by the next apply.
  return files_.remove(record_path());
}

Result<kubelet::OwnedFiles> StateStore::load_owned() const {
  const std::string path = dir_ + "/kubelet/owned.json";
  auto text = files_.read(path);
  if (!text) return std::unexpected(text.error());
  if (!*text) return kubelet::OwnedFiles{};
  return kubelet::parse_owned(**text, path);
}

Result<void> StateStore::save_owned(const kubelet::OwnedFiles& owned) const {
  if (auto ok = files_.make_directories(dir_ + "/kubelet", 0700); !ok) return ok;
  return files_.write_atomic(dir_ + "/kubelet/owned.json", kubelet::render_owned(owned), kPrivateFile);
}

}  // namespace nodeimg
