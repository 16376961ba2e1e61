#pragma once
// `nodeimg gc`, `nodeimg images` and `nodeimg prepull`: the image garbage collector. Each
// command wires the runtime and host adapters to the core's planner, executor rules and
// renderers: survey, decide, act, render, one named step each.
#include <string>

#include "commands/context.hpp"
#include "core/gc/policy.hpp"

namespace nodeimg {

// Command-line overrides of the gc: policy, validated by the core like the file.
using PolicyOverrides = gc::PolicyOverrides;

struct GcFlags {
  bool dry_run = false;
  std::string output;  // "wide": every column, nothing cut, the long reasons (-o wide)
  std::string lock_timeout = "30s";  // how long to wait for another run to finish
  PolicyOverrides policy;
};

struct ImagesFlags {
  bool csv = false;
  std::string output;  // "wide" (-o wide)
  PolicyOverrides policy;
};

int gc_run(const Context& ctx, const GcFlags& flags);
int images_list(const Context& ctx, const ImagesFlags& flags);
int prepull(const Context& ctx);

}  // namespace nodeimg
