// The pieces both capabilities share, each with one home in core/common: RFC 3339 time,
// paths under --root, filesystem usage and the worker pool.
#include <atomic>
#include <mutex>
#include <set>

#include <gtest/gtest.h>

#include "core/common/filesystem_usage.hpp"
#include "core/common/parallel.hpp"
#include "core/common/paths.hpp"
#include "core/common/time.hpp"

namespace nodeimg {
namespace {

TEST(Rfc3339, IsUtcWithWholeSeconds) {
  EXPECT_EQ(rfc3339(std::int64_t{0}), "1970-01-01T00:00:00Z");
  EXPECT_EQ(rfc3339(std::int64_t{1'764'000'000}), "2025-11-24T16:00:00Z");
  EXPECT_EQ(rfc3339(std::chrono::system_clock::time_point(std::chrono::milliseconds(1'764'000'000'999))),
            "2025-11-24T16:00:00Z");
}

TEST(UnderRoot, PrefixesOnlyARealRoot) {
  EXPECT_EQ(under_root("/", "/run/x.sock"), "/run/x.sock");
  EXPECT_EQ(under_root("", "/run/x.sock"), "/run/x.sock");
  EXPECT_EQ(under_root("/tmp/node", "/run/x.sock"), "/tmp/node/run/x.sock");
  EXPECT_EQ(under_root("/tmp/node/", "/run/x.sock"), "/tmp/node/run/x.sock");
}

TEST(FilesystemUsage, PercentagesAndUnknownSizes) {
  const FilesystemUsage u{.mountpoint = "/", .size_bytes = 200, .available_bytes = 50, .inodes = 10, .inodes_free = 9};
  EXPECT_DOUBLE_EQ(u.used_percent(), 75.0);
  EXPECT_DOUBLE_EQ(u.inodes_used_percent(), 10.0);
  EXPECT_DOUBLE_EQ(FilesystemUsage{}.used_percent(), 0.0);
  EXPECT_DOUBLE_EQ(FilesystemUsage{}.inodes_used_percent(), 0.0);
  const FilesystemUsage odd{.mountpoint = "/", .size_bytes = 100, .available_bytes = 500, .inodes = 0, .inodes_free = 0};
  EXPECT_DOUBLE_EQ(odd.used_percent(), 0.0) << "more available than the size: nothing used";
}

TEST(ParallelFor, CallsEveryIndexOnceOnAtMostThatManyThreads) {
  for (int workers : {1, 3, 64}) {
    std::mutex mutex;
    std::multiset<std::size_t> seen;
    std::set<std::thread::id> threads;
    parallel_for(100, workers, [&](std::size_t i) {
      std::lock_guard lock(mutex);
      seen.insert(i);
      threads.insert(std::this_thread::get_id());
    });
    EXPECT_EQ(seen.size(), 100u) << workers;
    for (std::size_t i = 0; i < 100; ++i) EXPECT_EQ(seen.count(i), 1u) << i;
    EXPECT_LE(threads.size(), static_cast<std::size_t>(workers));
  }
  std::size_t calls = 0;
  parallel_for(0, 4, [&](std::size_t) { ++calls; });
  EXPECT_EQ(calls, 0u);
}

}  // namespace
}  // namespace nodeimg
