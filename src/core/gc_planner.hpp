#pragma once
// The collector's decisions, pure: which exited containers, NotReady sandboxes and
// least-recently-used images to remove, and why each one stays. Never plans the removal of
// a pinned image, the sandbox image, an image any container or sandbox uses (in any state),
// or an image protected by keep, keepNewest or prepull.
#include "core/gc_model.hpp"

namespace nodeimg::gc {

// Folds what the runtime shows now into the persisted history: first seen, and last used
// = now for images used by a created or running container, and at least the newest
// created_at of any container that refers to the image. Images gone are forgotten.
History update_history(const History& history, const Inventory& inventory, Seconds now);

Plan plan_collection(const Inventory& inventory, const History& history, const Policy& policy, Seconds now);

// Whether `ref` (a container's image field) names `image`: by id, tag or digest.
bool refers_to(const Image& image, std::string_view ref);

// "3h5m", "2d4h" for reasons.
std::string human_age(Seconds s);
std::string human_bytes(std::uint64_t b);

}  // namespace nodeimg::gc
