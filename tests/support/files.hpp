#pragma once
// What many tests do with files, written once: a temporary directory that removes itself,
// reading a whole file, and asking whether anything is still mounted under a directory.
// Header-only, so that unit, e2e and integration tests can all use it.
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <vector>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

namespace nodeimg::testing {

// A fresh directory PARENT/PREFIX-XXXXXX; throws when it cannot be made.
inline std::filesystem::path make_temp_dir(const std::string& prefix, const std::string& parent = "/tmp") {
  std::string tmpl = parent + "/" + prefix + "-XXXXXX";
  if (!::mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp " + tmpl + " failed");
  return tmpl;
}

// A temporary directory for the life of the object (removed with everything in it).
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "nodeimg-test") : path_(make_temp_dir(prefix)) {}
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

// The whole file as it is; "" when it is absent or unreadable.
inline std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Whether this process's mount namespace has a mount at `dir` or below it (the fifth field
// of /proc/self/mountinfo is the mount point).
inline bool mounted_under(const std::string& dir) {
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string f;
    for (int i = 0; i < 5 && fields >> f; ++i) {
    }
    if (f == dir || f.starts_with(dir + "/")) return true;
  }
  return false;
}

// The names of the platform fixtures (tests/fixtures/platforms/NAME), sorted.
inline std::vector<std::string> platform_fixture_names(const std::filesystem::path& platforms) {
  std::vector<std::string> out{};
  for (const auto& e : std::filesystem::directory_iterator(platforms))
    if (e.is_directory()) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

// The lines of `text` without their endings (a final newline ends the last line).
inline std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  for (std::size_t start = 0; start < text.size();) {
    const auto nl = text.find('\n', start);
    out.push_back(text.substr(start, nl - start));
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  return out;
}

}  // namespace nodeimg::testing
