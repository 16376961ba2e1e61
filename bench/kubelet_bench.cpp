// How long nodeimg's core takes to read and patch kubelet configurations: the surgical
// edit of a large config file, and discovery + planning on a kubeadm node.
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

}  // namespace
