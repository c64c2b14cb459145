// Round-level learning-rate schedules: the coordinator sends each round's rate to the sites.
// Federated accuracy swings widely between rounds at a constant rate; decaying it over the
// rounds steadies the final model. Plain value type; not synchronised.
#pragma once

#include "common/config.h"

namespace fedsmear {

class LrSchedule {
 public:
  LrSchedule(const LrScheduleConfig& config, double base_lr, int rounds);

  // The rate for `round` (1-based). For "plateau" it depends on what Observe() has seen.
  double RateFor(int round) const;
  // Reports a round's central macro-F1 (plateau schedule; ignored by the others).
  void Observe(int round, double macro_f1);

  // For checkpoints: the plateau schedule's state.
  double plateau_scale() const { return scale_; }
  double best_metric() const { return best_; }
  int rounds_since_best() const { return since_best_; }
  void Restore(double scale, double best, int since_best);

 private:
  LrScheduleConfig config_;
  double base_;
  int rounds_;
  double scale_ = 1.0;
  double best_ = -1.0;
  int since_best_ = 0;
};

}  // namespace fedsmear
