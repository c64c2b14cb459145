// ThreadPool: a small fixed set of worker threads that run the tasks of one parallel region at a
// time with the calling thread, for the binary engine's splits inside a layer (infer/engine.h).
//
// TryRun(tasks, fn) runs fn(task, worker) once for every task in [0, tasks): the calling thread
// is worker 0, the pool's threads are workers 1 .. threads() - 1, and tasks are claimed one by
// one from a shared counter, so a worker the OS does not schedule costs nothing but its share
// (the others take its tasks). It returns when every task has finished. Workers spin for a few
// tens of microseconds after a region (the next one of a forward pass follows within
// microseconds), then sleep on a condition variable; no thread is started per region.
//
// Thread-safety: one region at a time. TryRun from any thread; when another thread's region is
// in progress (or from inside a task) it runs nothing and returns false, and the caller does
// the work itself. fn must not throw. Ownership: the pool owns its threads; the destructor
// stops and joins them. Move-only; a moved-from pool has no threads and must only be destroyed
// or assigned to.
#pragma once

#include <memory>
#include <type_traits>
#include <utility>

namespace fedsmear::infer {

class ThreadPool {
 public:
  // `threads` >= 1 workers in all, the calling thread included (threads - 1 are started).
  explicit ThreadPool(int threads);
  ThreadPool(ThreadPool&&) noexcept;
  ThreadPool& operator=(ThreadPool&&) noexcept;
  ~ThreadPool();

  int threads() const;

  // False without running anything when the pool is busy with another region; true when every
  // task ran. tasks <= 0 is an empty region (true).
  template <class Fn>
  bool TryRun(int tasks, Fn&& fn) {
    using F = std::remove_const_t<std::remove_reference_t<Fn>>;
    auto call = [](void* ctx, int task, int worker) { (*static_cast<F*>(ctx))(task, worker); };
    return TryRunErased(tasks, call, const_cast<F*>(&fn));
  }

 private:
  struct Shared;
  using Call = void (*)(void* ctx, int task, int worker);
  bool TryRunErased(int tasks, Call call, void* ctx);
  void Stop();

  std::unique_ptr<Shared> shared_;
};

// [begin, end) of part `part` of `parts` nearly equal parts of [0, n).
inline std::pair<int, int> PartRange(int n, int parts, int part) {
  const long long b = static_cast<long long>(n) * part / parts;
  const long long e = static_cast<long long>(n) * (part + 1) / parts;
  return {static_cast<int>(b), static_cast<int>(e)};
}

}  // namespace fedsmear::infer
