#include "commands/context.hpp"

#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "adapters/host/host_files.hpp"

namespace nodeimg {

std::string Context::state_dir() const { return NODEIMG_STATEDIR; }

Result<Context> load_context(const GlobalOptions& options) {
  Context ctx;
  ctx.options = options;
  std::optional<std::string> text;
  std::string shown;
  if (!options.config_path.empty()) {
    // An explicit --config is a host path, read as given.
    std::ifstream in(options.config_path, std::ios::binary);
    if (!in) return fail(fmt::format("read configuration {}: cannot open", options.config_path));
    std::ostringstream s;
    s << in.rdbuf();
    text = s.str();
    shown = options.config_path;
  } else {
    HostFiles files(options.root);
    const std::string path = std::string(NODEIMG_SYSCONFDIR) + "/nodeimg/config.yaml";
    auto content = files.read(path);
    if (!content) return std::unexpected(content.error());
    text = *content;
    shown = files.host_path(path);
  }
  if (!text) {
    ctx.config_source = "defaults (" + shown + " does not exist)";
    return ctx;
  }
  auto config = parse_app_config(*text, shown);
  if (!config) return std::unexpected(config.error());
  ctx.config = std::move(*config);
  ctx.config_source = shown;
  return ctx;
}

}  // namespace nodeimg
