#pragma once
// An in-memory FileTree for tests of the pure core, loadable from a fixture directory.
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>

#include "core/common/file_tree.hpp"
#include "support/files.hpp"

namespace nodeimg::testing {

class MemoryTree final : public FileTree {
 public:
  std::map<std::string, std::string> files;  // absolute node path -> bytes
  std::map<std::string, std::string> links;  // absolute node path -> symlink target

  static MemoryTree from_directory(const std::filesystem::path& root) {
    MemoryTree t;
    for (const auto& e : std::filesystem::recursive_directory_iterator(root)) {
      if (e.is_symlink()) {  // fixtures keep links (enablement, aliases, MicroK8s's `current`) as links
        t.links["/" + e.path().lexically_relative(root).generic_string()] = std::filesystem::read_symlink(e.path()).string();
        continue;
      }
      if (!e.is_regular_file()) continue;
      t.files["/" + std::filesystem::relative(e.path(), root).generic_string()] = read_file(e.path());
    }
    return t;
  }

  // Reading follows links, like the real tree (a dangling one reads as absent).
  Result<std::optional<std::string>> read(const std::string& path) const override {
    if (auto it = files.find(resolve(path)); it != files.end()) return it->second;
    return std::optional<std::string>{};
  }

  // `path` with every link on the way replaced by its target (at most 40, like the kernel).
  std::string resolve(const std::string& path) const {
    std::string p = path;
    for (int hops = 0; hops < 40; ++hops) {
      bool changed = false;
      for (std::size_t end = p.find('/', 1);; end = p.find('/', end + 1)) {
        const std::string prefix = p.substr(0, end);
        if (auto it = links.find(prefix); it != links.end()) {
          const std::string dir = prefix.substr(0, prefix.rfind('/'));
          std::string target = it->second.starts_with('/') ? it->second : dir + "/" + it->second;
          p = std::filesystem::path(target + (end == std::string::npos ? "" : p.substr(end))).lexically_normal().generic_string();
          changed = true;
          break;
        }
        if (end == std::string::npos) break;
      }
      if (!changed) return p;
    }
    return p;
  }

  Result<std::optional<std::string>> read_link(const std::string& path) const override {
    if (auto it = links.find(path); it != links.end()) return it->second;
    return std::optional<std::string>{};
  }

  Result<std::optional<std::vector<DirEntry>>> list(const std::string& path) const override {
    const std::string prefix = path.ends_with('/') ? path : path + "/";
    std::map<std::string, bool> names;  // name -> is directory
    std::set<std::string> paths;
    for (const auto& [p, _] : files) paths.insert(p);
    for (const auto& [p, _] : links) paths.insert(p);
    for (const auto& p : paths) {
      if (!p.starts_with(prefix)) continue;
      auto rest = p.substr(prefix.size());
      auto slash = rest.find('/');
      names[rest.substr(0, slash)] = names[rest.substr(0, slash)] || slash != std::string::npos;
    }
    if (names.empty()) return std::optional<std::vector<DirEntry>>{};
    std::vector<DirEntry> out;
    for (const auto& [n, dir] : names) out.push_back({n, dir, !dir});
    return std::optional<std::vector<DirEntry>>{std::move(out)};
  }
};

}  // namespace nodeimg::testing
