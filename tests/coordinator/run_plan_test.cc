// The plan a coordinator runs under names its strategy's defaults (coordinator/run_plan.h).
#include "coordinator/run_plan.h"

#include <gtest/gtest.h>

#include "coordinator/vote.h"

namespace fedsmear {
namespace {

CoordinatorConfig VoteConfig() {
  CoordinatorConfig c;
  c.strategy = "fedvote";
  c.codec_down = "sign1+q8";
  c.codec_up = "sign1+q8";
  return c;
}

// A site that approves "fedvote" approves a flip rule: the plan names it even when the config
// leaves it to the default, and naming the default gives the same plan.
TEST(RunPlanTest, NamesTheStrategyDefaultsTheConfigLeavesOut) {
  const CoordinatorConfig implicit = VoteConfig();
  auto plan = MakeRunPlan(implicit);
  ASSERT_TRUE(plan.ok()) << plan.status();
  ASSERT_TRUE(plan->doc.contains("strategy_params")) << plan->bytes;
  EXPECT_EQ(plan->doc["strategy_params"]["flip_share"].get<double>(), kDefaultFlipShare);
  EXPECT_NE(plan->hash, MakePlan(implicit).hash) << "the bare config's plan hides the rule";

  CoordinatorConfig explicit_default = VoteConfig();
  explicit_default.strategy_params["flip_share"] = kDefaultFlipShare;
  auto same = MakeRunPlan(explicit_default);
  ASSERT_TRUE(same.ok()) << same.status();
  EXPECT_EQ(same->hash, plan->hash);
  EXPECT_EQ(same->hash, MakePlan(explicit_default).hash);

  CoordinatorConfig majority = VoteConfig();
  majority.strategy_params["flip_share"] = kMajorityFlipShare;
  auto other = MakeRunPlan(majority);
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_NE(other->hash, plan->hash) << "another flip rule needs another approval";
}

// Every parameter of a strategy is filled in; a strategy without parameters keeps the plan
// it had before, so its earlier approvals stay valid.
TEST(RunPlanTest, FillsEveryParameterAndLeavesParameterlessStrategiesAlone) {
  CoordinatorConfig m = VoteConfig();
  m.strategy = "fedavgm";
  m.codec_down = "f32";
  m.codec_up = "f32";
  m.strategy_params["momentum"] = 0.7;
  auto resolved = WithRegisteredDefaults(m);
  ASSERT_TRUE(resolved.ok()) << resolved.status();
  EXPECT_EQ(resolved->strategy_params.at("momentum"), 0.7);
  EXPECT_TRUE(resolved->strategy_params.count("server_lr"));
  EXPECT_TRUE(resolved->strategy_params.count("latent_clip"));

  CoordinatorConfig avg = m;
  avg.strategy = "fedavg";
  avg.strategy_params.clear();
  auto plain = MakeRunPlan(avg);
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_FALSE(plain->doc.contains("strategy_params"));
  EXPECT_EQ(plain->hash, MakePlan(avg).hash);
}

// A config the registries refuse gives no plan: `fedsmear plan show` reports the error
// instead of a hash no coordinator will run under.
TEST(RunPlanTest, RefusesWhatTheRegistriesRefuse) {
  CoordinatorConfig typo = VoteConfig();
  typo.strategy_params["flip"] = 0.3;
  auto plan = MakeRunPlan(typo);
  ASSERT_FALSE(plan.ok());
  EXPECT_NE(plan.status().message().find("strategy_params.flip"), std::string::npos)
      << plan.status();
  CoordinatorConfig codec = VoteConfig();
  codec.codec_up = "sign2";
  EXPECT_EQ(MakeRunPlan(codec).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace fedsmear
