#include "coordinator/lr_schedule.h"

#include <algorithm>
#include <cmath>

namespace fedsmear {

LrSchedule::LrSchedule(const LrScheduleConfig& config, double base_lr, int rounds)
    : config_(config), base_(base_lr), rounds_(std::max(1, rounds)) {}

double LrSchedule::RateFor(int round) const {
  const double floor = std::min(config_.min_lr, base_);
  const int r = std::max(1, round) - 1;
  double rate = base_;
  if (config_.kind == LrScheduleKind::kStep) {
    rate = base_ * std::pow(config_.gamma, r / std::max(1, config_.step_rounds));
  } else if (config_.kind == LrScheduleKind::kCosine) {
    rate = floor + 0.5 * (base_ - floor) * (1 + std::cos(M_PI * r / rounds_));
  } else if (config_.kind == LrScheduleKind::kPlateau) {
    rate = base_ * scale_;
  }
  return std::max(rate, floor);
}

void LrSchedule::Observe(int /*round*/, double macro_f1) {
  if (macro_f1 > best_ + 1e-4) {
    best_ = macro_f1;
    since_best_ = 0;
    return;
  }
  if (++since_best_ >= config_.patience && config_.kind == LrScheduleKind::kPlateau) {
    scale_ *= config_.gamma;
    since_best_ = 0;
  }
}

void LrSchedule::Restore(double scale, double best, int since_best) {
  scale_ = scale;
  best_ = best;
  since_best_ = since_best;
}

}  // namespace fedsmear
