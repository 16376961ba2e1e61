#pragma once
// `nodeimg completion bash`: a shell completion script generated from the CLI's own
// definition (the CLI11 App tree), so completion can never drift from the options.
#include <iosfwd>
#include <string>

namespace CLI {
class App;
}

namespace nodeimg {

struct CompletionFlags {
  std::string shell;
};

// Adds `completion SHELL` to the root app. After parsing, when the returned subcommand
// was parsed, call completion_print (before loading any configuration: it needs none).
CLI::App* add_completion_command(CLI::App& app, CompletionFlags& flags);

// Writes the completion script for `flags.shell` describing every subcommand and option
// reachable from `root`; returns the exit code (0).
int completion_print(const CLI::App& root, const CompletionFlags& flags, std::ostream& out);

}  // namespace nodeimg
