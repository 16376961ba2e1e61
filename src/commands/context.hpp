#pragma once
// What every command receives: the global options and the loaded configuration.
#include <string>

#include "core/config/app_config.hpp"

namespace nodeimg {

// Exit codes, documented in nodeimg(1) and the README.
enum ExitCode : int { kExitOk = 0, kExitFailed = 1, kExitUsage = 2 };

struct GlobalOptions {
  std::string config_path;  // empty: the default under root
  std::string root = "/";
  bool json = false;
  int verbosity = 0;
  bool quiet = false;
};

struct Context {
  GlobalOptions options;
  AppConfig config;
  std::string config_source;  // the file read, or "defaults"
  bool rooted() const { return options.root != "/"; }
  std::string state_dir() const;  // node path
};

// Why the configuration could not be loaded, which decides the exit status: a file that
// is there but cannot be read is an operation that failed (1); a missing explicit --config
// or an invalid file is a usage or configuration error (2).
struct ContextError {
  enum class Kind { Unreadable, Invalid };
  Kind kind = Kind::Invalid;
  std::string message;
  ExitCode exit_code() const { return kind == Kind::Unreadable ? kExitFailed : kExitUsage; }
};

// Reads the configuration named by the options (a missing default file means
// defaults; a missing explicit --config is an error).
std::expected<Context, ContextError> load_context(const GlobalOptions& options);

}  // namespace nodeimg
