// Kubelet checks: can its configuration be found and read, do its files say what kubelet
// will use (headers, unknown keys, flags that win over the files), is it what nodeimg's
// configuration asks for, and does its image cap fit the images the runtime holds.
#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "core/doctor/diagnosis.hpp"
#include "core/doctor/kubelet_fields.hpp"
#include "core/gc/planner.hpp"
#include "core/kubelet/document.hpp"
#include "core/kubelet/settings.hpp"

namespace nodeimg::doctor {

namespace {

constexpr std::string_view kConfigFile = "/etc/nodeimg/config.yaml";
constexpr std::string_view kApiVersion = "kubelet.config.k8s.io/v1beta1";

// One kubelet file read as kubelet reads it.
struct KubeletFile {
  std::string path;
  bool dropin = false;
  std::optional<kubelet::Document> doc;  // nullopt: not parseable
};

std::vector<KubeletFile> read_files(const kubelet::Sources& sources, std::vector<Finding>& out) {
  std::vector<KubeletFile> files;
  struct Path {
    std::string path;
    bool dropin = false;
  };
  std::vector<Path> paths;
  if (sources.config_file) paths.push_back({.path = *sources.config_file});
  for (const auto& d : sources.dropin_files) paths.push_back({.path = d, .dropin = true});
  for (const auto& [path, dropin] : paths) {
    const auto text = sources.contents.find(path);
    if (text == sources.contents.end()) continue;  // absent: discovery says so
    auto doc = kubelet::parse_document(path, text->second);
    if (!doc) {
      out.push_back({.id = "kubelet-file-unparsable", .area = "kubelet", .severity = Severity::Error,
                     .seen = doc.error().message,
                     .why = "kubelet refuses to start with a configuration file it cannot decode",
                     .fix = fmt::format("correct {} (`nodeimg kubelet status` shows every file kubelet reads)", path)});
    }
    files.push_back({.path = path, .dropin = dropin, .doc = doc ? std::optional(std::move(*doc)) : std::nullopt});
  }
  return files;
}

std::string scalar_text(const kubelet::Json* v) { return v ? v->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) : "missing"; }

void check_header(const KubeletFile& f, std::vector<Finding>& out) {
  const auto* api = f.doc->last("apiVersion");
  const auto* kind = f.doc->last("kind");
  const bool api_ok = api && api->value.is_string() && api->value.get<std::string>().starts_with("kubelet.config.k8s.io/");
  const bool kind_ok = kind && kind->value == "KubeletConfiguration";
  if (api_ok && kind_ok) return;
  out.push_back({.id = f.dropin ? "kubelet-dropin-header" : "kubelet-config-header", .area = "kubelet",
                 .severity = Severity::Error,
                 .seen = fmt::format("{}: apiVersion is {}, kind is {}", f.path, scalar_text(api ? &api->value : nullptr),
                                     scalar_text(kind ? &kind->value : nullptr)),
                 .why = f.dropin ? "kubelet refuses to start when a drop-in lacks apiVersion/kind or names another type"
                                 : "kubelet refuses a configuration file that is not a KubeletConfiguration",
                 .fix = fmt::format("put `apiVersion: {}` and `kind: KubeletConfiguration` at the top of {}", kApiVersion,
                                    f.path)});
}

void check_unknown_keys(const KubeletFile& f, std::vector<Finding>& out) {
  const auto* api = f.doc->last("apiVersion");
  if (!api || api->value != kApiVersion) return;  // the list of fields is v1beta1's
  std::vector<std::string> unknown, hints;
  for (const auto& e : f.doc->entries) {
    if (std::ranges::find(unknown, e.key) != unknown.end()) continue;
    if (is_known_kubelet_field(e.key)) {
      // The value kubelet decodes is the last one; its nested keys are checked once.
      if (f.doc->last(e.key) != &e) continue;
      for (const auto& nested : unknown_nested_fields(e.key, e.value)) {
        unknown.push_back(nested.path);
        hints.push_back(nested.suggestion ? fmt::format("\"{}\" (under line {}): did you mean \"{}\"?", nested.path,
                                                        e.line, *nested.suggestion)
                                          : fmt::format("\"{}\" (under line {})", nested.path, e.line));
      }
      continue;
    }
    unknown.push_back(e.key);
    const auto close = closest_kubelet_field(e.key);
    hints.push_back(close ? fmt::format("\"{}\" (line {}): did you mean \"{}\"?", e.key, e.line, *close)
                          : fmt::format("\"{}\" (line {})", e.key, e.line));
  }
  if (unknown.empty()) return;
  out.push_back({.id = "kubelet-unknown-keys", .area = "kubelet", .severity = Severity::Warning,
                 .seen = fmt::format("{}: keys kubelet does not know: {}", f.path, fmt::join(hints, "; ")),
                 .why = "kubelet decodes its files leniently: it ignores unknown keys without an error, so a misspelt "
                        "setting silently keeps its default",
                 .fix = fmt::format("correct or remove them in {}; for the image settings use kubelet.* in {} and "
                                    "`nodeimg kubelet apply`",
                                    f.path, kConfigFile)});
}

// The value the files give `field` (drop-ins override the config file; the last wins), and where.
struct FileValue {
  kubelet::Json value;
  std::string path;
};
std::optional<FileValue> file_value(const std::vector<KubeletFile>& files, const std::string& field) {
  std::optional<FileValue> found;
  for (const auto& f : files)
    if (f.doc && f.doc->data.is_object() && f.doc->data.contains(field)) found = FileValue{f.doc->data[field], f.path};
  return found;
}

void check_flag_overrides(const kubelet::Sources& sources, const std::vector<KubeletFile>& files,
                          std::vector<Finding>& out) {
  for (const auto& spec : kubelet::managed_settings()) {
    if (spec.flag.empty()) continue;
    const auto* flag = sources.flag(spec.flag);
    if (!flag) continue;
    const auto in_file = file_value(files, std::string(spec.name));
    if (!in_file) continue;
    const auto flag_value = flag->value ? kubelet::parse_flag_value(spec, *flag->value) : Result<kubelet::Json>(true);
    const bool same = flag_value && kubelet::values_equal(spec, *flag_value, in_file->value);
    const std::string where = flag->origin ? " (" + systemd::to_string(*flag->origin) + ")" : "";
    const std::string flag_text = fmt::format("--{}{}{}", flag->name, flag->value ? "=" + *flag->value : "", where);
    if (same) {
      out.push_back({.id = "flag-duplicates-file", .area = "kubelet", .severity = Severity::Info,
                     .seen = fmt::format("{} and {}: {} in {} agree", flag_text, spec.name, in_file->value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                                         in_file->path),
                     .why = "the flag wins over the file: a later edit of the file alone would change nothing",
                     .fix = ""});
      continue;
    }
    out.push_back({.id = "flag-overrides-file", .area = "kubelet", .severity = Severity::Warning,
                   .seen = fmt::format("{} overrides {}: {} in {}", flag_text, spec.name, in_file->value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                                       in_file->path),
                   .why = "kubelet uses the flag: the setting an operator edits in the file is not the one kubelet uses",
                   .fix = fmt::format("set kubelet.{} in {} and run `nodeimg kubelet apply` (it edits the flag where it "
                                      "is written), or remove the flag{}",
                                      spec.name, kConfigFile, where)});
  }
}

void check_in_sync(const kubelet::Plan& plan, std::vector<Finding>& out) {
  std::vector<std::string> differ;
  std::size_t desired = 0;
  for (const auto& s : plan.settings) {
    if (s.desired) ++desired;
    if (s.desired && !s.edit.empty())
      differ.push_back(fmt::format("{} is {} ({}), {} asks for {}", s.name, s.effective.is_null() ? "unset" : s.effective.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                                   s.source == kubelet::Source::Default ? "kubelet default" : s.source_detail, kConfigFile,
                                   s.desired->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)));
  }
  if (differ.empty() && plan.changes.empty()) {
    if (desired > 0)
      out.push_back({.id = "kubelet-in-sync", .area = "kubelet", .severity = Severity::Ok,
                     .seen = fmt::format("kubelet's {} managed setting(s) have the values {} asks for", desired, kConfigFile)});
    return;
  }
  out.push_back({.id = "kubelet-not-in-sync", .area = "kubelet", .severity = Severity::Warning,
                 .seen = differ.empty() ? fmt::format("apply would change {} file(s)", plan.changes.size())
                                        : fmt::format("{}", fmt::join(differ, "; ")),
                 .why = "kubelet runs with other image settings than nodeimg is configured to give it (a platform may "
                        "have regenerated its files at boot)",
                 .fix = "run `nodeimg kubelet apply` (and `systemctl enable nodeimg-kubelet.service` so it re-applies at "
                        "every boot)"});
}

bool kubelet_found(const kubelet::Sources& s) {
  return s.unit || s.config_file || s.dropin_dir || !s.argv.empty();
}

}  // namespace

std::optional<long long> effective_integer(const kubelet::Plan& plan, std::string_view name) {
  for (const auto& s : plan.settings) {
    if (s.name != name) continue;
    if (s.effective.is_number_integer()) return s.effective.get<long long>();
    if (const auto* spec = kubelet::find_setting(name); spec && spec->default_value.is_number_integer())
      return spec->default_value.get<long long>();
  }
  return std::nullopt;
}

void check_kubelet(const Observations& o, std::vector<Finding>& out) {
  const auto& k = o.kubelet;
  if (!k.sources) {
    out.push_back({.id = "kubelet-discovery-failed", .area = "kubelet", .severity = Severity::Error,
                   .seen = k.error,
                   .why = "nodeimg cannot tell which files kubelet reads, so it can neither check nor apply its settings",
                   .fix = fmt::format("set kubelet.configFile / kubelet.unit in {} if kubelet lives elsewhere; "
                                      "`nodeimg -v kubelet status` shows what was tried",
                                      kConfigFile)});
    return;
  }
  if (!kubelet_found(*k.sources)) {
    out.push_back({.id = "kubelet-not-found", .area = "kubelet", .severity = Severity::Warning,
                   .seen = "no kubelet process, unit or configuration file found",
                   .why = "nodeimg cannot set nodeStatusMaxImages until kubelet is installed (the node may not have "
                          "joined yet)",
                   .fix = fmt::format("join the node (nodeimg-kubelet.service applies at the next boot), or set "
                                      "kubelet.configFile / kubelet.unit in {}",
                                      kConfigFile)});
    return;
  }
  const auto files = read_files(*k.sources, out);
  for (const auto& f : files) {
    if (!f.doc) continue;
    check_header(f, out);
    check_unknown_keys(f, out);
  }
  check_flag_overrides(*k.sources, files, out);
  if (!k.settings_conflict.empty()) {
    // The plan fails for the same reason; this says which of nodeimg's lines to change.
    out.push_back({.id = "kubelet-settings-conflict", .area = "kubelet", .severity = Severity::Error,
                   .seen = k.settings_conflict,
                   .why = "kubelet refuses to start with this combination, so `nodeimg kubelet apply` refuses it "
                          "(exit 2) and kubelet keeps its old values",
                   .fix = fmt::format("change kubelet.settings in {} as the message says", kConfigFile)});
    return;
  }
  if (!k.plan) {
    out.push_back({.id = "kubelet-plan-failed", .area = "kubelet", .severity = Severity::Warning,
                   .seen = k.error,
                   .why = "nodeimg cannot work out kubelet's effective settings, so `nodeimg kubelet apply` would fail",
                   .fix = "fix what the message names; `nodeimg kubelet status` shows every source"});
    return;
  }
  check_in_sync(*k.plan, out);
}

std::uint64_t estimate_node_images_bytes(const std::vector<gc::Image>& images, long long cap) {
  std::vector<const gc::Image*> sorted;
  for (const auto& i : images) sorted.push_back(&i);
  // kubelet reports the largest images first and truncates at the cap.
  std::ranges::stable_sort(sorted, [](const gc::Image* a, const gc::Image* b) { return a->size > b->size; });
  const std::size_t shown = cap < 0 ? sorted.size() : std::min(sorted.size(), static_cast<std::size_t>(cap));
  std::uint64_t bytes = 0;
  for (std::size_t i = 0; i < shown; ++i) {
    const auto& img = *sorted[i];
    // {"names":["a","b"],"sizeBytes":N}, and a comma
    bytes += std::string_view(R"({"names":[],"sizeBytes":},)").size() + fmt::format("{}", img.size).size();
    std::size_t names = 0;
    for (const auto* list : {&img.digests, &img.tags})
      for (const auto& n : *list)
        if (names < kMaxNamesPerImage) {
          bytes += n.size() + 3;  // quotes and comma
          ++names;
        }
  }
  return bytes;
}

void check_images_vs_kubelet(const Observations& o, std::vector<Finding>& out) {
  if (!o.runtime || o.runtime->error || !o.kubelet.plan) return;
  const auto cap = effective_integer(*o.kubelet.plan, "nodeStatusMaxImages");
  if (!cap) return;
  const auto n = static_cast<long long>(o.runtime->images.size());
  if (*cap >= 0 && n > *cap) {
    out.push_back({.id = "prepuller-trap", .area = "kubelet", .severity = Severity::Warning,
                   .seen = fmt::format("{} images on this node, kubelet reports only {} (the largest) in "
                                       "Node.status.images (nodeStatusMaxImages {})",
                                       n, *cap, *cap),
                   .why = fmt::format("the other {} look absent to image prepullers (Nublado, kube-fledged, ...): they "
                                      "pull them forever, and spawner menus lose them",
                                      n - *cap),
                   .fix = fmt::format("set kubelet.nodeStatusMaxImages: -1 (or at least {}) in {} and run `nodeimg "
                                      "kubelet apply`; or keep fewer images with gc.maxImages: {}",
                                      n, kConfigFile, *cap)});
  } else {
    out.push_back({.id = "prepuller-trap", .area = "kubelet", .severity = Severity::Ok,
                   .seen = fmt::format("{} images on this node; kubelet reports {}", n,
                                       *cap < 0 ? "all of them (nodeStatusMaxImages -1)"
                                                : fmt::format("up to {} (nodeStatusMaxImages)", *cap))});
  }
  const auto bytes = estimate_node_images_bytes(o.runtime->images, *cap);
  const auto reported = *cap < 0 ? n : std::min(n, *cap);
  if (bytes > kSafeNodeImagesBytes) {
    out.push_back({.id = "node-object-size", .area = "kubelet", .severity = Severity::Warning,
                   .seen = fmt::format("kubelet reports {} images with up to {} names each: about {} in "
                                       "Node.status.images (safe limit {})",
                                       reported, kMaxNamesPerImage, gc::human_bytes(bytes),
                                       gc::human_bytes(kSafeNodeImagesBytes)),
                   .why = "kubelet sends the whole Node object on every status update: a large one loads the API "
                          "server, etcd and every watcher of nodes, and past etcd's request limit (1.5 MiB) status "
                          "updates fail",
                   .fix = fmt::format("cap the list: kubelet.nodeStatusMaxImages: auto (a third of the disk's GB) or a "
                                      "number in {}, then `nodeimg kubelet apply`; or keep fewer images with gc.maxImages",
                                      kConfigFile)});
  } else {
    out.push_back({.id = "node-object-size", .area = "kubelet", .severity = Severity::Ok,
                   .seen = fmt::format("Node.status.images: about {} for {} images (safe limit {})", gc::human_bytes(bytes),
                                       reported, gc::human_bytes(kSafeNodeImagesBytes))});
  }
}

}  // namespace nodeimg::doctor
