#pragma once
// `nodeimg kubelet status|apply|revert`.
#include "commands/context.hpp"

namespace nodeimg {

struct ApplyFlags {
  bool dry_run = false;
  bool no_restart = false;
};

struct RevertFlags {
  bool dry_run = false;
  bool force = false;
  bool no_restart = false;
};

int kubelet_status(const Context& ctx);
int kubelet_apply(const Context& ctx, const ApplyFlags& flags);
int kubelet_revert(const Context& ctx, const RevertFlags& flags);

}  // namespace nodeimg
