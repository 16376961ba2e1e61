#include "core/gc/report.hpp"

#include <algorithm>

namespace nodeimg::gc {

std::string_view to_string(ObjectKind k) {
  switch (k) {
    case ObjectKind::Container: return "container";
    case ObjectKind::Sandbox: return "sandbox";
    case ObjectKind::Image: return "image";
  }
  return "?";
}

std::string_view to_string(SkipCode c) {
  switch (c) {
    case SkipCode::CameIntoUse: return "came-into-use";
    case SkipCode::LowReached: return "low-reached";
    case SkipCode::InUse: return "in-use";
    case SkipCode::Other: return "other";
  }
  return "?";
}

std::size_t RunReport::count(ObjectKind kind) const {
  return static_cast<std::size_t>(
      std::count_if(removed.begin(), removed.end(), [&](const Removal& r) { return r.kind == kind; }));
}

std::uint64_t RunReport::bytes_freed() const {
  return after.available_bytes > before.available_bytes ? after.available_bytes - before.available_bytes : 0;
}

}  // namespace nodeimg::gc
