#include "coordinator/strategies.h"

#include <gtest/gtest.h>

namespace fedsmear {
namespace {

ModelState State(float w, float stat) {
  ModelState s;
  s.meta = {"bdn-tiny", 2, 32, {}};
  s.tensors.push_back({"w", {1}, TensorKind::kFloat, {w}});
  s.tensors.push_back({"bn.running_mean", {1}, TensorKind::kStat, {stat}});
  return s;
}

CoordinatorConfig ConfigFor(const std::string& strategy) {
  CoordinatorConfig c;
  c.strategy = strategy;
  c.min_sites = 1;
  c.train.fedprox_mu = 0.25;
  return c;
}

class AllStrategiesTest : public ::testing::TestWithParam<std::string> {};

TEST_P(AllStrategiesTest, ContractHolds) {
  auto made = MakeStrategy(ConfigFor(GetParam()));
  ASSERT_TRUE(made.ok());
  Strategy& s = **made;
  EXPECT_EQ(s.name(), GetParam());
  std::vector<SiteInfo> sites = {{"a", 10, 2, {}}, {"b", 30, 0, {}}, {"c", 20, 5, {}}};
  std::mt19937_64 rng(1);
  TrainConfig base;
  auto plan = s.ConfigureTrain(1, sites, base, 0.005, rng);
  ASSERT_EQ(plan.size(), 3u);
  for (const auto& t : plan) EXPECT_DOUBLE_EQ(t.config.learning_rate, 0.005);
  // Sites without a validation split are not asked to evaluate.
  EXPECT_EQ(s.ConfigureEvaluate(1, sites), (std::vector<std::string>{"a", "c"}));
  // Aggregation moves the model toward the sites and rejects a bad update.
  ModelState global = State(0, 0);
  auto agg = s.BeginAggregate(1, global);
  ASSERT_TRUE(agg->Add({"a", 10, State(1, 1)}).ok());
  ASSERT_TRUE(agg->Add({"b", 30, State(1, 3)}).ok());
  EXPECT_FALSE(agg->Add({"c", 20, State(std::nanf(""), 1)}).ok());
  EXPECT_EQ(agg->count(), 2);
  auto next = agg->Finish({{"c", InvalidArgument("NaN")}});
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_GT(next->tensors[0].values[0], 0.0f);
  EXPECT_LE(next->tensors[0].values[0], 1.0f + 1e-6f);
  EXPECT_FLOAT_EQ(next->tensors[1].values[0], 2.5f);  // statistics: weighted mean everywhere
  // Federated evaluation summary is sample-weighted.
  EvalSummary e = s.AggregateEvaluate(1, {{"a", 10, 1.0, 0.5}, {"c", 30, 2.0, 0.9}}, {});
  EXPECT_EQ(e.num_samples, 40u);
  EXPECT_DOUBLE_EQ(e.accuracy, (10 * 0.5 + 30 * 0.9) / 40);
  EXPECT_DOUBLE_EQ(e.loss, (10 * 1.0 + 30 * 2.0) / 40);
  // State survives a save/load round trip.
  auto again = MakeStrategy(ConfigFor(GetParam()));
  ASSERT_TRUE((*again)->LoadState(s.SaveState()).ok());
  EXPECT_EQ((*again)->SaveState(), s.SaveState());
}

INSTANTIATE_TEST_SUITE_P(Strategies, AllStrategiesTest,
                         ::testing::Values("fedavg", "fedprox", "fedadam"));

TEST(FedAvgTest, IsTheWeightedMean) {
  FedAvg s(1.0, 1);
  auto agg = s.BeginAggregate(1, State(0, 0));
  ASSERT_TRUE(agg->Add({"a", 10, State(1, 0)}).ok());
  ASSERT_TRUE(agg->Add({"b", 30, State(5, 0)}).ok());
  EXPECT_FLOAT_EQ(agg->Finish({})->tensors[0].values[0], 4.0f);
}

TEST(FedProxTest, SendsMuToSites) {
  FedProx s(1.0, 1, 0.25);
  std::mt19937_64 rng(1);
  auto plan = s.ConfigureTrain(1, {{"a", 1, 0, {}}}, TrainConfig{}, 0.01, rng);
  ASSERT_EQ(plan.size(), 1u);
  EXPECT_DOUBLE_EQ(plan[0].config.fedprox_mu, 0.25);
}

TEST(FedAdamTest, CorruptStateIsRefused) {
  FedAdam s(1.0, 1, FedAdamParams{});
  EXPECT_EQ(s.LoadState("garbage").code(), StatusCode::kCorrupt);
}

}  // namespace
}  // namespace fedsmear
