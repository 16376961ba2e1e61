#include "core/config/kubelet_combination.hpp"

#include <map>

#include <fmt/format.h>

#include "core/common/duration.hpp"
#include "core/kubelet/settings.hpp"

namespace nodeimg {

namespace {

struct Value {
  kubelet::Json value;
  std::string origin;      // "kubelet default", "/var/lib/kubelet/config.yaml:7", "FILE:4, kubelet.settings.X"
  bool from_nodeimg = false;
};

using Values = std::map<std::string, Value>;

const Value& get(Values& values, const std::string& name) {
  auto it = values.find(name);
  if (it == values.end() || it->second.value.is_null())
    it = values.insert_or_assign(name, Value{.value = kubelet::find_setting(name)->default_value, .origin = "kubelet default"}).first;
  return it->second;
}

std::string shown(const std::string& name, const Value& v) {
  return fmt::format("{} {} ({})", name, kubelet::render_scalar(v.value), v.origin);
}

// Reported only when nodeimg's configuration set one of the two: what to do then.
std::optional<std::string> conflict(const std::string& a_name, const Value& a, const std::string& b_name, const Value& b,
                                    std::string_view rule) {
  if (!a.from_nodeimg && !b.from_nodeimg) return std::nullopt;
  const std::string hint = a.from_nodeimg && b.from_nodeimg ? "change one of them"
                                                             : "set both in kubelet.settings";
  return fmt::format("{} {} {}; {}", shown(a_name, a), rule, shown(b_name, b), hint);
}

}  // namespace

Result<void> check_kubelet_combination(const AppConfig& config, const std::vector<kubelet::SettingState>& current,
                                       const kubelet::Values& desired) {
  Values values;
  for (const auto& s : current)
    values[s.name] = {.value = s.effective,
                      .origin = s.source == kubelet::Source::Default ? "kubelet default" : s.source_detail};
  for (const auto& [name, value] : desired)
    values[name] = {.value = value, .origin = origin_of(config, "kubelet.settings." + name), .from_nodeimg = true};
  std::optional<std::string> problem;
  const Value high = get(values, "imageGCHighThresholdPercent");
  const Value low = get(values, "imageGCLowThresholdPercent");
  // Values of the wrong type are the plan's to refuse (it names the file); only well-typed ones are compared.
  if (low.value.is_number_integer() && high.value.is_number_integer() &&
      low.value.get<long long>() >= high.value.get<long long>())
    problem = conflict("imageGCLowThresholdPercent", low, "imageGCHighThresholdPercent", high, "must be below");
  const Value min_age = get(values, "imageMinimumGCAge");
  const Value max_age = get(values, "imageMaximumGCAge");
  const auto duration_of = [](const Value& v) -> Result<Duration> {
    if (!v.value.is_string()) return fail("not a duration");
    return parse_duration(v.value.get<std::string>());
  };
  const auto min_d = duration_of(min_age);
  const auto max_d = duration_of(max_age);
  if (!problem && min_d && max_d && max_d->count() > 0 && *max_d <= *min_d)
    problem = conflict("imageMaximumGCAge", max_age, "imageMinimumGCAge", min_age, "must be 0s (off) or above");
  const Value serialize = get(values, "serializeImagePulls");
  const Value parallel = get(values, "maxParallelImagePulls");
  if (!problem && serialize.value.is_boolean() && serialize.value.get<bool>() && parallel.value.is_number_integer() &&
      parallel.value.get<long long>() > 1)
    problem = conflict("maxParallelImagePulls", parallel, "serializeImagePulls", serialize,
                       "needs serializeImagePulls false, not");
  if (problem) return fail(*problem);
  return {};
}

}  // namespace nodeimg
