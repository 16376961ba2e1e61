#include "core/config/app_config.hpp"

#include <cctype>
#include <map>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "core/common/indentation.hpp"
#include "core/gc/policy.hpp"
#include "core/gc/threshold.hpp"
#include "core/kubelet/settings.hpp"

namespace nodeimg {

namespace {

class Reader {
 public:
  explicit Reader(std::string_view filename) : file_(filename) {}

  std::unexpected<Error> error(const YAML::Node& at, std::string_view key, std::string_view message) const {
    return fail(fmt::format("{}:{}: {}: {}", file_, at.Mark().line + 1, key, message));
  }

  Result<std::string> string(const YAML::Node& n, std::string_view key) const {
    if (!n.IsScalar()) return error(n, key, "must be a string");
    return n.Scalar();
  }
  Result<bool> boolean(const YAML::Node& n, std::string_view key) const {
    bool v = false;
    if (!n.IsScalar() || n.Tag() == "!" || !YAML::convert<bool>::decode(n, v))
      return error(n, key, fmt::format("must be true or false, not \"{}\"", n.IsScalar() ? n.Scalar() : "a collection"));
    return v;
  }
  Result<long long> integer(const YAML::Node& n, std::string_view key) const {
    long long v = 0;
    if (!n.IsScalar() || n.Tag() == "!" || !YAML::convert<long long>::decode(n, v))
      return error(n, key, fmt::format("must be an integer, not \"{}\"", n.IsScalar() ? n.Scalar() : "a collection"));
    return v;
  }
  Result<Duration> duration(const YAML::Node& n, std::string_view key, bool positive) const {
    auto s = string(n, key);
    if (!s) return std::unexpected(s.error());
    auto d = parse_duration_with_days(*s);
    if (!d) return error(n, key, d.error().message);
    if (d->count() < 0 || (positive && d->count() == 0))
      return error(n, key, positive ? "must be greater than 0" : "must not be negative");
    return *d;
  }
  Result<std::string> path_or(const YAML::Node& n, std::string_view key, std::initializer_list<std::string_view> words) const {
    auto s = string(n, key);
    if (!s) return s;
    for (auto w : words)
      if (*s == w) return s;
    if (!s->starts_with('/'))
      return error(n, key, fmt::format("must be {} or an absolute path, not \"{}\"", fmt::join(words, ", "), *s));
    return s;
  }

 private:
  std::string file_;
};

Result<nlohmann::json> setting_value(const Reader& r, const kubelet::SettingSpec& spec, const YAML::Node& n,
                                     const std::string& key) {
  nlohmann::json value;
  switch (spec.kind) {
    case kubelet::SettingKind::Integer: {
      auto v = r.integer(n, key);
      if (!v) return std::unexpected(v.error());
      value = *v;
      break;
    }
    case kubelet::SettingKind::Boolean: {
      auto v = r.boolean(n, key);
      if (!v) return std::unexpected(v.error());
      value = *v;
      break;
    }
    case kubelet::SettingKind::Duration: {
      auto v = r.string(n, key);
      if (!v) return std::unexpected(v.error());
      value = *v;
      break;
    }
  }
  auto normalized = kubelet::normalize_value(spec, value);
  if (!normalized) return r.error(n, key, normalized.error().message);
  return *normalized;
}

// kubelet.settings: managed KubeletConfiguration fields, validated, in the order given.
Result<void> parse_settings(const Reader& r, const YAML::Node& v, const std::string& key, KubeletConfig& k) {
  if (v.IsNull()) return {};
  if (!v.IsMap()) return r.error(v, key, "must be a mapping of KubeletConfiguration fields");
  for (const auto& s : v) {
    const std::string field = s.first.Scalar();
    const std::string skey = key + "." + field;
    const auto* spec = kubelet::find_setting(field);
    if (!spec) {
      std::vector<std::string> names;
      for (const auto& m : kubelet::managed_settings())
        if (m.name != "nodeStatusMaxImages") names.emplace_back(m.name);
      return r.error(s.first, skey, fmt::format("unknown setting (nodeimg manages {})", fmt::join(names, ", ")));
    }
    if (field == "nodeStatusMaxImages") return r.error(s.first, skey, "set kubelet.nodeStatusMaxImages instead");
    auto value = setting_value(r, *spec, s.second, skey);
    if (!value) return std::unexpected(value.error());
    k.settings.push_back({.name = field, .value = *value});
  }
  return {};
}

Result<void> parse_kubelet(const Reader& r, const YAML::Node& node, KubeletConfig& k) {
  if (node.IsNull()) return {};
  if (!node.IsMap()) return r.error(node, "kubelet", "must be a mapping");
  for (const auto& kv : node) {
    const std::string name = kv.first.Scalar();
    const std::string key = "kubelet." + name;
    const YAML::Node& v = kv.second;
    if (name == "nodeStatusMaxImages") {
      if (v.IsNull()) {
        k.max_images_mode = KubeletConfig::MaxImages::Unmanaged;
      } else if (v.IsScalar() && v.Scalar() == "auto") {
        k.max_images_mode = KubeletConfig::MaxImages::Auto;
      } else {
        auto n = r.integer(v, key);
        if (!n) return r.error(v, key, "must be an integer >= -1 or \"auto\", not \"" + (v.IsScalar() ? v.Scalar() : "a collection") + "\"");
        if (*n < -1) return r.error(v, key, fmt::format("must be >= -1 (-1 means no cap), not {}", *n));
        if (*n > std::numeric_limits<std::int32_t>::max()) return r.error(v, key, "is out of range");
        k.max_images_mode = KubeletConfig::MaxImages::Value;
        k.max_images = *n;
      }
    } else if (name == "settings") {
      if (auto ok = parse_settings(r, v, key, k); !ok) return ok;
    } else if (name == "configFile") {
      auto s = r.path_or(v, key, {"auto"});
      if (!s) return std::unexpected(s.error());
      k.config_file = *s;
    } else if (name == "dropInDir") {
      auto s = r.path_or(v, key, {"auto", "none"});
      if (!s) return std::unexpected(s.error());
      k.dropin_dir = *s;
    } else if (name == "unit") {
      auto s = r.string(v, key);
      if (!s) return std::unexpected(s.error());
      if (*s != "auto" && (s->find('/') != std::string::npos || s->find('.') == std::string::npos))
        return r.error(v, key, fmt::format("must be \"auto\" or a unit name such as kubelet.service, not \"{}\"", *s));
      k.unit = *s;
    } else if (name == "restart") {
      auto b = r.boolean(v, key);
      if (!b) return std::unexpected(b.error());
      k.restart = *b;
    } else if (name == "healthz") {
      auto s = r.string(v, key);
      if (!s) return std::unexpected(s.error());
      if (*s != "auto" && !s->starts_with("http://") && !s->starts_with("https://"))
        return r.error(v, key, fmt::format("must be \"auto\" or an http(s):// URL, not \"{}\"", *s));
      k.healthz = *s;
    } else if (name == "restartTimeout") {
      auto d = r.duration(v, key, true);
      if (!d) return std::unexpected(d.error());
      k.restart_timeout = *d;
    } else if (name == "settle") {
      auto d = r.duration(v, key, false);
      if (!d) return std::unexpected(d.error());
      k.settle = *d;
    } else {
      return r.error(kv.first, key, "unknown key");
    }
  }
  return {};
}

// A gc: age ("1h"), checked by the policy's own validator.
Result<gc::Seconds> age(const Reader& r, const YAML::Node& n, std::string_view key) {
  auto s = r.string(n, key);
  if (!s) return std::unexpected(s.error());
  auto a = gc::parse_age(*s);
  if (!a) return r.error(n, key, a.error().message);
  return *a;
}

Result<void> parse_runtime(const Reader& r, const YAML::Node& node, RuntimeConfig& rt) {
  if (node.IsNull()) return {};
  if (!node.IsMap()) return r.error(node, "runtime", "must be a mapping");
  for (const auto& kv : node) {
    const std::string name = kv.first.Scalar();
    const std::string key = "runtime." + name;
    const YAML::Node& v = kv.second;
    if (name == "kind") {
      auto s = r.string(v, key);
      if (!s) return std::unexpected(s.error());
      if (*s == "auto") rt.kind = RuntimeConfig::Kind::Auto;
      else if (*s == "cri") rt.kind = RuntimeConfig::Kind::Cri;
      else if (*s == "docker") rt.kind = RuntimeConfig::Kind::Docker;
      else return r.error(v, key, fmt::format("must be auto, cri or docker, not \"{}\"", *s));
    } else if (name == "endpoint") {
      auto s = r.string(v, key);
      if (!s) return std::unexpected(s.error());
      if (*s != "auto" && !s->starts_with("unix:///"))
        return r.error(v, key, fmt::format("must be auto or unix:///path, not \"{}\"", *s));
      rt.endpoint = *s;
    } else if (name == "timeout") {
      auto d = r.duration(v, key, true);
      if (!d) return std::unexpected(d.error());
      rt.timeout = *d;
    } else if (name == "sandboxImage") {
      auto s = r.string(v, key);
      if (!s) return std::unexpected(s.error());
      rt.sandbox_image = *s;
    } else {
      return r.error(kv.first, key, "unknown key");
    }
  }
  return {};
}

Result<void> parse_metrics(const Reader& r, const YAML::Node& node, MetricsConfig& m) {
  if (node.IsNull()) return {};
  if (!node.IsMap()) return r.error(node, "metrics", "must be a mapping");
  for (const auto& kv : node) {
    const std::string name = kv.first.Scalar();
    const std::string key = "metrics." + name;
    const YAML::Node& v = kv.second;
    if (name == "textfile") {
      if (v.IsNull()) {  // `textfile:` with no value: off, like ""
        m.textfile.clear();
        continue;
      }
      auto s = r.string(v, key);
      if (!s) return std::unexpected(s.error());
      if (!s->empty() && !s->starts_with('/'))
        return r.error(v, key, fmt::format("must be an absolute path or \"\" (off), not \"{}\"", *s));
      if (!s->empty() && !s->ends_with(".prom"))
        return r.error(v, key, fmt::format("must name a *.prom file (node_exporter reads only those), not \"{}\"", *s));
      m.textfile = *s;
    } else {
      return r.error(kv.first, key, "unknown key");
    }
  }
  return {};
}

Result<std::vector<std::string>> string_list(const Reader& r, const YAML::Node& v, const std::string& key) {
  std::vector<std::string> out;
  if (v.IsNull()) return out;
  if (!v.IsSequence()) return r.error(v, key, "must be a list of strings");
  for (const auto& item : v) {
    auto s = r.string(item, key);
    if (!s) return std::unexpected(s.error());
    if (s->empty()) return r.error(item, key, "must not be empty");
    out.push_back(*s);
  }
  return out;
}

Result<gc::Threshold> threshold(const Reader& r, const YAML::Node& n, std::string_view key) {
  auto s = r.string(n, key);
  if (!s) return std::unexpected(s.error());
  auto t = gc::parse_threshold(*s);
  if (!t) return r.error(n, key, t.error().message);
  return *t;
}

// An integer setting checked by one of the policy's validators.
template <class Check>
auto checked_integer(const Reader& r, const YAML::Node& n, std::string_view key, Check check) -> decltype(check(0LL)) {
  auto v = r.integer(n, key);
  if (!v) return std::unexpected(v.error());
  auto checked = check(*v);
  if (!checked) return r.error(n, key, checked.error().message);
  return checked;
}

Result<void> parse_keep(const Reader& r, const YAML::Node& v, const std::string& key, gc::Policy& p) {
  if (!v.IsNull() && !v.IsSequence()) return r.error(v, key, "must be a list of patterns");
  for (const auto& item : v) {
    auto s = r.string(item, key);
    if (!s) return std::unexpected(s.error());
    auto pattern = gc::ReferencePattern::parse(*s);
    if (!pattern) return r.error(item, key, pattern.error().message);
    p.keep.push_back(std::move(*pattern));
  }
  return {};
}

Result<void> parse_keep_newest(const Reader& r, const YAML::Node& v, const std::string& key, gc::Policy& p) {
  if (v.IsNull()) return {};
  if (!v.IsMap()) return r.error(v, key, "must map repositories to counts");
  for (const auto& e : v) {
    const std::string ekey = key + "." + e.first.Scalar();
    auto n = r.integer(e.second, ekey);
    if (!n) return std::unexpected(n.error());
    if (*n < 1) return r.error(e.second, ekey, "must be >= 1");
    p.keep_newest[gc::repository_of(e.first.Scalar())] = static_cast<int>(*n);
  }
  return {};
}

// gc.containers (removeExited, minAge) and gc.sandboxes (removeNotReady, minAge).
Result<void> parse_object_policy(const Reader& r, const YAML::Node& v, const std::string& key, bool containers,
                                 gc::Policy& p) {
  if (!v.IsMap()) return r.error(v, key, "must be a mapping");
  for (const auto& e : v) {
    const std::string sub = e.first.Scalar();
    const std::string skey = key + "." + sub;
    if (sub == (containers ? "removeExited" : "removeNotReady")) {
      auto b = r.boolean(e.second, skey);
      if (!b) return std::unexpected(b.error());
      (containers ? p.remove_exited_containers : p.remove_not_ready_sandboxes) = *b;
    } else if (sub == "minAge") {
      auto sec = age(r, e.second, skey);
      if (!sec) return std::unexpected(sec.error());
      (containers ? p.container_min_age : p.sandbox_min_age) = *sec;
    } else {
      return r.error(e.first, skey, "unknown key");
    }
  }
  return {};
}

// Sets `slot` from a parsed value, or passes the error on.
template <class T, class U>
Result<void> assign(Result<U> value, T& slot) {
  if (!value) return std::unexpected(value.error());
  slot = std::move(*value);
  return {};
}

// One gc: key; `low_node` remembers where low was written, for the order check's message.
Result<void> parse_gc_key(const Reader& r, const YAML::Node& k, const YAML::Node& v, gc::Policy& p,
                          std::optional<YAML::Node>& low_node) {
  const std::string name = k.Scalar();
  const std::string key = "gc." + name;
  if (name == "high") return assign(threshold(r, v, key), p.high);
  if (name == "low") {
    low_node = v;
    return assign(threshold(r, v, key), p.low);
  }
  if (name == "inodesHigh") {
    auto s = r.string(v, key);
    if (!s) return std::unexpected(s.error());
    auto percent = gc::parse_inode_threshold(*s);
    if (!percent) return r.error(v, key, percent.error().message);
    p.inodes_high = *percent;
    return {};
  }
  if (name == "minAge") return assign(age(r, v, key), p.min_age);
  if (name == "maxUnusedAge") return assign(age(r, v, key), p.max_unused_age);
  if (name == "maxImages") return assign(checked_integer(r, v, key, gc::valid_max_images), p.max_images);
  if (name == "concurrency") return assign(checked_integer(r, v, key, gc::valid_concurrency), p.concurrency);
  if (name == "keep") return parse_keep(r, v, key, p);
  if (name == "keepNewest") return parse_keep_newest(r, v, key, p);
  if (name == "keepFromFile") {
    // One path or a list of them; each absolute (a host path, read under --root).
    std::vector<std::string> paths;
    if (v.IsScalar()) {
      paths.push_back(v.Scalar());
    } else if (auto list = string_list(r, v, key); list) {
      paths = std::move(*list);
    } else {
      return std::unexpected(list.error());
    }
    for (const auto& path : paths)
      if (!path.starts_with('/')) return r.error(v, key, fmt::format("\"{}\" must be an absolute path", path));
    p.keep_from = std::move(paths);
    return {};
  }
  if (name == "containers" || name == "sandboxes") return parse_object_policy(r, v, key, name == "containers", p);
  return r.error(k, key, "unknown key");
}

Result<void> parse_gc(const Reader& r, const YAML::Node& node, AppConfig& config) {
  gc::Policy& p = config.gc;
  if (node.IsNull()) return {};
  if (!node.IsMap()) return r.error(node, "gc", "must be a mapping");
  // A copy, not a pointer: the loop's key/value pairs do not outlive an iteration.
  std::optional<YAML::Node> low_node;
  for (const auto& kv : node)
    if (auto ok = parse_gc_key(r, kv.first, kv.second, p, low_node); !ok) return ok;
  return check_gc_order(p.high, origin_of(config, "gc.high"), p.low, origin_of(config, "gc.low"));
}

// Tabs in indentation, named by line and column before yaml-cpp says something vaguer.
Result<void> check_indentation(std::string_view text, std::string_view filename) {
  if (const auto tab = tab_in_indentation(text))
    return fail(fmt::format("{}:{}: line {}, column {}: tabs are not allowed for indentation; indent with spaces",
                            filename, tab->line, tab->line, tab->column));
  return {};
}

// One pass over the whole document before reading it: every mapping key is a plain
// scalar written once (yaml-cpp keeps both copies of a repeated key, and the last would
// silently win), and `origins` learns the line of every key. Depth is bounded: aliases
// can nest a document into itself.
Result<void> index_keys(const YAML::Node& node, const std::string& prefix, std::string_view filename,
                        std::map<std::string, std::string>& origins, int depth = 0) {
  if (depth > 32) return fail(fmt::format("{}:{}: nested too deeply", filename, node.Mark().line + 1));
  if (node.IsSequence())
    for (const auto& item : node)
      if (auto ok = index_keys(item, prefix, filename, origins, depth + 1); !ok) return ok;
  if (!node.IsMap()) return {};
  std::map<std::string, int> lines;
  for (const auto& kv : node) {
    const int line = kv.first.Mark().line + 1;
    if (!kv.first.IsScalar())
      return fail(fmt::format("{}:{}: {}a key must be a plain word, not a mapping or a list", filename, line,
                              prefix.empty() ? "" : prefix + ": "));
    const std::string key = prefix.empty() ? kv.first.Scalar() : prefix + "." + kv.first.Scalar();
    if (auto [it, inserted] = lines.emplace(kv.first.Scalar(), line); !inserted)
      return fail(fmt::format("{}:{}: {}: written twice, at lines {} and {}; keep one of them", filename, line, key,
                              it->second, line));
    origins[key] = fmt::format("{}:{}", filename, line);
    if (auto ok = index_keys(kv.second, key, filename, origins, depth + 1); !ok) return ok;
  }
  return {};
}

}  // namespace

Result<AppConfig> parse_app_config(std::string_view text, std::string_view filename) {
  AppConfig config;
  Reader r(filename);
  if (auto ok = check_indentation(text, filename); !ok) return std::unexpected(ok.error());
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return fail(fmt::format("{}:{}: not valid YAML: line {}, column {}: {}", filename, e.mark.line + 1, e.mark.line + 1,
                            e.mark.column + 1, e.msg));
  }
  if (root.IsNull()) return config;
  if (!root.IsMap()) return fail(fmt::format("{}: the top level must be a mapping", filename));
  if (auto ok = index_keys(root, "", filename, config.origins); !ok) return std::unexpected(ok.error());
  for (const auto& kv : root) {
    const std::string name = kv.first.Scalar();
    if (name == "kubelet") {
      if (auto ok = parse_kubelet(r, kv.second, config.kubelet); !ok) return std::unexpected(ok.error());
    } else if (name == "runtime") {
      if (auto ok = parse_runtime(r, kv.second, config.runtime); !ok) return std::unexpected(ok.error());
    } else if (name == "gc") {
      if (auto ok = parse_gc(r, kv.second, config); !ok) return std::unexpected(ok.error());
    } else if (name == "metrics") {
      if (auto ok = parse_metrics(r, kv.second, config.metrics); !ok) return std::unexpected(ok.error());
    } else if (name == "prepull") {
      auto list = string_list(r, kv.second, "prepull");
      if (!list) return std::unexpected(list.error());
      config.gc.prepull = std::move(*list);
    } else {
      return r.error(kv.first, name, "unknown key");
    }
  }
  return config;
}

std::string origin_of(const AppConfig& config, const std::string& key) {
  const auto it = config.origins.find(key);
  return it == config.origins.end() ? "default" : it->second + ", " + key;
}

Result<void> check_gc_order(const gc::Threshold& high, const std::string& high_origin, const gc::Threshold& low,
                            const std::string& low_origin) {
  if (gc::check_threshold_order(high, low)) return {};
  const bool percent = low.kind == gc::Threshold::Kind::UsedPercent;
  const bool a_default = high_origin == "default" || low_origin == "default";
  return fail(fmt::format("gc.low {} ({}) must {} gc.high {} ({}): a run starts at high and frees down to low; {}",
                          low.text, low_origin, percent ? "be below" : "leave more free space than", high.text,
                          high_origin, a_default ? "set both" : "change one of them"));
}

Result<void> check_gc_order(const AppConfig& config, const std::optional<std::string>& high_option,
                            const std::optional<std::string>& low_option) {
  gc::Threshold high = config.gc.high, low = config.gc.low;
  std::string high_origin = origin_of(config, "gc.high"), low_origin = origin_of(config, "gc.low");
  if (high_option) {
    auto t = gc::parse_threshold(*high_option);
    if (!t) return {};
    high = *t;
    high_origin = "--high";
  }
  if (low_option) {
    auto t = gc::parse_threshold(*low_option);
    if (!t) return {};
    low = *t;
    low_origin = "--low";
  }
  return check_gc_order(high, high_origin, low, low_origin);
}

long long auto_max_images(std::uint64_t filesystem_bytes) {
  constexpr std::uint64_t kGB = 1'000'000'000ULL;
  const std::uint64_t gb_times_one = filesystem_bytes;
  // ceil(bytes / (3 GB)) without floating point.
  return static_cast<long long>((gb_times_one + 3 * kGB - 1) / (3 * kGB));
}

}  // namespace nodeimg
