#include "commands/context.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

#include "adapters/host/host_files.hpp"

namespace nodeimg {

std::string Context::state_dir() const { return NODEIMG_STATEDIR; }

namespace {

std::unexpected<ContextError> invalid(std::string message) {
  return std::unexpected(ContextError{.message = std::move(message)});
}

// --root must name an existing directory: every path nodeimg reads and writes is under it.
Result<void> check_root(const std::string& root) {
  if (root.empty()) return fail("--root: empty path; give the node's root directory (e.g. /mnt/node), or leave --root out");
  struct stat st {};
  if (::stat(root.c_str(), &st) != 0)
    return fail(fmt::format("--root {}: {}; give the directory where the node's filesystem is mounted", root,
                            errno == ENOENT ? "no such directory" : std::strerror(errno)));
  if (!S_ISDIR(st.st_mode))
    return fail(fmt::format("--root {}: not a directory; give the directory where the node's filesystem is mounted", root));
  return {};
}

// What stands at `host_path` instead of a readable file, in words.
std::string not_a_file(const std::string& host_path) {
  struct stat st {};
  if (::stat(host_path.c_str(), &st) != 0) return std::strerror(errno);
  if (S_ISDIR(st.st_mode)) return "is a directory, not a file";
  if (S_ISFIFO(st.st_mode)) return "is a FIFO, not a file";
  if (S_ISSOCK(st.st_mode)) return "is a socket, not a file";
  if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) return "is a device, not a file";
  return "cannot be read";
}

}  // namespace

std::expected<Context, ContextError> load_context(const GlobalOptions& options) {
  Context ctx;
  ctx.options = options;
  if (auto ok = check_root(options.root); !ok) return invalid(ok.error().message);
  // An explicit --config is a host path, read as given; the default lives under --root.
  const bool explicit_path = options.config_path.has_value();
  if (explicit_path && options.config_path->empty())
    return invalid("--config: empty path; name the configuration file (e.g. --config /etc/nodeimg/config.yaml)");
  const HostFiles files(explicit_path ? "/" : options.root);
  const std::string path = explicit_path ? std::filesystem::absolute(*options.config_path).lexically_normal().string()
                                         : std::string(NODEIMG_SYSCONFDIR) + "/nodeimg/config.yaml";
  const std::string shown = explicit_path ? *options.config_path : files.host_path(path);  // as the operator knows it
  const std::string what = explicit_path ? "--config " + shown : "configuration " + shown;
  std::error_code ec;
  if (std::filesystem::is_directory(files.host_path(path), ec) || path.ends_with('/'))
    return invalid(fmt::format("{}: is a directory, not a file; name the configuration file itself", what));
  auto text = files.read(path);
  if (!text) {
    const std::string kind = not_a_file(files.host_path(path));
    return invalid(fmt::format("{}: {}; nodeimg does not fall back to its defaults when its configuration cannot be read",
                               what, kind == "cannot be read" ? kind + " (" + text.error().message + ")" : kind));
  }
  if (!*text) {
    if (explicit_path) return invalid(fmt::format("{}: no such file; check the path", what));
    // A symlink to nothing is a broken configuration, not an absent one: running on the
    // defaults would silently ignore what the operator meant to configure.
    if (std::filesystem::is_symlink(files.host_path(path), ec))
      return invalid(fmt::format("{}: a symbolic link to a file that does not exist{}", what,
                                 ctx.rooted() ? " (under the root)" : ""));
    ctx.config_source = "defaults";
    ctx.missing_default = shown;
    return ctx;
  }
  // A configuration is a few KiB; a huge file is a mistake (or an attack) that would
  // otherwise keep the YAML parser busy for minutes (tests/fault/bad_inputs.py).
  constexpr std::size_t kMaxConfigBytes = 1 << 20;
  if ((*text)->size() > kMaxConfigBytes)
    return invalid(fmt::format("{}: {} bytes; a configuration file is at most {} bytes", shown, (*text)->size(),
                               kMaxConfigBytes));
  auto config = parse_app_config(**text, shown);
  if (!config) return invalid(config.error().message);
  ctx.config = std::move(*config);
  ctx.config_source = shown;
  return ctx;
}

std::string defaults_warning(const Context& ctx) {
  return fmt::format("{} does not exist: running on nodeimg's built-in defaults (see nodeimg.yaml(5)); write that "
                     "file, or pass --config FILE, to say what this node needs",
                     ctx.missing_default);
}

}  // namespace nodeimg
