#include "adapters/host/keep_files.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "core/gc/policy.hpp"

namespace nodeimg {

namespace {

// The file's patterns, appended to `out`; the error names the file as the host sees it.
Result<void> read_one(const HostFiles& files, const std::string& path, std::vector<gc::ReferencePattern>& out) {
  auto text = files.read(path);
  if (!text) return fail(fmt::format("gc.keepFromFile: {}", text.error().message));
  if (!*text) return fail(fmt::format("gc.keepFromFile: {}: no such file", files.host_path(path)));
  auto patterns = gc::parse_keep_file(**text, files.host_path(path));
  if (!patterns) return fail("gc.keepFromFile: " + patterns.error().message);
  for (auto& p : *patterns) out.push_back(std::move(p));
  return {};
}

}  // namespace

Result<std::vector<gc::ReferencePattern>> read_keep_files(const HostFiles& files, const std::vector<std::string>& paths) {
  std::vector<gc::ReferencePattern> out;
  for (const auto& path : paths) {
    auto entries = files.list(path);
    if (!entries) {
      // Not a directory: a file of patterns.
      if (auto ok = read_one(files, path, out); !ok) return std::unexpected(ok.error());
      continue;
    }
    if (!*entries) return fail(fmt::format("gc.keepFromFile: {}: no such file or directory (create it, even empty, "
                                           "or remove it from the configuration)",
                                           files.host_path(path)));
    std::vector<std::string> names;
    for (const auto& e : **entries)
      if (!e.name.starts_with('.') && !e.is_directory) names.push_back(e.name);
    std::sort(names.begin(), names.end());
    const std::string dir = path.ends_with('/') ? path : path + "/";
    for (const auto& name : names)
      if (auto ok = read_one(files, dir + name, out); !ok) return std::unexpected(ok.error());
  }
  return out;
}

}  // namespace nodeimg
