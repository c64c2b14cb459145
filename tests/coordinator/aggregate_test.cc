#include "coordinator/aggregate.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace fedsmear {
namespace {

ModelState State(std::vector<float> w, std::vector<float> stat, float binary) {
  ModelState s;
  s.meta = {"bdn-tiny", 2, 32, {}};
  s.tensors.push_back({"w", {static_cast<int64_t>(w.size())}, TensorKind::kFloat, w});
  s.tensors.push_back({"bn.running_var", {static_cast<int64_t>(stat.size())}, TensorKind::kStat,
                       stat});
  s.tensors.push_back({"conv.weight", {1}, TensorKind::kBinary, {binary}});
  return s;
}

TEST(WeightedAccumulatorTest, WeightedMeanByHand) {
  WeightedAccumulator acc(State({0, 0}, {0}, 0));
  ASSERT_TRUE(acc.Add(State({1, 2}, {4}, 1.0f), 100).ok());
  ASSERT_TRUE(acc.Add(State({3, -2}, {8}, -0.5f), 300).ok());
  auto mean = acc.Mean();
  ASSERT_TRUE(mean.ok());
  // (100*1 + 300*3)/400 = 2.5; (200 - 600)/400 = -1; (400 + 2400)/400 = 7; (100 - 150)/400
  EXPECT_FLOAT_EQ(mean->tensors[0].values[0], 2.5f);
  EXPECT_FLOAT_EQ(mean->tensors[0].values[1], -1.0f);
  EXPECT_FLOAT_EQ(mean->tensors[1].values[0], 7.0f);
  EXPECT_FLOAT_EQ(mean->tensors[2].values[0], -0.125f);
  EXPECT_EQ(acc.count(), 2);
  EXPECT_DOUBLE_EQ(acc.total_weight(), 400);
}

TEST(WeightedAccumulatorTest, RejectsBadUpdatesWithoutHarm) {
  WeightedAccumulator acc(State({0, 0}, {0}, 0));
  ASSERT_TRUE(acc.Add(State({1, 1}, {1}, 1), 1).ok());
  EXPECT_FALSE(acc.Add(State({1, std::nanf("")}, {1}, 1), 1).ok());
  EXPECT_FALSE(acc.Add(State({1, std::numeric_limits<float>::infinity()}, {1}, 1), 1).ok());
  EXPECT_FALSE(acc.Add(State({1, 1, 1}, {1}, 1), 1).ok());  // shape differs
  EXPECT_FALSE(acc.Add(State({1, 1}, {1}, 1), 0).ok());     // no weight
  ModelState other = State({1, 1}, {1}, 1);
  other.meta.arch = "bdn28";
  EXPECT_FALSE(acc.Add(other, 1).ok());
  EXPECT_EQ(acc.count(), 1);
  EXPECT_FLOAT_EQ(acc.Mean()->tensors[0].values[1], 1.0f);
  WeightedAccumulator empty(State({0, 0}, {0}, 0));
  EXPECT_EQ(empty.Mean().status().code(), StatusCode::kFailedPrecondition);
}

TEST(FedAdamTest, StepMatchesHandComputation) {
  ModelState global = State({1.0f, 0.0f}, {2.0f}, 1.2f);
  ModelState mean = State({1.5f, -1.0f}, {3.0f}, 2.0f);
  FedAdamParams p;
  p.lr = 0.1;
  FedAdamState st;
  ASSERT_TRUE(FedAdamStep(mean, p, &st, &global).ok());
  // delta 0.5: m = 0.05, v = 0.0025, step = 0.1 * 0.05 / (0.05 + 0.001)
  EXPECT_NEAR(global.tensors[0].values[0], 1.0 + 0.1 * 0.05 / (0.05 + 1e-3), 1e-6);
  EXPECT_NEAR(global.tensors[0].values[1], 0.0 - 0.1 * 0.1 / (0.1 + 1e-3), 1e-6);
  EXPECT_FLOAT_EQ(global.tensors[1].values[0], 3.0f);  // statistics take the mean
  // binary latent: 1.2 + 0.1*0.08/(0.08+0.001) = 1.2988 -> below clip; second step clips.
  EXPECT_NEAR(global.tensors[2].values[0], 1.2 + 0.1 * 0.08 / (0.08 + 1e-3), 1e-6);
  ASSERT_TRUE(FedAdamStep(mean, p, &st, &global).ok());
  EXPECT_FLOAT_EQ(global.tensors[2].values[0], 1.3f);
  EXPECT_NEAR(st.m[0][0], 0.9 * 0.05 + 0.1 * (1.5 - (1.0 + 0.1 * 0.05 / 0.051)), 1e-6);
}

TEST(SampleSitesTest, FractionMinimumAndDeterminism) {
  std::mt19937_64 a(1), b(1);
  auto s1 = SampleSites(10, 0.3, 2, a);
  auto s2 = SampleSites(10, 0.3, 2, b);
  EXPECT_EQ(s1, s2);
  EXPECT_EQ(s1.size(), 3u);
  EXPECT_TRUE(std::is_sorted(s1.begin(), s1.end()));
  EXPECT_EQ(SampleSites(10, 0.1, 4, a).size(), 4u);
  EXPECT_EQ(SampleSites(3, 1.0, 5, a).size(), 3u);
  EXPECT_TRUE(SampleSites(0, 1.0, 1, a).empty());
}

}  // namespace
}  // namespace fedsmear
