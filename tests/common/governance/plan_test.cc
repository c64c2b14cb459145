// Training plans: canonical bytes, hashes, parsing (common/governance/plan.h).
#include "common/governance/plan.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>

#include "tests/temp_dir.h"

namespace fedsmear {
namespace {

// The plan a coordinator makes (coordinator/run_plan.h RegisteredPlanFacts): a sign1 downlink's
// latent settings are in it.
TrainingPlan PlanOf(const CoordinatorConfig& c) {
  return MakePlan(c, PlanFacts{c.codec_down.rfind("sign1", 0) == 0});
}

std::string Write(const testing::TempDir& dir, const std::string& name, const std::string& text) {
  std::ofstream(dir.Sub(name)) << text;
  return dir.Sub(name);
}

TEST(PlanTest, SameSettingsGiveTheSameHashWhateverTheYamlOrder) {
  testing::TempDir dir("plan");
  auto a = LoadCoordinatorConfig(Write(dir, "a.yaml",
                                       "insecure: true\nrounds: 7\ncodec_up: sign1\n"
                                       "strategy: fedvote\ncodec_down: sign1+q8\n"
                                       "train: {local_epochs: 2, learning_rate: 0.003, "
                                       "batch_size: 16}\nmodel: {arch: bdn-tiny, classes: 8}\n"));
  auto b = LoadCoordinatorConfig(Write(dir, "b.yaml",
                                       "model:\n  classes: 8\n  arch: bdn-tiny\n"
                                       "train:\n  batch_size: 16\n  learning_rate: 3.0e-3\n"
                                       "  local_epochs: 2\ncodec_down: sign1+q8\n"
                                       "strategy: fedvote\ncodec_up: sign1\nrounds: 7\n"
                                       "insecure: true\nbind: tcp://0.0.0.0:9999\n"));
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(b.ok()) << b.status();
  const TrainingPlan pa = PlanOf(*a), pb = PlanOf(*b);
  EXPECT_EQ(pa.bytes, pb.bytes);  // bind is not part of what a site computes
  EXPECT_EQ(pa.hash, pb.hash);
  EXPECT_EQ(pa.hash.size(), 64u);
  EXPECT_EQ(pa.bytes.find(' '), std::string::npos) << "canonical: no whitespace";
}

TEST(PlanTest, EverySettingOfSubstanceChangesTheHash) {
  CoordinatorConfig c;
  const std::string base = PlanOf(c).hash;
  auto differs = [&](auto change) {
    CoordinatorConfig d;
    change(d);
    return PlanOf(d).hash != base;
  };
  EXPECT_TRUE(differs([](CoordinatorConfig& d) { d.train.local_epochs = 3; }));
  EXPECT_TRUE(differs([](CoordinatorConfig& d) { d.train.local_steps = 30; }));
  EXPECT_TRUE(differs([](CoordinatorConfig& d) { d.codec_up = "sign1"; }));
  EXPECT_TRUE(differs([](CoordinatorConfig& d) { d.codec_down = "f32+q8"; }));
  EXPECT_TRUE(differs([](CoordinatorConfig& d) { d.rounds = 11; }));
  EXPECT_TRUE(differs([](CoordinatorConfig& d) { d.federated_evaluation = false; }));
  EXPECT_TRUE(differs([](CoordinatorConfig& d) { d.model.arch = "bdn37"; }));
  EXPECT_TRUE(differs([](CoordinatorConfig& d) { d.preprocess.center_crop = 0.9; }));
  EXPECT_TRUE(differs([](CoordinatorConfig& d) { d.train.augment.rot90 = !d.train.augment.rot90; }));
  EXPECT_TRUE(differs([](CoordinatorConfig& d) { d.train.logit_adjustment = 0; }));
  EXPECT_TRUE(differs([](CoordinatorConfig& d) { d.secure_aggregation = SecureAggregation::kOff; }));
  EXPECT_FALSE(differs([](CoordinatorConfig& d) { d.round_deadline_s = 5; }));
  EXPECT_FALSE(differs([](CoordinatorConfig& d) { d.run_dir = "elsewhere"; }));
}

// `plan show`'s difference: one line per changed, added or removed setting, nothing for the
// same plan.
TEST(PlanTest, DifferenceNamesEachChangedSetting) {
  CoordinatorConfig c;
  const TrainingPlan before = PlanOf(c);
  EXPECT_EQ(PlanDifference(before, before), "");
  c.rounds = 12;
  c.train.batch_size = 64;
  const TrainingPlan after = PlanOf(c);
  const std::string diff = PlanDifference(before, after);
  EXPECT_NE(diff.find("rounds"), std::string::npos) << diff;
  EXPECT_NE(diff.find("-> 12"), std::string::npos) << diff;
  EXPECT_NE(diff.find("batch_size"), std::string::npos) << diff;
  EXPECT_NE(diff.find("-> 64"), std::string::npos) << diff;
  EXPECT_EQ(std::count(diff.begin(), diff.end(), '\n'), 2) << diff;
  c.secure_aggregation = SecureAggregation::kOff;  // the secure settings leave the plan
  const std::string gone = PlanDifference(after, PlanOf(c));
  EXPECT_NE(gone.find("  - "), std::string::npos) << gone;
}

TEST(PlanTest, ParseAcceptsOnlyCanonicalCompletePlans) {
  CoordinatorConfig c;
  c.model.class_names = {"a", "b", "c", "d", "e", "f", "g", "h"};
  const TrainingPlan plan = PlanOf(c);
  auto back = ParsePlan(plan.bytes);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->hash, plan.hash);
  EXPECT_EQ(back->doc, plan.doc);

  EXPECT_EQ(ParsePlan(plan.doc.dump(1)).status().code(), StatusCode::kCorrupt);  // whitespace
  EXPECT_EQ(ParsePlan("not json").status().code(), StatusCode::kCorrupt);
  nlohmann::json missing = plan.doc;
  missing["train"].erase("local_epochs");
  auto bad = ParsePlan(missing.dump());
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("train.local_epochs"), std::string::npos) << bad.status();
  nlohmann::json other = plan.doc;
  other["format"] = "fedsmear-plan/99";
  EXPECT_FALSE(ParsePlan(other.dump()).ok());
}

// Plans of runs without a step cap do not name local_steps, so their hashes stay what they were.
TEST(PlanTest, LocalStepsAppearOnlyWhenCapped) {
  CoordinatorConfig c;
  EXPECT_EQ(c.train.local_steps, kDefaultFederatedLocalSteps) << "federated rounds are capped";
  c.train.local_steps = 0;
  EXPECT_FALSE(PlanOf(c).doc["train"].contains("local_steps"));
  c.train.local_steps = 35;
  const TrainingPlan capped = PlanOf(c);
  ASSERT_TRUE(capped.doc["train"].contains("local_steps"));
  EXPECT_EQ(capped.doc["train"]["local_steps"].get<int>(), 35);
  auto back = ParsePlan(capped.bytes);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->hash, capped.hash);
}

TEST(PlanTest, DescriptionNamesTheHashAndSettings) {
  CoordinatorConfig c;
  const TrainingPlan plan = PlanOf(c);
  const std::string text = DescribePlan(plan);
  EXPECT_NE(text.find(plan.hash), std::string::npos);
  EXPECT_NE(text.find("local_epochs: 1"), std::string::npos) << text;
  EXPECT_NE(text.find("codec_up: " + c.codec_up), std::string::npos) << text;
}

}  // namespace
}  // namespace fedsmear
