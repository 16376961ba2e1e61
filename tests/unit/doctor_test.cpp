// `nodeimg doctor`'s diagnosis as a specification: one healthy node, then one change at a
// time, and the finding it must produce (or must not).
#include <gtest/gtest.h>

#include <filesystem>

#include <fmt/format.h>

#include "core/doctor/diagnosis.hpp"
#include "core/doctor/kubelet_fields.hpp"
#include "support/memory_tree.hpp"

namespace nodeimg::doctor {
namespace {

using testing::MemoryTree;
namespace fs = std::filesystem;

constexpr std::uint64_t GiB = 1024ULL * 1024 * 1024;
constexpr gc::Seconds kNow = 1'764'000'000;

const fs::path kPlatforms = fs::path(NODEIMG_FIXTURES) / "platforms";

constexpr const char* kConfig =
    "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nnodeStatusMaxImages: -1\n";

KubeletObservation kubelet_of(const MemoryTree& tree, const kubelet::Values& desired,
                              const kubelet::DiscoveryOptions& options = {}) {
  KubeletObservation k;
  auto sources = kubelet::discover(tree, options);
  if (!sources) {
    k.error = sources.error().message;
    return k;
  }
  k.sources = std::move(*sources);
  auto plan = kubelet::plan(tree, options, *k.sources, desired);
  if (plan) k.plan = std::move(*plan);
  else k.error = plan.error().message;
  return k;
}

MemoryTree kubelet_tree(const std::string& config = kConfig) {
  MemoryTree t;
  t.files["/var/lib/kubelet/config.yaml"] = config;
  return t;
}

gc::Image image(int i, std::uint64_t size = GiB, int tags = 1) {
  gc::Image img;
  img.id = fmt::format("sha256:{:064x}", i);
  img.size = size;
  for (int t = 0; t < tags; ++t) img.tags.push_back(fmt::format("registry.example.org/team/image-{}:tag-{}", i, t));
  img.digests.push_back(fmt::format("registry.example.org/team/image-{}@sha256:{:064x}", i, i));
  return img;
}

UnitObservation unit(std::string name, std::string file_state = "enabled") {
  return {.name = std::move(name), .load_state = "loaded", .unit_file_state = std::move(file_state),
          .active_state = "active", .result = "success"};
}

// A node with nothing to say but "ok": kubelet at -1 as configured, a reachable runtime with
// 10 images, disk at 50 %, timer and boot unit enabled, a successful run 10 minutes ago.
Observations healthy() {
  Observations o;
  o.now = kNow;
  o.config_source = "/etc/nodeimg/config.yaml";
  o.kubelet = kubelet_of(kubelet_tree(), {{"nodeStatusMaxImages", -1}});
  RuntimeObservation r{.endpoint = "unix:///run/containerd/containerd.sock", .name = "containerd", .version = "1.6.20",
                       .sandbox_images = {"registry.k8s.io/pause:3.6"}};
  for (int i = 0; i < 10; ++i) r.images.push_back(image(i));
  r.image_filesystem = gc::FilesystemUsage{"/var/lib/containerd", 100 * GiB, 50 * GiB, 1000, 500};
  o.runtime = r;
  auto timer = unit("nodeimg-gc.timer");
  timer.next_elapse = kNow + 300;
  auto service = unit("nodeimg-gc.service", "static");
  service.last_exit = kNow - 600;
  service.active_state = "inactive";
  o.systemd = SystemdObservation{.gc_timer = timer, .gc_service = service, .kubelet_unit = unit("nodeimg-kubelet.service")};
  o.state.history_path = "/var/lib/nodeimg/state.json";
  o.state.history = HistoryState::Readable;
  o.state.history_images = 10;
  o.state.last_run = LastRun{.finished_at = kNow - 600, .success = true, .from = "/var/lib/nodeimg/state.json"};
  o.metrics = {.path = "/var/lib/prometheus/node-exporter/nodeimg.prom", .directory_exists = true};
  return o;
}

std::vector<Finding> with_id(const Diagnosis& d, std::string_view id) {
  std::vector<Finding> out;
  for (const auto& f : d.findings)
    if (f.id == id) out.push_back(f);
  return out;
}

// The single finding `id`, which must exist.
Finding one(const Observations& o, std::string_view id) {
  const auto d = diagnose(o);
  const auto found = with_id(d, id);
  EXPECT_EQ(found.size(), 1u) << id;
  return found.empty() ? Finding{} : found[0];
}

std::string all_findings(const Diagnosis& d) {
  std::string s;
  for (const auto& f : d.findings) s += fmt::format("[{}] {}: {}\n", to_string(f.severity), f.id, f.seen);
  return s;
}

bool contains(const std::string& haystack, std::string_view needle) { return haystack.find(needle) != std::string::npos; }

TEST(Doctor, HealthyNodeNeedsNoAttentionAndShowsWhatWasChecked) {
  const auto d = diagnose(healthy());
  EXPECT_FALSE(d.needs_attention()) << all_findings(d);
  for (const auto* id : {"kubelet-in-sync", "prepuller-trap", "node-object-size", "runtime-unreachable", "sandbox-image",
                         "gc-high-not-below-kubelet", "disk-above-high", "gc-timer", "kubelet-unit", "gc-last-run",
                         "history", "metrics"}) {
    const auto f = with_id(d, id);
    ASSERT_EQ(f.size(), 1u) << id << "\n" << all_findings(d);
    EXPECT_EQ(f[0].severity, Severity::Ok) << id;
  }
}

TEST(Doctor, EveryAttentionFindingSaysWhyAndHowToFixIt) {
  auto o = healthy();
  o.kubelet = kubelet_of(kubelet_tree("apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n"
                                      "nodeStatusMaxImage: 100\n"),
                         {{"nodeStatusMaxImages", -1}});
  o.runtime->image_filesystem->available_bytes = 1 * GiB;
  o.systemd->gc_timer->unit_file_state = "disabled";
  o.state.history = HistoryState::Corrupt;
  const auto d = diagnose(o);
  ASSERT_TRUE(d.needs_attention());
  for (const auto& f : d.findings)
    if (f.severity >= Severity::Warning) {
      EXPECT_FALSE(f.seen.empty()) << f.id;
      EXPECT_FALSE(f.why.empty()) << f.id;
      EXPECT_FALSE(f.fix.empty()) << f.id;
    }
}

// --- kubelet's image cap against the runtime's images --------------------------------------

TEST(Doctor, PrepullerTrapWhenTheRuntimeHoldsMoreImagesThanKubeletReports) {
  auto o = healthy();
  o.kubelet = kubelet_of(kubelet_tree("apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n"),
                         {{"nodeStatusMaxImages", -1}});  // kubelet's default: 50
  o.runtime->images.clear();
  for (int i = 0; i < 83; ++i) o.runtime->images.push_back(image(i));
  const auto f = one(o, "prepuller-trap");
  EXPECT_EQ(f.severity, Severity::Warning);
  EXPECT_TRUE(contains(f.seen, "83 images on this node, kubelet reports only 50")) << f.seen;
  EXPECT_TRUE(contains(f.why, "33")) << f.why;
  EXPECT_TRUE(contains(f.fix, "kubelet.nodeStatusMaxImages")) << f.fix;
}

TEST(Doctor, NoPrepullerTrapAtTheCapOrWithoutCap) {
  auto o = healthy();
  o.kubelet = kubelet_of(kubelet_tree("apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n"
                                      "nodeStatusMaxImages: 10\n"),
                         {{"nodeStatusMaxImages", 10}});
  EXPECT_EQ(one(o, "prepuller-trap").severity, Severity::Ok);  // 10 images, cap 10
  o.runtime->images.push_back(image(99));
  EXPECT_EQ(one(o, "prepuller-trap").severity, Severity::Warning);  // 11 > 10
  EXPECT_EQ(one(healthy(), "prepuller-trap").severity, Severity::Ok);  // -1
}

TEST(Doctor, ZeroCapHidesEveryImage) {
  auto o = healthy();
  o.kubelet = kubelet_of(kubelet_tree("apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n"
                                      "nodeStatusMaxImages: 0\n"),
                         {{"nodeStatusMaxImages", 0}});
  const auto f = one(o, "prepuller-trap");
  EXPECT_EQ(f.severity, Severity::Warning);
  EXPECT_TRUE(contains(f.seen, "kubelet reports only 0")) << f.seen;
}

TEST(Doctor, NodeObjectTooLargeWhenUncappedWithManyNamedImages) {
  auto o = healthy();
  o.runtime->images.clear();
  for (int i = 0; i < 1000; ++i) o.runtime->images.push_back(image(i, GiB, 8));  // 9 names, 5 reported
  const auto f = one(o, "node-object-size");
  EXPECT_EQ(f.severity, Severity::Warning);
  EXPECT_TRUE(contains(f.seen, "1000 images")) << f.seen;
  EXPECT_TRUE(contains(f.fix, "nodeStatusMaxImages")) << f.fix;
  // The same images under a cap of 50 are a small list.
  o.kubelet = kubelet_of(kubelet_tree("apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n"
                                      "nodeStatusMaxImages: 50\n"),
                         {{"nodeStatusMaxImages", 50}});
  EXPECT_EQ(one(o, "node-object-size").severity, Severity::Ok);
}

TEST(Doctor, NodeImagesEstimateCountsFiveNamesPerImageAndTheLargestUnderTheCap) {
  const gc::Image a{"sha256:a", {"a:1", "a:2", "a:3", "a:4", "a:5", "a:6", "a:7"}, {}, 100, false};
  const gc::Image b{"sha256:b", {"b:1"}, {}, 5, false};
  // {"names":["a:1","a:2","a:3","a:4","a:5"],"sizeBytes":100}, -> 26 + 3 digits + 5 * (3 + 3)
  EXPECT_EQ(estimate_node_images_bytes({a}, -1), 26u + 3 + 5 * 6);
  EXPECT_EQ(estimate_node_images_bytes({b, a}, 1), estimate_node_images_bytes({a}, -1));  // largest first
  EXPECT_EQ(estimate_node_images_bytes({a, b}, 0), 0u);
  EXPECT_EQ(estimate_node_images_bytes({a, b}, -1), 26u + 3 + 30 + 26 + 1 + 6);
}

// --- kubelet's files ----------------------------------------------------------------------

TEST(Doctor, FlagThatOverridesTheFileIsNamedWithWhereItIsWritten) {
  auto tree = MemoryTree::from_directory(kPlatforms / "gke/root");
  tree.files["/home/kubernetes/kubelet-config.yaml"] += "nodeStatusMaxImages: 100\n";
  auto o = healthy();
  o.kubelet = kubelet_of(tree, {{"nodeStatusMaxImages", -1}});
  const auto f = one(o, "flag-overrides-file");
  EXPECT_EQ(f.severity, Severity::Warning);
  EXPECT_TRUE(contains(f.seen, "--node-status-max-images=25 (/etc/default/kubelet:1)")) << f.seen;
  EXPECT_TRUE(contains(f.seen, "nodeStatusMaxImages: 100 in /home/kubernetes/kubelet-config.yaml")) << f.seen;
  EXPECT_TRUE(contains(f.fix, "nodeimg kubelet apply")) << f.fix;
}

TEST(Doctor, FlagThatAgreesWithTheFileIsOnlyInformation) {
  auto tree = MemoryTree::from_directory(kPlatforms / "gke/root");
  tree.files["/home/kubernetes/kubelet-config.yaml"] += "nodeStatusMaxImages: 25\n";
  auto o = healthy();
  o.kubelet = kubelet_of(tree, {{"nodeStatusMaxImages", 25}});
  EXPECT_TRUE(with_id(diagnose(o), "flag-overrides-file").empty());
  EXPECT_EQ(one(o, "flag-duplicates-file").severity, Severity::Info);
  // Without the key in the file, the flag alone is no finding.
  o.kubelet = kubelet_of(MemoryTree::from_directory(kPlatforms / "gke/root"), {{"nodeStatusMaxImages", 25}});
  EXPECT_TRUE(with_id(diagnose(o), "flag-duplicates-file").empty());
}

TEST(Doctor, UnknownKeyInTheConfigFileIsATypoWithASuggestion) {
  auto o = healthy();
  o.kubelet = kubelet_of(kubelet_tree(std::string(kConfig) + "imageGcHighThresholdPercent: 70\nfancyNewThing: 1\n"),
                         {{"nodeStatusMaxImages", -1}});
  const auto f = one(o, "kubelet-unknown-keys");
  EXPECT_EQ(f.severity, Severity::Warning);
  EXPECT_TRUE(contains(f.seen, "\"imageGcHighThresholdPercent\" (line 4): did you mean \"imageGCHighThresholdPercent\"?"))
      << f.seen;
  EXPECT_TRUE(contains(f.seen, "\"fancyNewThing\" (line 5)")) << f.seen;
  EXPECT_TRUE(contains(f.seen, "/var/lib/kubelet/config.yaml")) << f.seen;
  EXPECT_TRUE(with_id(diagnose(healthy()), "kubelet-unknown-keys").empty());
}

TEST(Doctor, EveryPlatformFixtureHasOnlyKnownKeys) {
  for (const auto& p : fs::directory_iterator(kPlatforms)) {
    auto o = healthy();
    o.kubelet = kubelet_of(MemoryTree::from_directory(p.path() / "root"), {{"nodeStatusMaxImages", -1}});
    const auto d = diagnose(o);
    EXPECT_TRUE(with_id(d, "kubelet-unknown-keys").empty()) << p.path() << "\n" << all_findings(d);
    EXPECT_TRUE(with_id(d, "kubelet-dropin-header").empty()) << p.path() << "\n" << all_findings(d);
  }
}

TEST(Doctor, UnknownKeysInsideStructuredFieldsAreNamedByPath) {
  auto o = healthy();
  o.kubelet = kubelet_of(kubelet_tree(std::string(kConfig) +
                                      "authentication:\n  webhook:\n    enabeld: true\n    cacheTTL: 2m\n"
                                      "  anonymous:\n    enabled: false\n"
                                      "logging:\n  format: json\n  vmodule:\n  - filePattern: a\n    verbosity: 2\n"
                                      "  - filePatern: b\n"
                                      "registerWithTaints:\n- key: a\n  efect: NoSchedule\n"
                                      "evictionHard:\n  anything.goes: 5%\n"
                                      "featureGates:\n  SomeGate: true\n"),
                         {{"nodeStatusMaxImages", -1}});
  const auto f = one(o, "kubelet-unknown-keys");
  EXPECT_TRUE(contains(f.seen, "\"authentication.webhook.enabeld\" (under line 4): did you mean \"enabled\"?")) << f.seen;
  EXPECT_TRUE(contains(f.seen, "\"logging.vmodule[1].filePatern\"")) << f.seen;
  EXPECT_TRUE(contains(f.seen, "did you mean \"filePattern\"")) << f.seen;
  EXPECT_TRUE(contains(f.seen, "\"registerWithTaints[0].efect\"")) << f.seen;
  // Free-form maps take any key; known nested keys are no finding.
  EXPECT_FALSE(contains(f.seen, "anything.goes")) << f.seen;
  EXPECT_FALSE(contains(f.seen, "SomeGate")) << f.seen;
  EXPECT_FALSE(contains(f.seen, "cacheTTL")) << f.seen;
  EXPECT_FALSE(contains(f.seen, "anonymous")) << f.seen;
}

TEST(Doctor, NestedKeysAreCheckedInTheValueKubeletKeeps) {
  // A duplicated top-level key: kubelet decodes the last one, so only its nested keys count.
  auto o = healthy();
  o.kubelet = kubelet_of(kubelet_tree(std::string(kConfig) + "tracing:\n  endpont: x\ntracing:\n  endpoint: y\n"),
                         {{"nodeStatusMaxImages", -1}});
  EXPECT_TRUE(with_id(diagnose(o), "kubelet-unknown-keys").empty()) << all_findings(diagnose(o));
  o.kubelet = kubelet_of(kubelet_tree(std::string(kConfig) + "tracing:\n  endpoint: y\ntracing:\n  endpont: x\n"),
                         {{"nodeStatusMaxImages", -1}});
  EXPECT_TRUE(contains(one(o, "kubelet-unknown-keys").seen, "\"tracing.endpont\"")) << all_findings(diagnose(o));
}

TEST(Doctor, NestedShapesOfEveryStructuredField) {
  const auto none = [](std::string_view field, const char* json) {
    return unknown_nested_fields(field, kubelet::Json::parse(json)).empty();
  };
  EXPECT_TRUE(none("authorization", R"({"mode":"Webhook","webhook":{"cacheAuthorizedTTL":"5m","cacheUnauthorizedTTL":"30s"}})"));
  EXPECT_FALSE(none("authorization", R"({"webhook":{"cacheTTL":"5m"}})"));
  EXPECT_TRUE(none("logging", R"({"options":{"json":{"splitStream":true,"infoBufferSize":"0"},"text":{"splitStream":false}}})"));
  EXPECT_FALSE(none("logging", R"({"options":{"yaml":{}}})"));
  EXPECT_TRUE(none("shutdownGracePeriodByPodPriority", R"([{"priority":1,"shutdownGracePeriodSeconds":10}])"));
  EXPECT_FALSE(none("shutdownGracePeriodByPodPriority", R"([{"priority":1,"gracePeriod":10}])"));
  EXPECT_TRUE(none("reservedMemory", R"([{"numaNode":0,"limits":{"memory":"1Gi","hugepages-2Mi":"0"}}])"));
  EXPECT_TRUE(none("crashLoopBackOff", R"({"maxContainerRestartPeriod":"10s"})"));
  EXPECT_TRUE(none("memorySwap", R"({"swapBehavior":"LimitedSwap"})"));
  EXPECT_TRUE(none("userNamespaces", R"({"idsPerPod":65536})"));
  EXPECT_FALSE(none("userNamespaces", R"({"idsPerpod":65536})"));
  // Scalars, nulls and free maps have nothing to check.
  EXPECT_TRUE(none("nodeStatusMaxImages", "50"));
  EXPECT_TRUE(none("authentication", "null"));
  EXPECT_TRUE(none("systemReserved", R"({"cpu":"100m"})"));
}

TEST(Doctor, KnownFieldsAndSuggestions) {
  EXPECT_TRUE(is_known_kubelet_field("nodeStatusMaxImages"));
  EXPECT_TRUE(is_known_kubelet_field("maxParallelImagePulls"));
  EXPECT_FALSE(is_known_kubelet_field("nodestatusmaximages"));
  EXPECT_EQ(closest_kubelet_field("nodestatusmaximages"), "nodeStatusMaxImages");
  EXPECT_EQ(closest_kubelet_field("nodeStatusMaxImage"), "nodeStatusMaxImages");
  EXPECT_EQ(closest_kubelet_field("somethingElseEntirely"), std::nullopt);
}

MemoryTree with_dropin(const std::string& dropin) {
  auto t = kubelet_tree();
  t.files["/etc/kubernetes/kubelet.conf.d/50-site.conf"] = dropin;
  return t;
}

TEST(Doctor, DropInWithoutApiVersionOrKindIsAnError) {
  kubelet::DiscoveryOptions options;
  options.dropin_dir = "/etc/kubernetes/kubelet.conf.d";
  auto o = healthy();
  o.kubelet = kubelet_of(with_dropin("kind: KubeletConfiguration\nimageGCHighThresholdPercent: 90\n"),
                         {{"nodeStatusMaxImages", -1}}, options);
  auto f = one(o, "kubelet-dropin-header");
  EXPECT_EQ(f.severity, Severity::Error);
  EXPECT_TRUE(contains(f.seen, "50-site.conf: apiVersion is missing")) << f.seen;
  o.kubelet = kubelet_of(with_dropin("apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeProxyConfiguration\n"),
                         {{"nodeStatusMaxImages", -1}}, options);
  f = one(o, "kubelet-dropin-header");
  EXPECT_TRUE(contains(f.seen, "kind is \"KubeProxyConfiguration\"")) << f.seen;
  o.kubelet = kubelet_of(with_dropin("apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n"),
                         {{"nodeStatusMaxImages", -1}}, options);
  EXPECT_TRUE(with_id(diagnose(o), "kubelet-dropin-header").empty()) << all_findings(diagnose(o));
}

TEST(Doctor, UnknownKeyInADropInIsNamedWithTheDropIn) {
  kubelet::DiscoveryOptions options;
  options.dropin_dir = "/etc/kubernetes/kubelet.conf.d";
  auto o = healthy();
  o.kubelet = kubelet_of(
      with_dropin("apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nserializeImagePull: false\n"),
      {{"nodeStatusMaxImages", -1}}, options);
  const auto f = one(o, "kubelet-unknown-keys");
  EXPECT_TRUE(contains(f.seen, "50-site.conf")) << f.seen;
  EXPECT_TRUE(contains(f.seen, "did you mean \"serializeImagePulls\"")) << f.seen;
}

TEST(Doctor, ConfigFileOfAnotherKindOrUnparsableIsAnError) {
  auto o = healthy();
  o.kubelet = kubelet_of(kubelet_tree("apiVersion: v1\nkind: ConfigMap\n"), {{"nodeStatusMaxImages", -1}});
  EXPECT_EQ(one(o, "kubelet-config-header").severity, Severity::Error);
  o.kubelet = kubelet_of(kubelet_tree("apiVersion: [unclosed\n"), {{"nodeStatusMaxImages", -1}});
  EXPECT_EQ(one(o, "kubelet-file-unparsable").severity, Severity::Error);
}

TEST(Doctor, KubeletNotInSyncWithNodeimgsConfiguration) {
  auto o = healthy();
  o.kubelet = kubelet_of(MemoryTree::from_directory(kPlatforms / "kubeadm/root"), {{"nodeStatusMaxImages", -1}});
  const auto f = one(o, "kubelet-not-in-sync");
  EXPECT_EQ(f.severity, Severity::Warning);
  EXPECT_TRUE(contains(f.seen, "nodeStatusMaxImages is 50 (kubelet default)")) << f.seen;
  EXPECT_TRUE(contains(f.fix, "nodeimg kubelet apply")) << f.fix;
  EXPECT_EQ(one(healthy(), "kubelet-in-sync").severity, Severity::Ok);
}

TEST(Doctor, ConflictingKubeletSettingsAreAnErrorInsteadOfAFailedPlan) {
  auto o = healthy();
  o.kubelet.plan.reset();
  o.kubelet.error = "the desired settings would make kubelet's configuration invalid: low must be below high";
  o.kubelet.settings_conflict =
      "imageGCLowThresholdPercent 80 (kubelet default) must be below imageGCHighThresholdPercent 70 "
      "(/etc/nodeimg/config.yaml:3, kubelet.settings.imageGCHighThresholdPercent); set both in kubelet.settings";
  const auto f = one(o, "kubelet-settings-conflict");
  EXPECT_EQ(f.severity, Severity::Error);
  EXPECT_EQ(f.seen, o.kubelet.settings_conflict);
  EXPECT_TRUE(contains(f.fix, "kubelet.settings in /etc/nodeimg/config.yaml")) << f.fix;
  EXPECT_TRUE(with_id(diagnose(o), "kubelet-plan-failed").empty());  // one finding for one cause
  EXPECT_TRUE(with_id(diagnose(healthy()), "kubelet-settings-conflict").empty());
}

TEST(Doctor, KubeletMissingOrUndiscoverable) {
  auto o = healthy();
  o.kubelet = kubelet_of(MemoryTree{}, {{"nodeStatusMaxImages", -1}});
  EXPECT_EQ(one(o, "kubelet-not-found").severity, Severity::Warning);
  o.kubelet = KubeletObservation{.error = "read /etc/systemd/system/kubelet.service: permission denied"};
  const auto f = one(o, "kubelet-discovery-failed");
  EXPECT_EQ(f.severity, Severity::Error);
  EXPECT_TRUE(contains(f.seen, "permission denied"));
}

TEST(Doctor, PlanThatFailsIsAWarningWithItsMessage) {
  auto o = healthy();
  o.kubelet.plan.reset();
  o.kubelet.error = "edit /var/lib/kubelet/config.yaml: refused";
  const auto f = one(o, "kubelet-plan-failed");
  EXPECT_EQ(f.severity, Severity::Warning);
  EXPECT_EQ(f.seen, o.kubelet.error);
  EXPECT_TRUE(with_id(diagnose(o), "prepuller-trap").empty());  // no effective cap to compare
}

// --- runtime ------------------------------------------------------------------------------

TEST(Doctor, UnreachableRuntimeIsAnErrorNamingTheEndpoint) {
  auto o = healthy();
  o.runtime->error = "connect: No such file or directory";
  const auto d = diagnose(o);
  const auto f = with_id(d, "runtime-unreachable");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].severity, Severity::Error);
  EXPECT_TRUE(contains(f[0].seen, "unix:///run/containerd/containerd.sock")) << f[0].seen;
  EXPECT_TRUE(contains(f[0].fix, "runtime.endpoint")) << f[0].fix;
  EXPECT_TRUE(with_id(d, "prepuller-trap").empty());
  EXPECT_TRUE(with_id(d, "disk-above-high").empty());
}

TEST(Doctor, ReachableRuntimeShowsItsVersionAndSandboxImage) {
  const auto d = diagnose(healthy());
  EXPECT_TRUE(contains(with_id(d, "runtime-unreachable")[0].seen, "containerd 1.6.20 at unix:///run/containerd/containerd.sock: 10 images"));
  EXPECT_TRUE(contains(with_id(d, "sandbox-image")[0].seen, "registry.k8s.io/pause:3.6"));
  auto o = healthy();
  o.runtime->sandbox_images.clear();
  const auto f = one(o, "sandbox-image");
  EXPECT_EQ(f.severity, Severity::Info);
  EXPECT_TRUE(contains(f.fix, "runtime.sandboxImage"));
}

// --- disk ---------------------------------------------------------------------------------

TEST(Doctor, NodeimgHighMustBeBelowKubeletsImageGcHighThreshold) {
  auto o = healthy();
  o.config.gc.high = {gc::Threshold::Kind::UsedPercent, 85, 0, "85%"};
  auto f = one(o, "gc-high-not-below-kubelet");
  EXPECT_EQ(f.severity, Severity::Warning);
  EXPECT_TRUE(contains(f.seen, "imageGCHighThresholdPercent 85%")) << f.seen;
  EXPECT_TRUE(contains(f.fix, "gc.high below 85%")) << f.fix;
  // kubelet's threshold read from its file.
  o.kubelet = kubelet_of(kubelet_tree(std::string(kConfig) + "imageGCHighThresholdPercent: 90\nimageGCLowThresholdPercent: 80\n"),
                         {{"nodeStatusMaxImages", -1}});
  EXPECT_EQ(one(o, "gc-high-not-below-kubelet").severity, Severity::Ok);
  // A "free" threshold is compared as the usage it stands for: 10 GiB free of 100 = 90 % used.
  o.config.gc.high = {gc::Threshold::Kind::FreeBytes, 0, 10 * GiB, "10GiB free"};
  f = one(o, "gc-high-not-below-kubelet");
  EXPECT_EQ(f.severity, Severity::Warning) << f.seen;
}

TEST(Doctor, DiskAboveHighAndInodesAboveHigh) {
  auto o = healthy();
  o.runtime->image_filesystem->available_bytes = 20 * GiB;  // 80 % used >= 75 %
  auto f = one(o, "disk-above-high");
  EXPECT_EQ(f.severity, Severity::Warning);
  EXPECT_TRUE(contains(f.seen, "80.0% used")) << f.seen;
  EXPECT_TRUE(contains(f.fix, "nodeimg gc")) << f.fix;
  EXPECT_TRUE(with_id(diagnose(o), "inodes-above-high").empty());

  o = healthy();
  o.runtime->image_filesystem->inodes_free = 50;  // 95 % >= 90 %
  EXPECT_EQ(one(o, "inodes-above-high").severity, Severity::Warning);
  EXPECT_TRUE(with_id(diagnose(o), "disk-above-high").empty());
}

TEST(Doctor, UnmeasurableImageFilesystem) {
  auto o = healthy();
  o.runtime->image_filesystem.reset();
  o.runtime->image_filesystem_error = "statvfs /var/lib/containerd: No such file or directory";
  EXPECT_EQ(one(o, "image-filesystem").severity, Severity::Warning);
}

// --- systemd ------------------------------------------------------------------------------

TEST(Doctor, GcTimerMissingDisabledInactiveOrScheduled) {
  auto o = healthy();
  auto f = one(o, "gc-timer");
  EXPECT_EQ(f.severity, Severity::Ok);
  EXPECT_TRUE(contains(f.seen, "fires next at 2025-11-24T16:05:00Z (in 5m)")) << f.seen;
  o.systemd->gc_timer->unit_file_state = "disabled";
  f = one(o, "gc-timer");
  EXPECT_EQ(f.severity, Severity::Warning);
  EXPECT_EQ(f.fix, "systemctl enable --now nodeimg-gc.timer");
  o.systemd->gc_timer->unit_file_state = "enabled";
  o.systemd->gc_timer->active_state = "inactive";
  EXPECT_EQ(one(o, "gc-timer").fix, "systemctl start nodeimg-gc.timer");
  o.systemd->gc_timer->load_state = "not-found";
  EXPECT_TRUE(contains(one(o, "gc-timer").seen, "not installed"));
}

TEST(Doctor, KubeletBootUnitMustBeEnabled) {
  auto o = healthy();
  o.systemd->kubelet_unit->unit_file_state = "disabled";
  const auto f = one(o, "kubelet-unit");
  EXPECT_EQ(f.severity, Severity::Warning);
  EXPECT_EQ(f.fix, "systemctl enable nodeimg-kubelet.service");
  o.systemd->kubelet_unit.reset();
  EXPECT_EQ(one(o, "kubelet-unit").severity, Severity::Warning);
}

TEST(Doctor, FailedGcServiceIsReportedWithItsResult) {
  auto o = healthy();
  o.systemd->gc_service->result = "exit-code";
  o.systemd->gc_service->exit_status = 1;
  const auto f = one(o, "gc-service-failed");
  EXPECT_EQ(f.severity, Severity::Warning);
  EXPECT_TRUE(contains(f.seen, "result exit-code (status 1)")) << f.seen;
  EXPECT_TRUE(contains(f.fix, "journalctl -u nodeimg-gc.service"));
  EXPECT_TRUE(with_id(diagnose(healthy()), "gc-service-failed").empty());
}

// --- the last gc run ------------------------------------------------------------------------

TEST(Doctor, LastGcRunNeverFailedOrStale) {
  auto o = healthy();
  o.state.last_run.reset();
  o.systemd->gc_service->last_exit = 0;
  auto f = one(o, "gc-last-run");
  EXPECT_EQ(f.severity, Severity::Warning);
  EXPECT_TRUE(contains(f.seen, "no gc run recorded"));

  o = healthy();
  o.systemd->gc_service->last_exit = 0;
  o.state.last_run = LastRun{.finished_at = kNow - 300, .success = false, .from = "state.json"};
  f = one(o, "gc-last-run");
  EXPECT_EQ(f.severity, Severity::Warning);
  EXPECT_TRUE(contains(f.seen, "failed (from state.json)")) << f.seen;

  o = healthy();
  o.systemd->gc_service->last_exit = kNow - 3 * 3600;
  o.state.last_run = LastRun{.finished_at = kNow - 3 * 3600, .success = true, .from = "state.json"};
  f = one(o, "gc-last-run");
  EXPECT_EQ(f.severity, Severity::Warning);
  EXPECT_TRUE(contains(f.seen, "(3h0m ago)")) << f.seen;
}

TEST(Doctor, TheLatestRecordOfTheLastRunWins) {
  auto o = healthy();
  o.state.last_run = LastRun{.finished_at = kNow - 7200, .success = false, .from = "state.json"};
  o.metrics.last_run = LastRun{.finished_at = kNow - 60, .success = true, .from = "nodeimg.prom"};
  const auto f = one(o, "gc-last-run");
  EXPECT_EQ(f.severity, Severity::Ok) << f.seen;
  EXPECT_TRUE(contains(f.seen, "from nodeimg.prom")) << f.seen;
}

TEST(Doctor, LastRunIsReadFromStateAloneUnderRoot) {
  auto o = healthy();
  o.systemd.reset();
  o.runtime.reset();
  o.skipped = {{.area = "systemd", .reason = "under --root"}};
  const auto d = diagnose(o);
  EXPECT_EQ(with_id(d, "gc-last-run")[0].severity, Severity::Ok);
  EXPECT_TRUE(with_id(d, "gc-timer").empty());
  EXPECT_TRUE(with_id(d, "runtime-unreachable").empty());
  ASSERT_EQ(d.skipped.size(), 1u);
  EXPECT_EQ(d.skipped[0].area, "systemd");
}

// --- nodeimg's state ------------------------------------------------------------------------

TEST(Doctor, HistoryMissingCorruptOrUnreadable) {
  auto o = healthy();
  o.state.history = HistoryState::Missing;
  EXPECT_EQ(one(o, "history").severity, Severity::Info);
  o.state.history = HistoryState::Corrupt;
  o.state.history_error = "history: not valid JSON";
  auto f = one(o, "history");
  EXPECT_EQ(f.severity, Severity::Warning);
  EXPECT_TRUE(contains(f.seen, "not valid JSON"));
  o.state.history = HistoryState::Unreadable;
  EXPECT_EQ(one(o, "history").severity, Severity::Warning);
}

TEST(Doctor, ApplyRecordAndPendingRevert) {
  auto o = healthy();
  EXPECT_EQ(one(o, "apply-record").severity, Severity::Info);  // none
  o.state.record = ApplyRecordObservation{.applied_at = "2025-11-24T10:00:00Z", .unit = "kubelet.service",
                                          .files = {{.path = "/var/lib/kubelet/config.yaml"}}};
  auto f = one(o, "apply-record");
  EXPECT_EQ(f.severity, Severity::Info);
  EXPECT_TRUE(contains(f.seen, "nodeimg kubelet revert")) << f.seen;
  o.state.record->files[0].state = AppliedFileState::AsBefore;
  f = one(o, "apply-record");
  EXPECT_TRUE(contains(f.seen, "a revert is pending")) << f.seen;
  o.state.record->files[0].state = AppliedFileState::ChangedSince;
  f = one(o, "apply-record");
  EXPECT_EQ(f.severity, Severity::Warning);
  EXPECT_TRUE(contains(f.seen, "/var/lib/kubelet/config.yaml changed since nodeimg's apply at 2025-11-24T10:00:00Z"));
  o.state.record.reset();
  o.state.record_error = "not valid JSON";
  EXPECT_EQ(one(o, "apply-record").severity, Severity::Warning);
}

TEST(Doctor, MetricsOffOrWithoutACollectorDirectory) {
  auto o = healthy();
  o.metrics.directory_exists = false;
  auto f = one(o, "metrics");
  EXPECT_EQ(f.severity, Severity::Info);
  EXPECT_TRUE(contains(f.fix, "prometheus-node-exporter"));
  o.metrics.path.clear();
  EXPECT_TRUE(contains(one(o, "metrics").seen, "metrics are off"));
}

}  // namespace
}  // namespace nodeimg::doctor
