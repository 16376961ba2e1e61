// How long nodeimg's core takes to read and patch kubelet configurations: the surgical
// edit of a large config file, and discovery + planning on a kubeadm node.
#include <sys/resource.h>

#include <filesystem>

#include <benchmark/benchmark.h>

#include "core/kubelet/document.hpp"
#include "core/kubelet/plan.hpp"
#include "support/memory_tree.hpp"

namespace {

using namespace nodeimg;

std::string big_config(int extra_keys) {
  std::string s = "# generated\napiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n";
  for (int i = 0; i < extra_keys; ++i) s += "key" + std::to_string(i) + ": value " + std::to_string(i) + "  # note\n";
  s += "nodeStatusMaxImages: 50\n";
  return s;
}

void BM_PatchConfigFile(benchmark::State& state) {
  const std::string text = big_config(static_cast<int>(state.range(0)));
  const kubelet::Values values = {{"nodeStatusMaxImages", -1}, {"imageMinimumGCAge", "5m"}};
  for (auto _ : state) {
    auto doc = kubelet::parse_document("/c.yaml", text);
    auto out = kubelet::set_values(*doc, values);
    auto ok = kubelet::verify_edit(*doc, *out, values);
    benchmark::DoNotOptimize(ok);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_PatchConfigFile)->Arg(20)->Arg(200)->Arg(2000);

void BM_DiscoverAndPlanKubeadm(benchmark::State& state) {
  auto tree = nodeimg::testing::MemoryTree::from_directory(std::filesystem::path(NODEIMG_FIXTURES) / "platforms/kubeadm/root");
  for (auto _ : state) {
    auto sources = kubelet::discover(tree, {});
    auto p = kubelet::plan(tree, {}, *sources, {{"nodeStatusMaxImages", -1}});
    benchmark::DoNotOptimize(p);
  }
}
BENCHMARK(BM_DiscoverAndPlanKubeadm);

// Issue 8's scale goal: a 10 MB kubelet file through discovery, planning (edit, verify,
// replay) in well under a second and 64 MB. Run one at a time for a meaningful peak RSS:
//   nodeimg_bench --benchmark_filter=TenMegabyteFile      (nested YAML values)
//   nodeimg_bench --benchmark_filter=TenMegabyteJson      (a JSON file, as EKS and AKS write)
//   nodeimg_bench --benchmark_filter=TenMegabyteFlatYaml  (many top-level keys)
// The file is built straight into the tree, so the process holds it once, as a file.
void plan_ten_megabytes(benchmark::State& state, const std::string& path, std::string text) {
  nodeimg::testing::MemoryTree tree;
  tree.files["/etc/systemd/system/kubelet.service"] = "[Service]\nExecStart=/usr/bin/kubelet --config=" + path + "\n";
  const double megabytes = static_cast<double>(text.size()) / 1e6;
  tree.files[path] = std::move(text);
  for (auto _ : state) {
    auto sources = kubelet::discover(tree, {});
    auto p = kubelet::plan(tree, {}, *sources, {{"nodeStatusMaxImages", -1}});
    if (!p || p->changes.size() != 1) state.SkipWithError("the plan failed");
    benchmark::DoNotOptimize(p);
  }
  struct rusage usage {};
  ::getrusage(RUSAGE_SELF, &usage);
  state.counters["file_MB"] = megabytes;
  state.counters["peak_RSS_MB"] = static_cast<double>(usage.ru_maxrss) / 1024.0;
}

void BM_DiscoverAndPlanTenMegabyteFile(benchmark::State& state) {
  std::string text = "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n";
  for (int i = 0; text.size() < 10'000'000; ++i)
    text += "key" + std::to_string(i) + ":\n  nested: [1, 2, \"three\"]\n  other: value " + std::to_string(i) + "  # note\n";
  text += "nodeStatusMaxImages: 50\n";
  plan_ten_megabytes(state, "/var/lib/kubelet/config.yaml", std::move(text));
}
BENCHMARK(BM_DiscoverAndPlanTenMegabyteFile)->Unit(benchmark::kMillisecond)->Iterations(2);

void BM_DiscoverAndPlanTenMegabyteJson(benchmark::State& state) {
  std::string text = "{\n  \"apiVersion\": \"kubelet.config.k8s.io/v1beta1\",\n  \"kind\": \"KubeletConfiguration\",\n";
  for (int i = 0; text.size() < 10'000'000; ++i)
    text += "  \"key" + std::to_string(i) + "\": {\"nested\": [1, 2, \"three\"], \"other\": \"value " + std::to_string(i) +
            "\"},\n";
  text += "  \"nodeStatusMaxImages\": 50\n}\n";
  plan_ten_megabytes(state, "/etc/kubernetes/kubelet/config.json", std::move(text));
}
BENCHMARK(BM_DiscoverAndPlanTenMegabyteJson)->Unit(benchmark::kMillisecond)->Iterations(2);

void BM_DiscoverAndPlanTenMegabyteFlatYaml(benchmark::State& state) {
  std::string text = "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n";
  for (int i = 0; text.size() < 10'000'000; ++i) text += "key" + std::to_string(i) + ": value " + std::to_string(i) + "\n";
  text += "nodeStatusMaxImages: 50\n";
  plan_ten_megabytes(state, "/var/lib/kubelet/config.yaml", std::move(text));
}
BENCHMARK(BM_DiscoverAndPlanTenMegabyteFlatYaml)->Unit(benchmark::kMillisecond)->Iterations(2);

}  // namespace
