#include <gtest/gtest.h>

#include <atomic>

#include "engine/error.h"
#include "engine/thread_pool.h"

using namespace lrp;

TEST(ThreadPool, RunsEveryTaskOnce) {
  for (int threads : {1, 2, 3}) {
    ThreadPool pool(threads);
    for (int round = 0; round < 20; ++round) {
      std::vector<std::atomic<int>> hits(97);
      pool.run(97, [&](int i) { hits[static_cast<std::size_t>(i)]++; });
      for (auto& h : hits) EXPECT_EQ(h.load(), 1);
    }
  }
}

TEST(ThreadPool, RethrowsTheFirstError) {
  ThreadPool pool(2);
  EXPECT_THROW(pool.run(10, [](int i) {
    if (i == 7) throw Error("task 7 failed");
  }), Error);
  // still usable afterwards
  std::atomic<int> n{0};
  pool.run(5, [&](int) { n++; });
  EXPECT_EQ(n.load(), 5);
}

TEST(ThreadPool, ParallelRangesCoverEverything) {
  ThreadPool pool(2);
  std::vector<int> v(1000, 0);
  parallel_ranges(&pool, 1000, 7, [&](int b, int e) {
    for (int i = b; i < e; ++i) v[static_cast<std::size_t>(i)] += 1;
  });
  for (int x : v) EXPECT_EQ(x, 1);
}
