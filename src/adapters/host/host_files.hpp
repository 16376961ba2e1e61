#pragma once
// The node's files, seen from `root` ("/" on a node, or --root DIR for images, chroots and
// tests). Paths are always the node's absolute paths; symlinks resolve inside root.
//
// Reading follows symlinks. Writing is strict: every directory on the way (from root
// down) and every symlink followed must be owned by root (or by the user running nodeimg)
// and not writable by group or others; the target must be a regular file, not a symlink,
// owned by root (or that user) and not writable by group or others; and the write is
// atomic (temporary file in the same directory, fsync, rename, fsync of the directory),
// keeping the file's mode and owner. Sticky world-writable directories (/tmp) are
// accepted for nodeimg's own state and metrics but refused for kubelet's files
// (StickyDirs::Refused): anyone may create names there. Directories above `root` are the
// caller's (under --root, a test's /tmp) and are not checked.
#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>

#include "core/common/file_tree.hpp"

namespace nodeimg {

struct FileOwnership {
  mode_t mode = 0644;
  uid_t uid = 0;
  gid_t gid = 0;
};

enum class StickyDirs { Trusted, Refused };

class HostFiles final : public FileTree {
 public:
  explicit HostFiles(std::string root = "/", StickyDirs sticky = StickyDirs::Trusted);

  Result<std::optional<std::string>> read(const std::string& path) const override;
  Result<std::optional<std::vector<DirEntry>>> list(const std::string& path) const override;
  Result<std::optional<std::string>> read_link(const std::string& path) const override;

  // The ownership of an existing regular file (nullopt when absent), with the strict
  // checks of a write, so a plan can be refused before anything is written.
  Result<std::optional<FileOwnership>> inspect_for_write(const std::string& path) const;

  // Replaces or creates `path` atomically. An existing file keeps its mode and owner; a
  // new one gets `new_file` (default 0644 root:root).
  Result<void> write_atomic(const std::string& path, std::string_view content,
                            std::optional<FileOwnership> new_file = std::nullopt) const;
  Result<void> remove(const std::string& path) const;
  // Creates missing directories (mode `mode`) on the way to `path`.
  Result<void> make_directories(const std::string& path, mode_t mode) const;

  // Where `path` is on this machine: root joined with path, for messages and statvfs.
  std::string host_path(const std::string& path) const;
  const std::string& root() const { return root_; }

 private:
  std::string root_;
  StickyDirs sticky_;
};

}  // namespace nodeimg
