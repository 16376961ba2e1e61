#include "core/kubelet/unit_choice.hpp"

#include <algorithm>
#include <iterator>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/kubelet/systemd_unit.hpp"

namespace nodeimg::kubelet {

namespace {

std::string base_name(std::string_view path) {
  const auto slash = path.rfind('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}


bool is_dev_null(const std::optional<std::string>& link, const std::string& dir) {
  return link && normalize_path(*link, dir) == "/dev/null";
}

}  // namespace

Result<Fragment> find_fragment(const FileTree& files, const std::string& name, Sources& sources) {
  for (const auto& dir : unit_search_path()) {
    const std::string path = dir + "/" + name;
    auto link = files.read_link(path);
    if (!link) return std::unexpected(link.error());
    if (is_dev_null(*link, dir)) return Fragment{.path = path, .mask = path + " -> /dev/null"};
    auto content = files.read(path);
    if (!content) return std::unexpected(content.error());
    if (!*content) continue;  // absent, or a dangling link
    if ((*content)->empty()) return Fragment{.path = path, .mask = path + " is empty"};
    sources.contents[path] = **content;
    Fragment f{.path = path};
    if (*link) f.link_target = normalize_path(**link, dir);
    return f;
  }
  return Fragment{};
}

Result<std::string> enabling_link(const FileTree& files, const std::vector<std::string>& names,
                                  const std::vector<std::string>& install_aliases) {
  const std::set<std::string> known(names.begin(), names.end());
  for (const auto& dir : unit_search_path()) {
    auto entries = files.list(dir);
    if (!entries) return std::unexpected(entries.error());
    for (const auto& e : entries->value_or(std::vector<DirEntry>{})) {
      if (!e.name.ends_with(".wants") && !e.name.ends_with(".requires")) continue;
      const std::string sub = dir + "/" + e.name;
      auto links = files.list(sub);
      if (!links) return std::unexpected(links.error());
      for (const auto& l : links->value_or(std::vector<DirEntry>{})) {
        const std::string path = sub + "/" + l.name;
        auto target = files.read_link(path);
        if (!target) return std::unexpected(target.error());
        if (is_dev_null(*target, sub)) continue;
        if (known.contains(l.name) || (*target && known.contains(base_name(**target)))) return path;
      }
    }
  }
  // `systemctl enable` also makes the [Install] Alias= names links to the unit file.
  for (const auto& alias : install_aliases)
    for (const char* dir : {"/etc/systemd/system", "/run/systemd/system"}) {
      const std::string path = std::string(dir) + "/" + alias;
      auto target = files.read_link(path);
      if (!target) return std::unexpected(target.error());
      if (*target && known.contains(base_name(**target))) return path;
    }
  return std::string{};
}

namespace {

// The [Install] Alias= names of a unit file (several per line, several lines).
std::vector<std::string> install_aliases(const std::string& path, const std::string& content) {
  std::vector<std::string> out{};
  auto parsed = systemd::parse_unit_file(path, content);
  if (!parsed) return out;
  for (const auto& d : *parsed) {
    if (d.section != "Install" || d.key != "Alias") continue;
    std::string_view rest = d.value;
    while (!rest.empty()) {
      const auto b = rest.find_first_not_of(" \t");
      if (b == std::string_view::npos) break;
      rest.remove_prefix(b);
      const auto e = rest.find_first_of(" \t");
      out.emplace_back(rest.substr(0, e));
      rest = e == std::string_view::npos ? std::string_view{} : rest.substr(e);
    }
  }
  return out;
}

// Adds `name` to the candidates, merged with the unit it is an alias of (a link to
// another unit's file under a different name is that unit for systemd).
Result<void> add_candidate(const FileTree& files, const std::string& name, Sources& sources) {
  auto frag = find_fragment(files, name, sources);
  if (!frag) return std::unexpected(frag.error());
  if (frag->path.empty()) return {};
  if (frag->mask) {
    sources.masked.push_back(fmt::format("{} (masked: {})", name, *frag->mask));
    return {};
  }
  std::string canonical = name;
  std::string fragment = frag->path;
  if (frag->link_target && base_name(*frag->link_target) != name && base_name(*frag->link_target).ends_with(".service")) {
    auto target = find_fragment(files, base_name(*frag->link_target), sources);
    if (!target) return std::unexpected(target.error());
    if (!target->path.empty() && !target->mask) {
      canonical = base_name(*frag->link_target);
      fragment = target->path;
    }
  }
  auto it = std::find_if(sources.candidates.begin(), sources.candidates.end(),
                         [&](const UnitCandidate& c) { return c.name == canonical; });
  if (it == sources.candidates.end()) {
    sources.candidates.push_back({.name = canonical, .fragment = fragment});
    it = sources.candidates.end() - 1;
  }
  if (canonical != name && std::find(it->aliases.begin(), it->aliases.end(), name) == it->aliases.end())
    it->aliases.push_back(name);
  return {};
}

// Whether each candidate runs a kubelet-bearing process and whether it is enabled.
Result<void> describe_candidates(const FileTree& files, const DiscoveryOptions& options, Sources& sources) {
  for (auto& c : sources.candidates) {
    std::vector<std::string> names = {c.name};
    names.insert(names.end(), c.aliases.begin(), c.aliases.end());
    const auto declared = install_aliases(c.fragment, sources.contents[c.fragment]);
    if (options.running_units)
      for (const auto& n : names)
        if (auto r = options.running_units->find(n); r != options.running_units->end()) c.running_pid = r->second;
    auto link = enabling_link(files, names, declared);
    if (!link) return std::unexpected(link.error());
    c.enabled_by = std::move(*link);
  }
  return {};
}

std::string describe(const UnitCandidate& c) {
  std::vector<std::string> facts{};
  if (c.running_pid) facts.push_back(fmt::format("running: pid {}", *c.running_pid));
  facts.push_back(c.enabled_by.empty() ? "not enabled" : "enabled: " + c.enabled_by);
  return fmt::format("{} ({}; {})", c.name, c.fragment, fmt::join(facts, ", "));
}

std::string list_of(const std::vector<UnitCandidate>& cs) {
  std::vector<std::string> out{};
  for (const auto& c : cs) out.push_back(describe(c));
  return fmt::format("{}", fmt::join(out, "; "));
}

}  // namespace

Result<std::optional<std::string>> choose_unit(const FileTree& files, const DiscoveryOptions& options,
                                               Sources& sources) {
  std::vector<std::string> names = candidate_units();
  // A kubelet running in a unit of another name makes that unit a candidate too.
  if (options.running_units)
    for (const auto& [unit, pid] : *options.running_units)
      if (std::find(names.begin(), names.end(), unit) == names.end()) names.push_back(unit);
  for (const auto& name : names)
    if (auto ok = add_candidate(files, name, sources); !ok) return std::unexpected(ok.error());
  if (auto ok = describe_candidates(files, options, sources); !ok) return std::unexpected(ok.error());
  const auto& cs = sources.candidates;
  if (cs.empty()) return std::optional<std::string>{};
  std::vector<UnitCandidate> running{}, enabled{};
  std::copy_if(cs.begin(), cs.end(), std::back_inserter(running), [](const auto& c) { return c.running_pid.has_value(); });
  std::copy_if(cs.begin(), cs.end(), std::back_inserter(enabled), [](const auto& c) { return !c.enabled_by.empty(); });
  const std::string hint = "set kubelet.unit in nodeimg's configuration to the unit that runs kubelet";
  if (running.size() == 1) {
    sources.unit_reason = fmt::format("a kubelet-bearing process (pid {0}) runs in its cgroup (/proc/{0}/cgroup)",
                                      *running[0].running_pid);
    return std::optional<std::string>{running[0].name};
  }
  if (running.size() > 1) {
    sources.unit_refusal = fmt::format("kubelet runs in several units: {}; {}", list_of(running), hint);
    return std::optional<std::string>{};
  }
  const std::string no_process = options.running_units ? "no kubelet process runs; " : "";
  if (enabled.size() == 1) {
    sources.unit_reason = fmt::format("{}the one enabled candidate ({})", no_process, enabled[0].enabled_by);
    return std::optional<std::string>{enabled[0].name};
  }
  if (cs.size() == 1) {
    sources.unit_reason = no_process + "the only kubelet unit on this node" + (enabled.empty() ? " (not enabled)" : "");
    return std::optional<std::string>{cs[0].name};
  }
  sources.unit_refusal = fmt::format("{} kubelet units and {} of them enabled{}, so nodeimg cannot tell which one runs "
                                     "kubelet: {}; {}",
                                     cs.size(), enabled.size(), options.running_units ? ", none running" : "",
                                     list_of(cs), hint);
  return std::optional<std::string>{};
}

}  // namespace nodeimg::kubelet
