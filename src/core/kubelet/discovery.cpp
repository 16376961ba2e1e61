#include "core/kubelet/discovery.hpp"

#include <algorithm>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/kubelet/settings.hpp"
#include "core/common/text.hpp"

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

std::optional<std::string> embedded_dropin_dir(std::string_view unit) {
  if (unit.starts_with("k3s")) return "/var/lib/rancher/k3s/agent/etc/kubelet.conf.d";
  if (unit.starts_with("rke2")) return "/var/lib/rancher/rke2/agent/etc/kubelet.conf.d";
  return std::nullopt;
}

// Flags whose values nodeimg reads; the rest of the command line is left alone.
bool is_boolean_flag(std::string_view name) {
  const auto* spec = find_setting_by_flag(name);
  return spec && spec->kind == SettingKind::Boolean;
}

std::vector<Flag> parse_flags(const std::vector<systemd::Word>& words) {
  std::vector<Flag> flags;
  for (std::size_t i = 1; i < words.size(); ++i) {
    const std::string& w = words[i].text;
    if (w == "--") break;
    if (!w.starts_with("--") || w.size() == 2) continue;
    Flag f;
    f.origin = words[i].origin;
    f.variable = words[i].variable;
    auto eq = w.find('=');
    f.name = w.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
    if (eq != std::string::npos) {
      f.value = w.substr(eq + 1);
    } else if (!is_boolean_flag(f.name) && i + 1 < words.size() && !words[i + 1].text.starts_with("--")) {
      // kubelet takes no positional arguments, so the next word is this flag's value.
      f.value = words[++i].text;
    }
    flags.push_back(std::move(f));
  }
  return flags;
}

std::vector<systemd::Word> plain_words(const std::vector<std::string>& argv) {
  std::vector<systemd::Word> words;
  for (const auto& a : argv) words.push_back({a, {}, {}});
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

Result<std::optional<UnitSources>> read_unit(const FileTree& files, const std::string& name,
                                             Sources& sources, std::vector<systemd::Word>& argv_words) {
  UnitSources unit;
  unit.name = name;
  for (const auto& dir : unit_search_path()) {
    auto content = files.read(dir + "/" + name);
    if (!content) return std::unexpected(content.error());
    if (*content) {
      unit.fragment = dir + "/" + name;
      sources.contents[unit.fragment] = **content;
      break;
    }
  }
  if (unit.fragment.empty()) return std::optional<UnitSources>{};

  // Drop-ins: one name in a higher-priority directory masks the same name below; the
  // survivors apply in name order.
  std::map<std::string, std::string> dropins;  // name -> path
  for (auto it = unit_search_path().rbegin(); it != unit_search_path().rend(); ++it) {
    auto entries = files.list(*it + "/" + name + ".d");
    if (!entries) return std::unexpected(entries.error());
    if (!*entries) continue;
    for (const auto& e : **entries)
      if (!e.is_directory && e.name.ends_with(".conf")) dropins[e.name] = *it + "/" + name + ".d/" + e.name;
  }
  std::vector<systemd::Directive> directives;
  std::vector<std::string> unit_files = {unit.fragment};
  for (const auto& [n, path] : dropins) {
    unit.drop_ins.push_back(path);
    unit_files.push_back(path);
  }
  for (const auto& path : unit_files) {
    if (!sources.contents.contains(path)) {
      auto content = files.read(path);
      if (!content) return std::unexpected(content.error());
      sources.contents[path] = content->value_or("");
    }
    auto parsed = systemd::parse_unit_file(path, sources.contents[path]);
    if (!parsed) return std::unexpected(parsed.error());
    directives.insert(directives.end(), parsed->begin(), parsed->end());
  }

  // Environment= first, then EnvironmentFile= (which overrides it), as systemd does.
  systemd::Environment env;
  std::vector<std::pair<std::string, bool>> env_files;  // path, optional
  std::optional<systemd::Directive> exec_start;
  for (const auto& d : directives) {
    if (d.section != "Service") continue;
    if (d.key == "Environment") {
      if (d.value.empty()) {
        env.clear();
        continue;
      }
      auto assignments = systemd::parse_environment_directive(d);
      if (!assignments) return std::unexpected(assignments.error());
      for (auto& a : *assignments) env[a.name] = a;
    } else if (d.key == "EnvironmentFile") {
      if (d.value.empty()) {
        env_files.clear();
        continue;
      }
      bool optional = d.value.starts_with('-');
      env_files.emplace_back(optional ? d.value.substr(1) : d.value, optional);
    } else if (d.key == "ExecStart") {
      if (d.value.empty())
        exec_start.reset();
      else
        exec_start = d;
    }
  }
  for (const auto& [path, optional] : env_files) {
    auto content = files.read(path);
    if (!content) return std::unexpected(content.error());
    if (!*content) {
      if (!optional)
        sources.warnings.push_back(fmt::format("{}: EnvironmentFile={} does not exist (systemd will refuse to start the unit)",
                                               unit.fragment, path));
      continue;
    }
    unit.environment_files.push_back(path);
    sources.contents[path] = **content;
    auto assignments = systemd::parse_environment_file(path, **content);
    if (!assignments) return std::unexpected(assignments.error());
    for (auto& a : *assignments) env[a.name] = a;
  }
  unit.embeds_kubelet = embedded_dropin_dir(name).has_value();
  if (exec_start) {
    unit.exec_start = exec_start->origin;
    auto words = systemd::expand_command_line(*exec_start, env);
    if (!words) return std::unexpected(words.error());
    argv_words = std::move(*words);
  }
  return std::optional<UnitSources>{std::move(unit)};
}

}  // namespace

Result<Sources> discover(const FileTree& files, const DiscoveryOptions& options) {
  Sources sources;

  // 1. The unit: named, or the first candidate that exists.
  std::vector<systemd::Word> unit_words;
  std::vector<std::string> names = options.unit == "auto" ? candidate_units() : std::vector<std::string>{options.unit};
  for (const auto& name : names) {
    auto unit = read_unit(files, name, sources, unit_words);
    if (!unit) return std::unexpected(unit.error());
    if (*unit) {
      sources.unit = std::move(**unit);
      break;
    }
  }
  if (!sources.unit && options.unit != "auto")
    return fail(fmt::format("unit {} not found in {}", options.unit, fmt::join(unit_search_path(), ", ")));

  // 2. The command line: the running process is the truth now; the unit is what the next
  //    restart will run. Flags are edited where the unit defines them.
  const bool unit_runs_kubelet = sources.unit && !sources.unit->embeds_kubelet && !unit_words.empty();
  std::vector<std::string> unit_argv;
  for (const auto& w : unit_words) unit_argv.push_back(w.text);
  if (unit_runs_kubelet) {
    sources.argv = unit_argv;
    sources.argv_from = "unit " + sources.unit->name + " ExecStart (" + systemd::to_string(*sources.unit->exec_start) + ")";
    sources.flags = parse_flags(unit_words);
    // Compare the flags only: a kubelet started through an interpreter or a wrapper has
    // a longer argv[0] part than the unit's ExecStart.
    auto ends_with_flags = [&](const std::vector<std::string>& running) {
      const std::size_t n = unit_argv.size() - 1;
      return running.size() >= n && std::equal(unit_argv.begin() + 1, unit_argv.end(), running.end() - static_cast<std::ptrdiff_t>(n));
    };
    if (options.running_argv && !ends_with_flags(*options.running_argv))
      sources.warnings.push_back(fmt::format(
          "the running kubelet (pid {}) has a different command line than its unit files: the unit "
          "changed since kubelet started, and its new flags take effect at the next restart",
          options.running_pid.value_or(0)));
  } else if (options.running_argv) {
    sources.argv = *options.running_argv;
    sources.argv_from = fmt::format("/proc/{}/cmdline", options.running_pid.value_or(0));
    sources.flags = parse_flags(plain_words(sources.argv));
  }

  // 3. The configuration file.
  if (options.config_file != "auto") {
    sources.config_file = options.config_file;
    sources.config_file_reason = "set in nodeimg's configuration";
  } else if (const Flag* f = sources.flag("config"); f && f->value && !f->value->empty()) {
    sources.config_file = *f->value;
    sources.config_file_reason = "--config" + (f->origin ? " (" + systemd::to_string(*f->origin) + ")" : "");
  } else if (sources.argv.empty() && !(sources.unit && sources.unit->embeds_kubelet)) {
    for (const auto& path : well_known_config_files()) {
      auto content = files.read(path);
      if (!content) return std::unexpected(content.error());
      if (*content) {
        sources.config_file = path;
        sources.config_file_reason = "well-known path (no kubelet process or unit found)";
        break;
      }
    }
  } else {
    sources.config_file_reason = sources.unit && sources.unit->embeds_kubelet
                                     ? sources.unit->name + " generates kubelet's configuration"
                                     : "kubelet is started without --config";
  }
  if (sources.config_file) {
    auto content = files.read(*sources.config_file);
    if (!content) return std::unexpected(content.error());
    if (!*content) return fail(fmt::format("kubelet's config file {} ({}) does not exist", *sources.config_file,
                                           sources.config_file_reason));
    sources.contents[*sources.config_file] = **content;
  }

  // 4. The drop-in directory.
  if (options.dropin_dir == "none") {
    sources.dropin_dir_reason = "disabled in nodeimg's configuration";
  } else if (options.dropin_dir != "auto") {
    sources.dropin_dir = options.dropin_dir;
    sources.dropin_dir_reason = "set in nodeimg's configuration";
  } else if (const Flag* f = sources.flag("config-dir"); f && f->value && !f->value->empty()) {
    sources.dropin_dir = *f->value;
    sources.dropin_dir_reason = "--config-dir" + (f->origin ? " (" + systemd::to_string(*f->origin) + ")" : "");
  } else if (auto embedded = sources.unit ? embedded_dropin_dir(sources.unit->name) : std::nullopt) {
    sources.dropin_dir = *embedded;
    sources.dropin_dir_reason = sources.unit->name + " reads this drop-in directory";
  } else if (!sources.unit && sources.argv.empty()) {
    for (const char* unit : {"k3s", "rke2"}) {
      auto dir = *embedded_dropin_dir(unit);
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
  if (sources.dropin_dir) {
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
  }
  return sources;
}

}  // namespace nodeimg::kubelet
