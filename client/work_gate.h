// WorkGate: at most N sites train or evaluate at once, for simulations that run many sites as
// threads of one process on a few cores, or (with ProcessSlots, client/process_slots.h) as
// processes sharing a few cores: `fedsmear simulate` gives its site processes one budget. It also measures how long measured work (training)
// ran: busy_seconds() is the wall time during which at least one measured slot was held,
// held_seconds() the sum over measured slots. A Site without a gate (the daemon) runs its work
// unthrottled.
//
// Thread-safety: all members may be called from any thread. Ownership: shared by the sites
// (std::shared_ptr); a Slot must not outlive its gate.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <utility>

#include "client/process_slots.h"

namespace fedsmear {

class WorkGate {
 public:
  using Clock = std::chrono::steady_clock;

  explicit WorkGate(int slots) : free_(slots > 0 ? slots : 1) {}
  // Also holds one of `across`'s slots (shared with other processes) while working.
  explicit WorkGate(ProcessSlots across)
      : free_(across.slots()), across_(std::move(across)) {}

  class Slot {
   public:
    explicit Slot(WorkGate& gate, bool measured = true)
        : gate_(&gate), measured_(measured), held_(gate.AcquireAcross()),
          start_(gate.Acquire(measured)) {}
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;
    ~Slot() { gate_->Release(start_, measured_); }

   private:
    WorkGate* gate_;
    bool measured_;
    ProcessSlots::Held held_;  // released after the in-process slot (members die in reverse)
    Clock::time_point start_;
  };

  double busy_seconds() const {
    std::lock_guard<std::mutex> lock(mu_);
    double busy = busy_s_;
    if (holders_ > 0) busy += std::chrono::duration<double>(Clock::now() - busy_since_).count();
    return busy;
  }
  double held_seconds() const {
    std::lock_guard<std::mutex> lock(mu_);
    return held_s_;
  }

 private:
  // A slot of the cross-process budget (none without one, or when its lock file cannot be
  // opened: the work then runs, unthrottled, rather than not at all).
  ProcessSlots::Held AcquireAcross() {
    if (!across_) return {};
    Result<ProcessSlots::Held> held = across_->Acquire();
    return held.ok() ? std::move(*held) : ProcessSlots::Held();
  }
  Clock::time_point Acquire(bool measured) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return free_ > 0; });
    --free_;
    const auto now = Clock::now();
    if (measured && holders_++ == 0) busy_since_ = now;
    return now;
  }
  void Release(Clock::time_point start, bool measured) {
    std::lock_guard<std::mutex> lock(mu_);
    ++free_;
    cv_.notify_one();
    if (!measured) return;
    const auto now = Clock::now();
    held_s_ += std::chrono::duration<double>(now - start).count();
    if (--holders_ == 0) busy_s_ += std::chrono::duration<double>(now - busy_since_).count();
  }

  mutable std::mutex mu_;
  std::condition_variable cv_;
  int free_;
  int holders_ = 0;  // measured slots held
  Clock::time_point busy_since_;
  double busy_s_ = 0;
  double held_s_ = 0;
  std::optional<ProcessSlots> across_;
};

}  // namespace fedsmear
