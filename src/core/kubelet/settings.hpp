#pragma once
// The image-related KubeletConfiguration fields nodeimg manages: their types, kubelet's
// defaults, their command-line flags, and kubelet's own validation rules.
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/common/error.hpp"

namespace nodeimg::kubelet {

using Json = nlohmann::json;

enum class SettingKind { Integer, Boolean, Duration };

// A managed setting and the value asked for it (nodeimg's configuration, or an edit).
struct SettingValue {
  std::string name;
  Json value;
};
// In the order they were asked for; the last of a name wins.
using Values = std::vector<SettingValue>;
// The value asked for `name` (the last one given), or nullptr.
const Json* asked_value(const Values& values, std::string_view name);

struct SettingSpec {
  std::string_view name;  // KubeletConfiguration field
  std::string_view flag;  // kubelet flag without "--", empty when there is none
  SettingKind kind;
  Json default_value;     // null when kubelet's default is "unset"
  long long min = 0;      // integers only
  long long max = 0;
};

// Every managed setting, nodeStatusMaxImages first.
const std::vector<SettingSpec>& managed_settings();
const SettingSpec* find_setting(std::string_view name);
const SettingSpec* find_setting_by_flag(std::string_view flag);

// Checks type and range of a value read from nodeimg's configuration or from a kubelet
// file and returns it in canonical JSON form (integers as numbers, durations as the
// string given). Errors say what kubelet would say.
Result<Json> normalize_value(const SettingSpec& spec, const Json& value);

// Equality as kubelet sees it: "2m" equals "120s"; 5 equals 5.0.
bool values_equal(const SettingSpec& spec, const Json& a, const Json& b);

// Parses a flag's textual value ("25", "false", "2m").
Result<Json> parse_flag_value(const SettingSpec& spec, std::string_view text);

// The textual form of a value for a flag or a plain YAML scalar.
std::string render_scalar(const Json& value);

// kubelet's cross-field validation, applied to the effective configuration after an
// edit (for instance imageGCLowThresholdPercent must stay below the high threshold).
// `effective` maps field name to value; unset fields take kubelet's default.
Result<void> validate_combination(const std::map<std::string, Json>& effective);

}  // namespace nodeimg::kubelet
