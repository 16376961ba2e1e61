#pragma once
// What the garbage collector sees of a node and what it may do: the inventory (from a
// runtime), the persisted history, the policy, and the plan. Plain data, no I/O, no clock:
// time arrives as unix seconds.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/common/filesystem_usage.hpp"
#include "core/gc/image_ref.hpp"

namespace nodeimg::gc {

using Seconds = std::int64_t;  // unix time, or a span

struct Image {
  std::string id{};                    // "sha256:…"
  std::vector<std::string> tags{};     // "registry/repo:tag"
  std::vector<std::string> digests{};  // "registry/repo@sha256:…"
  std::uint64_t size = 0;            // as the runtime reports it (containerd: compressed)
  bool pinned = false;
};

enum class ContainerState { Created, Running, Exited, Unknown };
std::string_view to_string(ContainerState s);

struct Container {
  std::string id{};
  std::string name{};
  std::string sandbox_id{};  // empty for Docker
  std::string image{};       // the image as the runtime names it: id, tag or digest
  std::string image_id{};    // resolved id when the runtime gives it
  ContainerState state = ContainerState::Unknown;
  Seconds created_at = 0;
};

struct Sandbox {
  std::string id{};
  std::string name{};
  bool ready = false;
  Seconds created_at = 0;
  std::string image{};  // the sandbox (pause) image, where the runtime tells (CRI does not: see
                      // Inventory::sandbox_images); any remaining sandbox protects it
};

using FilesystemUsage = nodeimg::FilesystemUsage;  // of the image filesystem

struct Inventory {
  std::vector<Image> images{};
  std::vector<Container> containers{};
  std::vector<Sandbox> sandboxes{};
  std::vector<std::string> sandbox_images{};  // the runtime's configured pause image(s)
  FilesystemUsage usage{};
};

struct ImageHistory {
  Seconds first_seen = 0;
  Seconds last_used = 0;
};
using History = std::map<std::string, ImageHistory>;  // by image id

struct Threshold {
  enum class Kind { UsedPercent, FreeBytes } kind = Kind::UsedPercent;
  double percent = 0;       // UsedPercent: reached when used% >= percent
  std::uint64_t bytes = 0;  // FreeBytes: reached when available <= bytes
  std::string text{};         // as configured, for messages
};

struct Policy {
  Threshold high{.kind = Threshold::Kind::UsedPercent, .percent = 75, .text = "75%"};
  Threshold low{.kind = Threshold::Kind::UsedPercent, .percent = 65, .text = "65%"};
  double inodes_high = 90;
  Seconds min_age = 3600;
  Seconds max_unused_age = 0;  // 0 = off
  std::size_t max_images = 0;  // 0 = off
  std::vector<ReferencePattern> keep{};
  // gc.keepFromFile: files or directories of more keep patterns (one per line) that a
  // prepuller, configuration management or a ConfigMap sync maintains; the command reads
  // them at each run and appends their patterns to `keep`.
  std::vector<std::string> keep_from{};
  std::map<std::string, int> keep_newest;  // normalized repository -> N
  bool remove_exited_containers = true;
  Seconds container_min_age = 3600;
  bool remove_not_ready_sandboxes = true;
  Seconds sandbox_min_age = 600;
  int concurrency = 4;
  std::vector<std::string> prepull{};  // references; protected from GC
};

enum class Phase { ExitedContainer, NotReadySandbox, MaxUnusedAge, MaxImages, Threshold };
std::string_view to_string(Phase p);

// Why a decision was taken, for machines: one fixed code per rule (docs/json.md lists them,
// docs/schema/*.json enumerate them). The English sentence beside it is for people.
enum class ReasonCode {
  // images, removed or removable
  Lru,            // least recently used while the disk is at or over high
  InodePressure,  // least recently used while inodes are at or over inodesHigh
  MaxUnusedAge,
  MaxImages,
  NotNeeded,      // removable, but no rule asks for its removal now
  // images, protected
  Pinned,
  Sandbox,        // the sandbox (pause) image, configured or used by a sandbox
  InUse,          // used by a container
  Keep,           // a gc.keep pattern (the rule)
  Prepull,        // a prepull: reference (the rule)
  KeepNewest,     // one of the N most recently used of a gc.keepNewest repository (the rule)
  TooYoung,       // first seen (image) or created (container, sandbox) less than minAge ago
  // containers and sandboxes
  Exited,         // an exited container, removed
  NotReady,       // a NotReady sandbox, removed
  Running,        // a running container (or one in another live state: created, unknown)
  Ready,          // a ready sandbox
  Disabled,       // containers.removeExited / sandboxes.removeNotReady is off
  HoldsContainer, // a NotReady sandbox that holds a container that is or may be running, or an exited one younger
                  // than containers.minAge
  WithSandbox,    // a container kept by its own rules that goes with its removed sandbox
};
std::string_view to_string(ReasonCode c);

// What the next gc does with an image: planned, one of the reserves the run takes only
// while a measurement still shows pressure, removable but not needed, or protected by a rule.
enum class NextGc { Remove, RemoveIfNeeded, NotNeeded, Protected };
std::string_view to_string(NextGc n);

struct Decision {
  std::string id{};
  std::string name{};                // first tag, container or sandbox name, for people
  std::vector<std::string> refs{};   // an image's tags and digests
  std::uint64_t size = 0;
  bool remove = false;
  std::optional<Phase> phase{};      // set when remove
  std::string reason{};               // for people: the whole sentence
  ReasonCode code = ReasonCode::NotNeeded;
  std::string rule{};                // the rule that decided, where one did: a keep pattern, a
                                     // prepull reference, a keepNewest repository, a container
  std::size_t lru_rank = 0;          // images nothing protects: 1-based place in LRU order; else 0
  Seconds first_seen = 0;
  Seconds last_used = 0;
  // A removable image the plan did not select while the disk is under pressure. Image
  // sizes overstate what a removal frees (shared layers), so when re-measuring shows the
  // selected removals were not enough, the executor goes on with these, in plan order.
  bool reserve = false;
};

// What the next gc does with the image this decision is about.
NextGc next_gc(const Decision& d);

// How many images one protection code keeps.
struct ReasonCount {
  ReasonCode code = ReasonCode::InUse;
  std::size_t count = 0;
  bool operator==(const ReasonCount&) const = default;
};

// Why `low` or `maxImages` cannot be reached. Not a failure: the run did what it could.
struct Shortfall {
  enum class Kind {
    MaxImages,  // more images would remain than maxImages: the others are protected or in use
    Low,        // the removable images cannot bring usage down to low
  };
  Kind kind = Kind::Low;
  std::string message{};  // for people: the figures and why, with the counts below
  std::uint64_t needed_bytes = 0;     // Low: what must be freed to reach low (from the plan's measurement)
  std::uint64_t removable_bytes = 0;  // Low: what the removable images hold (their sizes)
  std::size_t remaining = 0;          // MaxImages: images that would remain
  std::vector<ReasonCount> protected_by{};  // the images that stay, counted per protection code
  bool operator==(const Shortfall&) const = default;
};
std::string_view to_string(Shortfall::Kind k);

struct Plan {
  std::vector<Decision> containers{};
  std::vector<Decision> sandboxes{};
  std::vector<Decision> images{};  // every image: removals, then reserves, both in LRU order; then the rest
  bool over_high = false;        // blocks
  bool inode_pressure = false;
  std::uint64_t bytes_to_free = 0;       // to reach low, from statvfs
  std::uint64_t estimated_freed = 0;     // sum of planned image sizes
  std::size_t images_after = 0;          // image count if every planned removal succeeds
  std::vector<Shortfall> shortfalls{};
  std::vector<ReasonCount> protected_by{};  // images protected, per code (most first): what shortfalls explain
  std::size_t removals() const;
  std::size_t reserves() const;
  std::uint64_t reserve_bytes() const;
};

}  // namespace nodeimg::gc
