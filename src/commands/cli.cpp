#include "commands/cli.hpp"

#include <iostream>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "commands/context.hpp"
#include "commands/kubelet_command.hpp"
#include "commands/logging.hpp"

namespace nodeimg {

namespace {

constexpr const char* kExitCodes =
    "Exit status: 0 success (changed or not), 1 the operation failed, 2 usage or configuration error.";

// Global options live on the top-level app; every subcommand lets unknown options fall
// through to it, so `nodeimg --json kubelet status` and `nodeimg kubelet status --json`
// are the same.
void add_global_options(CLI::App& app, GlobalOptions& g) {
  app.add_option("-c,--config", g.config_path,
                 "Configuration file (default: /etc/nodeimg/config.yaml, under --root when given)");
  app.add_option("--root", g.root,
                 "Treat DIR as the node's filesystem root: read and write under it, read no /proc, restart nothing")
      ->option_text("DIR");
  app.add_flag("--json", g.json, "Machine-readable output on stdout");
  app.add_flag("-v,--verbose", g.verbosity, "More logging (-vv for trace)");
  app.add_flag("-q,--quiet", g.quiet, "Log warnings and errors only");
}

}  // namespace

int run_cli(int argc, char** argv) {
  CLI::App app{"nodeimg: keeps a Kubernetes node's container image cache healthy.\n"
               "Makes kubelet's image settings (nodeStatusMaxImages, ...) what you configured, safely."};
  app.name("nodeimg");
  app.footer(kExitCodes);
  app.set_version_flag("--version", NODEIMG_VERSION);
  app.require_subcommand(1);
  app.fallthrough();
  GlobalOptions g;
  add_global_options(app, g);

  auto* kubelet = app.add_subcommand("kubelet", "Manage kubelet's image settings (nodeStatusMaxImages, image GC, pulls)");
  kubelet->require_subcommand(1);
  kubelet->fallthrough();
  kubelet->footer(
      "Configuration (kubelet: in /etc/nodeimg/config.yaml): nodeStatusMaxImages (-1, N or auto), settings "
      "(imageGCHighThresholdPercent, imageGCLowThresholdPercent, imageMinimumGCAge, imageMaximumGCAge, "
      "serializeImagePulls, maxParallelImagePulls), configFile, dropInDir, unit, restart, healthz, restartTimeout, "
      "settle.");

  auto* status = kubelet->add_subcommand(
      "status", "Show every configuration source of kubelet, the effective value of each managed setting, where it "
                "comes from, and what apply would change");
  status->fallthrough();

  ApplyFlags apply_flags;
  auto* apply = kubelet->add_subcommand(
      "apply", "Make the effective values the configured ones with the smallest safe edit (flag in place, nodeimg's "
               "drop-in, or the config file), restart kubelet over D-Bus, verify it, roll back on failure");
  apply->fallthrough();
  apply->add_flag("--dry-run,-n", apply_flags.dry_run, "Print the diff of every file and the restart; change nothing");
  apply->add_flag("--no-restart", apply_flags.no_restart, "Write the files but do not restart kubelet");
  apply->footer(kExitCodes);

  RevertFlags revert_flags;
  auto* revert = kubelet->add_subcommand("revert", "Put back the files as they were before nodeimg's last apply, and restart kubelet");
  revert->fallthrough();
  revert->add_flag("--dry-run,-n", revert_flags.dry_run, "Print what would be restored; change nothing");
  revert->add_flag("--force", revert_flags.force, "Revert even files that changed since the apply");
  revert->add_flag("--no-restart", revert_flags.no_restart, "Restore the files but do not restart kubelet");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitUsage;
  }

  log::setup(g.verbosity, g.quiet);
  auto ctx = load_context(g);
  if (!ctx) {
    spdlog::error("{}", ctx.error().message);
    return kExitUsage;
  }
  spdlog::debug("configuration: {}", ctx->config_source);

  if (status->parsed()) return kubelet_status(*ctx);
  if (apply->parsed()) return kubelet_apply(*ctx, apply_flags);
  if (revert->parsed()) return kubelet_revert(*ctx, revert_flags);
  return kExitUsage;
}

}  // namespace nodeimg
