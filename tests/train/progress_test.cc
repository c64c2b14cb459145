// The terminal progress lines: epoch, batch, images per second, ETA.
#include "train/progress.h"

#include <gtest/gtest.h>

namespace fedsmear {
namespace {

TEST(ProgressTest, DurationsReadLikeAClock) {
  EXPECT_EQ(FormatDuration(0), "0s");
  EXPECT_EQ(FormatDuration(44.6), "45s");
  EXPECT_EQ(FormatDuration(65), "1m05s");
  EXPECT_EQ(FormatDuration(7380), "2h03m");
  EXPECT_EQ(FormatDuration(-3), "0s");
}

TEST(ProgressTest, LineShowsEpochBatchRateAndEta) {
  // 30 of 120 batches of 32 images in 10 s: 96 img/s, 90 batches left at 1/3 s each = 30 s.
  ProgressTick t{1, 29, 120, 960, 0.43214};
  EXPECT_EQ(FormatProgressLine("site-1", 5, t, 10.0),
            "site-1 epoch 2/5 [######..................] 30/120 loss 0.4321  96 img/s  ETA 30s");
}

TEST(ProgressTest, EvaluationHasNoEpochOrLoss) {
  ProgressTick t{0, 9, 10, 640, -1};
  EXPECT_EQ(FormatProgressLine("evaluate", 0, t, 2.0),
            "evaluate [########################] 10/10  320 img/s  ETA 0s");
  EXPECT_EQ(FormatEpochSummary("evaluate", 0, t, 2.0), "evaluate: 640 images, 320 img/s, 2s");
}

TEST(ProgressTest, EpochSummaryForLogs) {
  ProgressTick t{4, 299, 300, 9600, 0.25};
  EXPECT_EQ(FormatEpochSummary("train", 5, t, 80.0),
            "train epoch 5/5 done: 9600 images, loss 0.2500, 120 img/s, 1m20s");
}

TEST(ProgressTest, ZeroElapsedTimeDoesNotDivideByZero) {
  ProgressTick t{0, 0, 0, 0, -1};
  EXPECT_EQ(FormatProgressLine("x", 1, t, 0.0),
            "x epoch 1/1 [########################] 1/1  -- img/s  ETA --");
}

}  // namespace
}  // namespace fedsmear
