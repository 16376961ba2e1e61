#pragma once
// What every command receives: the global options and the loaded configuration.
#include <optional>
#include <string>

#include "core/config/app_config.hpp"

namespace nodeimg {

// Exit codes, documented in nodeimg(8) and the README.
enum ExitCode : int { kExitOk = 0, kExitFailed = 1, kExitUsage = 2 };

struct GlobalOptions {
  std::optional<std::string> config_path;  // absent: the default under root; never empty
  std::string root = "/";
  bool json = false;
  int verbosity = 0;
  bool quiet = false;
};

struct Context {
  GlobalOptions options;
  AppConfig config;
  // The file read, as the operator knows it, or "defaults" when the default file does not
  // exist (the value of "configuration" in --json documents).
  std::string config_source;
  // The default file that was looked for (set when config_source is "defaults").
  std::string missing_default;
  bool on_defaults() const { return config_source == "defaults"; }
  bool rooted() const { return options.root != "/"; }
  std::string state_dir() const;  // node path
};

// Why the configuration could not be loaded. Every failure to load the configuration is a
// configuration error (exit 2): a --config that is missing, a directory, a FIFO or
// unreadable, a default file that is there but cannot be read, an invalid file. nodeimg
// never falls back to its defaults because a file it was pointed at could not be read.
struct ContextError {
  std::string message;
  ExitCode exit_code() const { return kExitUsage; }
};

// Reads the configuration named by the options: an explicit --config must be a readable
// file; a missing default file means the built-in defaults (see Context::on_defaults).
std::expected<Context, ContextError> load_context(const GlobalOptions& options);

// The warning commands that change the node give when they run on the built-in defaults.
std::string defaults_warning(const Context& ctx);

}  // namespace nodeimg
