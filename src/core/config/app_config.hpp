#pragma once
// nodeimg's own configuration (/etc/nodeimg/config.yaml). Parsing is strict: unknown
// keys, wrong types and out-of-range values are errors naming the file, line and key.
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/common/duration.hpp"
#include "core/common/error.hpp"
#include "core/gc/model.hpp"
#include "core/kubelet/settings.hpp"

namespace nodeimg {

struct KubeletConfig {
  // nodeStatusMaxImages: a number >= -1, "auto", or null to leave it alone.
  enum class MaxImages { Unmanaged, Value, Auto };
  MaxImages max_images_mode = MaxImages::Value;
  long long max_images = -1;
  // Further managed KubeletConfiguration fields, validated, in the order given.
  kubelet::Values settings;
  std::string config_file = "auto";
  std::string dropin_dir = "auto";
  std::string unit = "auto";
  bool restart = true;
  std::string healthz = "auto";
  Duration restart_timeout = std::chrono::minutes(2);
  Duration settle = std::chrono::seconds(10);
};

struct RuntimeConfig {
  enum class Kind { Auto, Cri, Docker };
  Kind kind = Kind::Auto;
  std::string endpoint = "auto";  // or unix:///path
  Duration timeout = std::chrono::minutes(2);
  std::string sandbox_image;      // overrides what the runtime reports
};

struct MetricsConfig {
  // node_exporter textfile collector file, rewritten after every run; "" = off.
  std::string textfile = "/var/lib/prometheus/node-exporter/nodeimg.prom";
};

struct AppConfig {
  KubeletConfig kubelet;
  RuntimeConfig runtime;
  MetricsConfig metrics;
  gc::Policy gc;  // prepull: lives in gc.prepull
  // Where each value set in the file was written, by key ("gc.high",
  // "kubelet.settings.imageGCHighThresholdPercent"): "FILE:LINE", for messages that name
  // where conflicting values come from. Keys left at their default are absent.
  std::map<std::string, std::string> origins;
};

// `filename` is used in error messages only. Empty text gives the defaults. Refused beyond
// what each key accepts: a key written twice in one mapping (naming both lines) and tabs
// used for indentation (naming the line and column).
Result<AppConfig> parse_app_config(std::string_view text, std::string_view filename);

// Where a value comes from, for messages: its file line and key, the command-line option
// that overrides it, or "default".
std::string origin_of(const AppConfig& config, const std::string& key);

// gc.low must free more than gc.high starts at. `high_origin`/`low_origin` say where each
// comes from (origin_of, or the option "--high"/"--low"); the message names both.
Result<void> check_gc_order(const gc::Threshold& high, const std::string& high_origin, const gc::Threshold& low,
                            const std::string& low_origin);

// The same check with the command line's --high/--low over the file's values (each given
// as typed; one that does not parse is left for gc::apply_overrides to refuse).
Result<void> check_gc_order(const AppConfig& config, const std::optional<std::string>& high_option,
                            const std::optional<std::string>& low_option);

// ceil(filesystem size in GB / 3): the Phalanx guidance for a positive image cap.
long long auto_max_images(std::uint64_t filesystem_bytes);

}  // namespace nodeimg
