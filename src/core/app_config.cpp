#include "core/app_config.hpp"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "core/kubelet_settings.hpp"

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
    auto d = parse_duration(*s);
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

Result<void> parse_kubelet(const Reader& r, const YAML::Node& node, KubeletConfig& k) {
  if (node.IsNull()) return {};
  if (!node.IsMap()) return r.error(node, "kubelet", "must be a mapping");
  for (const auto& kv : node) {
    const std::string name = kv.first.Scalar();
    const std::string key = "kubelet." + name;
    const YAML::Node& v = kv.second;
    Result<void> ok;
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
      if (v.IsNull()) continue;
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
        k.settings.emplace_back(field, *value);
      }
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

}  // namespace

Result<AppConfig> parse_app_config(std::string_view text, std::string_view filename) {
  AppConfig config;
  Reader r(filename);
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return fail(fmt::format("{}:{}: not valid YAML: {}", filename, e.mark.line + 1, e.msg));
  }
  if (root.IsNull()) return config;
  if (!root.IsMap()) return fail(fmt::format("{}: the top level must be a mapping", filename));
  for (const auto& kv : root) {
    const std::string name = kv.first.Scalar();
    if (name == "kubelet") {
      if (auto ok = parse_kubelet(r, kv.second, config.kubelet); !ok) return std::unexpected(ok.error());
    } else {
      return r.error(kv.first, name, "unknown key");
    }
  }
  return config;
}

long long auto_max_images(std::uint64_t filesystem_bytes) {
  constexpr std::uint64_t kGB = 1'000'000'000ULL;
  const std::uint64_t gb_times_one = filesystem_bytes;
  // ceil(bytes / (3 GB)) without floating point.
  return static_cast<long long>((gb_times_one + 3 * kGB - 1) / (3 * kGB));
}

}  // namespace nodeimg
