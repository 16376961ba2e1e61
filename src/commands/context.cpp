#include "commands/context.hpp"

#include <filesystem>

#include <fmt/format.h>

#include "adapters/host/host_files.hpp"

namespace nodeimg {

std::string Context::state_dir() const { return NODEIMG_STATEDIR; }

namespace {

std::unexpected<ContextError> unreadable(const Error& e) {
  return std::unexpected(ContextError{.kind = ContextError::Kind::Unreadable, .message = e.message});
}

std::unexpected<ContextError> invalid(std::string message) {
  return std::unexpected(ContextError{.kind = ContextError::Kind::Invalid, .message = std::move(message)});
}

}  // namespace

std::expected<Context, ContextError> load_context(const GlobalOptions& options) {
  Context ctx;
  ctx.options = options;
  // An explicit --config is a host path, read as given; the default lives under --root.
  const bool explicit_path = !options.config_path.empty();
  const HostFiles files(explicit_path ? "/" : options.root);
  const std::string path = explicit_path ? std::filesystem::absolute(options.config_path).lexically_normal().string()
                                         : std::string(NODEIMG_SYSCONFDIR) + "/nodeimg/config.yaml";
  const std::string shown = explicit_path ? options.config_path : files.host_path(path);  // as the operator knows it
  auto text = files.read(path);
  if (!text) return unreadable(context("read configuration " + shown, text.error()));
  if (!*text) {
    if (explicit_path) return invalid(fmt::format("read configuration {}: cannot open (no such file)", shown));
    // A symlink to nothing is a broken configuration, not an absent one: running on the
    // defaults would silently ignore what the operator meant to configure.
    std::error_code ec;
    if (std::filesystem::is_symlink(files.host_path(path), ec))
      return invalid(fmt::format("read configuration {}: a symbolic link to a file that does not exist{}", shown,
                                 options.root.empty() || options.root == "/" ? "" : " (under the root)"));
    ctx.config_source = "defaults (" + shown + " does not exist)";
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

}  // namespace nodeimg
