#include "core/kubelet/plan.hpp"

#include <algorithm>
#include <charconv>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/common/text.hpp"
#include "core/kubelet/microk8s.hpp"
#include "core/kubelet/settings.hpp"
#include "core/kubelet/systemd_unit.hpp"

namespace nodeimg::kubelet {

const std::string_view kOwnMarker = "# Written by nodeimg";

std::string_view to_string(Source s) {
  switch (s) {
    case Source::Default: return "default";
    case Source::ConfigFile: return "config file";
    case Source::DropIn: return "drop-in";
    case Source::Flag: return "flag";
  }
  return "?";
}

bool is_owned(const DiscoveryOptions& options, const std::string& path, const std::string& content) {
  auto it = options.owned_files.find(path);
  return it != options.owned_files.end() && it->second == content && content.starts_with(kOwnMarker);
}

std::optional<std::string> own_dropin_name(const std::vector<std::string>& others) {
  // kubelet walks the directory in byte order (Go compares strings bytewise; so does
  // std::string, as unsigned char). The name must sort after every other entry.
  auto after_all = [&](const std::string& name) {
    return std::all_of(others.begin(), others.end(), [&](const std::string& o) { return o < name; });
  };
  std::string name = "99-nodeimg.conf";
  for (int i = 0; i < 8; ++i, name = "z" + name)
    if (after_all(name)) return name;
  // Past "z": '~' is the largest printable ASCII byte; one more '~' than any other name
  // starts with wins, unless a name starts with a byte above '~' (non-ASCII).
  std::size_t tildes = 0;
  for (const auto& o : others) {
    if (!o.empty() && static_cast<unsigned char>(o[0]) > '~') return std::nullopt;
    tildes = std::max(tildes, o.find_first_not_of('~') == std::string::npos ? o.size() : o.find_first_not_of('~'));
  }
  name = std::string(tildes + 1, '~') + "99-nodeimg.conf";
  if (name.size() > 255 || !after_all(name)) return std::nullopt;
  return name;
}

namespace {

const std::string kDefaultApiVersion = "kubelet.config.k8s.io/v1beta1";

struct Parsed {
  std::optional<Document> config{};
  std::vector<Document> dropins{};  // same order as sources.dropin_files
  Json merged = Json::object();   // config file with every drop-in merged in
};

// The config file as planned, parsed and verified by the edit (its text is moved to the
// planned change: resolve() reads a document's data and entries, never its text).
struct Verified {
  std::optional<Document> doc{};
  const std::string* text = nullptr;  // the planned bytes it was read from
};

// `reuse`: a document already parsed from the config file's planned bytes; taken instead
// of parsing the same bytes again (a large file is parsed once per plan).
Result<Parsed> parse_sources(const Sources& sources, Verified* reuse = nullptr) {
  Parsed p;
  const std::string* config = sources.config_file ? &sources.contents.at(*sources.config_file) : nullptr;
  if (config) {
    const bool reused =
        reuse && reuse->doc && reuse->text && reuse->doc->path == *sources.config_file && *reuse->text == *config;
    auto doc = reused ? Result<Document>(std::move(*reuse->doc))
                      : parse_document(*sources.config_file, *config, ParseValues::Needed);
    if (reused) reuse->doc.reset();
    if (!doc) return std::unexpected(doc.error());
    if (auto ok = require_kubelet_configuration(*doc); !ok) return std::unexpected(ok.error());
    p.merged = doc->data;
    p.config = std::move(*doc);
  }
  for (const auto& path : sources.dropin_files) {
    auto doc = parse_document(path, sources.contents.at(path), ParseValues::Needed);
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

// The value the config file gives `spec`, as kubelet decodes it.
Result<void> read_config_value(const SettingSpec& spec, const Document& doc, SettingState& s) {
  const std::string key(spec.name);
  if (!doc.data.contains(key)) return {};
  const Json& v = doc.data.at(key);
  if (v.is_null()) {
    s.source_detail = where(doc, key) + " (null: kubelet's default applies)";
    s.source_files = {doc.path};
    return {};
  }
  if (doc.format == DocumentFormat::kJson && spec.kind == SettingKind::Integer && v.is_number_float())
    return fail(fmt::format("{}: {} is {} in JSON, which kubelet's JSON decoder does not accept for an integer "
                            "field (write it without a fraction)",
                            where(doc, key), spec.name, v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)));
  s.effective = v;
  s.source = Source::ConfigFile;
  s.source_detail = where(doc, key);
  s.source_files = {doc.path};
  return {};
}

Result<void> read_dropin_value(const SettingSpec& spec, const Document& d, SettingState& s) {
  const std::string key(spec.name);
  if (!d.data.contains(key)) return {};
  if (d.data.at(key).is_null())
    return fail(fmt::format("{}: {} is null in a drop-in; how kubelet merges a null over the config file differs "
                            "between versions and nodeimg will not guess (remove the line or set a value)",
                            where(d, key), spec.name));
  s.effective = d.data.at(key);
  s.source = Source::DropIn;
  s.source_detail = where(d, key);
  s.source_files = {d.path};
  return {};
}

Result<void> read_flag_value(const SettingSpec& spec, const Sources& sources, SettingState& s) {
  if (spec.flag.empty()) return {};
  const Flag* f = sources.flag(spec.flag);
  if (!f) return {};
  const std::string at = f->origin ? " at " + systemd::to_string(*f->origin) : "";
  auto v = f->value ? parse_flag_value(spec, *f->value) : Result<Json>(Json(true));
  if (!v) return fail(fmt::format("kubelet flag{}: {} (kubelet would refuse to start)", at, v.error().message));
  s.effective = *v;
  s.source = Source::Flag;
  s.source_detail = fmt::format("--{}{}", f->spelling, f->origin ? " (" + systemd::to_string(*f->origin) + ")" : "");
  s.source_files.clear();
  if (f->origin) s.source_files.push_back(f->origin->file);
  if (f->value_origin && (!f->origin || f->value_origin->file != f->origin->file))
    s.source_files.push_back(f->value_origin->file);
  return {};
}

Result<std::vector<SettingState>> resolve(const Sources& sources, const Parsed& parsed) {
  std::vector<SettingState> out{};
  for (const auto& spec : managed_settings()) {
    SettingState s{.name = std::string(spec.name), .effective = spec.default_value};
    if (parsed.config)
      if (auto ok = read_config_value(spec, *parsed.config, s); !ok) return std::unexpected(ok.error());
    for (const auto& d : parsed.dropins)
      if (auto ok = read_dropin_value(spec, d, s); !ok) return std::unexpected(ok.error());
    if (auto ok = read_flag_value(spec, sources, s); !ok) return std::unexpected(ok.error());
    if (s.source != Source::Flag && !s.effective.is_null()) {
      auto v = normalize_value(spec, s.effective);
      if (!v) return fail(fmt::format("{}: {} (kubelet would refuse to start)", s.source_detail, v.error().message));
      s.effective = *v;
    }
    out.push_back(std::move(s));
  }
  return out;
}

Result<long long> parse_port(const std::string& text) {
  long long port = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), port);
  if (ec != std::errc() || p != text.data() + text.size() || port < 0 || port > 65535)
    return fail(fmt::format("--healthz-port \"{}\" is not a port number (kubelet would refuse to start)", text));
  return port;
}

Result<Endpoint> healthz_endpoint(const Sources& sources, const Parsed& parsed) {
  Endpoint e{};
  if (parsed.merged.contains("healthzBindAddress") && parsed.merged["healthzBindAddress"].is_string())
    e.address = parsed.merged["healthzBindAddress"].get<std::string>();
  if (parsed.merged.contains("healthzPort") && parsed.merged["healthzPort"].is_number_integer())
    e.port = parsed.merged["healthzPort"].get<long long>();
  if (const Flag* f = sources.flag("healthz-bind-address"); f && f->value) e.address = *f->value;
  if (const Flag* f = sources.flag("healthz-port"); f && f->value) {
    auto port = parse_port(*f->value);
    if (!port) return std::unexpected(port.error());
    e.port = *port;
  }
  return e;
}

bool is_unit_path(const Sources& sources, const std::string& path) {
  if (!sources.unit) return false;
  if (path == sources.unit->fragment) return true;
  return std::find(sources.unit->drop_ins.begin(), sources.unit->drop_ins.end(), path) != sources.unit->drop_ins.end();
}

}  // namespace

namespace {

// One edit of the text of a file that defines a flag: the flag's value, or the value of
// the variable it takes its value from.
struct TextEdit {
  std::string file{};
  std::size_t line = 0;
  bool assignment = false;  // false: `--flag` spelled `name`; true: `name=` (a variable)
  std::string name{};
  std::string value{};
  bool boolean = false;
  auto operator<=>(const TextEdit&) const = default;
};

struct Routes {
  std::set<TextEdit> text_edits{};
  Values to_file;
  std::set<std::string> to_dropin{};
  Values to_args{};  // MicroK8s: flags added to its args file
  std::string refusal{};
};

std::string flag_refusal(const SettingSpec& spec, const Flag& f, const Json& want, const std::string& why) {
  return fmt::format("{}: kubelet takes --{}={} from {} ({}); nodeimg will not edit it there. Remove that entry "
                     "(nodeimg then sets {} where kubelet reads it) or set it to {} yourself",
                     spec.name, f.name, f.value.value_or("true"), f.origin ? systemd::to_string(*f.origin) : "?", why,
                     spec.name, render_scalar(want));
}

// Every occurrence of the flag whose value differs is edited where it is written.
// Occurrences nodeimg will not edit are all named in one refusal.
void route_flag(const SettingSpec& spec, const Sources& sources, const Json& want, SettingState& s, Routes& r) {
  std::vector<std::string> refusals;
  for (const auto& f : sources.flags) {
    if (f.name != spec.flag) continue;
    auto current = f.value ? parse_flag_value(spec, *f.value) : Result<Json>(Json(true));
    if (current && values_equal(spec, *current, want)) continue;
    if (!f.not_editable.empty()) {
      refusals.push_back(flag_refusal(spec, f, want, f.not_editable));
      continue;
    }
    if (!f.origin || f.origin->line == 0)
      return void(r.refusal = fmt::format("--{} comes from {}, which nodeimg cannot trace to a file; change it where "
                                          "kubelet's command line is made",
                                          spec.flag, sources.argv_from));
    const std::string value = render_scalar(want);
    if (!f.value_variable.empty()) {
      r.text_edits.insert({.file = f.value_origin->file, .line = f.value_origin->line, .assignment = true,
                           .name = f.value_variable, .value = value});
      s.edit = fmt::format("${} (value of --{}) in {}", f.value_variable, spec.flag, systemd::to_string(*f.value_origin));
    } else {
      r.text_edits.insert({.file = f.origin->file, .line = f.origin->line, .name = f.spelling, .value = value,
                           .boolean = spec.kind == SettingKind::Boolean});
      s.edit = fmt::format("flag --{} in {}", spec.flag, systemd::to_string(*f.origin));
    }
  }
  if (!refusals.empty()) r.refusal = fmt::format("{}", fmt::join(refusals, "; "));
}

Routes route(const Sources& sources, const Parsed& parsed, std::vector<SettingState>& states, const Values& desired) {
  Routes r;
  for (auto& s : states) {
    const SettingSpec& spec = *find_setting(s.name);
    const Json* want = asked_value(desired, s.name);
    if (!want) continue;
    s.desired = *want;
    if (values_equal(spec, s.effective, *want)) continue;
    if (s.source == Source::Flag) {
      route_flag(spec, sources, *want, s, r);
    } else if (sources.args_file && !spec.flag.empty()) {
      // Flags win over any file, and the args file is what MicroK8s supports editing.
      r.to_args.push_back({.name = s.name, .value = *want});
      s.edit = fmt::format("flag --{} in a new line of {}", spec.flag, sources.args_file->path);
    } else if (sources.args_file) {
      r.refusal = fmt::format("{} has no kubelet flag, and MicroK8s gives kubelet no config file: nowhere to set it",
                              s.name);
    } else if (sources.dropin_dir) {
      r.to_dropin.insert(s.name);
    } else if (parsed.config) {
      r.to_file.push_back({.name = s.name, .value = *want});
      s.edit = fmt::format("{} in {}", s.name, parsed.config->path);
    } else {
      r.refusal = fmt::format("kubelet reads no config file and no drop-in directory and no flag sets {}: "
                              "nowhere to set it (start kubelet with --config or --config-dir)",
                              s.name);
    }
    if (!r.refusal.empty()) return r;
  }
  return r;
}

// The physical lines of the logical line `line` (1-based) of `text`.
std::string logical_line_text(std::string_view text, std::size_t line) {
  std::string out{};
  std::size_t n = 0;
  bool in = false;
  for (auto raw : text::lines_with_endings(text)) {
    ++n;
    if (n == line) in = true;
    if (!in) continue;
    out += raw;
    if (!text::strip_line_ending(raw).ends_with('\\')) break;
  }
  if (!out.ends_with('\n')) out += '\n';
  return out;
}

// A drop-in kubelet's unit shares with other units (service.d/, a dash prefix's
// k3s-.service.d/): editing it would change them too.
bool shared_dropin(const Sources& sources, std::string_view path) {
  const std::string own_dir = "/" + sources.unit->name + ".d/";
  return path != sources.unit->fragment && path.find(own_dir) == std::string_view::npos;
}

// A flag in a package's unit file (/lib, /usr/lib) or in a shared drop-in is never edited
// there: a drop-in gets an edited copy of the same name in /etc/systemd/system/UNIT.d/
// (which hides it, for this unit only: systemd reads that directory first); the vendor
// unit file gets an override drop-in that sets the edited directives again.
Result<FileChange> vendor_override(const FileTree& files, const DiscoveryOptions& options, const Sources& sources,
                                   const std::string& path, const std::string& edited, const std::set<std::size_t>& lines) {
  const std::string unit = sources.unit->name;
  const std::string dir = "/etc/systemd/system/" + unit + ".d/";
  const std::string what = shared_dropin(sources, path) ? "the drop-in " + path + " (shared with other units)"
                                                       : "the vendor unit file " + path;
  FileChange c{.reason = "override of " + what, .unit_file = true, .own = true};
  std::string content = fmt::format("{} (nodeimg kubelet apply): overrides {}\n", kOwnMarker, path);
  if (path == sources.unit->fragment) {
    c.path = dir + "99-nodeimg-override.conf";
    content += "[Service]\n";
    for (auto line : lines) {
      const std::string directive = logical_line_text(edited, line);
      if (text::starts_with(text::trim(directive), "ExecStart")) content += "ExecStart=\n";
      content += directive;
    }
  } else {
    c.path = dir + path.substr(path.rfind('/') + 1);
    content += edited;
  }
  auto existing = files.read(c.path);
  if (!existing) return std::unexpected(existing.error());
  if (*existing && !is_owned(options, c.path, **existing))
    return fail(fmt::format("{} must be overridden in {}, but that file exists and nodeimg did not write it; move it "
                            "aside or make the change yourself",
                            path, c.path));
  c.before = *existing;
  c.after = std::move(content);
  return c;
}

Result<void> plan_text_edits(const FileTree& files, const DiscoveryOptions& options, const Sources& sources,
                             const std::set<TextEdit>& edits, Plan& result) {
  std::map<std::string, std::vector<const TextEdit*>> by_file;
  for (const auto& e : edits) by_file[e.file].push_back(&e);
  for (const auto& [path, file_edits] : by_file) {
    std::string text = sources.contents.at(path);
    std::set<std::size_t> lines{};
    for (const TextEdit* e : file_edits) {
      auto edited = e->assignment ? systemd::replace_assignment_value(text, e->line, e->name, e->value)
                                  : systemd::replace_flag_value(text, e->line, e->name, e->value, e->boolean);
      if (!edited) return fail(fmt::format("edit {}: {}", path, edited.error().message));
      text = std::move(*edited);
      lines.insert(e->line);
    }
    const bool unit_file = is_unit_path(sources, path);
    if (unit_file && (is_vendor_unit_path(path) || shared_dropin(sources, path))) {
      auto c = vendor_override(files, options, sources, path, text, lines);
      if (!c) return std::unexpected(c.error());
      result.changes.push_back(std::move(*c));
    } else {
      result.changes.push_back({.path = path, .before = sources.contents.at(path), .after = text,
                                .reason = "kubelet flags", .unit_file = unit_file,
                                .own = is_owned(options, path, sources.contents.at(path))});
    }
    result.daemon_reload = result.daemon_reload || result.changes.back().unit_file;
  }
  return {};
}

struct OwnDropins {
  std::vector<std::string> others{};  // top-level names of every other entry
  std::vector<std::string> own_paths{};
  std::optional<Document> own{};
};

OwnDropins sort_dropins(const DiscoveryOptions& options, const Sources& sources, const Parsed& parsed) {
  OwnDropins o;
  const std::string& dir = *sources.dropin_dir;
  for (std::size_t i = 0; i < sources.dropin_files.size(); ++i) {
    const std::string& path = sources.dropin_files[i];
    const std::string rel = path.substr(dir.size() + 1);
    if (rel.find('/') == std::string::npos && is_owned(options, path, sources.contents.at(path))) {
      o.own_paths.push_back(path);
      o.own = parsed.dropins[i];
    } else {
      o.others.push_back(rel.substr(0, rel.find('/')));
    }
  }
  return o;
}

Result<void> plan_own_dropin(const DiscoveryOptions& options, const Sources& sources, const Parsed& parsed,
                             const Values& desired, Routes& routes, std::vector<SettingState>& states, Plan& result) {
  const OwnDropins o = sort_dropins(options, sources, parsed);
  Values values;
  for (const auto& [name, value] : desired)
    if (routes.to_dropin.contains(name) || (o.own && o.own->data.contains(name))) values.push_back({.name = name, .value = value});
  const auto name = own_dropin_name(o.others);
  if (!name) {
    if (routes.to_dropin.empty()) return {};
    routes.refusal = fmt::format("no file name sorts after every entry of {} (a name starts with a non-ASCII byte); "
                                 "nodeimg cannot place its drop-in last",
                                 *sources.dropin_dir);
    return {};
  }
  const std::string target = *sources.dropin_dir + "/" + *name;
  std::string api = parsed.config && parsed.config->data["apiVersion"].is_string()
                        ? parsed.config->data["apiVersion"].get<std::string>()
                        : kDefaultApiVersion;
  if (o.own && o.own->data["apiVersion"].is_string()) api = o.own->data["apiVersion"].get<std::string>();
  std::optional<std::string> content{};
  if (!values.empty()) content = render_dropin(api, values);
  for (const auto& path : o.own_paths) {
    const std::string& before = sources.contents.at(path);
    if (path == target && content && before == *content) continue;
    if (path == target && content)
      result.changes.push_back({.path = path, .before = before, .after = content, .reason = "nodeimg's drop-in", .own = true});
    else
      result.changes.push_back({.path = path, .before = before, .reason = "nodeimg's drop-in (renamed or emptied)", .own = true});
  }
  if (content && std::find(o.own_paths.begin(), o.own_paths.end(), target) == o.own_paths.end())
    result.changes.push_back({.path = target, .after = content, .reason = "nodeimg's drop-in", .own = true});
  for (auto& s : states)
    if (routes.to_dropin.contains(s.name)) s.edit = fmt::format("{} in drop-in {}", s.name, target);
  return {};
}

// MicroK8s: one line per flag at the end of the args file, in the same change as any
// in-place edit of that file.
void plan_args_lines(const Sources& sources, const Values& to_args, Plan& result) {
  if (to_args.empty()) return;
  const std::string& path = sources.args_file->path;
  auto it = std::find_if(result.changes.begin(), result.changes.end(), [&](const FileChange& c) { return c.path == path; });
  if (it == result.changes.end()) {
    result.changes.push_back({.path = path, .before = sources.contents.at(path), .after = sources.contents.at(path),
                              .reason = "kubelet flags (MicroK8s args file)"});
    it = result.changes.end() - 1;
  }
  for (const auto& [name, value] : to_args)
    it->after = append_args_line(*it->after, find_setting(name)->flag, render_scalar(value));
}

// The document's text moves to the change's `before` (Plan::config keeps the parsed data).
Result<void> plan_config_edit(Parsed& parsed, const Values& to_file, Plan& result, Verified& verified) {
  if (to_file.empty()) return {};
  Document& doc = *parsed.config;
  auto edited = edit_document(doc, to_file);
  if (!edited) return std::unexpected(edited.error());
  result.changes.push_back({.path = doc.path,
                            .before = std::move(doc.text),
                            .after = std::move(edited->text),
                            .reason = "kubelet config file"});
  doc.text.clear();
  edited->text.clear();
  verified.doc = std::move(*edited);
  return {};
}

// The files as the plan would write them, without another copy of the planned bytes (a
// large config file is held once): an OverlayTree with empty stand-ins gives the listings
// and links, the changes themselves give the contents.
class PlannedTree final : public FileTree {
 public:
  PlannedTree(const FileTree& base, const std::vector<FileChange>& changes)
      : changes_(changes), overlay_(base, stand_ins(changes)) {}
  Result<std::optional<std::string>> read(const std::string& path) const override {
    for (auto c = changes_.rbegin(); c != changes_.rend(); ++c)
      if (c->path == path) return c->after;
    return overlay_.read(path);
  }
  Result<std::optional<std::vector<DirEntry>>> list(const std::string& path) const override { return overlay_.list(path); }
  Result<std::optional<std::string>> read_link(const std::string& path) const override {
    return overlay_.read_link(path);
  }

 private:
  static std::map<std::string, std::optional<std::string>> stand_ins(const std::vector<FileChange>& changes) {
    std::map<std::string, std::optional<std::string>> out{};
    for (const auto& c : changes) out[c.path] = c.after ? std::optional<std::string>(std::string()) : std::nullopt;
    return out;
  }
  const std::vector<FileChange>& changes_;
  OverlayTree overlay_;
};

// Discovers and resolves again over the files as they would be written: the desired
// values must come out, unmanaged flags must be untouched, kubelet must accept the whole.
Result<void> replay(const FileTree& files, const DiscoveryOptions& options, const Sources& sources, const Plan& result,
                    const Values& desired, Verified& verified) {
  const PlannedTree after_tree(files, result.changes);
  DiscoveryOptions replay_options = options;
  replay_options.running_argv.reset();  // after the restart, the unit's command line runs
  auto after_sources = discover(after_tree, replay_options);
  if (!after_sources) return fail("internal error: the planned files do not parse: " + after_sources.error().message);
  for (const auto& c : result.changes)
    if (verified.doc && c.path == verified.doc->path && c.after) verified.text = &*c.after;
  auto after_parsed = parse_sources(*after_sources, &verified);
  if (!after_parsed) return fail("internal error: the planned files do not parse: " + after_parsed.error().message);
  auto after_states = resolve(*after_sources, *after_parsed);
  if (!after_states) return std::unexpected(after_states.error());
  std::map<std::string, Json> effective{};
  for (const auto& s : *after_states) {
    effective[s.name] = s.effective;
    const Json* want = asked_value(desired, s.name);
    if (want && !values_equal(*find_setting(s.name), s.effective, *want))
      return fail(fmt::format("internal error: after the planned edit {} would be {} (from {}), not {}; nothing was written",
                              s.name, s.effective.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace), s.source_detail, want->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)));
  }
  auto unmanaged = [](const std::vector<Flag>& flags) {
    std::vector<std::string> out{};
    for (const auto& f : flags)
      if (!find_setting_by_flag(f.name)) out.push_back(f.name + "=" + f.value.value_or("<bare>"));
    return out;
  };
  if (unmanaged(after_sources->flags) != unmanaged(sources.flags))
    return fail("internal error: the planned edit would change kubelet flags it does not manage; nothing was written");
  if (auto ok = validate_combination(effective); !ok)
    return fail(fmt::format("the desired settings would make kubelet's configuration invalid: {}", ok.error().message));
  return {};
}

Result<void> require_kubelet(const Sources& sources) {
  if (sources.unit || !sources.argv.empty() || sources.config_file || sources.dropin_dir) return {};
  std::string masked = sources.masked.empty() ? "" : fmt::format(" (masked: {})", fmt::join(sources.masked, "; "));
  return fail(fmt::format("no kubelet found on this node: no kubelet process, no unit ({}){} and no configuration at "
                          "the well-known paths; set kubelet.configFile, kubelet.dropInDir or kubelet.unit in "
                          "nodeimg's configuration",
                          fmt::join(candidate_units(), ", "), masked));
}

}  // namespace

Result<Plan> plan(const FileTree& files, const DiscoveryOptions& options, const Sources& sources,
                  const Values& desired) {
  // Several kubelet units and nothing says which runs: no value can be trusted.
  if (!sources.unit_refusal.empty()) {
    Plan refused;
    refused.refusal = sources.unit_refusal;
    return refused;
  }
  if (auto ok = require_kubelet(sources); !ok) return std::unexpected(ok.error());
  auto parsed = parse_sources(sources);
  if (!parsed) return std::unexpected(parsed.error());
  auto states = resolve(sources, *parsed);
  if (!states) return std::unexpected(states.error());
  Plan result;
  auto healthz = healthz_endpoint(sources, *parsed);
  if (!healthz) return std::unexpected(healthz.error());
  result.healthz = *healthz;
  if (const Flag* f = sources.flag("root-dir"); f && f->value) result.root_dir = normalize_path(*f->value);
  Routes routes = route(sources, *parsed, *states, desired);
  Verified verified{};
  auto planned = [&]() -> Result<void> {
    if (!routes.refusal.empty()) return {};
    if (auto ok = plan_text_edits(files, options, sources, routes.text_edits, result); !ok) return ok;
    plan_args_lines(sources, routes.to_args, result);
    if (sources.dropin_dir)
      if (auto ok = plan_own_dropin(options, sources, *parsed, desired, routes, *states, result); !ok) return ok;
    if (!routes.refusal.empty()) return {};
    return plan_config_edit(*parsed, routes.to_file, result, verified);
  }();
  if (!planned) routes.refusal = planned.error().message;
  if (!routes.refusal.empty()) {
    result.refusal = std::move(routes.refusal);
    result.changes.clear();
    result.daemon_reload = false;
  } else if (!result.changes.empty()) {
    if (auto ok = replay(files, options, sources, result, desired, verified); !ok) return std::unexpected(ok.error());
  }
  result.settings = std::move(*states);
  result.config = std::move(parsed->config);
  return result;
}

}  // namespace nodeimg::kubelet
