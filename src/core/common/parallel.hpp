#pragma once
// The one worker pool: runs fn(i) for every i in [0, n) on at most `workers` threads (the
// calling thread alone when that is 1), and returns once every call has returned. Each i
// is handed out once, in increasing order; fn must be safe to call from several threads.
// Used for removals (gc.concurrency) and prepulls.
#include <algorithm>
#include <atomic>
#include <cstddef>
#include <thread>
#include <vector>

namespace nodeimg {

template <class Fn>
void parallel_for(std::size_t n, int workers, Fn&& fn) {
  const std::size_t threads = std::min<std::size_t>(n, static_cast<std::size_t>(std::max(workers, 1)));
  if (threads <= 1) {
    for (std::size_t i = 0; i < n; ++i) fn(i);
    return;
  }
  std::atomic<std::size_t> next{0};
  std::vector<std::jthread> pool;
  pool.reserve(threads);
  for (std::size_t t = 0; t < threads; ++t)
    pool.emplace_back([&] {
      for (std::size_t i = next++; i < n; i = next++) fn(i);
    });
}

}  // namespace nodeimg
