#include "coordinator/lr_schedule.h"

#include <gtest/gtest.h>

namespace fedsmear {
namespace {

TEST(LrScheduleTest, CosineStepConstant) {
  LrScheduleConfig c;
  c.kind = LrScheduleKind::kCosine;
  c.min_lr = 0;
  LrSchedule cosine(c, 0.01, 4);
  EXPECT_DOUBLE_EQ(cosine.RateFor(1), 0.01);
  EXPECT_NEAR(cosine.RateFor(3), 0.005, 1e-12);  // half way
  EXPECT_LT(cosine.RateFor(4), cosine.RateFor(3));
  c.kind = LrScheduleKind::kStep;
  c.step_rounds = 2;
  c.gamma = 0.5;
  LrSchedule step(c, 0.01, 10);
  EXPECT_DOUBLE_EQ(step.RateFor(2), 0.01);
  EXPECT_DOUBLE_EQ(step.RateFor(3), 0.005);
  EXPECT_DOUBLE_EQ(step.RateFor(5), 0.0025);
  c.kind = LrScheduleKind::kConstant;
  EXPECT_DOUBLE_EQ(LrSchedule(c, 0.01, 10).RateFor(9), 0.01);
}

TEST(LrScheduleTest, PlateauDecaysAfterPatience) {
  LrScheduleConfig c;
  c.kind = LrScheduleKind::kPlateau;
  c.patience = 2;
  c.gamma = 0.1;
  c.min_lr = 0;
  LrSchedule s(c, 1.0, 10);
  s.Observe(1, 0.5);
  s.Observe(2, 0.6);
  EXPECT_DOUBLE_EQ(s.RateFor(3), 1.0);
  s.Observe(3, 0.6);
  s.Observe(4, 0.59);
  EXPECT_DOUBLE_EQ(s.RateFor(5), 0.1);
  LrSchedule restored(c, 1.0, 10);
  restored.Restore(s.plateau_scale(), s.best_metric(), s.rounds_since_best());
  EXPECT_DOUBLE_EQ(restored.RateFor(6), 0.1);
}

}  // namespace
}  // namespace fedsmear
