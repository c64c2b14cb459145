// StatusSlot: the live StatusModel of a long-lived coordinator, which its one status endpoint
// serves for the whole process. The job server publishes each job's model when the job starts;
// the model stays published after the job ends (its final page and metrics, "complete" or
// "failed") until the next job replaces it. Empty until the first job starts.
// Thread-safety: Publish and Current may be called from any thread. Ownership: shares the
// models; a reader's copy keeps a replaced model alive until the reader lets it go.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <utility>

#include "coordinator/status/status_model.h"

namespace fedsmear {

class StatusSlot {
 public:
  struct Live {
    std::string job_id;                        // "" before the first job
    std::shared_ptr<const StatusModel> model;  // nullptr before the first job
  };

  void Publish(std::string job_id, std::shared_ptr<const StatusModel> model) {
    std::lock_guard<std::mutex> lock(mu_);
    live_ = Live{std::move(job_id), std::move(model)};
  }
  Live Current() const {
    std::lock_guard<std::mutex> lock(mu_);
    return live_;
  }

 private:
  mutable std::mutex mu_;
  Live live_;
};

}  // namespace fedsmear
