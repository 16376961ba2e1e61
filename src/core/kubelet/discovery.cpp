#include "core/kubelet/discovery.hpp"

#include <algorithm>
#include <cctype>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <yaml-cpp/yaml.h>

#include "core/common/text.hpp"
#include "core/kubelet/settings.hpp"
#include "core/kubelet/microk8s.hpp"
#include "core/kubelet/unit_choice.hpp"

namespace nodeimg::kubelet {

const Flag* Sources::flag(std::string_view name) const {
  const Flag* found = nullptr;
  for (const auto& f : flags)
    if (f.name == name) found = &f;
  return found;
}

const std::vector<std::string>& candidate_units() {
  static const std::vector<std::string> units = {
      "kubelet.service",    "k3s.service",        "k3s-agent.service",
      "rke2-server.service", "rke2-agent.service", "snap.microk8s.daemon-kubelite.service",
  };
  return units;
}

const std::vector<std::string>& unit_search_path() {
  static const std::vector<std::string> dirs = {
      "/etc/systemd/system", "/run/systemd/system", "/usr/local/lib/systemd/system",
      "/usr/lib/systemd/system", "/lib/systemd/system",
  };
  return dirs;
}

bool is_vendor_unit_path(std::string_view path) {
  return path.starts_with("/usr/lib/systemd/") || path.starts_with("/lib/systemd/");
}

std::string normalize_path(std::string_view path, std::string_view working_dir) {
  std::string joined = path.starts_with('/') ? std::string(path) : std::string(working_dir) + "/" + std::string(path);
  std::vector<std::string_view> parts{};
  std::string_view rest = joined;
  while (!rest.empty()) {
    const auto slash = rest.find('/');
    std::string_view part = rest.substr(0, slash);
    rest = slash == std::string_view::npos ? std::string_view{} : rest.substr(slash + 1);
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (!parts.empty()) parts.pop_back();
      continue;
    }
    parts.push_back(part);
  }
  std::string out{};
  for (auto p : parts) out += "/" + std::string(p);
  return out.empty() ? "/" : out;
}

std::string normalize_flag_name(std::string_view name) {
  std::string out(name);
  std::replace(out.begin(), out.end(), '_', '-');
  return out;
}

namespace {

// Config files of the distributions in kubelet.md, tried when neither a process nor a
// unit tells where the configuration is.
const std::vector<std::string>& well_known_config_files() {
  static const std::vector<std::string> paths = {
      "/var/lib/kubelet/config.yaml",                 // kubeadm, kind
      "/var/lib/kubelet/config",                      // Phalanx documentation
      "/etc/kubernetes/kubelet/config.json",          // EKS AL2023 (nodeadm)
      "/etc/kubernetes/kubelet/kubelet-config.json",  // EKS AL2
      "/home/kubernetes/kubelet-config.yaml",         // GKE
      "/etc/default/kubeletconfig.json",              // AKS
      "/etc/kubernetes/kubelet-config.yaml",          // kubespray
  };
  return paths;
}

// k3s and RKE2 run kubelet inside their own binary.
struct Distribution {
  std::string name{};         // "k3s" / "rke2"
  std::string dropin_dir{};   // the --config-dir they give kubelet
  std::string config_yaml{};  // their own configuration, with kubelet-arg entries
};
std::optional<Distribution> embedding_distribution(std::string_view unit) {
  if (unit.starts_with("k3s"))
    return Distribution{"k3s", "/var/lib/rancher/k3s/agent/etc/kubelet.conf.d", "/etc/rancher/k3s/config.yaml"};
  if (unit.starts_with("rke2"))
    return Distribution{"rke2", "/var/lib/rancher/rke2/agent/etc/kubelet.conf.d", "/etc/rancher/rke2/config.yaml"};
  return std::nullopt;
}

bool is_boolean_flag(std::string_view name) {
  const auto* spec = find_setting_by_flag(name);
  return spec && spec->kind == SettingKind::Boolean;
}

Flag make_flag(std::string_view spelled, const systemd::Word& word) {
  Flag f;
  f.spelling = std::string(spelled);
  f.name = normalize_flag_name(spelled);
  f.origin = word.origin;
  f.variable = word.variable;
  if (!word.value_variable.empty()) {
    f.value_variable = word.value_variable;
    f.value_origin = word.value_origin;
  }
  return f;
}

// kubelet's flags from its command line (argv[0] first).
std::vector<Flag> parse_flags(const std::vector<systemd::Word>& words) {
  std::vector<Flag> flags{};
  for (std::size_t i = 1; i < words.size(); ++i) {
    const std::string& w = words[i].text;
    if (w == "--") break;
    if (!w.starts_with("--") || w.size() == 2) continue;
    auto eq = w.find('=');
    Flag f = make_flag(w.substr(2, eq == std::string::npos ? std::string::npos : eq - 2), words[i]);
    if (eq != std::string::npos) {
      f.value = w.substr(eq + 1);
    } else if (!is_boolean_flag(f.name) && i + 1 < words.size() && !words[i + 1].text.starts_with("--")) {
      // kubelet takes no positional arguments, so the next word is this flag's value.
      f.value = words[++i].text;
      if (!words[i].value_variable.empty() || words[i].origin.file != f.origin->file ||
          words[i].origin.line != f.origin->line)
        f.not_editable = "its value is a separate word written in another place";
    }
    flags.push_back(std::move(f));
  }
  return flags;
}

// One k3s/RKE2 kubelet-arg ("node-status-max-images=5" or "--node-status-max-images=5").
Flag kubelet_arg_flag(std::string_view arg, const systemd::Origin& origin, std::string why) {
  if (arg.starts_with("--")) arg.remove_prefix(2);
  const auto eq = arg.find('=');
  systemd::Word word{.text = std::string(arg), .origin = origin};
  Flag f = make_flag(arg.substr(0, eq), word);
  if (eq != std::string_view::npos) f.value = std::string(arg.substr(eq + 1));
  f.not_editable = std::move(why);
  return f;
}

std::vector<systemd::Word> plain_words(const std::vector<std::string>& argv) {
  std::vector<systemd::Word> words{};
  for (const auto& a : argv) words.push_back({.text = a});
  return words;
}

Result<void> walk_dropins(const FileTree& files, const std::string& dir, std::vector<std::string>& out) {
  auto entries = files.list(dir);
  if (!entries) return std::unexpected(entries.error());
  if (!*entries) return {};
  for (const auto& e : **entries) {
    const std::string path = dir + "/" + e.name;
    if (e.is_directory) {
      if (auto r = walk_dropins(files, path, out); !r) return r;
    } else if (e.name.ends_with(".conf")) {
      out.push_back(path);
    }
  }
  return {};
}

}  // namespace

// systemd's drop-in directory names for a unit (dropin.c): the unit's own, its template's
// (foo@.service for foo@x.service), then each dash prefix, most specific first
// (foo-bar-baz.service: foo-bar-.service, foo-.service); a leading dash ends the walk.
std::vector<std::string> dropin_unit_names(const std::string& name) {
  std::vector<std::string> out = {name};
  const auto dot = name.rfind('.');
  if (dot == std::string::npos || dot == 0) return out;
  const std::string type = name.substr(dot + 1);
  const std::string stem = name.substr(0, dot);  // "foo-bar@x" or "foo-bar"
  const auto at = stem.find('@');
  const std::string instance = at == std::string::npos ? "" : stem.substr(at + 1);
  if (at != std::string::npos && !instance.empty()) {
    auto from_template = dropin_unit_names(stem.substr(0, at + 1) + "." + type);
    out.insert(out.end(), from_template.begin(), from_template.end());
  }
  std::string prefix = stem.substr(0, at);
  bool chopped = false;
  for (;;) {
    const auto dash = prefix.rfind('-');
    if (dash == std::string::npos || dash == 0) return out;
    if (dash + 1 < prefix.size() || chopped) {
      prefix.resize(dash + 1);
      break;
    }
    prefix.resize(dash);  // a trailing dash (this is already a prefix name): chop it once
    chopped = true;
  }
  const std::string built = prefix + (instance.empty() ? "" : "@" + instance) + "." + type;
  auto more = dropin_unit_names(built);
  out.insert(out.end(), more.begin(), more.end());
  return out;
}

// Every directory systemd reads drop-ins of `name` from, highest precedence first: in each
// search-path directory the unit's own names (above), then, after all of them, the unit
// type's directory (service.d) in each search-path directory.
std::vector<std::string> unit_dropin_dirs(const std::string& name) {
  std::vector<std::string> dirs{};
  const auto names = dropin_unit_names(name);
  for (const auto& root : unit_search_path())
    for (const auto& n : names) dirs.push_back(root + "/" + n + ".d");
  if (const auto dot = name.rfind('.'); dot != std::string::npos)
    for (const auto& root : unit_search_path()) dirs.push_back(root + "/" + name.substr(dot + 1) + ".d");
  return dirs;
}

namespace {

// Drop-ins: a file name in an earlier directory of unit_dropin_dirs hides the same name
// later (a link to /dev/null hides it entirely); the survivors apply in name order,
// whichever directory they are in.
Result<std::vector<std::string>> collect_unit_dropins(const FileTree& files, const std::string& name) {
  std::map<std::string, std::string> dropins;  // name -> path ("" = masked)
  for (const auto& dir : unit_dropin_dirs(name)) {
    auto entries = files.list(dir);
    if (!entries) return std::unexpected(entries.error());
    if (!*entries) continue;
    for (const auto& e : **entries) {
      if (e.is_directory || !e.name.ends_with(".conf") || dropins.contains(e.name)) continue;
      auto link = files.read_link(dir + "/" + e.name);
      if (!link) return std::unexpected(link.error());
      const bool masked = *link && normalize_path(**link, dir) == "/dev/null";
      dropins[e.name] = masked ? "" : dir + "/" + e.name;
    }
  }
  std::vector<std::string> out{};
  for (const auto& [n, path] : dropins)
    if (!path.empty()) out.push_back(path);
  return out;
}

// Every [Service] directive of the unit, fragment first, specifiers expanded.
Result<std::vector<systemd::Directive>> service_directives(const FileTree& files, const UnitSources& unit,
                                                           const DiscoveryOptions& options, Sources& sources) {
  std::vector<systemd::Directive> out{};
  std::vector<std::string> unit_files = {unit.fragment};
  unit_files.insert(unit_files.end(), unit.drop_ins.begin(), unit.drop_ins.end());
  const systemd::SpecifierContext spec{.unit = unit.name, .fragment = unit.fragment, .hostname = options.hostname};
  for (const auto& path : unit_files) {
    if (!sources.contents.contains(path)) {
      auto content = files.read(path);
      if (!content) return std::unexpected(content.error());
      sources.contents[path] = content->value_or("");
    }
    auto parsed = systemd::parse_unit_file(path, sources.contents[path]);
    if (!parsed) return std::unexpected(parsed.error());
    for (auto& d : *parsed) {
      if (d.section != "Service") continue;
      if (d.key == "Environment" || d.key == "EnvironmentFile" || d.key == "ExecStart" || d.key == "WorkingDirectory") {
        auto expanded = systemd::expand_specifiers(d.value, spec, d.origin);
        if (!expanded) return std::unexpected(expanded.error());
        d.value = std::move(*expanded);
      }
      out.push_back(std::move(d));
    }
  }
  return out;
}

// systemd's fnmatch() without flags, for EnvironmentFile= wildcards: `*`, `?`, `[...]`.
bool glob_match(std::string_view pattern, std::string_view name) {
  if (pattern.empty()) return name.empty();
  if (pattern[0] == '*')
    return glob_match(pattern.substr(1), name) || (!name.empty() && glob_match(pattern, name.substr(1)));
  if (name.empty()) return false;
  if (pattern[0] == '?') return glob_match(pattern.substr(1), name.substr(1));
  if (pattern[0] == '[') {
    const auto close = pattern.find(']', 2);
    if (close != std::string_view::npos) {
      std::string_view set = pattern.substr(1, close - 1);
      const bool negate = !set.empty() && (set[0] == '!' || set[0] == '^');
      if (negate) set.remove_prefix(1);
      bool in = false;
      for (std::size_t i = 0; i < set.size(); ++i) {
        if (i + 2 < set.size() && set[i + 1] == '-') {
          in = in || (name[0] >= set[i] && name[0] <= set[i + 2]);
          i += 2;
        } else {
          in = in || name[0] == set[i];
        }
      }
      return in != negate && glob_match(pattern.substr(close + 1), name.substr(1));
    }
  }
  if (pattern[0] == '\\' && pattern.size() > 1) pattern.remove_prefix(1);
  return pattern[0] == name[0] && glob_match(pattern.substr(1), name.substr(1));
}

// The files an EnvironmentFile= names: itself, or those its wildcard (in the last
// component) matches, in name order as systemd reads them. Empty: nothing there.
Result<std::vector<std::string>> environment_file_paths(const FileTree& files, const std::string& spelled) {
  const std::string path = normalize_path(spelled);
  const std::string dir = path.substr(0, path.rfind('/'));
  const std::string leaf = path.substr(path.rfind('/') + 1);
  if (leaf.find_first_of("*?[") == std::string::npos) {
    auto content = files.read(path);
    if (!content) return std::unexpected(content.error());
    return *content ? std::vector<std::string>{path} : std::vector<std::string>{};
  }
  if (dir.find_first_of("*?[") != std::string::npos)
    return fail(fmt::format("EnvironmentFile={}: nodeimg expands wildcards in the file name only, not in directories",
                            spelled));
  auto entries = files.list(dir.empty() ? "/" : dir);
  if (!entries) return std::unexpected(entries.error());
  std::vector<std::string> out{};
  for (const auto& e : entries->value_or(std::vector<DirEntry>{}))
    if (!e.is_directory && glob_match(leaf, e.name)) out.push_back(dir + "/" + e.name);
  return out;
}

struct UnitCommand {
  std::vector<systemd::Word> words{};
  std::string working_dir = "/";
  systemd::Environment env{};  // what Environment= and EnvironmentFile= give the process
};

// Environment= first, then EnvironmentFile= (which overrides it), as systemd does; then
// ExecStart with $VAR and ${VAR} expanded.
Result<UnitCommand> unit_command(const FileTree& files, UnitSources& unit, const std::vector<systemd::Directive>& directives,
                                 Sources& sources) {
  systemd::Environment env;
  struct EnvFileRef {
    std::string path{};
    bool optional{};
    systemd::Origin origin{};
  };
  std::vector<EnvFileRef> env_files{};
  std::optional<systemd::Directive> exec_start{};
  UnitCommand cmd;
  for (const auto& d : directives) {
    if (d.key == "Environment") {
      if (d.value.empty()) env.clear();
      auto assignments = systemd::parse_environment_directive(d);
      if (!assignments) return std::unexpected(assignments.error());
      for (auto& a : *assignments) env[a.name] = a;
    } else if (d.key == "EnvironmentFile") {
      if (d.value.empty()) env_files.clear();
      else if (d.value.starts_with('-')) env_files.push_back({d.value.substr(1), true, d.origin});
      else env_files.push_back({d.value, false, d.origin});
    } else if (d.key == "ExecStart") {
      if (d.value.empty()) exec_start.reset();
      else exec_start = d;
    } else if (d.key == "WorkingDirectory" && !d.value.empty()) {
      std::string wd = d.value.starts_with('-') ? d.value.substr(1) : d.value;
      cmd.working_dir = wd == "~" ? "/root" : normalize_path(wd);
    }
  }
  for (const auto& ref : env_files) {
    auto paths = environment_file_paths(files, ref.path);
    if (!paths) return std::unexpected(paths.error());
    if (paths->empty()) {
      if (ref.optional) unit.absent_environment_files.push_back(ref.path);
      else
        sources.warnings.push_back(fmt::format("{}: EnvironmentFile={} does not exist (systemd will refuse to start the unit)",
                                               systemd::to_string(ref.origin), ref.path));
      continue;
    }
    for (const auto& path : *paths) {
      auto content = files.read(path);
      if (!content) return std::unexpected(content.error());
      if (!*content) continue;
      unit.environment_files.push_back(path);
      sources.contents[path] = **content;
      auto assignments = systemd::parse_environment_file(path, **content);
      if (!assignments) return std::unexpected(assignments.error());
      for (auto& a : *assignments) env[a.name] = a;
    }
  }
  cmd.env = env;
  if (exec_start) {
    unit.exec_start = exec_start->origin;
    auto words = systemd::expand_command_line(*exec_start, env);
    if (!words) return std::unexpected(words.error());
    cmd.words = std::move(*words);
  }
  return cmd;
}

struct UnitRead {
  std::optional<UnitSources> unit{};
  UnitCommand command;
};

Result<UnitRead> read_unit(const FileTree& files, const std::string& name, const DiscoveryOptions& options,
                           Sources& sources) {
  auto fragment = find_fragment(files, name, sources);
  if (!fragment) return std::unexpected(fragment.error());
  if (fragment->path.empty()) return UnitRead{};
  if (fragment->mask) {
    if (std::find(sources.masked.begin(), sources.masked.end(), fmt::format("{} (masked: {})", name, *fragment->mask)) ==
        sources.masked.end())
      sources.masked.push_back(fmt::format("{} (masked: {})", name, *fragment->mask));
    return UnitRead{};
  }
  UnitSources unit{.name = name, .fragment = fragment->path};
  auto dropins = collect_unit_dropins(files, name);
  if (!dropins) return std::unexpected(dropins.error());
  unit.drop_ins = std::move(*dropins);
  auto directives = service_directives(files, unit, options, sources);
  if (!directives) return std::unexpected(directives.error());
  auto command = unit_command(files, unit, *directives, sources);
  if (!command) return std::unexpected(command.error());
  unit.embeds_kubelet = embedding_distribution(name).has_value() || name == kMicrok8sUnit;
  return UnitRead{.unit = std::move(unit), .command = std::move(*command)};
}

// The unit: named in nodeimg's configuration, or chosen among the candidates.
Result<UnitCommand> find_unit(const FileTree& files, const DiscoveryOptions& options, Sources& sources) {
  const bool automatic = options.unit == "auto";
  std::optional<std::string> name = options.unit;
  if (automatic) {
    auto chosen = choose_unit(files, options, sources);
    if (!chosen) return std::unexpected(chosen.error());
    name = *chosen;
  } else {
    sources.unit_reason = "kubelet.unit in nodeimg's configuration";
  }
  if (!name) return UnitCommand{};
  auto read = read_unit(files, *name, options, sources);
  if (!read) return std::unexpected(read.error());
  if (read->unit) {
    sources.unit = std::move(read->unit);
    return std::move(read->command);
  }
  if (!automatic && !sources.masked.empty())
    return fail(fmt::format("unit {} is masked ({}); systemd will not start it", options.unit, sources.masked.back()));
  if (!automatic)
    return fail(fmt::format("unit {} not found in {}", options.unit, fmt::join(unit_search_path(), ", ")));
  return UnitCommand{};
}

}  // namespace

std::optional<std::string> host_path_in(const ContainerRun& run, const std::string& container_path) {
  const std::string path = normalize_path(container_path);
  const VolumeMount* best = nullptr;
  for (const auto& v : run.volumes) {
    const std::string dest = normalize_path(v.container);
    const bool under = path == dest || dest == "/" || path.starts_with(dest + "/");
    if (under && (!best || dest.size() > normalize_path(best->container).size())) best = &v;
  }
  if (!best) return std::nullopt;
  const std::string dest = normalize_path(best->container);
  return normalize_path(best->host + "/" + (dest == "/" ? path : path.substr(dest.size())));
}

namespace {

// Options of `podman/docker/nerdctl run` that take no value (all others written without
// `=` take the next word).
bool is_boolean_run_option(std::string_view o) {
  static const std::set<std::string_view> names = {
      "--privileged", "--rm", "-d", "--detach", "-i", "--interactive", "-t", "--tty", "--init", "--read-only",
      "--replace", "--no-hosts", "-P", "--publish-all", "-q", "--quiet", "--read-only-tmpfs", "--sig-proxy", "-it"};
  return names.contains(o);
}

// `podman run [OPTIONS] IMAGE [COMMAND] FLAGS…`: the volumes, the image, and kubelet's
// words (argv[0] = the image). nullopt: not a container command line.
std::optional<ContainerRun> container_run(const std::vector<systemd::Word>& words, std::vector<systemd::Word>& kubelet) {
  if (words.size() < 3) return std::nullopt;
  const std::string& bin = words[0].text;
  const std::string runtime = bin.substr(bin.rfind('/') + 1);
  if (runtime != "podman" && runtime != "docker" && runtime != "nerdctl") return std::nullopt;
  std::size_t i = 1;
  if (words[i].text == "container") ++i;
  if (i >= words.size() || words[i].text != "run") return std::nullopt;
  ContainerRun run{.runtime = runtime};
  for (++i; i < words.size() && words[i].text.starts_with('-'); ++i) {
    std::string opt = words[i].text, value{};
    if (const auto eq = opt.find('='); eq != std::string::npos) {
      value = opt.substr(eq + 1);
      opt = opt.substr(0, eq);
    } else if (!is_boolean_run_option(opt) && i + 1 < words.size()) {
      value = words[++i].text;
    }
    if (opt == "-v" || opt == "--volume") {
      const auto colon = value.find(':');
      if (colon == std::string::npos) continue;
      const auto second = value.find(':', colon + 1);
      run.volumes.push_back({.host = value.substr(0, colon), .container = value.substr(colon + 1, second - colon - 1)});
    }
  }
  if (i >= words.size()) return std::nullopt;
  run.image = words[i].text;
  kubelet.assign(words.begin() + static_cast<std::ptrdiff_t>(i), words.end());
  // An explicit command after the image (…/kubelet) is argv[0], not a flag.
  if (kubelet.size() > 1 && !kubelet[1].text.starts_with('-')) kubelet.erase(kubelet.begin());
  return run;
}

// The command line: the running process is the truth now; the unit is what the next
// restart will run. Flags are edited where the unit defines them.
void kubelet_command_line(const DiscoveryOptions& options, const UnitCommand& command, Sources& sources) {
  const bool unit_runs_kubelet = sources.unit && !sources.unit->embeds_kubelet && !command.words.empty();
  if (unit_runs_kubelet) {
    for (const auto& w : command.words) sources.argv.push_back(w.text);
    sources.argv_from =
        "unit " + sources.unit->name + " ExecStart (" + systemd::to_string(*sources.unit->exec_start) + ")";
    std::vector<systemd::Word> in_container{};
    sources.container = container_run(command.words, in_container);
    sources.flags = parse_flags(sources.container ? in_container : command.words);
    if (sources.container)
      for (auto& f : sources.flags)
        f.not_editable = fmt::format("it is written in the {} run command line of a containerised kubelet", sources.container->runtime);
    // Compare the flags only: a kubelet started through an interpreter or a wrapper has
    // a longer argv[0] part than the unit's ExecStart.
    std::vector<std::string> unit_argv{};
    for (const auto& w : sources.container ? in_container : command.words) unit_argv.push_back(w.text);
    auto ends_with_flags = [&](const std::vector<std::string>& running) {
      const std::size_t n = unit_argv.size() - 1;
      return running.size() >= n &&
             std::equal(unit_argv.begin() + 1, unit_argv.end(), running.end() - static_cast<std::ptrdiff_t>(n));
    };
    if (options.running_argv && !ends_with_flags(*options.running_argv))
      sources.warnings.push_back(fmt::format(
          "the running kubelet (pid {}) has a different command line than its unit files: the unit "
          "changed since kubelet started, and its new flags take effect at the next restart",
          options.running_pid.value_or(0)));
  } else if (options.running_argv && !(sources.unit && sources.unit->embeds_kubelet)) {
    sources.argv = *options.running_argv;
    sources.argv_from = fmt::format("/proc/{}/cmdline", options.running_pid.value_or(0));
    sources.flags = parse_flags(plain_words(sources.argv));
  }
}

// `kubelet-arg` entries of one k3s/RKE2 config file: a list or a single string.
// One top-level `kubelet-arg:` entry of a k3s/RKE2 config file: its flags replace what the
// files before it said; `kubelet-arg+:` adds to them (k3s's pkg/configfilearg).
struct KubeletArgEntry {
  bool append = false;
  std::vector<Flag> flags{};
};

Result<std::vector<KubeletArgEntry>> rancher_config_args(const std::string& path, const std::string& text) {
  std::vector<KubeletArgEntry> out{};
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    return fail(fmt::format("{}: not valid YAML: line {}: {}", path, e.mark.line + 1, e.msg));
  }
  if (!root.IsMap()) return out;
  const std::string why = "k3s/RKE2 pass it to kubelet from their own configuration";
  for (const auto& kv : root) {
    const std::string key = kv.first.Scalar();
    if (key != "kubelet-arg" && key != "kubelet-arg+") continue;
    KubeletArgEntry entry{.append = key.ends_with('+')};
    auto add = [&](const YAML::Node& n) {
      entry.flags.push_back(kubelet_arg_flag(n.Scalar(), {path, static_cast<std::size_t>(n.Mark().line) + 1}, why));
    };
    if (kv.second.IsScalar()) add(kv.second);
    if (kv.second.IsSequence())
      for (const auto& item : kv.second)
        if (item.IsScalar()) add(item);
    out.push_back(std::move(entry));
  }
  return out;
}

bool yaml_name(std::string name) {
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
  return name.ends_with(".yaml") || name.ends_with(".yml");
}

// Where k3s/RKE2 read their config.yaml (k3s's pkg/configfilearg): K3S_CONFIG_FILE /
// RKE2_CONFIG_FILE in the process's environment when not empty (it wins over the command
// line), else the first `--config FILE`, `--config=FILE`, `-c FILE` or `-c=FILE`, else
// /etc/rancher/NAME/config.yaml. A relative path is read from the working directory.
std::string rancher_config_yaml(const Distribution& distro, const UnitCommand& command) {
  std::string variable = distro.name + "_CONFIG_FILE";
  std::transform(variable.begin(), variable.end(), variable.begin(), [](unsigned char c) { return std::toupper(c); });
  if (auto it = command.env.find(variable); it != command.env.end() && !it->second.value.empty())
    return normalize_path(it->second.value, command.working_dir);
  for (std::size_t i = 1; i < command.words.size(); ++i) {
    const auto& w = command.words[i].text;
    for (const std::string flag : {"--config", "-c"}) {
      if (w == flag && i + 1 < command.words.size()) return normalize_path(command.words[i + 1].text, command.working_dir);
      if (w.starts_with(flag + "=")) return normalize_path(w.substr(flag.size() + 1), command.working_dir);
    }
  }
  return distro.config_yaml;
}

// k3s/RKE2: kubelet flags come from `kubelet-arg` in config.yaml, then config.yaml.d/*.yaml
// (beside it, whatever its path) in name order — a `kubelet-arg:` replaces the list the
// files before it made, a `kubelet-arg+:` adds to it — then `--kubelet-arg` on their
// command line; of the flags that remain, the last one wins.
Result<void> embedded_kubelet_args(const FileTree& files, const UnitCommand& command, Sources& sources) {
  const auto distro = embedding_distribution(sources.unit->name);
  const std::string config_yaml = rancher_config_yaml(*distro, command);
  std::vector<Flag> cli{};
  const std::string why = sources.unit->name + " passes it to kubelet with --kubelet-arg";
  for (std::size_t i = 1; i < command.words.size(); ++i) {
    const auto& w = command.words[i].text;
    const bool has_next = i + 1 < command.words.size();
    if (w.starts_with("--kubelet-arg=")) cli.push_back(kubelet_arg_flag(w.substr(14), command.words[i].origin, why));
    else if (w == "--kubelet-arg" && has_next) cli.push_back(kubelet_arg_flag(command.words[i + 1].text, command.words[i + 1].origin, why)), ++i;
  }
  std::vector<std::string> paths = {config_yaml};
  auto entries = files.list(config_yaml + ".d");
  if (!entries) return std::unexpected(entries.error());
  for (const auto& e : entries->value_or(std::vector<DirEntry>{}))
    if (!e.is_directory && yaml_name(e.name)) paths.push_back(config_yaml + ".d/" + e.name);
  std::vector<Flag> from_files{};
  bool defined = false;  // some file has set kubelet-arg (a `+` then adds to it)
  for (const auto& path : paths) {
    auto content = files.read(path);
    if (!content) return std::unexpected(content.error());
    if (!*content) continue;
    sources.contents[path] = **content;
    sources.rancher_configs.push_back(path);
    auto entries_of_file = rancher_config_args(path, **content);
    if (!entries_of_file) return std::unexpected(entries_of_file.error());
    for (auto& entry : *entries_of_file) {
      if (!entry.append || !defined) from_files.clear();
      defined = true;
      from_files.insert(from_files.end(), entry.flags.begin(), entry.flags.end());
    }
  }
  sources.flags.insert(sources.flags.end(), from_files.begin(), from_files.end());
  sources.flags.insert(sources.flags.end(), cli.begin(), cli.end());
  if (!sources.flags.empty()) sources.argv_from = distro->name + " kubelet-arg";
  return {};
}

// MicroK8s: kubelet's command line is the args file (read where `current` leads, inside
// the snap's data directory).
Result<void> microk8s_flags(const FileTree& files, Sources& sources) {
  auto args = microk8s_args_file(files);
  if (!args) return std::unexpected(args.error());
  auto content = files.read(args->path);
  if (!content) return std::unexpected(content.error());
  const std::string text = content->value_or("");
  sources.contents[args->path] = text;
  auto words = parse_args_file(args->path, text, args->path.substr(0, args->path.rfind("/args/")));
  if (!words) return std::unexpected(words.error());
  words->insert(words->begin(), systemd::Word{.text = "kubelet"});  // argv[0]: kubelite's kubelet
  for (const auto& w : *words) sources.argv.push_back(w.text);
  sources.argv_from = "MicroK8s args file " + args->path;
  sources.flags = parse_flags(*words);
  sources.args_file = std::move(*args);
  return {};
}

Result<void> locate_config_file(const FileTree& files, const DiscoveryOptions& options, const std::string& working_dir,
                                Sources& sources) {
  const bool embedded = sources.unit && sources.unit->embeds_kubelet;
  if (options.config_file != "auto") {
    sources.config_file = normalize_path(options.config_file);
    sources.config_file_reason = "set in nodeimg's configuration";
  } else if (const Flag* f = sources.flag("config"); f && f->value && !f->value->empty()) {
    sources.config_file = normalize_path(*f->value, working_dir);
    sources.config_file_reason = "--config" + (f->origin ? " (" + systemd::to_string(*f->origin) + ")" : "");
  } else if (sources.argv.empty() && !embedded) {
    for (const auto& path : well_known_config_files()) {
      auto content = files.read(path);
      if (!content) return std::unexpected(content.error());
      if (*content) {
        sources.config_file = path;
        sources.config_file_reason = "well-known path (no kubelet process or unit found)";
        break;
      }
    }
  } else if (sources.args_file) {
    sources.config_file_reason = "MicroK8s gives kubelet flags only (no --config in its args file)";
  } else {
    sources.config_file_reason =
        embedded ? sources.unit->name + " generates kubelet's configuration" : "kubelet is started without --config";
  }
  if (!sources.config_file) return {};
  if (sources.container && options.config_file == "auto") {
    auto host = host_path_in(*sources.container, *sources.config_file);
    if (!host)
      return fail(fmt::format("kubelet runs in a {} container and its --config {} is not a volume from the host: nodeimg "
                              "cannot reach it (set kubelet.configFile to the host's copy)",
                              sources.container->runtime, *sources.config_file));
    if (*host != *sources.config_file)
      sources.config_file_reason += fmt::format(", {} inside the container", *sources.config_file);
    sources.config_file = *host;
    sources.config_file_reason += ", from the host through a --volume";
  }
  auto content = files.read(*sources.config_file);
  if (!content) return std::unexpected(content.error());
  if (!*content)
    return fail(fmt::format("kubelet's config file {} ({}) does not exist", *sources.config_file, sources.config_file_reason));
  sources.contents[*sources.config_file] = **content;
  return {};
}

Result<void> choose_dropin_dir(const FileTree& files, const DiscoveryOptions& options, const std::string& working_dir,
                               Sources& sources) {
  if (options.dropin_dir == "none") {
    sources.dropin_dir_reason = "disabled in nodeimg's configuration";
  } else if (options.dropin_dir != "auto") {
    sources.dropin_dir = normalize_path(options.dropin_dir);
    sources.dropin_dir_reason = "set in nodeimg's configuration";
  } else if (const Flag* f = sources.flag("config-dir"); f && f->value && !f->value->empty()) {
    sources.dropin_dir = normalize_path(*f->value, working_dir);
    sources.dropin_dir_reason = "--config-dir" + (f->origin ? " (" + systemd::to_string(*f->origin) + ")" : "");
    if (sources.container) {
      auto host = host_path_in(*sources.container, *sources.dropin_dir);
      if (!host)
        return fail(fmt::format("kubelet runs in a {} container and its --config-dir {} is not a volume from the host",
                                sources.container->runtime, *sources.dropin_dir));
      sources.dropin_dir = *host;
    }
  } else if (auto distro = sources.unit ? embedding_distribution(sources.unit->name) : std::nullopt) {
    sources.dropin_dir = distro->dropin_dir;
    sources.dropin_dir_reason = sources.unit->name + " reads this drop-in directory";
  } else if (!sources.unit && sources.argv.empty()) {
    for (const char* unit : {"k3s", "rke2"}) {
      const auto dir = embedding_distribution(unit)->dropin_dir;
      auto entries = files.list(dir);
      if (!entries) return std::unexpected(entries.error());
      if (*entries) {
        sources.dropin_dir = dir;
        sources.dropin_dir_reason = "well-known path";
        break;
      }
    }
  } else {
    sources.dropin_dir_reason = "kubelet is started without --config-dir";
  }
  return {};
}

Result<void> read_dropin_dir(const FileTree& files, Sources& sources) {
  auto entries = files.list(*sources.dropin_dir);
  if (!entries) return std::unexpected(entries.error());
  if (!*entries)
    return fail(fmt::format("kubelet's drop-in directory {} ({}) does not exist", *sources.dropin_dir,
                            sources.dropin_dir_reason));
  if (auto r = walk_dropins(files, *sources.dropin_dir, sources.dropin_files); !r) return std::unexpected(r.error());
  for (const auto& path : sources.dropin_files) {
    auto content = files.read(path);
    if (!content) return std::unexpected(content.error());
    sources.contents[path] = content->value_or("");
  }
  return {};
}

}  // namespace

Result<Sources> discover(const FileTree& files, const DiscoveryOptions& options) {
  Sources sources;
  auto command = find_unit(files, options, sources);
  if (!command) return std::unexpected(command.error());
  if (!sources.unit_refusal.empty()) return sources;  // nothing below can be trusted without the unit
  kubelet_command_line(options, *command, sources);
  if (sources.unit && embedding_distribution(sources.unit->name))
    if (auto ok = embedded_kubelet_args(files, *command, sources); !ok) return std::unexpected(ok.error());
  if (sources.unit && sources.unit->name == kMicrok8sUnit)
    if (auto ok = microk8s_flags(files, sources); !ok) return std::unexpected(ok.error());
  if (auto ok = locate_config_file(files, options, command->working_dir, sources); !ok) return std::unexpected(ok.error());
  if (auto ok = choose_dropin_dir(files, options, command->working_dir, sources); !ok) return std::unexpected(ok.error());
  if (sources.dropin_dir)
    if (auto ok = read_dropin_dir(files, sources); !ok) return std::unexpected(ok.error());
  return sources;
}

}  // namespace nodeimg::kubelet
