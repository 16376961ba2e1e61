// How long the collector's pure core takes on large nodes: planning a collection, folding an
// inventory into the history, and writing and reading the history file, for 100 to 10000
// images with containers, sandboxes, keep rules and a history. The inventories are random
// but seeded, so every run measures the same input.
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include "core/gc/history.hpp"
#include "core/gc/model.hpp"
#include "core/gc/planner.hpp"
#include "core/gc/image_ref.hpp"

namespace {

using namespace nodeimg;

constexpr gc::Seconds kNow = 1764000000;
constexpr gc::Seconds kDay = 86400;

std::string hex64(std::mt19937_64& rng) {
  std::string s;
  for (int i = 0; i < 4; ++i) s += fmt::format("{:016x}", rng());
  return s;
}

struct Node {
  gc::Inventory inventory;
  gc::History history;
  gc::Policy policy;
};

// N images over N/5 repositories of 4 registries; a quarter of them with a container (a
// third of those running, the rest exited or created, some by tag, some by id), a sandbox
// per 10 images, 2% pinned, a history for 90% of them, and a node at 85% used.
Node make_node(std::size_t n) {
  std::mt19937_64 rng(n * 7919 + 1);
  auto pick = [&rng](std::size_t bound) { return static_cast<std::size_t>(rng() % bound); };
  const char* registries[] = {"docker.io/library", "ghcr.io/org", "registry.example.com/team", "quay.io/prom"};
  const std::size_t repos = n / 5 + 1;

  Node node;
  gc::Inventory& inv = node.inventory;
  inv.images.reserve(n + 1);
  inv.sandbox_images = {"registry.k8s.io/pause:3.6"};
  inv.images.push_back({"sha256:" + hex64(rng), {"registry.k8s.io/pause:3.6"}, {}, 300'000, false});
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t r = pick(repos);
    const std::string repo = fmt::format("{}/app{}", registries[r % 4], r);
    gc::Image img;
    img.id = "sha256:" + hex64(rng);
    img.tags.push_back(fmt::format("{}:v{}", repo, i));
    if (pick(4) == 0) img.tags.push_back(fmt::format("{}:latest-{}", repo, i));
    img.digests.push_back(repo + "@sha256:" + hex64(rng));
    img.size = 1'000'000 + rng() % 500'000'000;
    img.pinned = pick(50) == 0;
    inv.images.push_back(std::move(img));
  }

  const std::size_t sandboxes = n / 10 + 1;
  for (std::size_t s = 0; s < sandboxes; ++s) {
    gc::Sandbox sb;
    sb.id = hex64(rng);
    sb.name = fmt::format("pod-{}", s);
    sb.ready = pick(5) != 0;
    sb.created_at = kNow - static_cast<gc::Seconds>(pick(30 * kDay));
    inv.sandboxes.push_back(std::move(sb));
  }
  for (std::size_t c = 0; c < n / 4; ++c) {
    const gc::Image& img = inv.images[1 + pick(n)];
    gc::Container ct;
    ct.id = hex64(rng);
    ct.name = fmt::format("c{}", c);
    ct.sandbox_id = inv.sandboxes[pick(sandboxes)].id;
    ct.image = pick(2) == 0 ? img.tags.front() : img.id;
    ct.image_id = pick(3) == 0 ? "" : img.id;
    const std::size_t st = pick(3);
    ct.state = st == 0 ? gc::ContainerState::Running : st == 1 ? gc::ContainerState::Exited : gc::ContainerState::Created;
    ct.created_at = kNow - static_cast<gc::Seconds>(pick(30 * kDay));
    inv.containers.push_back(std::move(ct));
  }

  inv.usage.mountpoint = "/var/lib/containerd";
  inv.usage.size_bytes = 100ULL << 30;
  inv.usage.available_bytes = 15ULL << 30;
  inv.usage.inodes = 6'000'000;
  inv.usage.inodes_free = 4'000'000;

  for (const auto& img : inv.images) {
    if (pick(10) == 0) continue;  // not yet seen
    const gc::Seconds first = kNow - static_cast<gc::Seconds>(pick(90 * kDay));
    node.history[img.id] = {first, first + static_cast<gc::Seconds>(pick(static_cast<std::size_t>(kNow - first) + 1))};
  }

  gc::Policy& p = node.policy;
  p.max_images = n / 2;
  p.max_unused_age = 60 * kDay;
  for (const auto* pattern : {"ghcr.io/org/app1*:*", "regex:^quay\\.io/prom/app[0-9]+:v1[0-9]$"})
    if (auto k = gc::ReferencePattern::parse(pattern)) p.keep.push_back(std::move(*k));
  p.keep_newest["docker.io/library/app4"] = 3;
  p.keep_newest["registry.example.com/team/app2"] = 2;
  p.prepull = {"ghcr.io/org/app5:v5"};
  return node;
}

// Plans a node of state.range(0) images from scratch per iteration, as one `nodeimg gc`
// run does; the node is built once, outside the timing. Returns the removals planned.
std::size_t plan_node_per_iteration(benchmark::State& state, const Node& node) {
  const gc::History history = gc::update_history(node.history, node.inventory, kNow);
  std::size_t removals = 0;
  for (auto _ : state) {
    auto plan = gc::plan_collection(node.inventory, history, node.policy, kNow);
    removals = plan.removals();
    benchmark::DoNotOptimize(plan);
  }
  return removals;
}

void BM_PlanCollection(benchmark::State& state) {
  const Node node = make_node(static_cast<std::size_t>(state.range(0)));
  const std::size_t removals = plan_node_per_iteration(state, node);
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
  state.counters["containers"] = static_cast<double>(node.inventory.containers.size());
  state.counters["planned"] = static_cast<double>(removals);
}
BENCHMARK(BM_PlanCollection)->Arg(100)->Arg(500)->Arg(2000)->Arg(10000)->Unit(benchmark::kMicrosecond);

// The planner's growth from 1k to 100k images (bench/planner-scale prints the exponent k in
// cpu ~ n^k between sizes, and Google Benchmark's fit). The node is built once per size,
// outside the timing; each iteration plans it from scratch, as one `nodeimg gc` run does.
void BM_PlanScale(benchmark::State& state) {
  const Node node = make_node(static_cast<std::size_t>(state.range(0)));
  const std::size_t removals = plan_node_per_iteration(state, node);
  state.SetComplexityN(state.range(0));
  state.counters["planned"] = static_cast<double>(removals);
}
BENCHMARK(BM_PlanScale)->Arg(1000)->Arg(10000)->Arg(100000)->Unit(benchmark::kMillisecond)->Complexity(benchmark::oNLogN);

void BM_UpdateHistory(benchmark::State& state) {
  const Node node = make_node(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) {
    auto h = gc::update_history(node.history, node.inventory, kNow);
    benchmark::DoNotOptimize(h);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}
BENCHMARK(BM_UpdateHistory)->Arg(100)->Arg(500)->Arg(2000)->Arg(10000)->Unit(benchmark::kMicrosecond);

void BM_SerializeHistory(benchmark::State& state) {
  const Node node = make_node(static_cast<std::size_t>(state.range(0)));
  const gc::History history = gc::update_history(node.history, node.inventory, kNow);
  std::size_t bytes = 0;
  for (auto _ : state) {
    auto text = gc::serialize_history(history, kNow);
    bytes = text.size();
    benchmark::DoNotOptimize(text);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
  state.counters["file_bytes"] = static_cast<double>(bytes);
}
BENCHMARK(BM_SerializeHistory)->Arg(100)->Arg(500)->Arg(2000)->Arg(10000)->Unit(benchmark::kMicrosecond);

void BM_ParseHistory(benchmark::State& state) {
  const Node node = make_node(static_cast<std::size_t>(state.range(0)));
  const std::string text = gc::serialize_history(gc::update_history(node.history, node.inventory, kNow), kNow);
  for (auto _ : state) {
    auto h = gc::parse_history(text);
    benchmark::DoNotOptimize(h);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * text.size()));
}
BENCHMARK(BM_ParseHistory)->Arg(100)->Arg(500)->Arg(2000)->Arg(10000)->Unit(benchmark::kMicrosecond);

}  // namespace
