// CriRuntime::remove_images' containerd fast path (native images service deletes, one
// synchronous garbage collection per batch) against a real containerd 1.6 with CRI
// (tests/harness/containerd): every reference goes (tags, digests, the "sha256:" id), CRI
// stops listing the images, the disk space comes back before the call returns, and the
// fallback collection (an empty lease deleted with sync) works when the last delete finds
// its reference already gone.
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "adapters/runtime/cri_runtime.hpp"
#include "support/containerd.hpp"
#include "support/cri_pods.hpp"
#include "support/registry.hpp"

namespace nodeimg::testing {
namespace {

namespace fs = std::filesystem;
using Outcome = ImageRuntime::Outcome;
constexpr std::uint64_t kMiB = 1024 * 1024;

class CriNative : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/nodeimg-cri-native-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    work_ = tmpl;
    ContainerdOptions options;
    options.fs_size = "256M";
    containerd_ = ContainerdInstance::boot(options);
    pods_ = std::make_unique<CriPods>(containerd_->endpoint());
    auto rt = CriRuntime::connect(containerd_->endpoint(), std::chrono::seconds(30));
    ASSERT_TRUE(rt) << rt.error().message;
    runtime_ = std::move(*rt);
    ASSERT_EQ(runtime_->info().name, "containerd");
  }
  void TearDown() override {
    runtime_.reset();
    pods_.reset();
    if (containerd_) {
      EXPECT_EQ(containerd_->stop(), 0) << "containerd was not cleaned up";
    }
    if (!work_.empty()) fs::remove_all(work_);
  }

  void import(const std::vector<std::string>& specs) {
    const std::string tar = (work_ / "images.tar").string();
    make_images(tar, specs, /*with_pause=*/true);
    containerd_->import(tar);
    fs::remove(tar);
  }

  std::uint64_t free_bytes() const {
    struct statvfs st {};
    EXPECT_EQ(::statvfs(containerd_->image_fs_path().c_str(), &st), 0);
    return static_cast<std::uint64_t>(st.f_bavail) * st.f_frsize;
  }

  // Every image record in containerd's k8s.io namespace (ctr images ls -q).
  std::set<std::string> containerd_refs() const {
    auto r = containerd_->ctr({"images", "ls", "-q"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::set<std::string> out;
    std::istringstream in(r.out);
    for (std::string line; std::getline(in, line);)
      if (!line.empty()) out.insert(line);
    return out;
  }

  std::vector<gc::Image> listed() const {
    auto images = runtime_->list_images();
    EXPECT_TRUE(images) << images.error().message;
    return images ? *images : std::vector<gc::Image>{};
  }
  std::optional<gc::Image> by_tag(const std::string& tag) const {
    for (const auto& i : listed())
      if (std::find(i.tags.begin(), i.tags.end(), tag) != i.tags.end()) return i;
    return std::nullopt;
  }

  // CRI's view follows containerd's events: poll until `tag` names an image with `n` tags.
  gc::Image wait_for_tags(const std::string& tag, std::size_t n) const {
    for (int i = 0; i < 200; ++i) {
      if (auto image = by_tag(tag); image && image->tags.size() == n) return *image;
      ::usleep(10'000);
    }
    ADD_FAILURE() << "CRI never listed " << n << " tags on " << tag;
    return {};
  }

  fs::path work_;
  std::unique_ptr<ContainerdInstance> containerd_;
  std::unique_ptr<CriPods> pods_;
  std::unique_ptr<CriRuntime> runtime_;
};

std::set<std::string> refs_of(const gc::Image& image) {
  std::set<std::string> out(image.tags.begin(), image.tags.end());
  out.insert(image.digests.begin(), image.digests.end());
  out.insert(image.id);
  return out;
}

TEST_F(CriNative, ABatchDeletesEveryReferenceAndFreesTheSpaceBeforeReturning) {
  import({"reg.test/native/a:1=8MiB", "reg.test/native/b:1=8MiB", "reg.test/native/c:1=8MiB",
          "reg.test/native/keep:1=1MiB"});
  // A second tag on a (containerd keeps one image record per reference)...
  ASSERT_EQ(containerd_->ctr({"images", "tag", "reg.test/native/a:1", "reg.test/native/a:alias"}).exit_code, 0);
  // ...and an image pulled through CRI, which has a digest reference too.
  auto registry = LocalRegistry::start();
  const std::string oci = (work_ / "one.tar").string();
  make_oci_single("reg.test/native/pulled:1=8MiB", oci);
  const std::string pulled_ref = registry->push(oci, "native/pulled:1");
  pods_->pull(pulled_ref);
  EXPECT_EQ(registry->stop(), 0);

  const gc::Image a = wait_for_tags("reg.test/native/a:1", 2);
  const auto b = by_tag("reg.test/native/b:1"), c = by_tag("reg.test/native/c:1"), pulled = by_tag(pulled_ref);
  ASSERT_TRUE(b && c && pulled);
  ASSERT_FALSE(pulled->digests.empty()) << "a CRI pull records a digest reference";
  const std::vector<gc::Image> batch = {a, *b, *c, *pulled};
  std::set<std::string> doomed;
  for (const auto& image : batch) {
    auto r = refs_of(image);
    doomed.insert(r.begin(), r.end());
  }
  auto before_refs = containerd_refs();
  for (const auto& ref : doomed) EXPECT_TRUE(before_refs.contains(ref)) << ref << " is a containerd image record";
  const std::size_t listed_before = listed().size();
  const std::uint64_t free_before = free_bytes();

  const auto t0 = std::chrono::steady_clock::now();
  const auto results = runtime_->remove_images(batch, 4);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
  std::fprintf(stderr, "remove_images of 4 images (10 references): %ld ms\n", static_cast<long>(ms));
  ASSERT_EQ(results.size(), batch.size());
  for (const auto& r : results) {
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(*r, Outcome::Removed);
  }

  // No polling: remove_images returns once CRI's view has caught up.
  const auto after = listed();
  EXPECT_EQ(after.size(), listed_before - batch.size());
  for (const auto& image : after)
    for (const auto& ref : refs_of(image)) EXPECT_FALSE(doomed.contains(ref)) << ref << " is still listed by CRI";
  EXPECT_TRUE(by_tag("reg.test/native/keep:1"));
  EXPECT_TRUE(by_tag("registry.k8s.io/pause:3.6"));
  // Not one record left behind in containerd (no stray "sha256:" references).
  for (const auto& ref : containerd_refs()) EXPECT_FALSE(doomed.contains(ref)) << ref << " is left in containerd";
  // Four images of 8 MiB own, incompressible data: compressed blob plus unpacked snapshot,
  // freed by the synchronous collection before remove_images returned.
  const std::uint64_t free_after = free_bytes();
  EXPECT_GE(free_after, free_before + 4 * 2 * 8 * kMiB * 9 / 10)
      << "freed " << (free_after - std::min(free_after, free_before)) / kMiB << " MiB";

  // Again: every image is now NotFound, and nothing else is touched.
  const auto again = runtime_->remove_images(batch, 4);
  ASSERT_EQ(again.size(), batch.size());
  for (const auto& r : again) {
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(*r, Outcome::NotFound);
  }
  EXPECT_EQ(listed().size(), after.size());
}

TEST_F(CriNative, MixedBatchAndTheFallbackCollectionWhenTheLastDeleteFindsNothing) {
  import({"reg.test/native/x:1=8MiB", "reg.test/native/y:1=8MiB"});
  const auto x = by_tag("reg.test/native/x:1"), y = by_tag("reg.test/native/y:1");
  ASSERT_TRUE(x && y);
  const std::uint64_t free_before = free_bytes();
  // y twice: its second entry finds every reference gone, so the delete meant to carry
  // `sync` returns NotFound and the collection must come from the lease instead.
  gc::Image missing{"sha256:" + std::string(64, 'e'), {"reg.test/native/never:1"}, {}, 0, false};
  const auto results = runtime_->remove_images({missing, *x, *y, *y}, 2);
  ASSERT_EQ(results.size(), 4u);
  for (const auto& r : results) ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*results[0], Outcome::NotFound);
  EXPECT_EQ(*results[1], Outcome::Removed);
  EXPECT_EQ(*results[2], Outcome::Removed);
  EXPECT_EQ(*results[3], Outcome::NotFound);
  EXPECT_FALSE(by_tag("reg.test/native/x:1"));
  EXPECT_FALSE(by_tag("reg.test/native/y:1"));
  const std::uint64_t free_after = free_bytes();
  EXPECT_GE(free_after, free_before + 2 * 2 * 8 * kMiB * 9 / 10)
      << "freed " << (free_after - std::min(free_after, free_before)) / kMiB << " MiB";
  // The lease asked for the collection is gone again.
  auto leases = containerd_->ctr({"leases", "ls", "-q"});
  EXPECT_EQ(leases.exit_code, 0) << leases.err;
  EXPECT_EQ(leases.out, "") << "leftover leases";
}

TEST_F(CriNative, DeferredBatchesLeaveNoReferenceAndReclaimSpaceFreesTheirSpace) {
  import({"reg.test/native/d1:1=8MiB", "reg.test/native/d2:1=8MiB", "reg.test/native/d3:1=8MiB",
          "reg.test/native/keep:1=1MiB"});
  ASSERT_EQ(containerd_->ctr({"images", "tag", "reg.test/native/d1:1", "reg.test/native/d1:alias"}).exit_code, 0);
  const gc::Image d1 = wait_for_tags("reg.test/native/d1:1", 2);
  const auto d2 = by_tag("reg.test/native/d2:1"), d3 = by_tag("reg.test/native/d3:1");
  ASSERT_TRUE(d2 && d3);
  std::set<std::string> doomed;
  for (const auto& image : {d1, *d2, *d3}) {
    auto r = refs_of(image);
    doomed.insert(r.begin(), r.end());
  }
  const std::uint64_t free_before = free_bytes();

  // Two deferred batches (one of a single image: the native path takes it too).
  const auto first = runtime_->remove_images({d1, *d2}, 4, ImageRuntime::Reclaim::Deferred);
  const auto second = runtime_->remove_images({*d3}, 4, ImageRuntime::Reclaim::Deferred);
  ASSERT_EQ(first.size(), 2u);
  ASSERT_EQ(second.size(), 1u);
  for (const auto* results : {&first, &second})
    for (const auto& r : *results) {
      ASSERT_TRUE(r) << r.error().message;
      EXPECT_EQ(*r, Outcome::Removed);
    }
  // The references are gone as soon as each call returns, from CRI's view and containerd's.
  for (const auto& image : listed())
    for (const auto& ref : refs_of(image)) EXPECT_FALSE(doomed.contains(ref)) << ref << " is still listed by CRI";
  for (const auto& ref : containerd_refs()) EXPECT_FALSE(doomed.contains(ref)) << ref << " is left in containerd";

  // One collection frees all three: compressed blob plus unpacked snapshot of each.
  const auto reclaimed = runtime_->reclaim_space();
  ASSERT_TRUE(reclaimed) << reclaimed.error().message;
  const std::uint64_t free_after = free_bytes();
  EXPECT_GE(free_after, free_before + 3 * 2 * 8 * kMiB * 9 / 10)
      << "freed " << (free_after - std::min(free_after, free_before)) / kMiB << " MiB";
  EXPECT_TRUE(by_tag("reg.test/native/keep:1"));
  EXPECT_TRUE(by_tag("registry.k8s.io/pause:3.6"));
  // Nothing pending any more: a second reclaim is a no-op, and no lease is left behind.
  EXPECT_TRUE(runtime_->reclaim_space());
  auto leases = containerd_->ctr({"leases", "ls", "-q"});
  EXPECT_EQ(leases.exit_code, 0) << leases.err;
  EXPECT_EQ(leases.out, "") << "leftover leases";
}

TEST_F(CriNative, AnImageInUseFaresAsWithCriRemoveImage) {
  // The fast path must not be less careful than CRI RemoveImage with an image a container
  // uses: whatever CRI does with one (containerd 1.6 does not check use; the executor's
  // re-list is the guard), the native path does the same, and the container keeps running.
  import({"reg.test/native/used-cri:1=1MiB", "reg.test/native/used-native:1=1MiB", "reg.test/native/filler:1"});
  const auto via_cri = by_tag("reg.test/native/used-cri:1"), via_native = by_tag("reg.test/native/used-native:1");
  const auto filler = by_tag("reg.test/native/filler:1");
  ASSERT_TRUE(via_cri && via_native && filler);
  const std::string pod = pods_->run_sandbox("p");
  const std::string c1 = pods_->make_running(pod, "c1", "reg.test/native/used-cri:1");
  const std::string c2 = pods_->make_running(pod, "c2", "reg.test/native/used-native:1");
  const auto cri = runtime_->remove_image(*via_cri);
  // Two images: a batch of one goes through CRI RemoveImage anyway.
  const auto native = runtime_->remove_images({*via_native, *filler}, 1);
  ASSERT_TRUE(cri) << cri.error().message;
  ASSERT_EQ(native.size(), 2u);
  ASSERT_TRUE(native[0]) << native[0].error().message;
  EXPECT_FALSE(by_tag("reg.test/native/filler:1"));
  std::fprintf(stderr, "in use: CRI RemoveImage -> %d, native -> %d (0 removed, 2 in use)\n", static_cast<int>(*cri),
               static_cast<int>(*native[0]));
  EXPECT_EQ(*native[0], *cri);
  EXPECT_EQ(by_tag("reg.test/native/used-cri:1").has_value(), by_tag("reg.test/native/used-native:1").has_value());
  EXPECT_EQ(pods_->container_state(c1), runtime::v1::CONTAINER_RUNNING);
  EXPECT_EQ(pods_->container_state(c2), runtime::v1::CONTAINER_RUNNING);
  EXPECT_TRUE(by_tag("registry.k8s.io/pause:3.6"));
}

}  // namespace
}  // namespace nodeimg::testing
