#include "core/gc/planner.hpp"

#include <algorithm>
#include <cmath>
#include <set>
#include <tuple>
#include <unordered_set>

#include <fmt/format.h>

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

double FilesystemUsage::used_percent() const {
  if (capacity_bytes == 0) return 0;
  return 100.0 * static_cast<double>(capacity_bytes - std::min(available_bytes, capacity_bytes)) /
         static_cast<double>(capacity_bytes);
}

double FilesystemUsage::inodes_used_percent() const {
  if (inodes == 0) return 0;
  return 100.0 * static_cast<double>(inodes - std::min(inodes_free, inodes)) / static_cast<double>(inodes);
}

std::size_t Plan::removals() const {
  std::size_t n = 0;
  for (const auto* list : {&containers, &sandboxes, &images})
    for (const auto& d : *list) n += d.remove ? 1 : 0;
  return n;
}

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
  const auto at = normalized.find('@');
  if (at == std::string::npos) return normalized;
  std::string r = normalized.substr(0, at);
  const auto last_slash = r.rfind('/');
  if (r.find(':', last_slash == std::string::npos ? 0 : last_slash + 1) == std::string::npos) return "";
  return r;
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
  ids_.reserve(images.size());
  digests_.reserve(digests);
  tags_.reserve(tags);
  normalized_tags_.reserve(tags);
  entries_.reserve(images.size() + digests + 2 * tags);
  for (std::size_t i = 0; i < images.size(); ++i) add(images[i], i);
}

void ReferenceIndex::put(Keys& keys, std::string_view key, std::size_t index) {
  auto [it, fresh] = keys.try_emplace(key, kEnd);
  if (!fresh && entries_[it->second].image == index) return;  // the same image under the same key again
  entries_.push_back({index, it->second});
  it->second = entries_.size() - 1;
}

void ReferenceIndex::collect(const Keys& keys, std::string_view key, std::vector<std::size_t>& out) const {
  const auto it = keys.find(key);
  if (it == keys.end()) return;
  for (std::size_t e = it->second; e != kEnd; e = entries_[e].next) out.push_back(entries_[e].image);
}

void ReferenceIndex::add(const Image& image, std::size_t index) {
  // A derived key is stored as a view of the string it was derived from when it is its tail
  // (a digest reference's digest), and owned otherwise.
  auto view_of = [this](const std::string& from, std::string derived) -> std::string_view {
    if (std::string_view(from).ends_with(derived)) return std::string_view(from).substr(from.size() - derived.size());
    return owned_.emplace_back(std::move(derived));
  };
  put(ids_, image.id, index);
  for (const auto& d : image.digests)
    if (std::string digest = digest_of(d); !digest.empty()) put(digests_, view_of(d, std::move(digest)), index);  // "" is never asked for
  for (const auto& t : image.tags) {
    put(tags_, t, index);
    put(normalized_tags_, view_of(t, normalize_reference(t)), index);
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

// The inventory in a canonical order, so that any input order gives the same plan: images
// merged by id (a runtime listing an id twice counts it once) with sorted references,
// containers and sandboxes by id.
std::vector<Image> canonical_images(const std::vector<Image>& images) {
  std::map<std::string, Image> by_id;
  for (const auto& image : images) {
    auto [it, fresh] = by_id.try_emplace(image.id, image);
    if (fresh) continue;
    Image& m = it->second;
    m.tags.insert(m.tags.end(), image.tags.begin(), image.tags.end());
    m.digests.insert(m.digests.end(), image.digests.begin(), image.digests.end());
    m.pinned = m.pinned || image.pinned;
    m.size = std::max(m.size, image.size);
  }
  std::vector<Image> out;
  out.reserve(by_id.size());
  for (auto& [id, image] : by_id) {
    for (auto* refs : {&image.tags, &image.digests}) {
      std::sort(refs->begin(), refs->end());
      refs->erase(std::unique(refs->begin(), refs->end()), refs->end());
    }
    out.push_back(std::move(image));
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

// Bytes available at which a threshold stops being reached, on a filesystem of `capacity`.
//   UsedPercent p: reached when used >= capacity * p / 100, so it stops at
//                  available >= capacity - ceil(capacity * p / 100) + 1.
//   FreeBytes b:   reached when available <= b, so it stops at available >= b + 1.
std::uint64_t available_leaving(const Threshold& t, std::uint64_t capacity) {
  if (t.kind == Threshold::Kind::FreeBytes) return t.bytes == UINT64_MAX ? t.bytes : t.bytes + 1;
  const auto used_at = static_cast<std::uint64_t>(std::ceil(static_cast<double>(capacity) * t.percent / 100.0));
  return used_at >= capacity ? 1 : capacity - used_at + 1;
}

// Bytes available once a low threshold is met: UsedPercent p means used <= capacity * p / 100;
// FreeBytes b means available >= b.
std::uint64_t available_at_low(const Threshold& t, std::uint64_t capacity) {
  if (t.kind == Threshold::Kind::FreeBytes) return t.bytes;
  const auto used_at = static_cast<std::uint64_t>(std::floor(static_cast<double>(capacity) * t.percent / 100.0));
  return used_at >= capacity ? 0 : capacity - used_at;
}

bool threshold_reached(const Threshold& t, const FilesystemUsage& u) {
  if (u.capacity_bytes == 0) return false;  // unknown or empty filesystem: never reached
  if (t.kind == Threshold::Kind::UsedPercent) return u.used_percent() >= t.percent;
  return std::min(u.available_bytes, u.capacity_bytes) <= t.bytes;
}

std::string describe_usage(const FilesystemUsage& u) {
  if (u.capacity_bytes == 0) return "disk usage unknown (capacity 0)";
  return fmt::format("disk {:.1f}% used, {} free of {}", u.used_percent(),
                     human_bytes(std::min(u.available_bytes, u.capacity_bytes)), human_bytes(u.capacity_bytes));
}

}  // namespace

Plan plan_collection(const Inventory& inv, const History& history, const Policy& policy, Seconds now) {
  Plan plan;
  const std::vector<Image> images = canonical_images(inv.images);
  const auto containers = sorted_by_id(inv.containers);
  const auto sandboxes = sorted_by_id(inv.sandboxes);
  const ReferenceIndex index(images);  // images[i] as i
  std::vector<std::size_t> hits;       // scratch for lookups

  // 1. Exited containers older than their minimum age.
  std::set<std::string> removed_containers;
  for (const Container* c : containers) {
    Decision d{c->id, c->name, {}, 0, false, std::nullopt, "", c->created_at, c->created_at};
    const Seconds age = now - c->created_at;
    if (c->state != ContainerState::Exited) {
      d.reason = fmt::format("{}", to_string(c->state));
    } else if (!policy.remove_exited_containers) {
      d.reason = "exited; containers.removeExited is off";
    } else if (age < policy.container_min_age) {
      d.reason = fmt::format("exited, created {} ago (< containers.minAge {})", human_age(age), human_age(policy.container_min_age));
    } else {
      d.remove = true;
      d.phase = Phase::ExitedContainer;
      d.reason = fmt::format("exited, created {} ago", human_age(age));
      removed_containers.insert(c->id);
    }
    plan.containers.push_back(std::move(d));
  }

  // 2. NotReady sandboxes older than their minimum age that hold no running container.
  //    Removing a sandbox removes its containers with it. A container in an unknown state
  //    may be running: its sandbox stays.
  std::set<std::string> removed_sandboxes;
  std::map<std::string, std::string> sandbox_names;
  struct Held {
    const Container* running = nullptr;  // the first, in container order
    const Container* unknown = nullptr;
  };
  std::unordered_map<std::string_view, Held> held;  // by sandbox id
  for (const Container* c : containers) {
    Held& h = held[c->sandbox_id];
    if (c->state == ContainerState::Running && !h.running) h.running = c;
    if (c->state == ContainerState::Unknown && !h.unknown) h.unknown = c;
  }
  for (const Sandbox* s : sandboxes) {
    Decision d{s->id, s->name, {}, 0, false, std::nullopt, "", s->created_at, s->created_at};
    const Seconds age = now - s->created_at;
    const auto holds = held.find(s->id);
    const Container* running = holds == held.end() ? nullptr : holds->second.running;
    const Container* unknown = holds == held.end() ? nullptr : holds->second.unknown;
    if (s->ready) {
      d.reason = "ready";
    } else if (!policy.remove_not_ready_sandboxes) {
      d.reason = "not ready; sandboxes.removeNotReady is off";
    } else if (running) {
      d.reason = fmt::format("not ready, but holds running container {}", container_label(*running));
    } else if (unknown) {
      d.reason = fmt::format("not ready, but holds container {} in an unknown state (it may be running)", container_label(*unknown));
    } else if (age < policy.sandbox_min_age) {
      d.reason = fmt::format("not ready, created {} ago (< sandboxes.minAge {})", human_age(age), human_age(policy.sandbox_min_age));
    } else {
      d.remove = true;
      d.phase = Phase::NotReadySandbox;
      d.reason = fmt::format("not ready, created {} ago, no running container", human_age(age));
      removed_sandboxes.insert(s->id);
      sandbox_names[s->id] = sandbox_label(*s);
    }
    plan.sandboxes.push_back(std::move(d));
  }
  for (std::size_t i = 0; i < containers.size(); ++i) {
    Decision& d = plan.containers[i];  // plan.containers follows `containers`
    if (!d.remove && removed_sandboxes.contains(containers[i]->sandbox_id))
      d.reason += fmt::format("; goes with its not-ready sandbox {}", sandbox_names[containers[i]->sandbox_id]);
  }

  // Containers and sandboxes that remain after steps 1 and 2: their images are in use.
  std::vector<const Container*> remaining;
  for (const Container* c : containers)
    if (!removed_containers.contains(c->id) && !removed_sandboxes.contains(c->sandbox_id)) remaining.push_back(c);
  std::vector<const Sandbox*> remaining_sandboxes;
  for (const Sandbox* s : sandboxes)
    if (!removed_sandboxes.contains(s->id)) remaining_sandboxes.push_back(s);

  // 3. Why each image stays, or that it is a candidate.
  std::vector<ImageHistory> hists;  // by image index
  hists.reserve(images.size());
  for (const auto& image : images) {
    const auto it = history.find(image.id);
    hists.push_back(it != history.end() ? it->second : ImageHistory{now, now});  // never seen before: seen now
  }
  auto hist = [&](const Image& image) -> const ImageHistory& { return hists[static_cast<std::size_t>(&image - images.data())]; };

  // What protects each image, found by looking each reference up once: the first (in the
  // order the checks below would find it) sandbox image, remaining sandbox, remaining
  // container and prepull reference that refers to it.
  std::vector<bool> is_sandbox_image(images.size(), false);
  for (const auto& s : inv.sandbox_images) {
    hits.clear();
    index.lookup_into(s, hits);
    for (const std::size_t i : hits) is_sandbox_image[i] = true;
  }
  std::vector<const Sandbox*> sandbox_using(images.size(), nullptr);
  for (const Sandbox* s : remaining_sandboxes) {
    hits.clear();
    index.lookup_into(s->image, hits);
    for (const std::size_t i : hits)
      if (!sandbox_using[i]) sandbox_using[i] = s;
  }
  std::vector<const Container*> container_using(images.size(), nullptr);
  for (const Container* c : remaining) {
    images_used_by(index, *c, hits);
    for (const std::size_t i : hits)
      if (!container_using[i]) container_using[i] = c;
  }
  std::vector<const std::string*> prepulled_as(images.size(), nullptr);
  for (const auto& p : policy.prepull) {
    hits.clear();
    index.lookup_into(p, hits);
    for (const std::size_t i : hits)
      if (!prepulled_as[i]) prepulled_as[i] = &p;
  }

  // keepNewest: the images of each repository (any tag in it), in image order, each tag
  // normalized once.
  std::unordered_map<std::string, std::vector<const Image*>> by_repository;
  if (!policy.keep_newest.empty())
    for (const auto& image : images)
      for (const auto& t : image.tags) {
        auto& of_repo = by_repository[repository_of(t)];
        if (of_repo.empty() || of_repo.back() != &image) of_repo.push_back(&image);
      }
  std::map<std::string, std::pair<int, std::set<std::string>>> newest_kept;  // repo -> (N, ids kept)
  for (const auto& [configured_repo, n] : policy.keep_newest) {
    const std::string repo = repository_of(configured_repo);
    std::vector<const Image*> of_repo;
    if (auto it = by_repository.find(repo); it != by_repository.end()) of_repo = it->second;
    std::sort(of_repo.begin(), of_repo.end(), [&](const Image* a, const Image* b) {
      const auto& ha = hist(*a);
      const auto& hb = hist(*b);
      if (ha.last_used != hb.last_used) return ha.last_used > hb.last_used;
      if (ha.first_seen != hb.first_seen) return ha.first_seen > hb.first_seen;
      return a->id > b->id;  // exactly the reverse of the LRU order of removals
    });
    auto& kept = newest_kept[repo];
    kept.first = std::max(kept.first, n);
    for (std::size_t i = 0; i < of_repo.size() && i < static_cast<std::size_t>(std::max(n, 0)); ++i) kept.second.insert(of_repo[i]->id);
  }

  struct Candidate {
    const Image* image;
    ImageHistory h;
  };
  std::vector<Candidate> candidates;
  for (std::size_t i = 0; i < images.size(); ++i) {
    const Image& image = images[i];
    const auto h = hists[i];
    Decision d{image.id, image.tags.empty() ? (image.digests.empty() ? image.id : image.digests[0]) : image.tags[0], {}, image.size,
               false, std::nullopt, "", h.first_seen, h.last_used};
    d.refs = image.tags;
    d.refs.insert(d.refs.end(), image.digests.begin(), image.digests.end());
    std::string why;
    if (image.pinned) {
      why = "pinned by the runtime";
    } else if (is_sandbox_image[i]) {
      why = "the sandbox (pause) image";
    } else if (const Sandbox* s = sandbox_using[i]) {
      why = fmt::format("the sandbox image of sandbox {}", sandbox_label(*s));
    } else if (const Container* user = container_using[i]) {
      why = fmt::format("in use by container {} ({})", container_label(*user), to_string(user->state));
    } else {
      std::vector<std::string> refs = d.refs;
      refs.push_back(image.id);
      for (const auto& p : policy.keep)
        for (const auto& r : refs)
          if (why.empty() && p.matches(r)) why = fmt::format("protected by keep rule \"{}\"", p.text());
      if (why.empty() && prepulled_as[i]) why = fmt::format("protected: in prepull ({})", *prepulled_as[i]);
      for (const auto& [repo, kept] : newest_kept)
        if (why.empty() && kept.second.contains(image.id))
          why = fmt::format("protected: one of the {} most recently used of {} (keepNewest)", kept.first, repo);
      if (why.empty() && now - h.first_seen < policy.min_age)
        why = fmt::format("first seen {} ago (< minAge {})", human_age(now - h.first_seen), human_age(policy.min_age));
    }
    d.reason = why;
    plan.images.push_back(std::move(d));
    if (why.empty()) candidates.push_back({&image, h});
  }
  // Least recently used first; ties by first seen, then id.
  std::sort(candidates.begin(), candidates.end(), [](const Candidate& a, const Candidate& b) {
    if (a.h.last_used != b.h.last_used) return a.h.last_used < b.h.last_used;
    if (a.h.first_seen != b.h.first_seen) return a.h.first_seen < b.h.first_seen;
    return a.image->id < b.image->id;
  });

  // Until the final ordering, plan.images[i] is the decision for images[i].
  auto index_of = [&](const Image* image) { return static_cast<std::size_t>(image - images.data()); };
  auto decision_of = [&](const Candidate& c) -> Decision& { return plan.images[index_of(c.image)]; };
  std::size_t selected = 0;
  auto select = [&](const Candidate& c, Phase phase, std::string reason) {
    Decision& d = decision_of(c);
    d.remove = true;
    d.phase = phase;
    d.reason = std::move(reason);
    plan.estimated_freed += c.image->size;
    ++selected;
  };

  // 4a. Unused for longer than maxUnusedAge (since last used), whatever the disk.
  if (policy.max_unused_age > 0)
    for (const auto& c : candidates)
      if (now - c.h.last_used > policy.max_unused_age)
        select(c, Phase::MaxUnusedAge,
               fmt::format("unused for {} (> maxUnusedAge {})", human_age(now - c.h.last_used), human_age(policy.max_unused_age)));

  // 4b. Enough to get under maxImages, counted by image id (protected images count toward it).
  const std::size_t total = images.size();
  if (policy.max_images > 0) {
    for (const auto& c : candidates) {
      if (total - selected <= policy.max_images) break;
      if (decision_of(c).remove) continue;
      select(c, Phase::MaxImages,
             fmt::format("over maxImages {} ({} images); least recently used (last used {} ago)", policy.max_images, total,
                         human_age(now - c.h.last_used)));
    }
    if (total - selected > policy.max_images)
      plan.shortfalls.push_back(fmt::format("maxImages {}: {} images would remain; the others are protected or in use",
                                            policy.max_images, total - selected));
  }

  // 4c. Disk thresholds, measured by statvfs: from high down to low. A low that would not even
  //     take the disk out of high (possible with mixed kinds, "80%" and "20GiB free") is
  //     raised to just below high. Capacity 0 (unknown or empty filesystem): never reached.
  const auto& u = inv.usage;
  const std::uint64_t capacity = u.capacity_bytes;
  const std::uint64_t available = std::min(u.available_bytes, capacity);
  plan.over_high = threshold_reached(policy.high, u);
  plan.inode_pressure = u.inodes > 0 && u.inodes_used_percent() >= policy.inodes_high;
  if (plan.over_high) {
    const std::uint64_t target =
        std::min(capacity, std::max(available_at_low(policy.low, capacity), available_leaving(policy.high, capacity)));
    plan.bytes_to_free = target > available ? target - available : 0;
  }
  std::uint64_t planned = plan.estimated_freed;
  if (plan.over_high || plan.inode_pressure) {
    auto inode_reason = [&](const std::string& age) {
      return fmt::format("inodes {:.1f}% used >= inodesHigh {}%: least recently used (last used {} ago); images have no inode "
                         "count, so every candidate is planned and removal stops once re-measured inode usage is below inodesHigh",
                         u.inodes_used_percent(), policy.inodes_high, age);
    };
    for (const auto& c : candidates) {
      if (decision_of(c).remove) continue;
      const bool for_blocks = plan.over_high && planned < plan.bytes_to_free;
      if (!for_blocks && !plan.inode_pressure) break;
      const std::string age = human_age(now - c.h.last_used);
      select(c, Phase::Threshold,
             for_blocks ? fmt::format("{} >= high {}: {} to free to reach low {}; least recently used (last used {} ago); removal "
                                      "stops once re-measured usage is below low",
                                      describe_usage(u), policy.high.text, human_bytes(plan.bytes_to_free), policy.low.text, age)
                        : inode_reason(age));
      planned += c.image->size;
    }
    if (plan.over_high && planned < plan.bytes_to_free)
      plan.shortfalls.push_back(fmt::format("low {}: {} must be freed but the removable images hold only {}", policy.low.text,
                                            human_bytes(plan.bytes_to_free), human_bytes(planned)));
  }

  for (const auto& c : candidates) {
    Decision& d = decision_of(c);
    if (d.remove) continue;
    d.reserve = plan.over_high || plan.inode_pressure;
    if (plan.over_high)
      d.reason = fmt::format("removable, not needed: the planned removals cover the {} to free to reach low {}",
                             human_bytes(plan.bytes_to_free), policy.low.text);
    else
      d.reason = fmt::format("removable, not needed: {}, high {} not reached", describe_usage(u), policy.high.text);
  }
  plan.images_after = total - selected;
  // Removals first, in the order they will be carried out (LRU), then the reserves (LRU),
  // then the rest by id (the order of `images`).
  std::vector<std::size_t> order(images.size(), 0);  // LRU rank of a candidate
  for (std::size_t i = 0; i < candidates.size(); ++i) order[index_of(candidates[i].image)] = i;
  auto rank = [&](std::size_t i) { return plan.images[i].remove ? 0 : plan.images[i].reserve ? 1 : 2; };
  std::vector<std::size_t> sequence(images.size());
  for (std::size_t i = 0; i < sequence.size(); ++i) sequence[i] = i;
  std::sort(sequence.begin(), sequence.end(), [&](std::size_t a, std::size_t b) {
    if (rank(a) != rank(b)) return rank(a) < rank(b);
    if (rank(a) < 2) return order[a] < order[b];
    return a < b;
  });
  std::vector<Decision> sorted;
  sorted.reserve(plan.images.size());
  for (const std::size_t i : sequence) sorted.push_back(std::move(plan.images[i]));
  plan.images = std::move(sorted);
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

std::string describe_container(const Container& c) {
  return fmt::format("{} ({})", c.name.empty() ? c.id.substr(0, 12) : c.name, to_string(c.state));
}

}  // namespace nodeimg::gc
