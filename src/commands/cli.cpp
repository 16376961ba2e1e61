#include "commands/cli.hpp"

#include <iostream>

#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include "commands/completion.hpp"
#include "commands/context.hpp"
#include "commands/doctor/doctor_command.hpp"
#include "commands/gc/gc_command.hpp"
#include "commands/kubelet/kubelet_command.hpp"
#include "commands/logging.hpp"
#include "commands/version.hpp"

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

// The policy options shared by `gc` and `images` (what would the next gc do with ...).
void add_policy_options(CLI::App& cmd, PolicyOverrides& o) {
  cmd.add_option("--high", o.high, "Start when the image filesystem is this full: 75% used, or \"20GiB free\" (gc.high)")
      ->option_text("THRESHOLD");
  cmd.add_option("--low", o.low, "Free down to this: 65%, or \"30GiB free\"; must be below --high (gc.low)")
      ->option_text("THRESHOLD");
  cmd.add_option("--inodes-high", o.inodes_high, "Start when this share of inodes is used, e.g. 90% (gc.inodesHigh)")
      ->option_text("PERCENT");
  cmd.add_option("--min-age", o.min_age, "Never remove an image first seen less than this ago, e.g. 1h (gc.minAge)")
      ->option_text("DURATION");
  cmd.add_option("--max-unused-age", o.max_unused_age,
                 "Remove images unused for longer than this, whatever the disk; 0 = off (gc.maxUnusedAge)")
      ->option_text("DURATION");
  cmd.add_option("--max-images", o.max_images, "Keep at most N images on the node; 0 = off (gc.maxImages)")
      ->option_text("N");
  cmd.add_option("--keep", o.keep, "Never remove images matching this glob or regex:EXPR (adds to gc.keep; repeatable)")
      ->option_text("PATTERN");
  cmd.add_option("--concurrency", o.concurrency, "Removals in flight at once, 1-64 (gc.concurrency)")->option_text("N");
}

constexpr const char* kGcFooter =
    "One run: take the lock (/run/nodeimg/gc.lock), list images, containers and sandboxes, measure the image "
    "filesystem (statvfs), update the history (/var/lib/nodeimg/state.json), plan, remove, report.\n"
    "Phases, in order: exited containers older than containers.minAge; NotReady sandboxes older than "
    "sandboxes.minAge that hold no running container; images unused longer than maxUnusedAge; the least recently "
    "used images over maxImages; then, when usage >= high (blocks) or inodesHigh (inodes), least recently used "
    "images until usage is back at low (re-measured after each batch).\n"
    "Never removed: pinned images, the sandbox (pause) image, images used by any container or sandbox in any state, "
    "images matching keep, keepNewest or prepull, images first seen less than minAge ago.\n"
    "Configuration: gc:, runtime:, metrics: in /etc/nodeimg/config.yaml (see docs/gc.md).\n"
    "Exit status: 0 success (also when low could not be reached: see \"shortfalls\"), 1 the runtime could not be "
    "reached or a removal failed, 2 usage or configuration error.";

constexpr const char* kDoctorFooter =
    "Checks: the prepuller trap (kubelet's nodeStatusMaxImages against the images the runtime holds) and the size of "
    "Node.status.images; kubelet flags that override its files; keys kubelet does not know; drop-ins without "
    "apiVersion/kind; the runtime (endpoint, version, sandbox image); the image filesystem against gc.high/gc.low and "
    "kubelet's imageGCHighThresholdPercent; nodeimg-gc.timer (enabled, next run), the last gc run's result and age, "
    "nodeimg-kubelet.service; the gc history, the last kubelet apply record and a pending revert; the metrics file.\n"
    "Every finding: a severity (ok, info, warning, error), what was seen, why it matters and the fix (docs/doctor.md).\n"
    "--json prints the findings as JSON; under --root only files are read, and what was skipped is listed.\n"
    "Exit status: 0 nothing needs attention, 1 a warning or an error, 2 usage or configuration error.";

}  // namespace

// A long but flat function on purpose: the command-line table (one block per command, in
// the order --help lists them), then parse, load the configuration and dispatch.
int run_cli(int argc, char** argv) {
  CLI::App app{"nodeimg: keeps a Kubernetes node's container image cache healthy.\n"
               "Makes kubelet's image settings (nodeStatusMaxImages, ...) what you configured, safely, and collects\n"
               "unused images, exited containers and dead sandboxes before the disk fills (containerd, CRI-O, Docker)."};
  app.name("nodeimg");
  app.footer(kExitCodes);
  app.set_version_flag("--version", version_text());
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

  GcFlags gc_flags;
  auto* gc = app.add_subcommand("gc", "Collect garbage once: exited containers, NotReady sandboxes, least recently used "
                                      "images down to the low-water mark");
  gc->fallthrough();
  gc->add_flag("--dry-run,-n", gc_flags.dry_run, "Print the plan with a reason for every removal and skip; change nothing");
  gc->add_option("--lock-timeout", gc_flags.lock_timeout,
                 "How long to wait for another run (the timer's) to finish before giving up with exit 1 (default 30s)")
      ->capture_default_str()
      ->option_text("DURATION");
  add_policy_options(*gc, gc_flags.policy);
  gc->add_option("-o,--output", gc_flags.output, "wide: every column, nothing cut, the long reason beside each code")
      ->check(CLI::IsMember({"wide"}))->option_text("wide");
  gc->footer(kGcFooter);

  ImagesFlags images_flags;
  auto* images = app.add_subcommand(
      "images", "List every image: size, first seen, last used, in use by, pinned or protected, and what the next gc "
                "would do with it (read-only)");
  images->fallthrough();
  images->add_flag("--csv", images_flags.csv, "CSV on stdout (--json for JSON)");
  add_policy_options(*images, images_flags.policy);
  images->add_option("-o,--output", images_flags.output, "wide: every column, nothing cut, the long reason beside each code")
      ->check(CLI::IsMember({"wide"}))->option_text("wide");

  auto* prepull_cmd = app.add_subcommand(
      "prepull", "Make sure every image listed in prepull: is present (pulls the missing ones, gc.concurrency at a "
                 "time); prepulled images are protected from gc");
  prepull_cmd->fallthrough();
  prepull_cmd->footer(kExitCodes);

  auto* doctor_cmd = app.add_subcommand(
      "doctor", "Explain this node's image health: kubelet's image settings and files, the runtime, the disk, "
                "nodeimg's units, last gc run and state; every finding with why it matters and the fix");
  doctor_cmd->fallthrough();
  doctor_cmd->footer(kDoctorFooter);

  CompletionFlags completion_flags;
  auto* completion = add_completion_command(app, completion_flags);

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

  if (completion->parsed()) return completion_print(app, completion_flags, std::cout);
  log::setup(g.verbosity, g.quiet);
  auto ctx = load_context(g);
  if (!ctx) {
    spdlog::error("{}", ctx.error().message);
    return ctx.error().exit_code();
  }
  spdlog::debug("configuration: {}", ctx->config_source);

  if (status->parsed()) return kubelet_status(*ctx);
  if (apply->parsed()) return kubelet_apply(*ctx, apply_flags);
  if (revert->parsed()) return kubelet_revert(*ctx, revert_flags);
  if (gc->parsed()) return gc_run(*ctx, gc_flags);
  if (images->parsed()) return images_list(*ctx, images_flags);
  if (prepull_cmd->parsed()) return prepull(*ctx);
  if (doctor_cmd->parsed()) return doctor_run(*ctx);
  return kExitUsage;
}

}  // namespace nodeimg
