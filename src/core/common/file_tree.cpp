#include "core/common/file_tree.hpp"

#include <algorithm>

namespace nodeimg {

Result<std::optional<std::string>> OverlayTree::read(const std::string& path) const {
  if (auto it = changes_.find(path); it != changes_.end()) return it->second;
  return base_.read(path);
}

Result<std::optional<std::string>> OverlayTree::read_link(const std::string& path) const {
  if (changes_.contains(path)) return std::optional<std::string>{};  // a written file is a regular file
  return base_.read_link(path);
}

Result<std::optional<std::vector<DirEntry>>> OverlayTree::list(const std::string& path) const {
  auto base = base_.list(path);
  if (!base) return base;
  std::vector<DirEntry> entries = base->value_or(std::vector<DirEntry>{});
  bool exists = base->has_value();
  const std::string prefix = path.ends_with('/') ? path : path + "/";
  for (const auto& [p, content] : changes_) {
    if (!p.starts_with(prefix) || p.find('/', prefix.size()) != std::string::npos) continue;
    const std::string name = p.substr(prefix.size());
    auto it = std::find_if(entries.begin(), entries.end(), [&](const DirEntry& e) { return e.name == name; });
    if (content && it == entries.end()) entries.push_back({name, false, true});
    if (!content && it != entries.end()) entries.erase(it);
    exists = true;
  }
  if (!exists) return std::optional<std::vector<DirEntry>>{};
  std::sort(entries.begin(), entries.end(), [](const DirEntry& a, const DirEntry& b) { return a.name < b.name; });
  return std::optional<std::vector<DirEntry>>{std::move(entries)};
}

}  // namespace nodeimg
