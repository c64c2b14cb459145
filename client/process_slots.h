// ProcessSlots: at most N holders at once across processes, for simulations that run sites as
// separate processes on a few cores (`fedsmear simulate`, fedsmear-client --work-slots DIR:N).
// The slots are N lock files in DIR; a holder owns one with flock(LOCK_EX), so a process that
// dies releases its slot with its file descriptors. Acquire waits (polling every 20 ms) until a
// slot is free. Thread-safety: Open and Acquire may be called from any thread; a Held is moved,
// never shared. Ownership: a Held owns the descriptor of its lock file.
#pragma once

#include <string>

#include "common/status.h"

namespace fedsmear {

class ProcessSlots {
 public:
  // `dir` is created when missing; `slots` >= 1.
  static Result<ProcessSlots> Open(const std::string& dir, int slots);

  class Held {
   public:
    Held() = default;
    explicit Held(int fd) : fd_(fd) {}
    Held(Held&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
    Held& operator=(Held&& o) noexcept;
    Held(const Held&) = delete;
    Held& operator=(const Held&) = delete;
    ~Held();

   private:
    int fd_ = -1;
  };

  // Waits for a free slot; IoError when a lock file cannot be opened.
  Result<Held> Acquire() const;
  int slots() const { return slots_; }

 private:
  ProcessSlots(std::string dir, int slots) : dir_(std::move(dir)), slots_(slots) {}
  std::string dir_;
  int slots_;
};

// "DIR:N" (--work-slots) into its parts; InvalidArgument otherwise.
Result<ProcessSlots> ParseWorkSlots(const std::string& spec);

}  // namespace fedsmear
