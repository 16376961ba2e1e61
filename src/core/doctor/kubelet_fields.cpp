#include "core/doctor/kubelet_fields.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <span>
#include <vector>

#include <fmt/format.h>

namespace nodeimg::doctor {

namespace {

// Every top-level JSON field of KubeletConfiguration v1beta1, TypeMeta included. Fields that
// newer kubelets added are listed too: an older kubelet ignores them like any unknown key, but
// they are not typos.
constexpr auto kFields = std::to_array<std::string_view>({
    "apiVersion", "kind",
    "enableServer", "staticPodPath", "podLogsDir", "syncFrequency", "fileCheckFrequency", "httpCheckFrequency",
    "staticPodURL", "staticPodURLHeader", "address", "port", "readOnlyPort", "volumePluginDir", "providerID",
    "tlsCertFile", "tlsPrivateKeyFile", "tlsCipherSuites", "tlsMinVersion", "rotateCertificates",
    "serverTLSBootstrap", "authentication", "authorization", "registryPullQPS", "registryBurst",
    "imagePullCredentialsVerificationPolicy", "preloadedImagesVerificationAllowlist", "eventRecordQPS",
    "eventBurst", "enableDebuggingHandlers", "enableContentionProfiling", "healthzPort", "healthzBindAddress",
    "oomScoreAdj", "clusterDomain", "clusterDNS", "streamingConnectionIdleTimeout", "nodeStatusUpdateFrequency",
    "nodeStatusReportFrequency", "nodeLeaseDurationSeconds", "imageMinimumGCAge", "imageMaximumGCAge",
    "imageGCHighThresholdPercent", "imageGCLowThresholdPercent", "volumeStatsAggPeriod", "kubeletCgroups",
    "systemCgroups", "cgroupRoot", "cgroupsPerQOS", "cgroupDriver", "cpuManagerPolicy", "singleProcessOOMKill",
    "cpuManagerPolicyOptions", "cpuManagerReconcilePeriod", "memoryManagerPolicy", "topologyManagerPolicy",
    "topologyManagerScope", "topologyManagerPolicyOptions", "qosReserved", "runtimeRequestTimeout", "hairpinMode",
    "maxPods", "podCIDR", "podPidsLimit", "resolvConf", "runOnce", "cpuCFSQuota", "cpuCFSQuotaPeriod",
    "nodeStatusMaxImages", "maxOpenFiles", "contentType", "kubeAPIQPS", "kubeAPIBurst", "serializeImagePulls",
    "maxParallelImagePulls", "evictionHard", "evictionSoft", "evictionSoftGracePeriod",
    "evictionPressureTransitionPeriod", "evictionMaxPodGracePeriod", "evictionMinimumReclaim",
    "mergeDefaultEvictionSettings", "podsPerCore", "enableControllerAttachDetach", "protectKernelDefaults",
    "makeIPTablesUtilChains", "iptablesMasqueradeBit", "iptablesDropBit", "featureGates", "failSwapOn",
    "memorySwap", "containerLogMaxSize", "containerLogMaxFiles", "containerLogMaxWorkers",
    "containerLogMonitorInterval", "configMapAndSecretChangeDetectionStrategy", "systemReserved", "kubeReserved",
    "reservedSystemCPUs", "showHiddenMetricsForVersion", "systemReservedCgroup", "kubeReservedCgroup",
    "enforceNodeAllocatable", "allowedUnsafeSysctls", "kernelMemcgNotification", "logging",
    "enableSystemLogHandler", "enableSystemLogQuery", "shutdownGracePeriod", "shutdownGracePeriodCriticalPods",
    "shutdownGracePeriodByPodPriority", "crashLoopBackOff", "reservedMemory", "enableProfilingHandler",
    "enableDebugFlagsHandler", "seccompDefault", "memoryThrottlingFactor", "registerWithTaints", "registerNode",
    "tracing", "localStorageCapacityIsolation", "containerRuntimeEndpoint", "imageServiceEndpoint",
    "failCgroupV1", "userNamespaces", "memoryReservationPolicy"});

std::string lower(std::string_view s) {
  std::string out(s);
  std::ranges::transform(out, out.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// Levenshtein distance, case-insensitive.
std::size_t distance(std::string_view a, std::string_view b) {
  const std::string x = lower(a), y = lower(b);
  std::vector<std::size_t> row(y.size() + 1);
  for (std::size_t j = 0; j <= y.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= x.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= y.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (x[i - 1] == y[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[y.size()];
}

// The fields of the structured values under the top-level fields, by path ("[]" marks the
// elements of a list), from the same API reference (with component-base's
// LoggingConfiguration and TracingConfiguration and core/v1's Taint). Maps with free keys
// (evictionHard, featureGates, systemReserved, reservedMemory[].limits, …) have no entry:
// any key is valid there.
constexpr auto kAuthentication = std::to_array<std::string_view>({"x509", "webhook", "anonymous"});
constexpr auto kX509 = std::to_array<std::string_view>({"clientCAFile"});
constexpr auto kWebhookAuthentication = std::to_array<std::string_view>({"enabled", "cacheTTL"});
constexpr auto kAnonymous = std::to_array<std::string_view>({"enabled"});
constexpr auto kAuthorization = std::to_array<std::string_view>({"mode", "webhook"});
constexpr auto kWebhookAuthorization = std::to_array<std::string_view>({"cacheAuthorizedTTL", "cacheUnauthorizedTTL"});
constexpr auto kLogging = std::to_array<std::string_view>({"format", "flushFrequency", "verbosity", "vmodule", "options"});
constexpr auto kVModule = std::to_array<std::string_view>({"filePattern", "verbosity"});
constexpr auto kLoggingOptions = std::to_array<std::string_view>({"json", "text"});
constexpr auto kOutputRouting = std::to_array<std::string_view>({"splitStream", "infoBufferSize"});
constexpr auto kTracing = std::to_array<std::string_view>({"endpoint", "samplingRatePerMillion"});
constexpr auto kCrashLoopBackOff = std::to_array<std::string_view>({"maxContainerRestartPeriod"});
constexpr auto kMemorySwap = std::to_array<std::string_view>({"swapBehavior"});
constexpr auto kUserNamespaces = std::to_array<std::string_view>({"idsPerPod"});
constexpr auto kShutdownByPriority = std::to_array<std::string_view>({"priority", "shutdownGracePeriodSeconds"});
constexpr auto kMemoryReservation = std::to_array<std::string_view>({"numaNode", "limits"});
constexpr auto kTaint = std::to_array<std::string_view>({"key", "value", "effect", "timeAdded"});

struct Shape {
  std::string_view path;
  std::span<const std::string_view> fields;
};
constexpr auto kShapes = std::to_array<Shape>({
    {.path = "authentication", .fields = kAuthentication},
    {.path = "authentication.x509", .fields = kX509},
    {.path = "authentication.webhook", .fields = kWebhookAuthentication},
    {.path = "authentication.anonymous", .fields = kAnonymous},
    {.path = "authorization", .fields = kAuthorization},
    {.path = "authorization.webhook", .fields = kWebhookAuthorization},
    {.path = "logging", .fields = kLogging},
    {.path = "logging.vmodule[]", .fields = kVModule},
    {.path = "logging.options", .fields = kLoggingOptions},
    {.path = "logging.options.json", .fields = kOutputRouting},
    {.path = "logging.options.text", .fields = kOutputRouting},
    {.path = "tracing", .fields = kTracing},
    {.path = "crashLoopBackOff", .fields = kCrashLoopBackOff},
    {.path = "memorySwap", .fields = kMemorySwap},
    {.path = "userNamespaces", .fields = kUserNamespaces},
    {.path = "shutdownGracePeriodByPodPriority[]", .fields = kShutdownByPriority},
    {.path = "reservedMemory[]", .fields = kMemoryReservation},
    {.path = "registerWithTaints[]", .fields = kTaint},
});

const Shape* shape_of(std::string_view path) {
  const auto it = std::ranges::find(kShapes, path, &Shape::path);
  return it == kShapes.end() ? nullptr : &*it;
}

std::optional<std::string> closest(std::string_view key, std::span<const std::string_view> fields) {
  std::optional<std::string> best;
  std::size_t best_distance = 3;  // at most two edits away
  for (const auto field : fields) {
    const std::size_t d = distance(key, field);
    if (d < best_distance) {
      best_distance = d;
      best = std::string(field);
    }
  }
  return best;
}

// `shape_path` names the value's shape ("logging.vmodule[]"), `shown` where it is in the
// file ("logging.vmodule[2]").
void collect_unknown(const kubelet::Json& value, const std::string& shape_path, const std::string& shown,
                     std::vector<UnknownField>& out) {
  if (value.is_array()) {
    if (!shape_of(shape_path + "[]")) return;
    for (std::size_t i = 0; i < value.size(); ++i)
      collect_unknown(value[i], shape_path + "[]", fmt::format("{}[{}]", shown, i), out);
    return;
  }
  const Shape* shape = value.is_object() ? shape_of(shape_path) : nullptr;
  if (!shape) return;
  for (const auto& [key, child] : value.items()) {
    if (std::ranges::find(shape->fields, key) == shape->fields.end()) {
      out.push_back({.path = shown + "." + key, .suggestion = closest(key, shape->fields)});
      continue;
    }
    collect_unknown(child, shape_path + "." + key, shown + "." + key, out);
  }
}

}  // namespace

std::vector<UnknownField> unknown_nested_fields(std::string_view field, const kubelet::Json& value) {
  std::vector<UnknownField> out;
  collect_unknown(value, std::string(field), std::string(field), out);
  return out;
}

bool is_known_kubelet_field(std::string_view key) { return std::ranges::find(kFields, key) != kFields.end(); }

std::optional<std::string> closest_kubelet_field(std::string_view key) { return closest(key, kFields); }

}  // namespace nodeimg::doctor
