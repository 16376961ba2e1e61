#include "core/doctor/kubelet_fields.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <vector>

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
    "failCgroupV1", "userNamespaces"});

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

}  // namespace

bool is_known_kubelet_field(std::string_view key) { return std::ranges::find(kFields, key) != kFields.end(); }

std::optional<std::string> closest_kubelet_field(std::string_view key) {
  std::optional<std::string> best;
  std::size_t best_distance = 3;  // at most two edits away
  for (const auto field : kFields) {
    const std::size_t d = distance(key, field);
    if (d < best_distance) {
      best_distance = d;
      best = std::string(field);
    }
  }
  return best;
}

}  // namespace nodeimg::doctor
