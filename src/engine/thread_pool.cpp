#include "engine/thread_pool.h"

#include <algorithm>
#include <atomic>
#include <memory>
#if defined(__linux__) && !defined(__EMSCRIPTEN__)
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace lrp {

bool ThreadPool::threads_available() { return LRPSCOPE_THREADS != 0; }

int ThreadPool::hardware_threads() {
#if LRPSCOPE_THREADS
  unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : static_cast<int>(n);
#else
  return 1;
#endif
}

ThreadPool::ThreadPool(int threads) {
  threads_ = std::max(1, threads);
#if LRPSCOPE_THREADS
  for (int i = 1; i < threads_; ++i) workers_.emplace_back([this] { worker_loop(); });
#else
  threads_ = 1;
#endif
}

ThreadPool::~ThreadPool() {
#if LRPSCOPE_THREADS
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  for (auto& t : workers_) t.join();
#endif
}

namespace {
std::atomic<bool> g_background{false};
// Lowers this thread's priority once when the engine computes in the background (Linux: per-thread nice values).
// The lowest (19): the interface's thread then gets a core whenever it draws (at nice 5 two engine threads on two
// cores still took a third of it, and a frame could wait 100 ms on a loaded machine); when the interface is idle
// the engine has the machine as before.
void apply_background_priority() {
#if defined(__linux__) && !defined(__EMSCRIPTEN__)
  thread_local bool applied = false;
  if (applied || !g_background.load(std::memory_order_relaxed)) return;
  applied = true;
  setpriority(PRIO_PROCESS, static_cast<id_t>(syscall(SYS_gettid)), 19);
#endif
}
}  // namespace

void compute_in_background() {
  g_background = true;
  apply_background_priority();
}

#if LRPSCOPE_THREADS
void ThreadPool::work_on_current() {
  for (;;) {
    int i = next_.fetch_add(1);
    if (i >= n_) break;
    try {
      (*fn_)(i);
    } catch (...) {
      std::lock_guard<std::mutex> lock(mu_);
      if (!error_) error_ = std::current_exception();
    }
  }
}

void ThreadPool::worker_loop() {
  unsigned seen = 0;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
      ++active_;
    }
    apply_background_priority();
    work_on_current();
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (--active_ == 0) done_.notify_all();
    }
  }
}
#endif

void ThreadPool::run(int n, const std::function<void(int)>& fn) {
  if (n <= 0) return;
#if LRPSCOPE_THREADS
  if (threads_ > 1 && n > 1) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      fn_ = &fn;
      n_ = n;
      next_.store(0);
      error_ = nullptr;
      ++generation_;
    }
    wake_.notify_all();
    work_on_current();
    std::exception_ptr err;
    {
      std::unique_lock<std::mutex> lock(mu_);
      done_.wait(lock, [&] { return active_ == 0 && next_.load() >= n_; });
      fn_ = nullptr;
      err = error_;
      error_ = nullptr;
    }
    if (err) std::rethrow_exception(err);
    return;
  }
#endif
  for (int i = 0; i < n; ++i) fn(i);
}

namespace {
std::unique_ptr<ThreadPool>& pool_slot() {
  static std::unique_ptr<ThreadPool> pool;
  return pool;
}
}  // namespace

ThreadPool& default_pool() {
  auto& p = pool_slot();
  if (!p) p = std::make_unique<ThreadPool>(1);
  return *p;
}

void set_default_threads(int threads) {
  auto& p = pool_slot();
  int want = std::max(1, threads);
  if (!p || p->size() != want) p = std::make_unique<ThreadPool>(want);
}

void parallel_ranges(ThreadPool* pool, int total, int parts, const std::function<void(int, int)>& fn) {
  if (total <= 0) return;
  parts = std::max(1, std::min(parts, total));
  auto body = [&](int i) {
    int b = static_cast<int>(static_cast<long long>(total) * i / parts);
    int e = static_cast<int>(static_cast<long long>(total) * (i + 1) / parts);
    if (b < e) fn(b, e);
  };
  if (pool && parts > 1) {
    pool->run(parts, body);
  } else {
    for (int i = 0; i < parts; ++i) body(i);
  }
}

}  // namespace lrp
