#include "adapters/host/host_files.hpp"
#include "core/common/paths.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>
#include <random>
#include <vector>

#include <fmt/format.h>

#include "adapters/host/unique_fd.hpp"

namespace nodeimg {

namespace {

std::string errno_text(int e) { return std::strerror(e); }

// Which safety rule a file or directory breaks, in words, or "" when it breaks none: owned
// by root (or by nodeimg's own user), not group-writable, not world-writable (a sticky
// world-writable directory such as /tmp is tolerated where `sticky_dirs` says so).
std::string broken_rule(const struct stat& st, StickyDirs sticky_dirs) {
  const auto mode = st.st_mode & 07777;
  if (st.st_uid != 0 && st.st_uid != ::geteuid())
    return fmt::format("it is owned by uid {}, not root (owner rule; fix: chown root)", st.st_uid);
  const bool sticky = (st.st_mode & S_ISVTX) != 0 && sticky_dirs == StickyDirs::Trusted;
  if (sticky) return "";
  if (st.st_mode & S_IWOTH)
    return fmt::format("it is world-writable, mode {:04o} (world-writable rule; fix: chmod o-w)", mode);
  if (st.st_mode & S_IWGRP)
    return fmt::format("it is group-writable, mode {:04o} (group-writable rule; fix: chmod g-w)", mode);
  return "";
}

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> parts;
  std::size_t i = 0;
  while (i < path.size()) {
    while (i < path.size() && path[i] == '/') ++i;
    std::size_t b = i;
    while (i < path.size() && path[i] != '/') ++i;
    if (i > b) parts.push_back(path.substr(b, i - b));
  }
  return parts;
}

enum class Mode { Read, Write };

struct Resolved {
  UniqueFd dir;      // the directory holding the last component
  std::string name;  // the last component
  bool exists = false;
  struct stat st {};
};

// A directory nodeimg may write under (Write mode only).
Result<void> check_dir(int fd, const std::string& shown, Mode mode, StickyDirs sticky_dirs) {
  if (mode != Mode::Write) return {};
  struct stat st {};
  if (::fstat(fd, &st) != 0) return fail(fmt::format("stat {}: {}", shown, errno_text(errno)));
  if (const std::string rule = broken_rule(st, sticky_dirs); !rule.empty())
    return fail(fmt::format("directory {}: {}: a non-root user could redirect the path or replace the file; refusing "
                            "to write under it",
                            shown.empty() ? "/" : shown, rule));
  return {};
}

// The walk's state: open directories from root down, components still to visit.
struct Walk {
  std::vector<UniqueFd> stack;
  std::deque<std::string> todo;
  std::string walked;
  int hops = 0;
};

// Replaces the symlink `comp` by its target's components (absolute targets restart at root).
Result<void> follow_symlink(Walk& w, const std::string& comp, const struct stat& st, const std::string& shown, Mode mode) {
  if (mode == Mode::Write && st.st_uid != 0)
    return fail(fmt::format("{} is a symlink owned by uid {}: a non-root user could redirect it; refusing to write "
                            "through it",
                            shown, st.st_uid));
  if (++w.hops > 40) return fail(fmt::format("{}: too many levels of symbolic links", shown));
  std::string target(static_cast<std::size_t>(st.st_size) + 1, '\0');
  ssize_t n = ::readlinkat(w.stack.back().get(), comp.c_str(), target.data(), target.size());
  if (n < 0) return fail(fmt::format("readlink {}: {}", shown, errno_text(errno)));
  target.resize(static_cast<std::size_t>(n));
  auto parts = split_path(target);
  for (auto it = parts.rbegin(); it != parts.rend(); ++it) w.todo.push_front(*it);
  if (target.starts_with('/')) {
    w.stack.resize(1);
    w.walked.clear();
  }
  return {};
}

Resolved found(Walk& w, const std::string& comp, std::optional<struct stat> st) {
  Resolved r;
  r.dir = std::move(w.stack.back());
  r.name = comp;
  r.exists = st.has_value();
  if (st) r.st = *st;
  return r;
}

// Walks `path` from `root` one component at a time with O_NOFOLLOW, resolving symlinks
// by hand so they stay inside root. In Write mode, untrusted directories and symlinks
// are refused and the last component is never followed.
Result<std::optional<Resolved>> resolve(const std::string& root, const std::string& path, Mode mode,
                                        StickyDirs sticky_dirs, bool create_dirs = false, mode_t dir_mode = 0755) {
  if (path.empty() || path[0] != '/') return fail(fmt::format("{}: not an absolute path", path));
  Walk w;
  w.stack.emplace_back(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!w.stack.back()) return fail(fmt::format("open root {}: {}", root, errno_text(errno)));
  for (auto& p : split_path(path)) w.todo.push_back(p);
  if (w.todo.empty()) return fail(fmt::format("{}: names a directory", path));
  if (auto ok = check_dir(w.stack.back().get(), "/", mode, sticky_dirs); !ok) return std::unexpected(ok.error());
  while (!w.todo.empty()) {
    std::string comp = w.todo.front();
    w.todo.pop_front();
    if (comp == ".") continue;
    if (comp == "..") {
      if (w.stack.size() > 1) w.stack.pop_back();
      auto slash = w.walked.rfind('/');
      w.walked = slash == std::string::npos ? "" : w.walked.substr(0, slash);
      continue;
    }
    const int cur = w.stack.back().get();
    const std::string shown = w.walked + "/" + comp;
    struct stat st {};
    const bool last = w.todo.empty();
    if (::fstatat(cur, comp.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno != ENOENT) return fail(fmt::format("stat {}: {}", shown, errno_text(errno)));
      if (last) return std::optional<Resolved>{found(w, comp, std::nullopt)};
      if (!create_dirs) return std::optional<Resolved>{};
      if (::mkdirat(cur, comp.c_str(), dir_mode) != 0 && errno != EEXIST)
        return fail(fmt::format("create directory {}: {}", shown, errno_text(errno)));
      if (::fstatat(cur, comp.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
        return fail(fmt::format("stat {}: {}", shown, errno_text(errno)));
    }
    if (S_ISLNK(st.st_mode) && (!last || mode == Mode::Read)) {
      if (auto ok = follow_symlink(w, comp, st, shown, mode); !ok) return std::unexpected(ok.error());
      continue;
    }
    if (last) return std::optional<Resolved>{found(w, comp, st)};
    if (!S_ISDIR(st.st_mode)) return fail(fmt::format("{} is not a directory", shown));
    UniqueFd next(::openat(cur, comp.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!next) return fail(fmt::format("open {}: {}", shown, errno_text(errno)));
    if (auto ok = check_dir(next.get(), shown, mode, sticky_dirs); !ok) return std::unexpected(ok.error());
    w.stack.push_back(std::move(next));
    w.walked = shown;
  }
  return fail(fmt::format("{}: cannot resolve", path));
}

Result<std::string> read_all(int fd, const std::string& shown) {
  std::string out;
  char buf[65536];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(fmt::format("read {}: {}", shown, errno_text(errno)));
    }
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

Result<void> write_all(int fd, std::string_view data, const std::string& shown) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(fmt::format("write {}: {}", shown, errno_text(errno)));
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return {};
}

}  // namespace

HostFiles::HostFiles(std::string root, StickyDirs sticky)
    : root_(root.empty() ? "/" : std::move(root)), sticky_(sticky) {}

std::string HostFiles::host_path(const std::string& path) const { return under_root(root_, path); }

Result<std::optional<std::string>> HostFiles::read(const std::string& path) const {
  auto r = resolve(root_, path, Mode::Read, sticky_);
  if (!r) return std::unexpected(context("read " + path, r.error()));
  if (!*r || !(*r)->exists) return std::optional<std::string>{};
  // O_NONBLOCK: opening a FIFO must not hang; non-regular files are refused below.
  UniqueFd fd(::openat((*r)->dir.get(), (*r)->name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK));
  if (!fd) return fail(fmt::format("read {}: {}", path, errno_text(errno)));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode))
    return fail(fmt::format("read {}: not a regular file", path));
  auto content = read_all(fd.get(), path);
  if (!content) return std::unexpected(content.error());
  return std::optional<std::string>{std::move(*content)};
}

Result<std::optional<std::vector<DirEntry>>> HostFiles::list(const std::string& path) const {
  UniqueFd fd;
  if (path == "/") {
    fd.reset(::open(root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  } else {
    auto r = resolve(root_, path, Mode::Read, sticky_);
    if (!r) return std::unexpected(context("list " + path, r.error()));
    if (!*r || !(*r)->exists) return std::optional<std::vector<DirEntry>>{};
    if (!S_ISDIR((*r)->st.st_mode)) return fail(fmt::format("list {}: not a directory", path));
    fd.reset(::openat((*r)->dir.get(), (*r)->name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  }
  if (!fd) return fail(fmt::format("list {}: {}", path, errno_text(errno)));
  UniqueFd for_dir(::dup(fd.get()));
  DIR* d = for_dir ? ::fdopendir(for_dir.get()) : nullptr;
  if (!d) return fail(fmt::format("list {}: {}", path, errno_text(errno)));  // for_dir closes the copy
  for_dir.release();  // closedir closes it now
  std::vector<DirEntry> entries;
  std::optional<Error> failure;
  while (auto* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    struct stat st {};
    if (::fstatat(fd.get(), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) continue;  // removed since readdir: it is no longer there
      failure = Error{fmt::format("list {}: stat {}: {}", path, name, errno_text(errno))};
      break;
    }
    entries.push_back({name, S_ISDIR(st.st_mode), S_ISREG(st.st_mode)});
  }
  ::closedir(d);
  if (failure) return std::unexpected(*failure);
  std::sort(entries.begin(), entries.end(), [](const DirEntry& a, const DirEntry& b) { return a.name < b.name; });
  return std::optional<std::vector<DirEntry>>{std::move(entries)};
}

Result<std::optional<std::string>> HostFiles::read_link(const std::string& path) const {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos || slash + 1 == path.size()) return std::optional<std::string>{};
  const std::string parent = slash == 0 ? "/" : path.substr(0, slash);
  UniqueFd dir;
  if (parent == "/") {
    dir.reset(::open(root_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  } else {
    auto r = resolve(root_, parent, Mode::Read, sticky_);
    if (!r) return std::unexpected(context("readlink " + path, r.error()));
    if (!*r || !(*r)->exists || !S_ISDIR((*r)->st.st_mode)) return std::optional<std::string>{};
    dir.reset(::openat((*r)->dir.get(), (*r)->name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  }
  if (!dir) return fail(fmt::format("readlink {}: {}", path, errno_text(errno)));
  const std::string name = path.substr(slash + 1);
  struct stat st {};
  if (::fstatat(dir.get(), name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISLNK(st.st_mode))
    return std::optional<std::string>{};
  std::string target(static_cast<std::size_t>(st.st_size) + 1, '\0');
  ssize_t n = ::readlinkat(dir.get(), name.c_str(), target.data(), target.size());
  if (n < 0) return fail(fmt::format("readlink {}: {}", path, errno_text(errno)));
  target.resize(static_cast<std::size_t>(n));
  return std::optional<std::string>{std::move(target)};
}

Result<std::optional<FileOwnership>> HostFiles::inspect_for_write(const std::string& path) const {
  auto r = resolve(root_, path, Mode::Write, sticky_);
  if (!r) return std::unexpected(context("write " + path, r.error()));
  if (!*r) return fail(fmt::format("write {}: its directory does not exist", path));
  if (!(*r)->exists) return std::optional<FileOwnership>{};
  const auto& st = (*r)->st;
  if (S_ISLNK(st.st_mode))
    return fail(fmt::format("write {}: is a symlink; nodeimg does not edit through symlinks (point kubelet at the "
                            "real file, or set kubelet.configFile)",
                            path));
  if (!S_ISREG(st.st_mode)) return fail(fmt::format("write {}: not a regular file", path));
  if (const std::string rule = broken_rule(st, StickyDirs::Refused); !rule.empty())
    return fail(fmt::format("write {}: {}: a non-root user could change it; refusing to edit it", path, rule));
  return std::optional<FileOwnership>{FileOwnership{st.st_mode & 07777, st.st_uid, st.st_gid}};
}

Result<void> HostFiles::write_atomic(const std::string& path, std::string_view content,
                                     std::optional<FileOwnership> new_file) const {
  auto owner = inspect_for_write(path);
  if (!owner) return std::unexpected(owner.error());
  const FileOwnership want = owner->value_or(new_file.value_or(FileOwnership{}));
  auto r = resolve(root_, path, Mode::Write, sticky_);
  if (!r || !*r) return fail(fmt::format("write {}: cannot resolve", path));
  const int dir = (*r)->dir.get();
  // A hidden name that is not *.conf: kubelet's drop-in walk ignores it.
  std::random_device rd;
  const std::string tmp = fmt::format(".{}.nodeimg-{:08x}.tmp", (*r)->name, rd());
  UniqueFd fd(::openat(dir, tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd) return fail(fmt::format("write {}: create temporary file: {}", path, errno_text(errno)));
  auto cleanup = [&](Error e) {
    ::unlinkat(dir, tmp.c_str(), 0);
    return std::unexpected(std::move(e));
  };
  if (auto ok = write_all(fd.get(), content, path); !ok) return cleanup(ok.error());
  if (::fchown(fd.get(), want.uid, want.gid) != 0 && ::geteuid() == 0)
    return cleanup(Error{fmt::format("write {}: chown: {}", path, errno_text(errno))});
  if (::fchmod(fd.get(), want.mode) != 0) return cleanup(Error{fmt::format("write {}: chmod: {}", path, errno_text(errno))});
  if (::fsync(fd.get()) != 0) return cleanup(Error{fmt::format("write {}: fsync: {}", path, errno_text(errno))});
  fd.reset();
  if (::renameat(dir, tmp.c_str(), dir, (*r)->name.c_str()) != 0)
    return cleanup(Error{fmt::format("write {}: rename: {}", path, errno_text(errno))});
  if (::fsync(dir) != 0) return fail(fmt::format("write {}: fsync directory: {}", path, errno_text(errno)));
  return {};
}

Result<void> HostFiles::remove(const std::string& path) const {
  auto owner = inspect_for_write(path);
  if (!owner) return std::unexpected(owner.error());
  if (!*owner) return {};
  auto r = resolve(root_, path, Mode::Write, sticky_);
  if (!r || !*r) return fail(fmt::format("remove {}: cannot resolve", path));
  if (::unlinkat((*r)->dir.get(), (*r)->name.c_str(), 0) != 0)
    return fail(fmt::format("remove {}: {}", path, errno_text(errno)));
  if (::fsync((*r)->dir.get()) != 0)
    return fail(fmt::format("remove {}: fsync directory (the removal may not survive a crash): {}", path,
                            errno_text(errno)));
  return {};
}

Result<void> HostFiles::make_directories(const std::string& path, mode_t mode) const {
  auto r = resolve(root_, path + "/.nodeimg-probe", Mode::Write, sticky_, true, mode);
  if (!r) return std::unexpected(context("create directory " + path, r.error()));
  return {};
}

}  // namespace nodeimg
