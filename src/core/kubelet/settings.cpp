#include "core/kubelet/settings.hpp"

#include <algorithm>

#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "core/common/duration.hpp"
#include "core/kubelet/yaml11.hpp"

namespace nodeimg::kubelet {

namespace {
constexpr long long kInt32Max = std::numeric_limits<std::int32_t>::max();
}

const std::vector<SettingSpec>& managed_settings() {
  static const std::vector<SettingSpec> specs = {
      {"nodeStatusMaxImages", "node-status-max-images", SettingKind::Integer, 50, -1, kInt32Max},
      {"imageGCHighThresholdPercent", "image-gc-high-threshold", SettingKind::Integer, 85, 0, 100},
      {"imageGCLowThresholdPercent", "image-gc-low-threshold", SettingKind::Integer, 80, 0, 100},
      {"imageMinimumGCAge", "minimum-image-gc-age", SettingKind::Duration, "2m0s"},
      {"imageMaximumGCAge", "", SettingKind::Duration, "0s"},
      {"serializeImagePulls", "serialize-image-pulls", SettingKind::Boolean, true},
      {"maxParallelImagePulls", "", SettingKind::Integer, nullptr, 1, kInt32Max},
  };
  return specs;
}

const SettingSpec* find_setting(std::string_view name) {
  for (const auto& s : managed_settings())
    if (s.name == name) return &s;
  return nullptr;
}

const SettingSpec* find_setting_by_flag(std::string_view flag) {
  for (const auto& s : managed_settings())
    if (!s.flag.empty() && s.flag == flag) return &s;
  return nullptr;
}

Result<Json> normalize_value(const SettingSpec& spec, const Json& value) {
  switch (spec.kind) {
    case SettingKind::Integer: {
      long long v = 0;
      if (value.is_number_integer()) {
        v = value.get<long long>();
      } else if (value.is_number_float() && std::floor(value.get<double>()) == value.get<double>()) {
        v = static_cast<long long>(value.get<double>());
      } else {
        return fail(fmt::format("{} must be an integer, not {}", spec.name, value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)));
      }
      if (v < spec.min || v > spec.max)
        return fail(fmt::format("{} must be between {} and {}, not {}", spec.name, spec.min,
                                spec.max, v));
      return Json(v);
    }
    case SettingKind::Boolean:
      if (!value.is_boolean())
        return fail(fmt::format("{} must be true or false, not {}", spec.name, value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)));
      return value;
    case SettingKind::Duration: {
      if (!value.is_string())
        return fail(fmt::format("{} must be a duration such as \"2m\", not {}", spec.name,
                                value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)));
      auto d = parse_duration(value.get<std::string>());
      if (!d) return fail(fmt::format("{}: {}", spec.name, d.error().message));
      if (d->count() < 0) return fail(fmt::format("{} must not be negative", spec.name));
      return value;
    }
  }
  return fail("unreachable");
}

bool values_equal(const SettingSpec& spec, const Json& a, const Json& b) {
  if (a.is_null() || b.is_null()) return a.is_null() && b.is_null();
  auto na = normalize_value(spec, a);
  auto nb = normalize_value(spec, b);
  if (!na || !nb) return a == b;
  if (spec.kind == SettingKind::Duration)
    return parse_duration(na->get<std::string>()).value() ==
           parse_duration(nb->get<std::string>()).value();
  return *na == *nb;
}

Result<Json> parse_flag_value(const SettingSpec& spec, std::string_view text) {
  switch (spec.kind) {
    case SettingKind::Integer: {
      // pflag parses integer flags with strconv.ParseInt(text, 0, 32): 0x10, 010, 1_000.
      auto v = parse_go_int(text);
      if (!v) return fail(fmt::format("--{}: \"{}\" is not an integer", spec.flag, text));
      if (*v < std::numeric_limits<std::int32_t>::min() || *v > kInt32Max)
        return fail(fmt::format("--{}: \"{}\" is out of range", spec.flag, text));
      return normalize_value(spec, Json(*v));
    }
    case SettingKind::Boolean:
      // Go's strconv.ParseBool, which pflag uses.
      if (text == "1" || text == "t" || text == "T" || text == "true" || text == "TRUE" || text == "True")
        return Json(true);
      if (text == "0" || text == "f" || text == "F" || text == "false" || text == "FALSE" || text == "False")
        return Json(false);
      return fail(fmt::format("--{}: \"{}\" is not a boolean", spec.flag, text));
    case SettingKind::Duration:
      return normalize_value(spec, Json(std::string(text)));
  }
  return fail("unreachable");
}

std::string render_scalar(const Json& value) {
  if (value.is_string()) return value.get<std::string>();
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Result<void> validate_combination(const std::map<std::string, Json>& effective) {
  auto get = [&](std::string_view name) -> Json {
    if (auto it = effective.find(std::string(name)); it != effective.end() && !it->second.is_null())
      return it->second;
    return find_setting(name)->default_value;
  };
  const auto high = get("imageGCHighThresholdPercent").get<long long>();
  const auto low = get("imageGCLowThresholdPercent").get<long long>();
  if (low >= high)
    return fail(fmt::format(
        "imageGCLowThresholdPercent ({}) must be less than imageGCHighThresholdPercent ({})", low,
        high));
  const auto min_age = parse_duration(get("imageMinimumGCAge").get<std::string>()).value();
  const auto max_age = parse_duration(get("imageMaximumGCAge").get<std::string>()).value();
  if (max_age.count() > 0 && max_age <= min_age)
    return fail(fmt::format("imageMaximumGCAge ({}) must be greater than imageMinimumGCAge ({})",
                            format_duration(max_age), format_duration(min_age)));
  const Json parallel = get("maxParallelImagePulls");
  if (get("serializeImagePulls").get<bool>() && !parallel.is_null() && parallel.get<long long>() > 1)
    return fail(
        "maxParallelImagePulls cannot be larger than 1 unless serializeImagePulls is false");
  return {};
}

const Json* asked_value(const Values& values, std::string_view name) {
  const auto it = std::find_if(values.rbegin(), values.rend(), [&](const SettingValue& v) { return v.name == name; });
  return it == values.rend() ? nullptr : &it->value;
}

}  // namespace nodeimg::kubelet
