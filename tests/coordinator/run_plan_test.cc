// The plan a coordinator runs under names its strategy's defaults (coordinator/run_plan.h).
#include "coordinator/run_plan.h"
#include "coordinator/strategy_registry.h"

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
  EXPECT_NE(plan->hash, MakePlan(implicit, RegisteredPlanFacts(implicit)).hash) << "the bare config's plan hides the rule";

  CoordinatorConfig explicit_default = VoteConfig();
  explicit_default.strategy_params["flip_share"] = kDefaultFlipShare;
  explicit_default.strategy_params["vote_momentum"] = 0.0;
  auto same = MakeRunPlan(explicit_default);
  ASSERT_TRUE(same.ok()) << same.status();
  EXPECT_EQ(same->hash, plan->hash);
  EXPECT_EQ(same->hash, MakePlan(explicit_default, RegisteredPlanFacts(explicit_default)).hash);

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
  EXPECT_EQ(plain->hash, MakePlan(avg, RegisteredPlanFacts(avg)).hash);
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

// Whatever a strategy reads is in the plan: every parameter of every registered strategy,
// defaults filled in, so no value a strategy acts on escapes the sites' approval.
TEST(RunPlanTest, EveryStrategyParameterIsInThePlan) {
  for (const StrategyEntry& entry : Strategies()) {
    CoordinatorConfig c = VoteConfig();
    c.strategy = entry.name;
    if (entry.name != "fedvote") c.codec_up = c.codec_down = "f32";
    auto plan = MakeRunPlan(c);
    ASSERT_TRUE(plan.ok()) << entry.name << ": " << plan.status();
    for (const ParamSpec& p : entry.params) {
      ASSERT_TRUE(plan->doc.contains("strategy_params")) << entry.name;
      EXPECT_TRUE(plan->doc["strategy_params"].contains(p.key)) << entry.name << "." << p.key;
    }
    if (entry.params.empty()) {
      EXPECT_FALSE(plan->doc.contains("strategy_params")) << entry.name;
    }
  }
}

// Top-level keys of older configs reach the strategy that declares them, and only it.
TEST(RunPlanTest, OlderTopLevelStrategyKeysStillLoad) {
  CoordinatorConfig c = VoteConfig();
  c.legacy_strategy_keys = {{"vote_momentum", 0.5}, {"server_lr", 0.3}};
  auto plan = MakeRunPlan(c);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->doc["strategy_params"]["vote_momentum"].get<double>(), 0.5);
  EXPECT_FALSE(plan->doc["strategy_params"].contains("server_lr")) << "fedvote has no server_lr";
  EXPECT_FALSE(plan->doc.contains("server_lr"));

  c.strategy_params["vote_momentum"] = 0.1;
  auto both = MakeRunPlan(c);
  ASSERT_FALSE(both.ok());
  EXPECT_NE(both.status().message().find("vote_momentum is given twice"), std::string::npos)
      << both.status();

  CoordinatorConfig adam = VoteConfig();
  adam.strategy = "fedadam";
  adam.codec_up = adam.codec_down = "f32";
  adam.legacy_strategy_keys = {{"server_lr", 0.03}};
  auto adam_plan = MakeRunPlan(adam);
  ASSERT_TRUE(adam_plan.ok()) << adam_plan.status();
  EXPECT_EQ(adam_plan->doc["strategy_params"]["server_lr"].get<double>(), 0.03);
}

}  // namespace
}  // namespace fedsmear
