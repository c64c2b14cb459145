#include "infer/thread_pool.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace fedsmear::infer {
namespace {

using Clock = std::chrono::steady_clock;
// How long an idle worker spins before it sleeps, and a waiting caller before it yields.
constexpr auto kSpin = std::chrono::microseconds(50);
// Index half of the region word once the region is over: no task can be claimed from it.
constexpr uint64_t kClosed = 0xffffffffu;

inline void CpuRelax() {
#if defined(__x86_64__)
  _mm_pause();
#endif
}

inline uint64_t Gen(uint64_t word) { return word >> 32; }
inline uint64_t Index(uint64_t word) { return word & 0xffffffffu; }

}  // namespace

// The region word packs (generation << 32 | next task index). A region publishes its call,
// context and task count, then a new generation with index 0; workers claim tasks by CAS on the
// word, so a worker that read an older generation can never claim a task of a newer one (its
// CAS fails). When the region's tasks are done the caller closes the word (index kClosed)
// before it touches call/ctx/tasks again.
struct ThreadPool::Shared {
  int threads = 1;
  std::atomic<bool> busy{false};
  std::atomic<uint64_t> word{0};
  std::atomic<int> done{0};
  std::atomic<int> tasks{0};
  std::atomic<Call> call{nullptr};
  std::atomic<void*> ctx{nullptr};
  std::atomic<bool> stop{false};
  std::atomic<int> sleepers{0};
  std::mutex sleep_mu;
  std::condition_variable wake;
  std::vector<std::thread> workers;

  // Claims and runs tasks of the region `word` names until none is left or it is over.
  void Work(uint64_t w, int worker) {
    const uint64_t gen = Gen(w);
    const int n = tasks.load(std::memory_order_acquire);
    while (Gen(w) == gen && Index(w) < static_cast<uint64_t>(n)) {
      if (!word.compare_exchange_weak(w, w + 1, std::memory_order_acq_rel,
                                      std::memory_order_acquire)) {
        continue;  // w now holds the current word
      }
      call.load(std::memory_order_relaxed)(ctx.load(std::memory_order_relaxed),
                                           static_cast<int>(Index(w)), worker);
      done.fetch_add(1, std::memory_order_release);
      w = word.load(std::memory_order_acquire);
    }
  }

  void WorkerLoop(int worker) {
    uint64_t seen = Gen(word.load(std::memory_order_acquire));
    for (;;) {
      uint64_t w = word.load(std::memory_order_acquire);
      const Clock::time_point spin_start = Clock::now();
      for (int i = 0; Gen(w) == seen && !stop.load(std::memory_order_relaxed); ++i) {
        CpuRelax();
        if ((i & 63) == 63 && Clock::now() - spin_start > kSpin) {
          std::unique_lock<std::mutex> lock(sleep_mu);
          sleepers.fetch_add(1, std::memory_order_seq_cst);
          wake.wait(lock, [&] {
            return stop.load(std::memory_order_seq_cst) ||
                   Gen(word.load(std::memory_order_seq_cst)) != seen;
          });
          sleepers.fetch_sub(1, std::memory_order_relaxed);
        }
        w = word.load(std::memory_order_acquire);
      }
      if (stop.load(std::memory_order_acquire)) return;
      seen = Gen(w);
      Work(w, worker);
    }
  }
};

ThreadPool::ThreadPool(int threads) : shared_(std::make_unique<Shared>()) {
  shared_->threads = std::max(1, threads);
  for (int t = 1; t < shared_->threads; ++t) {
    Shared* s = shared_.get();
    s->workers.emplace_back([s, t] { s->WorkerLoop(t); });
  }
}

ThreadPool::ThreadPool(ThreadPool&&) noexcept = default;

ThreadPool& ThreadPool::operator=(ThreadPool&& other) noexcept {
  if (this != &other) {
    Stop();
    shared_ = std::move(other.shared_);
  }
  return *this;
}

ThreadPool::~ThreadPool() { Stop(); }

void ThreadPool::Stop() {
  if (!shared_) return;
  {
    std::lock_guard<std::mutex> lock(shared_->sleep_mu);
    shared_->stop.store(true, std::memory_order_seq_cst);
  }
  shared_->wake.notify_all();
  for (std::thread& t : shared_->workers) t.join();
  shared_.reset();
}

int ThreadPool::threads() const { return shared_ ? shared_->threads : 1; }

bool ThreadPool::TryRunErased(int tasks, Call call, void* ctx) {
  if (tasks <= 0) return true;
  if (!shared_ || shared_->threads == 1 || tasks == 1) {
    for (int t = 0; t < tasks; ++t) call(ctx, t, 0);
    return true;
  }
  Shared& s = *shared_;
  if (s.busy.exchange(true, std::memory_order_acquire)) return false;

  // Publish the region: its data first, then the new generation with index 0.
  const uint64_t gen = Gen(s.word.load(std::memory_order_relaxed)) + 1;
  s.call.store(call, std::memory_order_relaxed);
  s.ctx.store(ctx, std::memory_order_relaxed);
  s.tasks.store(tasks, std::memory_order_relaxed);
  s.done.store(0, std::memory_order_relaxed);
  s.word.store(gen << 32, std::memory_order_seq_cst);
  if (s.sleepers.load(std::memory_order_seq_cst) > 0) {
    { std::lock_guard<std::mutex> lock(s.sleep_mu); }
    s.wake.notify_all();
  }

  s.Work(gen << 32, 0);
  const Clock::time_point wait_start = Clock::now();
  for (int i = 0; s.done.load(std::memory_order_acquire) < tasks; ++i) {
    CpuRelax();
    // A worker holding a task may have lost its core: give it ours.
    if ((i & 63) == 63 && Clock::now() - wait_start > kSpin) std::this_thread::yield();
  }
  s.word.store(gen << 32 | kClosed, std::memory_order_release);
  s.busy.store(false, std::memory_order_release);
  return true;
}

}  // namespace fedsmear::infer
