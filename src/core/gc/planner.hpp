#pragma once
// The collector's decisions, pure: which exited containers, NotReady sandboxes and
// least-recently-used images to remove, and why each one stays. Never plans the removal of
// a pinned image, the sandbox image, an image any container or sandbox uses (in any state),
// or an image protected by keep, keepNewest or prepull.
#include <cstddef>
#include <cstdint>
#include <deque>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/gc/model.hpp"

namespace nodeimg::gc {

// Folds what the runtime shows now into the persisted history: first seen, and last used
// = now for images used by a created or running container, and at least the newest
// created_at of any container that refers to the image. Images gone are forgotten.
History update_history(const History& history, const Inventory& inventory, Seconds now);

Plan plan_collection(const Inventory& inventory, const History& history, const Policy& policy, Seconds now);

// Whether `ref` (a container's image field) names `image`: by id, tag or digest.
bool refers_to(const Image& image, std::string_view ref);

// Every key an image can be referred to by (its id, its digests' digests, its tags as
// written and normalized) to the images, so that a reference is matched against many images
// without a scan: lookup(ref) is exactly the set of images for which refers_to(image, ref)
// is true, as the indices passed to add(), ascending and unique. refers_to stays the
// specification; this is its inverse. Keys are views of the images' own strings where
// possible: the images must outlive the index, unchanged.
class ReferenceIndex {
 public:
  ReferenceIndex() = default;
  // Indexes images[i] as i.
  explicit ReferenceIndex(const std::vector<Image>& images);
  ReferenceIndex(const ReferenceIndex&) = delete;
  ReferenceIndex& operator=(const ReferenceIndex&) = delete;
  ReferenceIndex(ReferenceIndex&&) = default;
  ReferenceIndex& operator=(ReferenceIndex&&) = default;

  // Room for this many images, tags and digests without growing.
  void reserve(std::size_t images, std::size_t tags, std::size_t digests);
  void add(const Image& image, std::size_t index);
  // The same, with normalized_tags[k] == normalize_reference(image.tags[k]) already made by
  // the caller, who keeps those strings alive and unchanged as long as the index.
  void add(const Image& image, std::size_t index, std::span<const std::string> normalized_tags);
  std::vector<std::size_t> lookup(std::string_view ref) const;
  // Appends lookup(ref) to `out`, in no particular order and possibly with repeats.
  void lookup_into(std::string_view ref, std::vector<std::size_t>& out) const;

 private:
  static constexpr std::size_t kEnd = static_cast<std::size_t>(-1);
  struct Entry {
    std::size_t image;
    std::size_t next;  // the key's next entry in entries_, or kEnd
  };
  // Key -> its first entry: open addressing with linear probing, at most half full, no
  // erase. One flat array rather than a node per key: a plan of 100k images indexes about
  // 450k keys, and node allocation and pointer chasing were most of the index's cost.
  class Keys {
   public:
    void reserve(std::size_t keys);
    // The head of `key`'s entry list, kEnd when absent.
    std::size_t find(std::string_view key) const;
    // The slot of `key`'s head, inserted with kEnd when absent.
    std::size_t& slot(std::string_view key);

   private:
    struct Slot {
      std::size_t hash = 0;
      std::string_view key{};
      std::size_t head = kEnd;  // kEnd: the slot is free
    };
    std::size_t probe(std::string_view key, std::size_t hash) const;  // key's slot, or the free one where it goes
    void grow(std::size_t capacity);
    std::vector<Slot> slots_;
    std::size_t used_ = 0;
  };
  void put(Keys& keys, std::string_view key, std::size_t index);
  void add_id_and_digests(const Image& image, std::size_t index);
  void collect(const Keys& keys, std::string_view key, std::vector<std::size_t>& out) const;

  Keys ids_;              // image.id
  Keys digests_;          // digest_of(d) for each of image.digests
  Keys tags_;             // each of image.tags as written
  Keys normalized_tags_;  // normalize_reference(t) for each of image.tags
  std::vector<Entry> entries_;
  std::deque<std::string> owned_;  // keys that are not substrings of an image's strings
};

// For each of `images`, the containers that refer to it (by image_id or image), in
// container order; linear in images + containers (one ReferenceIndex).
std::vector<std::vector<const Container*>> containers_using(const std::vector<Image>& images,
                                                            const std::vector<Container>& containers);

// The images protection keeps, for people: "37 images are younger than gc.minAge (1h), 3 are
// in use" (in the order of `counts`); "" when there are none.
std::string explain_protected(const std::vector<ReasonCount>& counts, const Policy& policy);

// "name (state)", or the short id when the container has no name: how reasons name a user.
std::string describe_container(const Container& c);

// "3h5m", "2d4h" for reasons.
std::string human_age(Seconds s);
std::string human_bytes(std::uint64_t b);

}  // namespace nodeimg::gc
