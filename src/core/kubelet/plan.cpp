#include "core/kubelet/plan.hpp"

#include <algorithm>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/kubelet/settings.hpp"
#include "core/kubelet/systemd_unit.hpp"
#include "core/common/text.hpp"

namespace nodeimg::kubelet {

std::string_view to_string(Source s) {
  switch (s) {
    case Source::Default: return "default";
    case Source::ConfigFile: return "config file";
    case Source::DropIn: return "drop-in";
    case Source::Flag: return "flag";
  }
  return "?";
}

bool is_own_dropin(std::string_view name) { return name.ends_with("-nodeimg.conf"); }

std::string own_dropin_name(const std::vector<std::string>& others) {
  std::string name = "99-nodeimg.conf";
  for (int i = 0; i < 64; ++i) {
    if (std::all_of(others.begin(), others.end(), [&](const std::string& o) { return o < name; })) return name;
    name = "z" + name;
  }
  return name;
}

namespace {

const std::string kDefaultApiVersion = "kubelet.config.k8s.io/v1beta1";

struct Parsed {
  std::optional<Document> config;
  std::vector<Document> dropins;  // same order as sources.dropin_files
  Json merged = Json::object();   // config file with every drop-in merged in
};

Result<Parsed> parse_sources(const Sources& sources) {
  Parsed p;
  if (sources.config_file) {
    auto doc = parse_document(*sources.config_file, sources.contents.at(*sources.config_file));
    if (!doc) return std::unexpected(doc.error());
    if (auto ok = require_kubelet_configuration(*doc); !ok) return std::unexpected(ok.error());
    p.merged = doc->data;
    p.config = std::move(*doc);
  }
  for (const auto& path : sources.dropin_files) {
    auto doc = parse_document(path, sources.contents.at(path));
    if (!doc) return std::unexpected(doc.error());
    if (auto ok = require_kubelet_configuration(*doc); !ok)
      return fail(ok.error().message + " (kubelet refuses to start with such a drop-in)");
    p.merged.merge_patch(doc->data);  // RFC 7386, as kubelet applies drop-ins
    p.dropins.push_back(std::move(*doc));
  }
  return p;
}

std::string where(const Document& doc, const std::string& key) {
  const Entry* e = doc.last(key);
  return e ? fmt::format("{}:{}", doc.path, e->line) : doc.path;
}

Result<std::vector<SettingState>> resolve(const Sources& sources, const Parsed& parsed) {
  std::vector<SettingState> out;
  for (const auto& spec : managed_settings()) {
    SettingState s;
    s.name = spec.name;
    s.effective = spec.default_value;
    const std::string key(spec.name);
    if (parsed.config && parsed.config->data.contains(key)) {
      s.effective = parsed.config->data[key];
      s.source = Source::ConfigFile;
      s.source_detail = where(*parsed.config, key);
    }
    for (const auto& d : parsed.dropins) {
      if (!d.data.contains(key)) continue;
      if (d.data[key].is_null()) {  // a merge patch's null deletes the key
        s.effective = spec.default_value;
        s.source = Source::Default;
        s.source_detail = "";
      } else {
        s.effective = d.data[key];
        s.source = Source::DropIn;
        s.source_detail = where(d, key);
      }
    }
    if (!spec.flag.empty()) {
      if (const Flag* f = sources.flag(spec.flag)) {
        auto v = f->value ? parse_flag_value(spec, *f->value) : Result<Json>(Json(true));
        if (!v)
          return fail(fmt::format("{}{}: {}", "kubelet flag", f->origin ? " at " + systemd::to_string(*f->origin) : "",
                                  v.error().message));
        s.effective = *v;
        s.source = Source::Flag;
        s.source_detail = fmt::format("--{}{}", spec.flag, f->origin ? " (" + systemd::to_string(*f->origin) + ")" : "");
      }
    }
    if (s.source != Source::Flag && !s.effective.is_null()) {
      auto v = normalize_value(spec, s.effective);
      if (!v) return fail(fmt::format("{}: {}", s.source_detail, v.error().message));
    }
    out.push_back(std::move(s));
  }
  return out;
}

Endpoint healthz_endpoint(const Sources& sources, const Parsed& parsed) {
  Endpoint e;
  if (parsed.merged.contains("healthzBindAddress") && parsed.merged["healthzBindAddress"].is_string())
    e.address = parsed.merged["healthzBindAddress"].get<std::string>();
  if (parsed.merged.contains("healthzPort") && parsed.merged["healthzPort"].is_number_integer())
    e.port = parsed.merged["healthzPort"].get<long long>();
  if (const Flag* f = sources.flag("healthz-bind-address"); f && f->value) e.address = *f->value;
  if (const Flag* f = sources.flag("healthz-port"); f && f->value) {
    try {
      e.port = std::stoll(*f->value);
    } catch (const std::exception&) {
    }
  }
  return e;
}

bool is_unit_path(const Sources& sources, const std::string& path) {
  if (!sources.unit) return false;
  if (path == sources.unit->fragment) return true;
  return std::find(sources.unit->drop_ins.begin(), sources.unit->drop_ins.end(), path) != sources.unit->drop_ins.end();
}

}  // namespace

Result<Plan> plan(const FileTree& files, const DiscoveryOptions& options, const Sources& sources,
                  const Values& desired) {
  if (!sources.unit && sources.argv.empty() && !sources.config_file && !sources.dropin_dir)
    return fail(fmt::format("no kubelet found on this node: no kubelet process, no unit ({}) and no configuration at "
                            "the well-known paths; set kubelet.configFile, kubelet.dropInDir or kubelet.unit in "
                            "nodeimg's configuration",
                            fmt::join(candidate_units(), ", ")));
  auto parsed = parse_sources(sources);
  if (!parsed) return std::unexpected(parsed.error());
  auto states = resolve(sources, *parsed);
  if (!states) return std::unexpected(states.error());

  Plan result;
  result.healthz = healthz_endpoint(sources, *parsed);
  if (const Flag* f = sources.flag("root-dir"); f && f->value) result.root_dir = *f->value;

  // What needs to change, and by which route.
  std::map<std::string, std::vector<std::tuple<std::size_t, std::string, std::string, bool>>> flag_edits;
  Values to_file;
  std::set<std::string> to_dropin;
  for (auto& s : *states) {
    const SettingSpec& spec = *find_setting(s.name);
    auto want = std::find_if(desired.begin(), desired.end(), [&](const auto& kv) { return kv.first == s.name; });
    if (want == desired.end()) continue;
    s.desired = want->second;
    if (values_equal(spec, s.effective, want->second)) continue;
    if (s.source == Source::Flag) {
      // The flag decides: edit every occurrence where it is written.
      for (const auto& f : sources.flags) {
        if (f.name != spec.flag) continue;
        if (!f.origin || f.origin->line == 0)
          return fail(fmt::format("--{} comes from {}, which nodeimg cannot trace to a file; change it where "
                                  "kubelet's command line is made",
                                  spec.flag, sources.argv_from));
        flag_edits[f.origin->file].emplace_back(f.origin->line, std::string(spec.flag), render_scalar(want->second),
                                                spec.kind == SettingKind::Boolean);
        s.edit = fmt::format("flag --{} in {}", spec.flag, systemd::to_string(*f.origin));
      }
    } else if (sources.dropin_dir) {
      to_dropin.insert(s.name);
    } else if (parsed->config) {
      to_file.emplace_back(s.name, want->second);
      s.edit = fmt::format("{} in {}", s.name, parsed->config->path);
    } else {
      return fail(fmt::format("kubelet reads no config file and no drop-in directory and no flag sets {}: "
                              "nowhere to set it (start kubelet with --config or --config-dir)",
                              s.name));
    }
  }

  // 1. Flags, in place.
  for (const auto& [path, edits] : flag_edits) {
    std::string text = sources.contents.at(path);
    for (const auto& [line, flag, value, boolean] : edits) {
      auto edited = systemd::replace_flag_value(text, line, flag, value, boolean);
      if (!edited) return fail(fmt::format("edit {}: {}", path, edited.error().message));
      text = std::move(*edited);
    }
    FileChange c{path, sources.contents.at(path), text, "kubelet flags", is_unit_path(sources, path)};
    result.daemon_reload = result.daemon_reload || c.unit_file;
    result.changes.push_back(std::move(c));
  }

  // 2. nodeimg's own drop-in, sorted after every other *.conf.
  if (sources.dropin_dir) {
    const std::string dir = *sources.dropin_dir;
    std::vector<std::string> others;
    std::vector<std::string> own_paths;
    std::optional<Document> own;
    for (std::size_t i = 0; i < sources.dropin_files.size(); ++i) {
      const std::string& path = sources.dropin_files[i];
      const std::string rel = path.substr(dir.size() + 1);
      if (rel.find('/') == std::string::npos && is_own_dropin(rel)) {
        own_paths.push_back(path);
        own = parsed->dropins[i];
      } else {
        others.push_back(rel);
      }
    }
    Values values;
    for (const auto& [name, value] : desired)
      if (to_dropin.contains(name) || (own && own->data.contains(name))) values.emplace_back(name, value);
    const std::string target = dir + "/" + own_dropin_name(others);
    std::string api = parsed->config && parsed->config->data["apiVersion"].is_string()
                          ? parsed->config->data["apiVersion"].get<std::string>()
                          : kDefaultApiVersion;
    if (own && own->data["apiVersion"].is_string()) api = own->data["apiVersion"].get<std::string>();
    std::optional<std::string> content;
    if (!values.empty()) content = render_dropin(api, values);
    for (const auto& path : own_paths) {
      if (path == target && content && sources.contents.at(path) == *content) continue;
      if (path == target && content) {
        result.changes.push_back({path, sources.contents.at(path), content, "nodeimg's drop-in"});
      } else {
        result.changes.push_back({path, sources.contents.at(path), std::nullopt, "nodeimg's drop-in (renamed or emptied)"});
      }
    }
    if (content && std::find(own_paths.begin(), own_paths.end(), target) == own_paths.end())
      result.changes.push_back({target, std::nullopt, content, "nodeimg's drop-in"});
    for (auto& s : *states)
      if (to_dropin.contains(s.name)) s.edit = fmt::format("{} in drop-in {}", s.name, target);
  }

  // 3. The config file, surgically.
  if (!to_file.empty()) {
    const Document& doc = *parsed->config;
    auto text = set_values(doc, to_file);
    if (!text) return std::unexpected(text.error());
    auto verified = verify_edit(doc, *text, to_file);
    if (!verified) return std::unexpected(verified.error());
    result.changes.push_back({doc.path, doc.text, *text, "kubelet config file"});
  }

  // Replay: discover and resolve again over the files as they would be written.
  if (!result.changes.empty()) {
    std::map<std::string, std::optional<std::string>> overlay;
    for (const auto& c : result.changes) overlay[c.path] = c.after;
    OverlayTree after_tree(files, overlay);
    DiscoveryOptions replay_options = options;
    replay_options.running_argv.reset();  // after the restart, the unit's command line runs
    auto after_sources = discover(after_tree, replay_options);
    if (!after_sources) return fail("internal error: the planned files do not parse: " + after_sources.error().message);
    auto after_parsed = parse_sources(*after_sources);
    if (!after_parsed) return fail("internal error: the planned files do not parse: " + after_parsed.error().message);
    auto after_states = resolve(*after_sources, *after_parsed);
    if (!after_states) return std::unexpected(after_states.error());
    std::map<std::string, Json> effective;
    for (const auto& s : *after_states) {
      effective[s.name] = s.effective;
      auto want = std::find_if(desired.begin(), desired.end(), [&](const auto& kv) { return kv.first == s.name; });
      if (want != desired.end() && !values_equal(*find_setting(s.name), s.effective, want->second))
        return fail(fmt::format("internal error: after the planned edit {} would be {} (from {}), not {}; nothing was written",
                                s.name, s.effective.dump(), s.source_detail, want->second.dump()));
    }
    // Flags other than the managed ones must be untouched.
    auto unmanaged = [](const std::vector<Flag>& flags) {
      std::vector<std::pair<std::string, std::optional<std::string>>> out;
      for (const auto& f : flags)
        if (!find_setting_by_flag(f.name)) out.emplace_back(f.name, f.value);
      return out;
    };
    if (unmanaged(after_sources->flags) != unmanaged(sources.flags))
      return fail("internal error: the planned edit would change kubelet flags it does not manage; nothing was written");
    if (auto ok = validate_combination(effective); !ok)
      return fail(fmt::format("the desired settings would make kubelet's configuration invalid: {}", ok.error().message));
  }

  result.settings = std::move(*states);
  result.config = std::move(parsed->config);
  return result;
}

}  // namespace nodeimg::kubelet
