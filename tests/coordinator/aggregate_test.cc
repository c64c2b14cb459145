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

// Tensors larger than one accumulation chunk, with a NaN/Inf found after earlier chunks (and
// earlier tensors) were already added: the refusal must restore the sums.
TEST(WeightedAccumulatorTest, LateNonFiniteValueRestoresTheSums) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(-1.3f, 1.3f);
  auto big = [&](size_t n) {
    std::vector<float> v(n);
    for (float& x : v) x = u(rng);
    return v;
  };
  const size_t n = 70001;  // four full chunks and a tail
  ModelState a = State(big(n), big(n), 0.5f);
  ModelState b = State(big(n), big(n), -0.25f);
  for (int threads : {1, 2, 3, 16}) {
    SCOPED_TRACE("threads " + std::to_string(threads));
    WeightedAccumulator acc(a, threads);
    ASSERT_TRUE(acc.Add(a, 3).ok());
    const ModelState before = *acc.Mean();
    for (auto [tensor, at] : {std::pair<size_t, size_t>{0, 0}, {0, 40000}, {1, n - 1}, {2, 0}}) {
      ModelState bad = b;
      bad.tensors[tensor].values[at] = tensor == 1 ? INFINITY : std::nanf("");
      Status st = acc.Add(bad, 7);
      ASSERT_FALSE(st.ok()) << tensor << " " << at;
      EXPECT_NE(st.message().find(bad.tensors[tensor].name), std::string::npos) << st.message();
    }
    EXPECT_EQ(acc.count(), 1);
    EXPECT_DOUBLE_EQ(acc.total_weight(), 3);
    const ModelState after = *acc.Mean();
    for (size_t i = 0; i < before.tensors.size(); ++i) {
      for (size_t k = 0; k < before.tensors[i].values.size(); ++k) {
        ASSERT_NEAR(after.tensors[i].values[k], before.tensors[i].values[k], 1e-6f)
            << i << " " << k;
      }
    }
    // And the accumulator still works: the mean of a (weight 3) and b (weight 1).
    ASSERT_TRUE(acc.Add(b, 1).ok());
    const ModelState mean = *acc.Mean();
    for (size_t k = 0; k < n; k += 997) {
      const float want = (3 * a.tensors[0].values[k] + b.tensors[0].values[k]) / 4;
      EXPECT_NEAR(mean.tensors[0].values[k], want, 1e-6f);
    }
  }
}

// Threads split the flat value range, across tensor boundaries and empty tensors: the mean
// must not depend on how many there are.
TEST(WeightedAccumulatorTest, ThreadsGiveTheSameMean) {
  std::mt19937 rng(5);
  std::normal_distribution<float> d(0, 1);
  auto state = [&] {
    ModelState s;
    s.meta = {"bdn-tiny", 2, 32, {}};
    for (size_t n : {size_t{40000}, size_t{0}, size_t{3}, size_t{100000}, size_t{16384}}) {
      NamedTensor t{"t" + std::to_string(s.tensors.size()), {static_cast<int64_t>(n)},
                    TensorKind::kFloat, std::vector<float>(n)};
      for (float& v : t.values) v = d(rng);
      s.tensors.push_back(t);
    }
    return s;
  };
  std::vector<ModelState> updates;
  for (int k = 0; k < 3; ++k) updates.push_back(state());
  std::vector<ModelState> means;
  for (int threads : {1, 2, 7}) {
    WeightedAccumulator acc(updates[0], threads);
    for (int k = 0; k < 3; ++k) ASSERT_TRUE(acc.Add(updates[k], 10.0 + k).ok());
    means.push_back(*acc.Mean());
  }
  for (size_t m = 1; m < means.size(); ++m) {
    for (size_t i = 0; i < means[0].tensors.size(); ++i) {
      EXPECT_EQ(means[m].tensors[i].values, means[0].tensors[i].values) << m << " " << i;
    }
  }
  // Spot check against the definition.
  const size_t k = 77777;
  const double want = (10.0 * updates[0].tensors[3].values[k] +
                       11.0 * updates[1].tensors[3].values[k] +
                       12.0 * updates[2].tensors[3].values[k]) /
                      33.0;
  EXPECT_FLOAT_EQ(means[1].tensors[3].values[k], static_cast<float>(want));
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
