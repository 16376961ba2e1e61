#include "core/gc/model.hpp"

#include <algorithm>

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

std::string_view to_string(ReasonCode c) {
  switch (c) {
    case ReasonCode::Lru: return "lru";
    case ReasonCode::InodePressure: return "inode-pressure";
    case ReasonCode::MaxUnusedAge: return "max-unused-age";
    case ReasonCode::MaxImages: return "max-images";
    case ReasonCode::NotNeeded: return "not-needed";
    case ReasonCode::Pinned: return "pinned";
    case ReasonCode::Sandbox: return "sandbox";
    case ReasonCode::InUse: return "in-use";
    case ReasonCode::Keep: return "keep";
    case ReasonCode::Prepull: return "prepull";
    case ReasonCode::KeepNewest: return "keep-newest";
    case ReasonCode::TooYoung: return "too-young";
    case ReasonCode::Exited: return "exited";
    case ReasonCode::NotReady: return "not-ready";
    case ReasonCode::Running: return "running";
    case ReasonCode::Ready: return "ready";
    case ReasonCode::Disabled: return "disabled";
    case ReasonCode::HoldsContainer: return "holds-container";
    case ReasonCode::WithSandbox: return "with-sandbox";
  }
  return "?";
}

std::string_view to_string(NextGc n) {
  switch (n) {
    case NextGc::Remove: return "remove";
    case NextGc::RemoveIfNeeded: return "remove-if-needed";
    case NextGc::NotNeeded: return "not-needed";
    case NextGc::Protected: return "protected";
  }
  return "?";
}

std::string_view to_string(Shortfall::Kind k) {
  switch (k) {
    case Shortfall::Kind::Low: return "low";
    case Shortfall::Kind::MaxImages: return "max-images";
  }
  return "?";
}

NextGc next_gc(const Decision& d) {
  if (d.remove) return NextGc::Remove;
  if (d.reserve) return NextGc::RemoveIfNeeded;
  if (d.code == ReasonCode::NotNeeded) return NextGc::NotNeeded;
  return NextGc::Protected;
}

std::size_t Plan::reserves() const {
  return static_cast<std::size_t>(std::count_if(images.begin(), images.end(), [](const Decision& d) { return d.reserve; }));
}

std::uint64_t Plan::reserve_bytes() const {
  std::uint64_t n = 0;
  for (const auto& d : images) n += d.reserve ? d.size : 0;
  return n;
}

std::size_t Plan::removals() const {
  std::size_t n = 0;
  for (const auto* list : {&containers, &sandboxes, &images})
    for (const auto& d : *list) n += d.remove ? 1 : 0;
  return n;
}

}  // namespace nodeimg::gc
