#include "core/gc/planner.hpp"

#include <algorithm>
#include <set>
#include <functional>
#include <tuple>
#include <unordered_set>
#include <utility>

#include <fmt/format.h>

#include "core/gc/threshold.hpp"

namespace nodeimg::gc {

std::string human_age(Seconds s) {
  if (s < 0) s = 0;
  if (s < 60) return fmt::format("{}s", s);
  if (s < 3600) return fmt::format("{}m", s / 60);
  if (s < 86400) return fmt::format("{}h{}m", s / 3600, (s % 3600) / 60);
  return fmt::format("{}d{}h", s / 86400, (s % 86400) / 3600);
}

std::string human_bytes(std::uint64_t b) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(b);
  int u = 0;
  while (v >= 1024 && u < 4) v /= 1024, ++u;
  return u == 0 ? fmt::format("{} B", b) : fmt::format("{:.1f} {}", v, units[u]);
}

namespace {

bool is_hex64(std::string_view s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// The tag part of a reference without its digest: "docker.io/library/busybox:1.36" for
// "busybox:1.36@sha256:…"; "" when the reference has a digest but no tag.
std::string tagged_part(const std::string& normalized) {
  const ReferenceParts parts = split_reference(normalized);
  if (!parts.digest) return normalized;
  if (!parts.tag) return "";
  return std::string(parts.name) + ":" + std::string(*parts.tag);
}

}  // namespace

bool refers_to(const Image& image, std::string_view ref) {
  if (ref.empty()) return false;
  if (ref == image.id) return true;
  // A bare id, without its "sha256:" prefix.
  if (is_hex64(ref)) {
    const std::string full = "sha256:" + std::string(ref);
    if (image.id == full) return true;
    // Not a name: "docker.io/library/<hex>:latest" would be nonsense.
    for (const auto& d : image.digests)
      if (digest_of(d) == full) return true;
    return false;
  }
  // "sha256:…" alone: the id (checked above) or a manifest digest of one of the image's
  // repositories.
  if (ref.starts_with("sha256:")) {
    for (const auto& d : image.digests)
      if (digest_of(d) == ref) return true;
    return false;
  }
  const std::string norm = normalize_reference(ref);
  // A digest reference names the content whatever the repository or tag it is written with.
  if (const std::string digest = digest_of(norm); !digest.empty()) {
    if (digest == image.id) return true;
    for (const auto& d : image.digests)
      if (digest_of(d) == digest) return true;
  }
  const std::string tagged = tagged_part(norm);
  if (tagged.empty()) return false;
  for (const auto& t : image.tags)
    if (t == ref || normalize_reference(t) == tagged) return true;
  return false;
}

// The index answers, for every image at once, what refers_to answers for one: each branch of
// refers_to above is a key lookup here, taken under the same conditions and on the same
// derived strings (the "sha256:" id of a bare id, the normalized reference, its digest, its
// tagged part).
ReferenceIndex::ReferenceIndex(const std::vector<Image>& images) {
  std::size_t tags = 0, digests = 0;
  for (const auto& image : images) tags += image.tags.size(), digests += image.digests.size();
  reserve(images.size(), tags, digests);
  for (std::size_t i = 0; i < images.size(); ++i) add(images[i], i);
}

void ReferenceIndex::reserve(std::size_t images, std::size_t tags, std::size_t digests) {
  ids_.reserve(images);
  digests_.reserve(digests);
  tags_.reserve(tags);
  normalized_tags_.reserve(tags);
  entries_.reserve(images + digests + 2 * tags);
}

void ReferenceIndex::Keys::reserve(std::size_t keys) {
  std::size_t capacity = 16;
  while (capacity < 2 * keys) capacity *= 2;
  if (capacity > slots_.size()) grow(capacity);
}

std::size_t ReferenceIndex::Keys::probe(std::string_view key, std::size_t hash) const {
  const std::size_t mask = slots_.size() - 1;  // a power of two
  std::size_t i = hash & mask;
  while (slots_[i].head != kEnd && (slots_[i].hash != hash || slots_[i].key != key)) i = (i + 1) & mask;
  return i;
}

void ReferenceIndex::Keys::grow(std::size_t capacity) {
  std::vector<Slot> old = std::exchange(slots_, std::vector<Slot>(capacity));
  for (const Slot& s : old)
    if (s.head != kEnd) slots_[probe(s.key, s.hash)] = s;
}

std::size_t ReferenceIndex::Keys::find(std::string_view key) const {
  if (slots_.empty()) return kEnd;
  return slots_[probe(key, std::hash<std::string_view>{}(key))].head;
}

std::size_t& ReferenceIndex::Keys::slot(std::string_view key) {
  if (2 * (used_ + 1) > slots_.size()) grow(std::max<std::size_t>(16, 2 * slots_.size()));
  const std::size_t hash = std::hash<std::string_view>{}(key);
  Slot& s = slots_[probe(key, hash)];
  if (s.head == kEnd) {
    s.hash = hash;
    s.key = key;
    ++used_;
  }
  return s.head;
}

void ReferenceIndex::put(Keys& keys, std::string_view key, std::size_t index) {
  std::size_t& head = keys.slot(key);
  if (head != kEnd && entries_[head].image == index) return;  // the same image under the same key again
  entries_.push_back({index, head});
  head = entries_.size() - 1;
}

void ReferenceIndex::collect(const Keys& keys, std::string_view key, std::vector<std::size_t>& out) const {
  for (std::size_t e = keys.find(key); e != kEnd; e = entries_[e].next) out.push_back(entries_[e].image);
}

namespace {

// digest_of(d) as a view of `d`: the digest of a digest reference is its tail ("" if none).
std::string_view digest_view(std::string_view d) {
  if (d.starts_with("sha256:")) return d;
  const auto at = d.find('@');
  return at == std::string_view::npos ? std::string_view() : d.substr(at + 1);
}

}  // namespace

void ReferenceIndex::add_id_and_digests(const Image& image, std::size_t index) {
  put(ids_, image.id, index);
  for (const auto& d : image.digests)
    if (const std::string_view digest = digest_view(d); !digest.empty()) put(digests_, digest, index);  // "" is never asked for
}

void ReferenceIndex::add(const Image& image, std::size_t index) {
  add_id_and_digests(image, index);
  for (const auto& t : image.tags) {
    put(tags_, t, index);
    // Stored as a view of the tag when normalizing changed nothing, and owned otherwise.
    std::string normalized = normalize_reference(t);
    put(normalized_tags_, normalized == t ? std::string_view(t) : std::string_view(owned_.emplace_back(std::move(normalized))),
        index);
  }
}

void ReferenceIndex::add(const Image& image, std::size_t index, std::span<const std::string> normalized_tags) {
  add_id_and_digests(image, index);
  for (std::size_t k = 0; k < image.tags.size(); ++k) {
    put(tags_, image.tags[k], index);
    put(normalized_tags_, normalized_tags[k], index);
  }
}

void ReferenceIndex::lookup_into(std::string_view ref, std::vector<std::size_t>& out) const {
  auto add = [&](const Keys& keys, std::string_view key) { collect(keys, key, out); };
  if (ref.empty()) return;
  add(ids_, ref);
  if (is_hex64(ref)) {
    const std::string full = "sha256:" + std::string(ref);
    add(ids_, full);
    add(digests_, full);
    return;
  }
  if (ref.starts_with("sha256:")) {
    add(digests_, ref);
    return;
  }
  const std::string norm = normalize_reference(ref);
  if (const std::string digest = digest_of(norm); !digest.empty()) {
    add(ids_, digest);
    add(digests_, digest);
  }
  const std::string tagged = tagged_part(norm);
  if (tagged.empty()) return;
  add(tags_, ref);
  add(normalized_tags_, tagged);
}

std::vector<std::size_t> ReferenceIndex::lookup(std::string_view ref) const {
  std::vector<std::size_t> out;
  lookup_into(ref, out);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

namespace {

// The indices of the images a container uses (refers_to its image_id or its image), with
// repeats, into `out` (cleared first).
void images_used_by(const ReferenceIndex& index, const Container& c, std::vector<std::size_t>& out) {
  out.clear();
  index.lookup_into(c.image_id, out);
  index.lookup_into(c.image, out);
}

}  // namespace

History update_history(const History& history, const Inventory& inventory, Seconds now) {
  // An id listed twice counts once, with the references of its first listing.
  std::vector<const Image*> images;
  images.reserve(inventory.images.size());
  ReferenceIndex index;
  {
    std::unordered_set<std::string_view> seen;
    for (const auto& image : inventory.images)
      if (seen.insert(image.id).second) {
        index.add(image, images.size());
        images.push_back(&image);
      }
  }
  // Per image, from the containers that use it: the newest created_at, and whether one is
  // created or running.
  struct Use {
    bool used = false;
    bool active = false;
    Seconds newest = 0;
  };
  std::vector<Use> uses(images.size());
  std::vector<std::size_t> hits;
  for (const auto& c : inventory.containers) {
    images_used_by(index, c, hits);
    const bool active = c.state == ContainerState::Running || c.state == ContainerState::Created;
    for (const std::size_t i : hits) {
      Use& u = uses[i];
      u.newest = u.used ? std::max(u.newest, c.created_at) : c.created_at;
      u.used = true;
      u.active = u.active || active;
    }
  }
  // In id order, so that the history is read in one pass and the result built at its end.
  std::vector<std::size_t> by_id(images.size());
  for (std::size_t i = 0; i < by_id.size(); ++i) by_id[i] = i;
  std::sort(by_id.begin(), by_id.end(), [&](std::size_t a, std::size_t b) { return images[a]->id < images[b]->id; });
  History out;
  auto known = history.begin();
  for (const std::size_t i : by_id) {
    const Image& image = *images[i];
    ImageHistory h;
    while (known != history.end() && known->first < image.id) ++known;
    if (known != history.end() && known->first == image.id) {
      h = known->second;
    } else {
      h.first_seen = now;
      h.last_used = now;  // like kubelet: first detection counts as a use
    }
    if (uses[i].used) h.last_used = std::max(h.last_used, uses[i].newest);
    if (uses[i].active) h.last_used = now;
    // Never in the future, whatever a clock said when the history or a container was written.
    h.first_seen = std::min(h.first_seen, now);
    h.last_used = std::min(h.last_used, now);
    out.emplace_hint(out.end(), image.id, h);
  }
  return out;
}

namespace {

bool sorted_and_unique(const std::vector<std::string>& refs) {
  return std::adjacent_find(refs.begin(), refs.end(), std::greater_equal<>()) == refs.end();
}

// The inventory's images in a canonical order, so that any input order gives the same plan:
// by id, an id listed twice merged into one (a runtime listing an id twice counts it once:
// the references of every listing, pinned if one is, the largest size), references sorted
// and unique. An image already in that form is used where it is, not copied; the others are
// built in `merged`.
std::vector<const Image*> canonical_images(const std::vector<Image>& images, std::deque<Image>& merged) {
  std::vector<const Image*> by_id;
  by_id.reserve(images.size());
  for (const auto& image : images) by_id.push_back(&image);
  std::stable_sort(by_id.begin(), by_id.end(), [](const Image* a, const Image* b) { return a->id < b->id; });
  std::vector<const Image*> out;
  out.reserve(by_id.size());
  for (std::size_t first = 0, end = 0; first < by_id.size(); first = end) {
    end = first + 1;
    while (end < by_id.size() && by_id[end]->id == by_id[first]->id) ++end;
    const Image& image = *by_id[first];
    if (end == first + 1 && sorted_and_unique(image.tags) && sorted_and_unique(image.digests)) {
      out.push_back(&image);
      continue;
    }
    Image& m = merged.emplace_back(image);
    for (std::size_t other = first + 1; other < end; ++other) {
      const Image& o = *by_id[other];
      m.tags.insert(m.tags.end(), o.tags.begin(), o.tags.end());
      m.digests.insert(m.digests.end(), o.digests.begin(), o.digests.end());
      m.pinned = m.pinned || o.pinned;
      m.size = std::max(m.size, o.size);
    }
    for (auto* refs : {&m.tags, &m.digests}) {
      std::sort(refs->begin(), refs->end());
      refs->erase(std::unique(refs->begin(), refs->end()), refs->end());
    }
    out.push_back(&m);
  }
  return out;
}

template <class T>
std::vector<const T*> sorted_by_id(const std::vector<T>& items) {
  std::vector<const T*> out;
  out.reserve(items.size());
  for (const auto& item : items) out.push_back(&item);
  std::stable_sort(out.begin(), out.end(), [](const T* a, const T* b) {
    if (a->id != b->id) return a->id < b->id;
    return std::tie(a->name, a->created_at) < std::tie(b->name, b->created_at);
  });
  return out;
}

std::string container_label(const Container& c) { return c.name.empty() ? c.id.substr(0, 12) : c.name; }
std::string sandbox_label(const Sandbox& s) { return s.name.empty() ? s.id.substr(0, 12) : s.name; }

std::string describe_usage(const FilesystemUsage& u) {
  if (u.size_bytes == 0) return "disk usage unknown (capacity 0)";
  return fmt::format("disk {:.1f}% used, {} free of {}", u.used_percent(),
                     human_bytes(std::min(u.available_bytes, u.size_bytes)), human_bytes(u.size_bytes));
}

// What the planner works on: the inventory in canonical order, and the images indexed by
// every reference (images[i] as i). Built in place: the index holds views of the images,
// which are the inventory's own or `merged`'s; the inventory must outlive the scene.
struct Scene {
  explicit Scene(const Inventory& inv)
      : images(canonical_images(inv.images, merged)),
        containers(sorted_by_id(inv.containers)),
        sandboxes(sorted_by_id(inv.sandboxes)) {
    std::size_t tags = 0, digests = 0;
    for (const Image* image : images) tags += image->tags.size(), digests += image->digests.size();
    normalized.reserve(tags);
    first_normalized.reserve(images.size() + 1);
    for (const Image* image : images) {
      first_normalized.push_back(normalized.size());
      for (const auto& t : image->tags) normalized.push_back(normalize_reference(t));
    }
    first_normalized.push_back(normalized.size());
    index.reserve(images.size(), tags, digests);
    for (std::size_t i = 0; i < images.size(); ++i) index.add(*images[i], i, normalized_tags(i));
  }
  // normalize_reference of each of images[i]->tags, in order.
  std::span<const std::string> normalized_tags(std::size_t i) const {
    return std::span<const std::string>(normalized).subspan(first_normalized[i], first_normalized[i + 1] - first_normalized[i]);
  }
  Scene(const Scene&) = delete;
  Scene& operator=(const Scene&) = delete;

  std::deque<Image> merged;  // images canonical_images had to build (declared before `images`)
  std::vector<const Image*> images;
  std::vector<const Container*> containers;
  std::vector<const Sandbox*> sandboxes;
  std::vector<std::string> normalized;         // every image's normalized tags, image after image
  std::vector<std::size_t> first_normalized;   // image i's are [first_normalized[i], first_normalized[i + 1])
  ReferenceIndex index;
};

// The containers and sandboxes that the first two phases remove.
struct Removed {
  std::set<std::string> containers;               // by id
  std::map<std::string, std::string> sandboxes;   // id -> label, for the reasons of their containers
};

Decision object_decision(const std::string& id, const std::string& name, Seconds created_at) {
  return Decision{.id = id, .name = name, .first_seen = created_at, .last_used = created_at};
}

// Phase 1: an exited container goes once older than containers.minAge.
Decision container_decision(const Container& c, const Policy& policy, Seconds now) {
  Decision d = object_decision(c.id, c.name, c.created_at);
  const Seconds age = now - c.created_at;
  if (c.state != ContainerState::Exited) {
    d.code = ReasonCode::Running;
    d.reason = fmt::format("{}", to_string(c.state));
  } else if (!policy.remove_exited_containers) {
    d.code = ReasonCode::Disabled;
    d.reason = "exited; containers.removeExited is off";
  } else if (age < policy.container_min_age) {
    d.code = ReasonCode::TooYoung;
    d.reason = fmt::format("exited, created {} ago (< containers.minAge {})", human_age(age), human_age(policy.container_min_age));
  } else {
    d.remove = true;
    d.phase = Phase::ExitedContainer;
    d.code = ReasonCode::Exited;
    d.reason = fmt::format("exited, created {} ago", human_age(age));
  }
  return d;
}

void plan_containers(const Scene& scene, const Policy& policy, Seconds now, Plan& plan, Removed& removed) {
  for (const Container* c : scene.containers) {
    plan.containers.push_back(container_decision(*c, policy, now));
    if (plan.containers.back().remove) removed.containers.insert(c->id);
  }
}

// The containers a sandbox holds that keep it: the first running one and the first in an
// unknown state (it may be running), in container order.
struct Held {
  const Container* running = nullptr;
  const Container* unknown = nullptr;
  // An exited container younger than containers.minAge: it keeps its image (and so itself,
  // and so its sandbox, which would take it along) until it is old enough to go.
  const Container* young_exited = nullptr;
};

std::unordered_map<std::string_view, Held> held_by_sandbox(const std::vector<const Container*>& containers,
                                                           const Policy& policy, Seconds now) {
  std::unordered_map<std::string_view, Held> held;
  for (const Container* c : containers) {
    Held& h = held[c->sandbox_id];
    if (c->state == ContainerState::Running && !h.running) h.running = c;
    if (c->state == ContainerState::Unknown && !h.unknown) h.unknown = c;
    if (c->state == ContainerState::Exited && now - c->created_at < policy.container_min_age && !h.young_exited)
      h.young_exited = c;
  }
  return held;
}

// Phase 2: a NotReady sandbox goes once older than sandboxes.minAge, unless it holds a
// container that is, or may be, running. Its containers go with it.
Decision sandbox_decision(const Sandbox& s, const Held& held, const Policy& policy, Seconds now) {
  Decision d = object_decision(s.id, s.name, s.created_at);
  const Seconds age = now - s.created_at;
  if (s.ready) {
    d.code = ReasonCode::Ready;
    d.reason = "ready";
  } else if (!policy.remove_not_ready_sandboxes) {
    d.code = ReasonCode::Disabled;
    d.reason = "not ready; sandboxes.removeNotReady is off";
  } else if (held.running || held.unknown) {
    const Container& holder = held.running ? *held.running : *held.unknown;
    d.code = ReasonCode::HoldsContainer;
    d.rule = container_label(holder);
    d.reason = held.running ? fmt::format("not ready, but holds running container {}", d.rule)
                            : fmt::format("not ready, but holds container {} in an unknown state (it may be running)", d.rule);
  } else if (held.young_exited) {
    d.code = ReasonCode::HoldsContainer;
    d.rule = container_label(*held.young_exited);
    d.reason = fmt::format("not ready, but holds exited container {} created {} ago (< containers.minAge {})", d.rule,
                           human_age(now - held.young_exited->created_at), human_age(policy.container_min_age));
  } else if (age < policy.sandbox_min_age) {
    d.code = ReasonCode::TooYoung;
    d.reason = fmt::format("not ready, created {} ago (< sandboxes.minAge {})", human_age(age), human_age(policy.sandbox_min_age));
  } else {
    d.remove = true;
    d.phase = Phase::NotReadySandbox;
    d.code = ReasonCode::NotReady;
    d.reason = fmt::format("not ready, created {} ago, no running container", human_age(age));
  }
  return d;
}

void plan_sandboxes(const Scene& scene, const Policy& policy, Seconds now, Plan& plan, Removed& removed) {
  const auto held = held_by_sandbox(scene.containers, policy, now);
  for (const Sandbox* s : scene.sandboxes) {
    const auto it = held.find(s->id);
    plan.sandboxes.push_back(sandbox_decision(*s, it == held.end() ? Held{} : it->second, policy, now));
    if (plan.sandboxes.back().remove) removed.sandboxes[s->id] = sandbox_label(*s);
  }
  // A container that stays by itself still goes with its sandbox: say so.
  for (std::size_t i = 0; i < scene.containers.size(); ++i) {
    Decision& d = plan.containers[i];  // plan.containers follows scene.containers
    const auto sandbox = removed.sandboxes.find(scene.containers[i]->sandbox_id);
    if (!d.remove && sandbox != removed.sandboxes.end()) {
      d.code = ReasonCode::WithSandbox;
      d.rule = sandbox->second;
      d.reason += fmt::format("; goes with its not-ready sandbox {}", sandbox->second);
    }
  }
}

// What protects each image (by index), found by looking each reference up once: the first
// sandbox, container and prepull reference that refers to it, in the order why_kept asks.
// Only the containers and sandboxes that remain after phases 1 and 2 count.
struct Protections {
  std::vector<bool> sandbox_image;                // a configured or reported pause image
  std::vector<const Sandbox*> sandbox_user;
  std::vector<const Container*> container_user;
  std::vector<const std::string*> prepulled_as;
};

template <class T>
void note_first(const std::vector<std::size_t>& hits, const T* who, std::vector<const T*>& slot) {
  for (const std::size_t i : hits)
    if (!slot[i]) slot[i] = who;
}

Protections find_protections(const Scene& scene, const Inventory& inv, const Policy& policy, const Removed& removed) {
  const std::size_t n = scene.images.size();
  Protections p{.sandbox_image = std::vector<bool>(n, false),
                .sandbox_user = std::vector<const Sandbox*>(n, nullptr),
                .container_user = std::vector<const Container*>(n, nullptr),
                .prepulled_as = std::vector<const std::string*>(n, nullptr)};
  std::vector<std::size_t> hits;
  for (const auto& s : inv.sandbox_images) {
    hits.clear();
    scene.index.lookup_into(s, hits);
    for (const std::size_t i : hits) p.sandbox_image[i] = true;
  }
  for (const Sandbox* s : scene.sandboxes) {
    if (removed.sandboxes.contains(s->id)) continue;
    hits.clear();
    scene.index.lookup_into(s->image, hits);
    note_first(hits, s, p.sandbox_user);
  }
  for (const Container* c : scene.containers) {
    if (removed.containers.contains(c->id) || removed.sandboxes.contains(c->sandbox_id)) continue;
    images_used_by(scene.index, *c, hits);
    note_first(hits, c, p.container_user);
  }
  for (const auto& ref : policy.prepull) {
    hits.clear();
    scene.index.lookup_into(ref, hits);
    note_first(hits, &ref, p.prepulled_as);
  }
  return p;
}

// Each image's history (by index); an image never seen before is seen now.
// `images` are in id order, as the history is: one pass over both.
std::vector<ImageHistory> histories_of(const std::vector<const Image*>& images, const History& history, Seconds now) {
  std::vector<ImageHistory> out;
  out.reserve(images.size());
  auto known = history.begin();
  for (const Image* image : images) {
    while (known != history.end() && known->first < image->id) ++known;
    const bool found = known != history.end() && known->first == image->id;
    out.push_back(found ? known->second : ImageHistory{.first_seen = now, .last_used = now});
  }
  return out;
}

// keepNewest: per configured repository, the N most recently used of its images (any tag in
// it), which stay.
struct NewestKept {
  int count = 0;             // N, the largest configured for the repository
  std::set<std::size_t> images;  // by index
};
using KeptNewest = std::map<std::string, NewestKept>;  // by normalized repository

KeptNewest keep_newest(const Scene& scene, const std::vector<ImageHistory>& hists, const Policy& policy) {
  const auto& images = scene.images;
  KeptNewest kept;
  if (policy.keep_newest.empty()) return kept;
  // The images of each configured repository, in image order, each tag normalized once.
  std::map<std::string, std::vector<std::size_t>, std::less<>> by_repository;
  for (const auto& [configured_repo, n] : policy.keep_newest) by_repository[repository_of(configured_repo)];
  for (std::size_t i = 0; i < images.size(); ++i)
    for (std::size_t k = 0; k < images[i]->tags.size(); ++k) {
      // repository_of(tag), from the tag's normalized form made once for the scene.
      const std::string& t = images[i]->tags[k];
      const auto it = by_repository.find(t.starts_with("sha256:") ? std::string_view(t)
                                                                   : split_reference(scene.normalized_tags(i)[k]).name);
      if (it == by_repository.end()) continue;
      auto& of_repo = it->second;
      if (of_repo.empty() || of_repo.back() != i) of_repo.push_back(i);
    }
  for (const auto& [configured_repo, n] : policy.keep_newest) {
    const std::string repo = repository_of(configured_repo);
    std::vector<std::size_t> of_repo = by_repository.at(repo);
    std::sort(of_repo.begin(), of_repo.end(), [&](std::size_t a, std::size_t b) {
      if (hists[a].last_used != hists[b].last_used) return hists[a].last_used > hists[b].last_used;
      if (hists[a].first_seen != hists[b].first_seen) return hists[a].first_seen > hists[b].first_seen;
      return images[a]->id > images[b]->id;  // exactly the reverse of the LRU order of removals
    });
    NewestKept& k = kept[repo];
    k.count = std::max(k.count, n);
    for (std::size_t i = 0; i < of_repo.size() && i < static_cast<std::size_t>(std::max(n, 0)); ++i) k.images.insert(of_repo[i]);
  }
  return kept;
}

// What the image phase knows about protection, for why_kept.
struct Shields {
  const Scene& scene;
  const Protections& protections;
  const KeptNewest& kept_newest;
  const Policy& policy;
  Seconds now;
};

// Why an image stays: the code, the rule that decided (where one did) and the sentence.
struct Kept {
  ReasonCode code = ReasonCode::NotNeeded;
  std::string rule{};
  std::string reason{};  // "" when nothing protects the image: a candidate for removal
};

// The first keep rule that matches one of the image's references (its tags, digests and id,
// in that order), or null. Each reference is normalized once, not once per rule.
const ReferencePattern* keep_rule_of(const Image& image, std::span<const std::string> normalized_tags,
                                     const std::vector<ReferencePattern>& keep) {
  if (keep.empty()) return nullptr;
  struct Ref {
    std::string_view as_written;
    std::string_view normalized;
  };
  std::vector<std::string> made;  // normalized digests and id; reserved, so that views of them stay valid
  made.reserve(image.digests.size() + 1);
  std::vector<Ref> refs;
  refs.reserve(image.tags.size() + image.digests.size() + 1);
  for (std::size_t k = 0; k < image.tags.size(); ++k) refs.push_back({.as_written = image.tags[k], .normalized = normalized_tags[k]});
  for (const auto& d : image.digests) refs.push_back({.as_written = d, .normalized = made.emplace_back(normalize_reference(d))});
  // An id ("sha256:…") is its own normalized form.
  refs.push_back({.as_written = image.id,
                  .normalized = image.id.starts_with("sha256:") ? std::string_view(image.id)
                                                                : std::string_view(made.emplace_back(normalize_reference(image.id)))});
  for (const auto& pattern : keep)
    for (const Ref& r : refs)
      if (pattern.matches(r.as_written, r.normalized)) return &pattern;
  return nullptr;
}

// Phase 3: why an image stays. Runtime and node protections first (pinned, pause image,
// users), then the operator's (keep, prepull, keepNewest), then minAge.
Kept why_kept(const Image& image, std::size_t i, const ImageHistory& h, const Shields& s) {
  const Protections& p = s.protections;
  if (image.pinned) return {.code = ReasonCode::Pinned, .reason = "pinned by the runtime"};
  if (p.sandbox_image[i]) return {.code = ReasonCode::Sandbox, .reason = "the sandbox (pause) image"};
  if (const Sandbox* sandbox = p.sandbox_user[i])
    return {.code = ReasonCode::Sandbox, .rule = sandbox_label(*sandbox),
            .reason = fmt::format("the sandbox image of sandbox {}", sandbox_label(*sandbox))};
  if (const Container* user = p.container_user[i])
    return {.code = ReasonCode::InUse, .rule = container_label(*user),
            .reason = fmt::format("in use by container {} ({})", container_label(*user), to_string(user->state))};
  if (const ReferencePattern* pattern = keep_rule_of(image, s.scene.normalized_tags(i), s.policy.keep))
    return {.code = ReasonCode::Keep, .rule = pattern->text(),
            .reason = fmt::format("protected by keep rule \"{}\"", pattern->text())};
  if (p.prepulled_as[i])
    return {.code = ReasonCode::Prepull, .rule = *p.prepulled_as[i],
            .reason = fmt::format("protected: in prepull ({})", *p.prepulled_as[i])};
  for (const auto& [repo, kept] : s.kept_newest)
    if (kept.images.contains(i))
      return {.code = ReasonCode::KeepNewest, .rule = repo,
              .reason = fmt::format("protected: one of the {} most recently used of {} (keepNewest)", kept.count, repo)};
  if (s.now - h.first_seen < s.policy.min_age)
    return {.code = ReasonCode::TooYoung,
            .reason = fmt::format("first seen {} ago (< minAge {})", human_age(s.now - h.first_seen), human_age(s.policy.min_age))};
  return {};
}

Decision image_decision(const Image& image, const ImageHistory& h) {
  Decision d{.id = image.id,
             .name = image.tags.empty() ? (image.digests.empty() ? image.id : image.digests[0]) : image.tags[0],
             .refs = image.tags,
             .size = image.size,
             .first_seen = h.first_seen,
             .last_used = h.last_used};
  d.refs.insert(d.refs.end(), image.digests.begin(), image.digests.end());
  return d;
}

// An image that nothing protects, with the history it is ranked by.
struct Candidate {
  std::size_t image;  // index into Scene::images (and, until order_images, into plan.images)
  ImageHistory h;
};

// Least recently used first; ties by first seen, then id.
void sort_lru(std::vector<Candidate>& candidates, const std::vector<const Image*>& images) {
  std::sort(candidates.begin(), candidates.end(), [&](const Candidate& a, const Candidate& b) {
    if (a.h.last_used != b.h.last_used) return a.h.last_used < b.h.last_used;
    if (a.h.first_seen != b.h.first_seen) return a.h.first_seen < b.h.first_seen;
    return images[a.image]->id < images[b.image]->id;
  });
}

// Decides for every image whether it stays and why; returns the candidates, LRU first.
std::vector<Candidate> plan_images(const Scene& scene, const Inventory& inv, const History& history, const Policy& policy,
                                   Seconds now, const Removed& removed, Plan& plan) {
  const auto hists = histories_of(scene.images, history, now);
  const Protections protections = find_protections(scene, inv, policy, removed);
  const KeptNewest kept = keep_newest(scene, hists, policy);
  const Shields shields{.scene = scene, .protections = protections, .kept_newest = kept, .policy = policy, .now = now};
  std::vector<Candidate> candidates;
  std::map<ReasonCode, std::size_t> protected_by;
  plan.images.reserve(scene.images.size());
  for (std::size_t i = 0; i < scene.images.size(); ++i) {
    Decision d = image_decision(*scene.images[i], hists[i]);
    Kept why = why_kept(*scene.images[i], i, hists[i], shields);
    if (why.reason.empty()) candidates.push_back({.image = i, .h = hists[i]});
    else ++protected_by[why.code];
    d.code = why.code;
    d.rule = std::move(why.rule);
    d.reason = std::move(why.reason);
    plan.images.push_back(std::move(d));
  }
  sort_lru(candidates, scene.images);
  for (std::size_t rank = 0; rank < candidates.size(); ++rank) plan.images[candidates[rank].image].lru_rank = rank + 1;
  for (const auto& [code, count] : protected_by) plan.protected_by.push_back({.code = code, .count = count});
  std::stable_sort(plan.protected_by.begin(), plan.protected_by.end(),
                   [](const ReasonCount& a, const ReasonCount& b) { return a.count > b.count; });
  return candidates;
}

// The removals chosen so far. Until order_images, plan.images[i] is the decision for
// scene.images[i].
class Selection {
 public:
  Selection(Plan& plan, const std::vector<const Image*>& images) : plan_(plan), images_(images) {}
  bool selected(const Candidate& c) const { return plan_.images[c.image].remove; }
  void select(const Candidate& c, Phase phase, ReasonCode code, std::string reason) {
    Decision& d = plan_.images[c.image];
    d.remove = true;
    d.phase = phase;
    d.code = code;
    d.reason = std::move(reason);
    plan_.estimated_freed += images_[c.image]->size;
    ++count_;
  }
  std::uint64_t size_of(const Candidate& c) const { return images_[c.image]->size; }
  // How many images remain if every selected removal succeeds.
  std::size_t remaining() const { return images_.size() - count_; }

 private:
  Plan& plan_;
  const std::vector<const Image*>& images_;
  std::size_t count_ = 0;
};

// `prefix` and explain_protected(counts), or "" when nothing is protected.
std::string explained(const std::vector<ReasonCount>& counts, const Policy& policy, std::string_view prefix) {
  const std::string text = explain_protected(counts, policy);
  return text.empty() ? "" : std::string(prefix) + text;
}

// Phase 4a: unused for longer than maxUnusedAge (since last used), whatever the disk.
void select_unused_too_long(const std::vector<Candidate>& candidates, const Policy& policy, Seconds now, Selection& sel) {
  if (policy.max_unused_age <= 0) return;
  for (const auto& c : candidates)
    if (now - c.h.last_used > policy.max_unused_age)
      sel.select(c, Phase::MaxUnusedAge, ReasonCode::MaxUnusedAge,
                 fmt::format("unused for {} (> maxUnusedAge {})", human_age(now - c.h.last_used), human_age(policy.max_unused_age)));
}

// Phase 4b: enough to get under maxImages, counted by image id (protected images count
// toward it); a shortfall when the candidates are not enough.
void select_over_max_images(const std::vector<Candidate>& candidates, const Policy& policy, Seconds now, Selection& sel,
                            Plan& plan) {
  if (policy.max_images == 0) return;
  const std::size_t total = plan.images.size();
  for (const auto& c : candidates) {
    if (sel.remaining() <= policy.max_images) break;
    if (sel.selected(c)) continue;
    sel.select(c, Phase::MaxImages, ReasonCode::MaxImages,
               fmt::format("over maxImages {} ({} images); least recently used (last used {} ago)", policy.max_images, total,
                           human_age(now - c.h.last_used)));
  }
  if (sel.remaining() > policy.max_images)
    plan.shortfalls.push_back({.kind = Shortfall::Kind::MaxImages,
                               .message = fmt::format("maxImages {}: {} images would remain{}", policy.max_images,
                                                      sel.remaining(), explained(plan.protected_by, policy, ": ")),
                               .remaining = sel.remaining(),
                               .protected_by = plan.protected_by});
}

std::string inode_reason(const FilesystemUsage& u, const Policy& policy, const std::string& age) {
  return fmt::format("inodes {:.1f}% used >= inodesHigh {}%: least recently used (last used {} ago); images have no inode "
                     "count, so every candidate is planned and removal stops once re-measured inode usage is below inodesHigh",
                     u.inodes_used_percent(), policy.inodes_high, age);
}

// Phase 4c: disk thresholds, measured by statvfs: from high down to low (see
// bytes_to_reach_low); under inode pressure every candidate, since images have no inode
// count. A low shortfall when the candidates' sizes do not add up to what must be freed.
void select_for_pressure(const std::vector<Candidate>& candidates, const FilesystemUsage& u, const Policy& policy,
                         Seconds now, Selection& sel, Plan& plan) {
  plan.over_high = threshold_reached(policy.high, u);
  plan.inode_pressure = inode_pressure(u, policy.inodes_high);
  plan.bytes_to_free = bytes_to_reach_low(policy.high, policy.low, u);
  if (!plan.over_high && !plan.inode_pressure) return;
  std::uint64_t planned = plan.estimated_freed;
  for (const auto& c : candidates) {
    if (sel.selected(c)) continue;
    const bool for_blocks = plan.over_high && planned < plan.bytes_to_free;
    if (!for_blocks && !plan.inode_pressure) break;
    const std::string age = human_age(now - c.h.last_used);
    sel.select(c, Phase::Threshold, for_blocks ? ReasonCode::Lru : ReasonCode::InodePressure,
               for_blocks ? fmt::format("{} >= high {}: {} to free to reach low {}; least recently used (last used {} ago); "
                                        "removal stops once re-measured usage is below low",
                                        describe_usage(u), policy.high.text, human_bytes(plan.bytes_to_free), policy.low.text, age)
                          : inode_reason(u, policy, age));
    planned += sel.size_of(c);
  }
  if (plan.over_high && planned < plan.bytes_to_free)
    plan.shortfalls.push_back({.kind = Shortfall::Kind::Low,
                               .message = fmt::format("low {} needs {}; the removable images hold {}{}", policy.low.text,
                                                      human_bytes(plan.bytes_to_free), human_bytes(planned),
                                                      explained(plan.protected_by, policy, ": ")),
                               .needed_bytes = plan.bytes_to_free,
                               .removable_bytes = planned,
                               .protected_by = plan.protected_by});
}

// The candidates left: reserves under pressure (the executor goes on with them when the
// removals free less than their sizes), otherwise simply not needed.
void mark_reserves(const std::vector<Candidate>& candidates, const FilesystemUsage& u, const Policy& policy, Plan& plan) {
  for (const auto& c : candidates) {
    Decision& d = plan.images[c.image];
    if (d.remove) continue;
    d.reserve = plan.over_high || plan.inode_pressure;
    if (d.reserve) {
      d.code = plan.over_high ? ReasonCode::Lru : ReasonCode::InodePressure;
      d.reason = plan.over_high
                     ? fmt::format("removed only if needed: the planned removals cover the {} to free to reach low {} by "
                                   "their sizes, but shared layers can make them free less; taken, least recently used "
                                   "first, while re-measured usage stays above low",
                                   human_bytes(plan.bytes_to_free), policy.low.text)
                     : "removed only if needed: taken, least recently used first, while re-measured inode usage stays "
                       "at or above inodesHigh";
    } else {
      d.code = ReasonCode::NotNeeded;
      d.reason = fmt::format("removable, not needed: {}, high {} not reached", describe_usage(u), policy.high.text);
    }
  }
}

// Removals first, in the order they will be carried out (LRU), then the reserves (LRU),
// then the rest by id (the order of the scene's images).
void order_images(const std::vector<Candidate>& candidates, Plan& plan) {
  std::vector<std::size_t> lru_rank(plan.images.size(), 0);
  for (std::size_t i = 0; i < candidates.size(); ++i) lru_rank[candidates[i].image] = i;
  auto group = [&](std::size_t i) { return plan.images[i].remove ? 0 : plan.images[i].reserve ? 1 : 2; };
  std::vector<std::size_t> sequence(plan.images.size());
  for (std::size_t i = 0; i < sequence.size(); ++i) sequence[i] = i;
  std::sort(sequence.begin(), sequence.end(), [&](std::size_t a, std::size_t b) {
    if (group(a) != group(b)) return group(a) < group(b);
    if (group(a) < 2) return lru_rank[a] < lru_rank[b];
    return a < b;
  });
  std::vector<Decision> sorted;
  sorted.reserve(plan.images.size());
  for (const std::size_t i : sequence) sorted.push_back(std::move(plan.images[i]));
  plan.images = std::move(sorted);
}

}  // namespace

Plan plan_collection(const Inventory& inv, const History& history, const Policy& policy, Seconds now) {
  Plan plan;
  const Scene scene(inv);
  Removed removed;
  plan_containers(scene, policy, now, plan, removed);
  plan_sandboxes(scene, policy, now, plan, removed);
  const std::vector<Candidate> candidates = plan_images(scene, inv, history, policy, now, removed, plan);
  Selection selection(plan, scene.images);
  select_unused_too_long(candidates, policy, now, selection);
  select_over_max_images(candidates, policy, now, selection, plan);
  select_for_pressure(candidates, inv.usage, policy, now, selection, plan);
  mark_reserves(candidates, inv.usage, policy, plan);
  plan.images_after = selection.remaining();
  order_images(candidates, plan);
  return plan;
}

std::vector<std::vector<const Container*>> containers_using(const std::vector<Image>& images,
                                                            const std::vector<Container>& containers) {
  std::vector<std::vector<const Container*>> out(images.size());
  const ReferenceIndex index(images);
  std::vector<std::size_t> hits;
  for (const auto& c : containers) {
    hits.clear();
    index.lookup_into(c.image_id, hits);
    index.lookup_into(c.image, hits);
    std::sort(hits.begin(), hits.end());
    hits.erase(std::unique(hits.begin(), hits.end()), hits.end());
    for (auto i : hits) out[i].push_back(&c);
  }
  return out;
}

namespace {

// What a protection code says of the images it keeps, singular and plural.
struct Predicate {
  std::string one;
  std::string many;
};

// human_age without a zero remainder: "1h" rather than "1h0m", as an operator writes it.
std::string span_text(Seconds s) {
  std::string text = human_age(s);
  if (text.ends_with("h0m")) text.resize(text.size() - 2);
  else if (text.ends_with("d0h")) text.resize(text.size() - 2);
  return text;
}

Predicate predicate(ReasonCode code, const Policy& policy) {
  switch (code) {
    case ReasonCode::TooYoung: {
      const std::string p = fmt::format("younger than gc.minAge ({})", span_text(policy.min_age));
      return {.one = p, .many = p};
    }
    case ReasonCode::InUse: return {.one = "in use", .many = "in use"};
    case ReasonCode::Pinned: return {.one = "pinned by the runtime", .many = "pinned by the runtime"};
    case ReasonCode::Sandbox: return {.one = "a sandbox (pause) image", .many = "sandbox (pause) images"};
    case ReasonCode::Keep: return {.one = "protected by gc.keep", .many = "protected by gc.keep"};
    case ReasonCode::Prepull: return {.one = "in prepull", .many = "in prepull"};
    case ReasonCode::KeepNewest: return {.one = "kept by gc.keepNewest", .many = "kept by gc.keepNewest"};
    default: return {.one = std::string(to_string(code)), .many = std::string(to_string(code))};
  }
}

}  // namespace

std::string explain_protected(const std::vector<ReasonCount>& counts, const Policy& policy) {
  std::string out;
  for (const auto& c : counts) {
    if (c.count == 0) continue;
    const Predicate p = predicate(c.code, policy);
    const bool one = c.count == 1;
    if (out.empty()) out = fmt::format("{} {} {} {}", c.count, one ? "image" : "images", one ? "is" : "are", one ? p.one : p.many);
    else out += fmt::format(", {} {} {}", c.count, one ? "is" : "are", one ? p.one : p.many);
  }
  return out;
}

std::string describe_container(const Container& c) {
  return fmt::format("{} ({})", c.name.empty() ? c.id.substr(0, 12) : c.name, to_string(c.state));
}

}  // namespace nodeimg::gc
