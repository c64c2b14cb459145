#include "coordinator/strategies.h"
#include "coordinator/strategy_registry.h"
#include "coordinator/vote.h"
#include "models/codec.h"
#include "models/packed_model.h"

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

std::vector<std::string> RegisteredNames() {
  std::vector<std::string> names;
  for (const StrategyEntry& e : Strategies()) names.push_back(e.name);
  return names;
}

class AllStrategiesTest : public ::testing::TestWithParam<std::string> {};

TEST_P(AllStrategiesTest, ContractHolds) {
  auto made = MakeStrategy(ConfigFor(GetParam()));
  ASSERT_TRUE(made.ok()) << made.status();
  Strategy& s = **made;
  EXPECT_EQ(s.name(), GetParam());
  std::vector<SiteInfo> sites = {{"a", 10, 2, {}, {}}, {"b", 30, 0, {}, {}}, {"c", 20, 5, {}, {}}};
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

INSTANTIATE_TEST_SUITE_P(Registry, AllStrategiesTest, ::testing::ValuesIn(RegisteredNames()));

TEST(StrategyRegistryTest, NamesParametersAndErrors) {
  EXPECT_EQ(StrategyNameList(), "fedvote | fedavg | fedprox | fedadam | fedavgm");
  for (const StrategyEntry& e : Strategies()) {
    EXPECT_FALSE(e.help.empty()) << e.name;
    EXPECT_NE(StrategyHelp().find(e.name + ": " + e.help), std::string::npos) << e.name;
    EXPECT_EQ(FindStrategy(e.name), &e);
    for (const ParamSpec& p : e.params) {
      EXPECT_GE(p.default_value, p.min) << e.name << "." << p.key;
      EXPECT_LE(p.default_value, p.max) << e.name << "." << p.key;
      EXPECT_NE(StrategyHelp().find("strategy_params." + p.key), std::string::npos);
    }
  }
  CoordinatorConfig c = ConfigFor("fedsgd");
  Status unknown = CheckStrategyConfig(c);
  EXPECT_EQ(unknown.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(unknown.message().find("fedavg | fedprox"), std::string::npos) << unknown;
  c = ConfigFor("fedavg");
  c.strategy_params["momentum"] = 0.9;  // fedavgm's, not fedavg's
  EXPECT_NE(CheckStrategyConfig(c).message().find("fedavg takes no parameters"),
            std::string::npos);
  c = ConfigFor("fedavgm");
  c.strategy_params["momentun"] = 0.9;
  Status typo = CheckStrategyConfig(c);
  EXPECT_NE(typo.message().find("strategy_params.momentun"), std::string::npos) << typo;
  EXPECT_NE(typo.message().find("server_lr, momentum, latent_clip"), std::string::npos) << typo;
  c.strategy_params = {{"momentum", 1.5}};
  EXPECT_NE(CheckStrategyConfig(c).message().find("must be in [0, 0.999]"), std::string::npos);
  EXPECT_FALSE(MakeStrategy(c).ok());
  c.strategy_params = {{"momentum", 0.5}};
  EXPECT_TRUE(MakeStrategy(c).ok());
}

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
  auto plan = s.ConfigureTrain(1, {{"a", 1, 0, {}, {}}}, TrainConfig{}, 0.01, rng);
  ASSERT_EQ(plan.size(), 1u);
  EXPECT_DOUBLE_EQ(plan[0].config.fedprox_mu, 0.25);
}

// The config's registry choices: every registered strategy and codec passes, a typo names the
// registry's list.
TEST(StrategyRegistryTest, CodecChoicesComeFromTheCodecRegistries) {
  CoordinatorConfig c = ConfigFor("fedvote");
  for (const std::string& down : DownlinkCodecNames()) {
    for (const CodecSpec& up : AllCodecSpecs()) {
      c.codec_down = down;
      c.codec_up = CodecSpecName(up);
      EXPECT_TRUE(CheckRegisteredChoices(c).ok()) << down << " " << c.codec_up;
    }
  }
  c.codec_down = "sign2";
  Status down = CheckRegisteredChoices(c);
  EXPECT_NE(down.message().find("codec_down: 'sign2' is not one of f32 | f32+f16"),
            std::string::npos)
      << down;
  c.codec_down = "f32";
  c.codec_up = "sign1+f8";
  Status up = CheckRegisteredChoices(c);
  EXPECT_NE(up.message().find("q8_delta+q8"), std::string::npos) << up;
  EXPECT_EQ(UplinkCodecList().find("sign1"), 0u) << UplinkCodecList();
  c.codec_up = "sign1";  // a lone binary name is <name>+f32
  EXPECT_TRUE(CheckRegisteredChoices(c).ok());
  c.codec_up = "sign1+q8+zstd";  // a frame suffix
  EXPECT_TRUE(CheckRegisteredChoices(c).ok());
  EXPECT_NE(UplinkCodecList().find(", each also +zstd"), std::string::npos) << UplinkCodecList();
}

// fedvote's flip_share comes from strategy_params, 0.25 (a vote on changes) when absent.
TEST(StrategyRegistryTest, FedVoteTakesItsFlipShare) {
  CoordinatorConfig c = ConfigFor("fedvote");
  auto plain = MakeStrategy(c);
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_EQ(dynamic_cast<SignVoteStrategy&>(**plain).flip_share(), kDefaultFlipShare);
  c.strategy_params = {{"flip_share", 0.5}};
  auto majority = MakeStrategy(c);
  ASSERT_TRUE(majority.ok()) << majority.status();
  EXPECT_EQ(dynamic_cast<SignVoteStrategy&>(**majority).flip_share(), 0.5);
  c.strategy_params = {{"flip_share", 0.0}};
  EXPECT_NE(CheckStrategyConfig(c).message().find("strategy_params.flip_share: must be in"),
            std::string::npos);
}

// FedAvgM with momentum 0 and server_lr 1 is FedAvg; with momentum it keeps moving along the
// last rounds' mean deltas, and its velocity survives a save/load.
TEST(FedAvgMTest, ServerMomentumByHand) {
  CoordinatorConfig c = ConfigFor("fedavgm");
  c.strategy_params = {{"momentum", 0.0}, {"server_lr", 1.0}};
  auto plain = MakeStrategy(c);
  ASSERT_TRUE(plain.ok()) << plain.status();
  auto agg = (*plain)->BeginAggregate(1, State(0, 0));
  ASSERT_TRUE(agg->Add({"a", 10, State(1, 2)}).ok());
  ASSERT_TRUE(agg->Add({"b", 30, State(5, 6)}).ok());
  auto fedavg = agg->Finish({});
  ASSERT_TRUE(fedavg.ok()) << fedavg.status();
  EXPECT_FLOAT_EQ(fedavg->tensors[0].values[0], 4.0f);
  EXPECT_FLOAT_EQ(fedavg->tensors[1].values[0], 5.0f);

  c.strategy_params = {{"momentum", 0.5}, {"server_lr", 2.0}};
  auto m = MakeStrategy(c);
  ASSERT_TRUE(m.ok());
  ModelState global = State(1, 0);
  // Round 1: mean 3, delta 2: v = 2, w = 1 + 2 * 2 = 5. Statistics take the mean.
  auto round1 = (*m)->BeginAggregate(1, global);
  ASSERT_TRUE(round1->Add({"a", 1, State(3, 7)}).ok());
  global = *round1->Finish({});
  EXPECT_FLOAT_EQ(global.tensors[0].values[0], 5.0f);
  EXPECT_FLOAT_EQ(global.tensors[1].values[0], 7.0f);
  const std::string saved = (*m)->SaveState();
  // Round 2: mean 4, delta -1: v = 0.5 * 2 - 1 = 0, w stays 5.
  auto round2 = (*m)->BeginAggregate(2, global);
  ASSERT_TRUE(round2->Add({"a", 1, State(4, 7)}).ok());
  EXPECT_FLOAT_EQ(round2->Finish({})->tensors[0].values[0], 5.0f);
  // A restarted coordinator continues from the saved velocity: the same round 2.
  auto restarted = MakeStrategy(c);
  ASSERT_TRUE((*restarted)->LoadState(saved).ok());
  auto again = (*restarted)->BeginAggregate(2, global);
  ASSERT_TRUE(again->Add({"a", 1, State(4, 7)}).ok());
  EXPECT_FLOAT_EQ(again->Finish({})->tensors[0].values[0], 5.0f);
  // The state is little-endian with a version: 4 + 8 + 2 * (8 + 4) bytes, version 1 first.
  ASSERT_EQ(saved.size(), 36u);
  EXPECT_EQ(saved.substr(0, 4), std::string("\x01\0\0\0", 4));
  EXPECT_EQ((*restarted)->LoadState(saved.substr(0, 20)).code(), StatusCode::kCorrupt);
  EXPECT_EQ((*restarted)->LoadState(saved + "x").code(), StatusCode::kCorrupt);
  EXPECT_EQ((*restarted)->LoadState("\x02" + saved.substr(1)).code(), StatusCode::kCorrupt);
}

TEST(FedAdamTest, CorruptStateIsRefused) {
  FedAdam s(1.0, 1, FedAdamParams{});
  EXPECT_EQ(s.LoadState("garbage").code(), StatusCode::kCorrupt);
}

}  // namespace
}  // namespace fedsmear
