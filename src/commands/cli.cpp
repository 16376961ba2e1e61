#include "commands/cli.hpp"

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <string_view>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <spdlog/spdlog.h>

#include "commands/completion.hpp"
#include "commands/context.hpp"
#include "commands/doctor/doctor_command.hpp"
#include "commands/gc/gc_command.hpp"
#include "commands/json_output.hpp"
#include "commands/kubelet/kubelet_command.hpp"
#include "commands/logging.hpp"
#include "commands/version.hpp"
#include "core/common/suggest.hpp"

namespace nodeimg {

namespace {

constexpr const char* kExitCodes =
    "Exit status: 0 success (changed or not), 1 the operation failed, 2 usage or configuration error.";

// Global options live on the top-level app; every subcommand lets unknown options fall
// through to it, so `nodeimg --json kubelet status` and `nodeimg kubelet status --json`
// are the same.
void add_global_options(CLI::App& app, GlobalOptions& g) {
  app.add_option("-c,--config", g.config_path,
                 "Configuration file (default: /etc/nodeimg/config.yaml, under --root when given); it must exist and "
                 "be readable: nodeimg never falls back to its defaults for a file it was given")
      ->option_text("FILE");
  app.add_option("--root", g.root,
                 "Treat DIR as the node's filesystem root: read and write under it, read no /proc, restart nothing")
      ->option_text("DIR");
  app.add_flag("--json", g.json, "Machine-readable output on stdout");
  app.add_flag("-v,--verbose", g.verbosity, "More logging (-vv for trace); not with -q");
  app.add_flag("-q,--quiet", g.quiet, "Log warnings and errors only; not with -v");
}

// The policy options shared by `gc` and `images` (what would the next gc do with ...).
// Only what changes what a run decides: --concurrency (how a run removes) is gc's alone.
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
}

constexpr const char* kGcFooter =
    "One run: take the lock (/run/nodeimg/gc.lock), list images, containers and sandboxes, measure the image "
    "filesystem (statvfs), update the history (/var/lib/nodeimg/state.json), plan, remove, report.\n"
    "Phases, in order: exited containers older than containers.minAge; NotReady sandboxes older than "
    "sandboxes.minAge that hold no running container; images unused longer than maxUnusedAge; the least recently "
    "used images over maxImages; then, when usage >= high (blocks) or inodesHigh (inodes), least recently used "
    "images until usage is back at low (re-measured after each step).\n"
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

// ---- Usage errors: what was wrong, where, and the nearest valid spelling ---------------

std::vector<std::string> subcommand_names(const CLI::App& cmd) {
  std::vector<std::string> names;
  for (const auto* sub : cmd.get_subcommands([](const CLI::App*) { return true; })) names.push_back(sub->get_name());
  return names;
}

// "nodeimg kubelet apply": the command's path as typed by the operator.
std::string command_path(const CLI::App* cmd) {
  std::string path = cmd->get_name();
  for (const CLI::App* p = cmd->get_parent(); p; p = p->get_parent()) path = p->get_name() + " " + path;
  return path;
}

// An option of `cmd` or of one of its parents (global options are the root's).
const CLI::Option* find_option(const CLI::App* cmd, const std::string& name) {
  for (; cmd; cmd = cmd->get_parent())
    if (const auto* o = cmd->get_option_no_throw(name); o && o->nonpositional()) return o;
  return nullptr;
}

std::vector<std::string> option_names(const CLI::App* cmd) {
  std::vector<std::string> names;
  for (; cmd; cmd = cmd->get_parent())
    for (const auto* o : cmd->get_options()) {
      for (const auto& l : o->get_lnames()) names.push_back("--" + l);
      for (const auto& sn : o->get_snames()) names.push_back("-" + sn);
    }
  return names;
}

std::string did_you_mean(const std::string& word, const std::vector<std::string>& candidates) {
  auto near = nearest_word(word, candidates);
  return near ? fmt::format("; did you mean \"{}\"?", *near) : std::string(";");
}

// Where the command line went wrong: the problem when a word could not be placed (an
// unknown command or option, with the nearest valid one; an argument a command does not
// take; an option given an empty value), and the deepest command reached, whose --help
// the message points to.
struct Placement {
  std::optional<std::string> problem;
  std::string command = "nodeimg";
};

Placement misplaced_word(const CLI::App& app, int argc, char** argv) {
  const CLI::App* cur = &app;
  const auto placed = [&](std::optional<std::string> problem) {
    return Placement{.problem = std::move(problem), .command = cur == &app ? "nodeimg" : command_path(cur)};
  };
  std::size_t positionals_taken = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--") break;
    if (arg.size() > 1 && arg[0] == '-') {
      // --name, --name=value, -x, -xVALUE or a cluster of short flags (-vv): the name is
      // what comes before "=" (long) or the first letter (short).
      const bool long_form = arg.starts_with("--");
      const std::string name = long_form ? arg.substr(0, arg.find('=')) : arg.substr(0, 2);
      const CLI::Option* opt = find_option(cur, name);
      if (!opt) {
        const std::string where = cur == &app ? "nodeimg" : command_path(cur);
        return placed(fmt::format("unknown option \"{}\" for {}{} see `{} --help`", name, where,
                                  did_you_mean(name, option_names(cur)), where));
      }
      // CLI11 takes the next word as the value of "--config=": refuse the empty value first.
      if (long_form && arg.ends_with('=') && opt->get_items_expected_max() > 0)
        return placed(fmt::format("{}: an empty value; give one, or leave the option out", name));
      const bool value_follows = long_form ? arg.find('=') == std::string::npos : arg.size() == 2;
      if (opt->get_items_expected_max() > 0 && value_follows) ++i;  // skip the option's value
      continue;
    }
    const auto names = subcommand_names(*cur);
    if (std::find(names.begin(), names.end(), arg) != names.end()) {
      cur = cur->get_subcommand(arg);
      positionals_taken = 0;
      continue;
    }
    const auto positionals = cur->get_options([](const CLI::Option* o) { return o->get_positional(); });
    if (positionals_taken < positionals.size()) {
      ++positionals_taken;
      continue;
    }
    const std::string where = cur == &app ? "nodeimg" : command_path(cur);
    if (!names.empty())
      return placed(fmt::format("unknown {}command \"{}\"{} the {}commands are {} (see `{} --help`)",
                                cur == &app ? "" : cur->get_name() + " ", arg, did_you_mean(arg, names),
                                cur == &app ? "" : cur->get_name() + " ", fmt::join(names, ", "), where));
    return placed(fmt::format("unexpected argument \"{}\": `{}` takes no arguments (see `{} --help`)", arg, where, where));
  }
  // Every word placed: a command that needs a subcommand did not get one?
  const std::string where = cur == &app ? "nodeimg" : command_path(cur);
  if (const auto names = subcommand_names(*cur); !names.empty() && cur->get_subcommands().empty())
    return placed(fmt::format("`{}` needs a command: {} (see `{} --help`)", where, fmt::join(names, ", "), where));
  return placed(std::nullopt);
}

// CLI11's own words when every word was placed (a value that does not convert, a missing
// value), pointed at the help of the command concerned.
std::string usage_message(const CLI::App& app, int argc, char** argv, const std::string& cli11_says) {
  const Placement p = misplaced_word(app, argc, argv);
  if (p.problem) return *p.problem;
  return fmt::format("{} (see `{} --help`)", cli11_says, p.command);
}

// Usage errors are exit 2, on stderr as "nodeimg: error: …", and under --json also as the
// error document on stdout. The command line could not be parsed, so --json is looked for
// by hand.
int usage_error(int argc, char** argv, const std::string& message) {
  bool json = false;
  for (int i = 1; i < argc && std::string_view(argv[i]) != "--"; ++i) json = json || std::string_view(argv[i]) == "--json";
  log::setup(0, false);
  spdlog::error("{}", message);
  if (json) std::cout << error_document(message, kExitUsage, std::nullopt) << std::flush;
  return kExitUsage;
}

// Options that contradict each other or mean nothing where they were given.
std::string contradiction(const GlobalOptions& g, bool csv, bool completion) {
  if (g.verbosity > 0 && g.quiet) return "-v/--verbose and -q/--quiet contradict each other; give one of them";
  if (csv && g.json) return "--csv and --json contradict each other: stdout carries one format; give one of them";
  if (completion && (g.json || g.config_path || g.root != "/"))
    return "completion takes no --json, --config or --root: the script it prints describes the commands only";
  return {};
}

// The command line as parsed: every command's flags and the command given. CLI11 binds
// the flags by address, so it stays where run_cli made it.
struct CommandLine {
  GlobalOptions global;
  StatusFlags status;
  ApplyFlags apply;
  RevertFlags revert;
  GcFlags gc;
  ImagesFlags images;
  CompletionFlags completion;
  CLI::App* status_cmd = nullptr;
  CLI::App* apply_cmd = nullptr;
  CLI::App* revert_cmd = nullptr;
  CLI::App* gc_cmd = nullptr;
  CLI::App* images_cmd = nullptr;
  CLI::App* prepull_cmd = nullptr;
  CLI::App* doctor_cmd = nullptr;
  CLI::App* completion_cmd = nullptr;
};

// `kubelet status|apply|revert`.
void add_kubelet_commands(CLI::App& app, CommandLine& cl) {
  auto* kubelet =
      app.add_subcommand("kubelet", "Manage kubelet's image settings (nodeStatusMaxImages, image GC, pulls)");
  kubelet->require_subcommand(1);
  kubelet->fallthrough();
  kubelet->footer(
      "Configuration (kubelet: in /etc/nodeimg/config.yaml): nodeStatusMaxImages (-1, N or auto), settings "
      "(imageGCHighThresholdPercent, imageGCLowThresholdPercent, imageMinimumGCAge, imageMaximumGCAge, "
      "serializeImagePulls, maxParallelImagePulls), configFile, dropInDir, unit, restart, healthz, restartTimeout, "
      "settle.");

  cl.status_cmd = kubelet->add_subcommand(
      "status",
      "Show every configuration source of kubelet, the effective value of each managed setting, where it "
      "comes from, and what apply would change");
  cl.status_cmd->fallthrough();
  cl.status_cmd->add_flag(
      "--check", cl.status.check,
      "Exit 0 when every managed setting is in effect, 3 when one is not (differs on disk, or restart "
      "pending: kubelet started before the file that sets it was written), 1 when apply would refuse");
  cl.status_cmd->footer(
      "Exit status: 0 success (with --check: every managed setting in effect), 1 the files cannot be read "
      "or apply would refuse, 2 usage or configuration error, 3 (--check only) a managed setting is not in "
      "effect.");

  cl.apply_cmd = kubelet->add_subcommand(
      "apply",
      "Make the effective values the configured ones with the smallest safe edit (flag in place, nodeimg's "
      "drop-in, or the config file), restart kubelet over D-Bus, verify it, roll back on failure");
  cl.apply_cmd->fallthrough();
  cl.apply_cmd->add_flag("--dry-run,-n", cl.apply.dry_run,
                         "Print the diff of every file and the restart; change nothing");
  cl.apply_cmd->add_flag("--no-restart", cl.apply.no_restart, "Write the files but do not restart kubelet");
  cl.apply_cmd->add_flag(
      "--defaults", cl.apply.defaults,
      "Apply nodeimg's built-in defaults when /etc/nodeimg/config.yaml does not exist (without it, apply "
      "refuses to change kubelet on a guess)");
  cl.apply_cmd->footer(kExitCodes);

  cl.revert_cmd = kubelet->add_subcommand(
      "revert",
      "Put back the files as they were before nodeimg first touched them (every apply since is undone), "
      "remove the drop-ins it created, and restart kubelet");
  cl.revert_cmd->fallthrough();
  cl.revert_cmd->add_flag("--dry-run,-n", cl.revert.dry_run, "Print what would be restored; change nothing");
  cl.revert_cmd->add_flag("--force", cl.revert.force, "Revert even files that changed since the apply");
  cl.revert_cmd->add_flag("--no-restart", cl.revert.no_restart, "Restore the files but do not restart kubelet");
  cl.revert_cmd->add_flag("--last", cl.revert.last, "Undo only the last apply (one step back)");
  cl.revert_cmd->footer(
      "A file changed or deleted by someone else since nodeimg wrote it stops the revert (nothing is "
      "written) unless --force. " +
      std::string(kExitCodes));
}

// `gc`, `images`, `prepull`: the collector's commands.
void add_collector_commands(CLI::App& app, CommandLine& cl) {
  cl.gc_cmd = app.add_subcommand("gc",
                                 "Collect garbage once: exited containers, NotReady sandboxes, least recently used "
                                 "images down to the low-water mark");
  cl.gc_cmd->fallthrough();
  auto* gc_dry_run = cl.gc_cmd->add_flag("--dry-run,-n", cl.gc.dry_run,
                                         "Print the plan with a reason for every removal and skip; change nothing");
  // A dry run takes no lock, so a lock timeout beside it would be a promise nothing keeps.
  cl.gc_cmd
      ->add_option(
          "--lock-timeout", cl.gc.lock_timeout,
          "How long to wait for another run (the timer's) to finish before giving up with exit 1 (default 30s; "
          "not with --dry-run, which takes no lock)")
      ->capture_default_str()
      ->option_text("DURATION")
      ->excludes(gc_dry_run);
  add_policy_options(*cl.gc_cmd, cl.gc.policy);
  cl.gc_cmd->add_option("--concurrency", cl.gc.policy.concurrency, "Removals in flight at once, 1-64 (gc.concurrency)")
      ->option_text("N");
  cl.gc_cmd
      ->add_option("-o,--output", cl.gc.output, "wide: every column, nothing cut, the long reason beside each code")
      ->check(CLI::IsMember({"wide"}))
      ->option_text("wide");
  cl.gc_cmd->footer(kGcFooter);

  cl.images_cmd = app.add_subcommand(
      "images",
      "List every image: size, first seen, last used, in use by, pinned or protected, and what the next gc "
      "would do with it (read-only)");
  cl.images_cmd->fallthrough();
  cl.images_cmd->add_flag("--csv", cl.images.csv, "CSV on stdout (--json for JSON; not both)");
  add_policy_options(*cl.images_cmd, cl.images.policy);
  cl.images_cmd
      ->add_option("-o,--output", cl.images.output, "wide: every column, nothing cut, the long reason beside each code")
      ->check(CLI::IsMember({"wide"}))
      ->option_text("wide");

  cl.prepull_cmd = app.add_subcommand(
      "prepull",
      "Make sure every image listed in prepull: is present (pulls the missing ones, gc.concurrency at a "
      "time); prepulled images are protected from gc");
  cl.prepull_cmd->fallthrough();
  cl.prepull_cmd->footer(kExitCodes);
}

// `doctor`, `completion`.
void add_other_commands(CLI::App& app, CommandLine& cl) {
  cl.doctor_cmd =
      app.add_subcommand("doctor",
                         "Explain this node's image health: kubelet's image settings and files, the runtime, the disk, "
                         "nodeimg's units, last gc run and state; every finding with why it matters and the fix");
  cl.doctor_cmd->fallthrough();
  cl.doctor_cmd->footer(kDoctorFooter);

  cl.completion_cmd = add_completion_command(app, cl.completion);
}

int dispatch(const CommandLine& cl, const Context& ctx) {
  try {
    if (cl.status_cmd->parsed()) return kubelet_status(ctx, cl.status);
    if (cl.apply_cmd->parsed()) return kubelet_apply(ctx, cl.apply);
    if (cl.revert_cmd->parsed()) return kubelet_revert(ctx, cl.revert);
    if (cl.gc_cmd->parsed()) return gc_run(ctx, cl.gc);
    if (cl.images_cmd->parsed()) return images_list(ctx, cl.images);
    if (cl.prepull_cmd->parsed()) return prepull(ctx);
    if (cl.doctor_cmd->parsed()) return doctor_run(ctx);
  } catch (const std::exception& e) {
    spdlog::critical("fatal: {}", e.what());
    return static_cast<int>(kExitFailed);
  }
  return static_cast<int>(kExitUsage);
}

// After a successful parse: logging, the configuration (a warning when on the built-in
// defaults, for the commands that change the node), the command, and the --json document.
int run_parsed(const CommandLine& cl) {
  log::setup(cl.global.verbosity, cl.global.quiet);
  JsonStdout json_out(cl.global.json);
  // The commands that change the node say which configuration they acted on.
  const bool changes_node = cl.apply_cmd->parsed() || cl.gc_cmd->parsed() || cl.prepull_cmd->parsed();
  auto ctx = load_context(cl.global);
  if (!ctx) {
    spdlog::error("{}", ctx.error().message);
    json_out.finish(ctx.error().exit_code(), std::nullopt);
    return ctx.error().exit_code();
  }
  spdlog::debug("configuration: {}", ctx->config_source);
  // (kubelet apply without --defaults refuses instead, saying the same in its error.)
  const bool refuses = cl.apply_cmd->parsed() && !cl.apply.defaults;
  if (changes_node && ctx->on_defaults() && !refuses) spdlog::warn("{}", defaults_warning(*ctx));
  const int rc = dispatch(cl, *ctx);
  json_out.finish(rc, changes_node ? std::optional<std::string>(ctx->config_source) : std::nullopt);
  return rc;
}

}  // namespace

// The command-line table (one block per command, in the order --help lists them), parse,
// then run what was asked.
int run_cli(int argc, char** argv) {
  CLI::App app{"nodeimg: keeps a Kubernetes node's container image cache healthy.\n"
               "Makes kubelet's image settings (nodeStatusMaxImages, ...) what you configured, safely, and collects\n"
               "unused images, exited containers and dead sandboxes before the disk fills (containerd, CRI-O, Docker)."};
  app.name("nodeimg");
  app.footer(kExitCodes);
  // Whole lines on stdout even into a pipe or a file shared with stderr (2>&1): a log line
  // never lands inside a result line. (--json holds the document back and writes it once.)
  std::setvbuf(stdout, nullptr, _IOLBF, 0);
  app.set_version_flag("--version", version_text());
  app.require_subcommand(1);
  app.fallthrough();
  CommandLine cl;
  add_global_options(app, cl.global);
  add_kubelet_commands(app, cl);
  add_collector_commands(app, cl);
  add_other_commands(app, cl);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return usage_error(argc, argv, usage_message(app, argc, argv, e.what()));
  }
  if (auto problem = contradiction(cl.global, cl.images_cmd->parsed() && cl.images.csv, cl.completion_cmd->parsed());
      !problem.empty())
    return usage_error(argc, argv, problem);
  if (cl.completion_cmd->parsed()) return completion_print(app, cl.completion, std::cout);
  return run_parsed(cl);
}

}  // namespace nodeimg
