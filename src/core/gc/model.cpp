#include "core/gc/model.hpp"

namespace nodeimg::gc {

std::string_view to_string(ContainerState s) {
  switch (s) {
    case ContainerState::Created: return "created";
    case ContainerState::Running: return "running";
    case ContainerState::Exited: return "exited";
    case ContainerState::Unknown: return "unknown";
  }
  return "?";
}

std::string_view to_string(Phase p) {
  switch (p) {
    case Phase::ExitedContainer: return "exited-container";
    case Phase::NotReadySandbox: return "not-ready-sandbox";
    case Phase::MaxUnusedAge: return "max-unused-age";
    case Phase::MaxImages: return "max-images";
    case Phase::Threshold: return "threshold";
  }
  return "?";
}

std::size_t Plan::removals() const {
  std::size_t n = 0;
  for (const auto* list : {&containers, &sandboxes, &images})
    for (const auto& d : *list) n += d.remove ? 1 : 0;
  return n;
}

}  // namespace nodeimg::gc
