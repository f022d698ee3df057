// A small fork-join thread pool: run(n, fn) calls fn(0..n-1) spread over the workers and the caller.
// Built without threads (the single-threaded WebAssembly module), it runs every task on the caller.
#pragma once

#include <atomic>
#include <condition_variable>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace lrp {

class ThreadPool {
 public:
  // threads = total number of threads that work on a run(), the caller included (>= 1).
  explicit ThreadPool(int threads = 1);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return threads_; }
  // Runs fn(i) for every i in [0, n); returns when all are done; rethrows the first exception.
  void run(int n, const std::function<void(int)>& fn);

  // Whether this build can start threads at all.
  static bool threads_available();
  static int hardware_threads();

 private:
  void worker_loop();
  void work_on_current();

  int threads_ = 1;
#if LRPSCOPE_THREADS
  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable wake_, done_;
  const std::function<void(int)>* fn_ = nullptr;
  int n_ = 0;
  std::atomic<int> next_{0};
  int active_ = 0;
  unsigned generation_ = 0;
  bool stop_ = false;
  std::exception_ptr error_;
#endif
};

// The pool the engine uses unless told otherwise; its size is set by set_default_threads (CLI --threads).
ThreadPool& default_pool();
void set_default_threads(int threads);

// Computing in the background (an app whose interface shares the cores): the threads that compute — the caller of
// this and, from their next task on, every pool's workers — run at a lower scheduling priority, so that the
// interface's thread gets a core when it needs one. No effect where threads have no priorities of their own.
void compute_in_background();

// Splits [0, total) into `parts` nearly equal ranges and calls fn(begin, end) for each on the pool.
void parallel_ranges(ThreadPool* pool, int total, int parts, const std::function<void(int, int)>& fn);

}  // namespace lrp
