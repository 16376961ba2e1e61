#pragma once
// `nodeimg gc`, `nodeimg images` and `nodeimg prepull`: the image garbage collector.
#include <optional>
#include <string>
#include <vector>

#include "commands/context.hpp"

namespace nodeimg {

// Command-line overrides of the gc: policy, as text so that they are validated (and
// reported) exactly like the configuration file.
struct PolicyOverrides {
  std::optional<std::string> high, low, inodes_high, min_age, max_unused_age;
  std::optional<long long> max_images;
  std::optional<int> concurrency;
  std::vector<std::string> keep;
};

struct GcFlags {
  bool dry_run = false;
  std::string lock_timeout = "30s";  // how long to wait for another run to finish
  PolicyOverrides policy;
};

struct ImagesFlags {
  bool csv = false;
  PolicyOverrides policy;
};

// Applies the overrides to `policy`; the error names the option.
Result<void> apply_overrides(const PolicyOverrides& overrides, gc::Policy& policy);

int gc_run(const Context& ctx, const GcFlags& flags);
int images_list(const Context& ctx, const ImagesFlags& flags);
int prepull(const Context& ctx);

}  // namespace nodeimg
