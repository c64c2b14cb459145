// Plan approval and task admission at a site (client/site_plan.h).
#include "client/site_plan.h"

#include <gtest/gtest.h>

#include <sstream>

#include "common/file_util.h"
#include "models/bn_statistics.h"
#include "tests/temp_dir.h"

namespace fedsmear {
namespace {

// The plan a coordinator makes (coordinator/run_plan.h RegisteredPlanFacts): a sign1 downlink's
// latent settings are in it.
TrainingPlan PlanOf(const CoordinatorConfig& c) {
  return MakePlan(c, PlanFacts{c.codec_down.rfind("sign1", 0) == 0});
}

CoordinatorConfig Coordinator() {
  CoordinatorConfig c;
  c.model = {"bdn-tiny", 3, 32, {"a", "b", "c"}, ""};
  c.train.local_epochs = 2;
  c.rounds = 5;
  // Float FedAvg in plain rounds, so that a model arriving as sign1 is outside the plan (the
  // defaults are 1-bit and secure); the secure checks have their own tests.
  c.secure_aggregation = SecureAggregation::kOff;
  c.strategy = "fedavg";
  c.codec_down = "f32";
  c.codec_up = "f32";
  return c;
}

// The task a coordinator with config `c` sends in `round` (as round.cc builds it).
wire::TrainTask TaskFor(const CoordinatorConfig& c, uint32_t round) {
  wire::TrainTask t;
  t.round = round;
  t.task_id = 7;
  t.arch = c.model.arch;
  t.num_classes = 3;
  t.input_size = 32;
  t.class_names = c.model.class_names;
  t.train = c.train;
  t.model.codec = c.codec_down;
  t.codec_up = c.codec_up;
  t.latent_epsilon = c.latent_epsilon;
  t.latent_start = c.latent_start;
  t.latent_flip = c.latent_flip;
  return t;
}

TEST(SitePlanCheckTest, TaskInsideThePlanIsAdmitted) {
  const CoordinatorConfig c = Coordinator();
  const TrainingPlan plan = PlanOf(c);
  EXPECT_EQ(CheckTrainTask(plan, TaskFor(c, 1)), "");
  wire::TrainTask later = TaskFor(c, 5);
  later.train.learning_rate = c.train.learning_rate / 10;  // the cosine schedule decays it
  EXPECT_EQ(CheckTrainTask(plan, later), "");
  wire::TrainTask fewer = TaskFor(c, 2);
  fewer.train.local_epochs = 1;
  EXPECT_EQ(CheckTrainTask(plan, fewer), "");
}

// A plan without a step cap admits a capped task (less work); a plan with one admits at most it.
TEST(SitePlanCheckTest, LocalStepsStayWithinThePlansCap) {
  CoordinatorConfig c = Coordinator();
  c.train.local_steps = 0;  // an uncapped plan
  wire::TrainTask capped = TaskFor(c, 1);
  capped.train.local_steps = 50;
  EXPECT_EQ(CheckTrainTask(PlanOf(c), capped), "");

  c.train.local_steps = 40;
  const TrainingPlan plan = PlanOf(c);
  EXPECT_EQ(CheckTrainTask(plan, TaskFor(c, 1)), "");
  wire::TrainTask fewer = TaskFor(c, 1);
  fewer.train.local_steps = 10;
  EXPECT_EQ(CheckTrainTask(plan, fewer), "");
  wire::TrainTask more = TaskFor(c, 1);
  more.train.local_steps = 41;
  EXPECT_NE(CheckTrainTask(plan, more).find("41 local steps; the plan allows 40"),
            std::string::npos);
  wire::TrainTask uncapped = TaskFor(c, 1);
  uncapped.train.local_steps = 0;
  EXPECT_NE(CheckTrainTask(plan, uncapped).find("uncapped local steps"), std::string::npos);
}

// Whether sites keep optimizer state between rounds is the plan's: a task cannot change it, and
// plans that do not name it (made before the setting) meant a fresh optimizer.
TEST(SitePlanCheckTest, OptimizerStateIsThePlans) {
  CoordinatorConfig c = Coordinator();
  EXPECT_EQ(c.train.optimizer_state, kDefaultOptimizerState);
  c.train.optimizer_state = OptimizerStateMode::kFresh;
  const TrainingPlan fresh = PlanOf(c);
  EXPECT_FALSE(fresh.doc["train"].contains("optimizer_state")) << "older plan hashes stay";
  wire::TrainTask keep = TaskFor(c, 1);
  keep.train.optimizer_state = OptimizerStateMode::kKeep;
  EXPECT_NE(CheckTrainTask(fresh, keep).find("optimizer state 'keep'; the plan says 'fresh'"),
            std::string::npos);
  c.train.optimizer_state = OptimizerStateMode::kKeep;
  const TrainingPlan keeping = PlanOf(c);
  EXPECT_EQ(keeping.doc["train"]["optimizer_state"], "keep");
  EXPECT_EQ(CheckTrainTask(keeping, keep), "");
  wire::TrainTask scale = TaskFor(c, 1);
  scale.train.optimizer_state = OptimizerStateMode::kKeepScale;
  EXPECT_NE(CheckTrainTask(keeping, scale), "");
}

// Under a sign1 downlink, how a site restarts a flipped weight is the plan's; plans that do not
// name it (made before the setting) meant epsilon.
TEST(SitePlanCheckTest, LatentFlipIsThePlans) {
  CoordinatorConfig c = Coordinator();
  c.codec_down = "sign1+q8";
  c.codec_up = "sign1+q8";
  c.strategy = "fedvote";
  c.latent_flip = FreshLatent::kEpsilon;
  const TrainingPlan old = PlanOf(c);
  EXPECT_FALSE(old.doc.contains("latent_flip")) << "older plan hashes stay";
  EXPECT_EQ(CheckTrainTask(old, TaskFor(c, 1)), "");
  wire::TrainTask glorot = TaskFor(c, 1);
  glorot.latent_flip = FreshLatent::kGlorot;
  EXPECT_NE(CheckTrainTask(old, glorot).find("latent_flip 'glorot' is not the plan's 'epsilon'"),
            std::string::npos);
  c.latent_flip = FreshLatent::kGlorot;
  const TrainingPlan plan = PlanOf(c);
  EXPECT_EQ(plan.doc["latent_flip"], "glorot");
  EXPECT_EQ(CheckTrainTask(plan, glorot), "");
  wire::TrainTask epsilon = TaskFor(c, 1);
  epsilon.latent_flip = FreshLatent::kEpsilon;
  EXPECT_NE(CheckTrainTask(plan, epsilon).find("latent_flip 'epsilon' is not the plan's 'glorot'"),
            std::string::npos);
}

// The pooled class prior rides only under a plan whose logit adjustment targets it.
TEST(SitePlanCheckTest, PooledPriorNeedsAPooledPlan) {
  CoordinatorConfig c = Coordinator();
  wire::TrainTask task = TaskFor(c, 1);
  task.class_prior = {0.5, 0.25, 0.25};
  EXPECT_EQ(CheckTrainTask(PlanOf(c), task), "");
  c.train.logit_adjustment_prior = LogitPrior::kBalanced;
  EXPECT_NE(CheckTrainTask(PlanOf(c), task).find("pooled class prior"), std::string::npos);
  task.class_prior.clear();
  EXPECT_EQ(CheckTrainTask(PlanOf(c), task), "");
}

TEST(SitePlanCheckTest, TaskOutsideThePlanIsRefusedWithTheReason) {
  const CoordinatorConfig c = Coordinator();
  const TrainingPlan plan = PlanOf(c);
  auto refused = [&](auto change, const std::string& words) {
    wire::TrainTask t = TaskFor(c, 2);
    change(t);
    const std::string why = CheckTrainTask(plan, t);
    EXPECT_NE(why.find(words), std::string::npos) << "'" << why << "' lacks '" << words << "'";
  };
  refused([](wire::TrainTask& t) { t.codec_up = "sign1"; }, "uplink codec sign1");
  refused([](wire::TrainTask& t) { t.train.local_epochs = 3; }, "3 local epochs");
  refused([](wire::TrainTask& t) { t.train.learning_rate = 1.0; }, "learning rate");
  refused([](wire::TrainTask& t) { t.train.optimizer = Optimizer::kSgd; }, "optimizer 'sgd'");
  refused([](wire::TrainTask& t) { t.train.batch_size = 8; }, "batch size");
  refused([](wire::TrainTask& t) { t.train.augment.cutmix = 0.5; }, "augmentation");
  refused([](wire::TrainTask& t) { t.model.codec = "sign1+q8"; }, "downlink");
  refused([](wire::TrainTask& t) { t.arch = "bdn28"; }, "bdn28");
  refused([](wire::TrainTask& t) { t.round = 6; }, "beyond the plan's 5 rounds");
  refused([](wire::TrainTask& t) { t.secure_aggregation = true; }, "secure aggregation");
}

TEST(SitePlanCheckTest, PlainTaskIsRefusedWhenThePlanIsSecure) {
  CoordinatorConfig c = Coordinator();
  c.secure_aggregation = SecureAggregation::kSecAggPlus;
  const TrainingPlan plan = PlanOf(c);
  wire::TrainTask t = TaskFor(c, 1);
  EXPECT_NE(CheckTrainTask(plan, t).find("plain update"), std::string::npos);
  t.secure_aggregation = true;
  EXPECT_EQ(CheckTrainTask(plan, t), "");
  wire::SecAggSetup setup;
  setup.round = 1;
  setup.clip = c.secagg_clip;
  setup.stat_clip = c.secagg_stat_clip;
  EXPECT_EQ(CheckSecAggSetup(plan, setup), "");
  setup.clip = 100;
  EXPECT_NE(CheckSecAggSetup(plan, setup), "");
  EXPECT_NE(CheckSecAggSetup(PlanOf(Coordinator()), setup), "");  // plan without secagg
}

// An evaluation task of round 1 for the model `c` describes.
wire::EvaluateTask EvaluateTaskFor(const CoordinatorConfig& c) {
  wire::EvaluateTask e;
  e.round = 1;
  e.arch = c.model.arch;
  e.num_classes = 3;
  e.input_size = 32;
  return e;
}

TEST(SitePlanCheckTest, EvaluationNeedsFederatedEvaluationInThePlan) {
  CoordinatorConfig c = Coordinator();
  wire::EvaluateTask e = EvaluateTaskFor(c);
  EXPECT_EQ(CheckEvaluateTask(PlanOf(c), e), "");
  c.federated_evaluation = false;
  EXPECT_NE(CheckEvaluateTask(PlanOf(c), e), "");
}

// A site hands out batch-norm statistics of its images only as far as the approved plan says.
TEST(SitePlanCheckTest, BatchNormStatisticsOnlyAsThePlanAllows) {
  CoordinatorConfig c = Coordinator();
  wire::EvaluateTask e = EvaluateTaskFor(c);
  e.bn_calibration_images = 256;
  e.bn_calibration_batch = 32;
  c.bn_recalibration_images = 0;
  EXPECT_NE(CheckEvaluateTask(PlanOf(c), e).find("plan allows 0"), std::string::npos);
  c.bn_recalibration_images = 128;
  EXPECT_NE(CheckEvaluateTask(PlanOf(c), e), "");
  c.bn_recalibration_images = 256;
  EXPECT_EQ(CheckEvaluateTask(PlanOf(c), e), "");
  // Recalibration alone (no federated evaluation in the plan) is still allowed.
  c.federated_evaluation = false;
  EXPECT_EQ(CheckEvaluateTask(PlanOf(c), e), "");
  e.bn_calibration_images = 0;
  EXPECT_NE(CheckEvaluateTask(PlanOf(c), e), "");
  // Under SecAgg+ they never travel in the clear: only into the task's secure session.
  c.federated_evaluation = true;
  c.secure_aggregation = SecureAggregation::kSecAggPlus;
  e.bn_calibration_images = 256;
  EXPECT_NE(CheckEvaluateTask(PlanOf(c), e).find("unmasked"), std::string::npos);
  e.secure_aggregation = true;
  EXPECT_EQ(CheckEvaluateTask(PlanOf(c), e), "");
  // And a plain plan has no secure sessions to put them in.
  c.secure_aggregation = SecureAggregation::kOff;
  EXPECT_NE(CheckEvaluateTask(PlanOf(c), e).find("secure aggregation"), std::string::npos);
}

// The statistics' own secure session: as many images per site as the plan recalibrates with, at
// the protocol's clip for normalised moments, never in a plan without recalibration.
TEST(SitePlanCheckTest, BatchNormSessionStaysInsideThePlan) {
  CoordinatorConfig c = Coordinator();
  c.secure_aggregation = SecureAggregation::kSecAggPlus;
  c.bn_recalibration_images = 256;
  wire::SecAggSetup setup;
  setup.round = 1;
  setup.purpose = wire::SecAggPurpose::kBnStatistics;
  setup.weight_cap = 256;
  setup.clip = kBnMomentClip;
  setup.stat_clip = kBnMomentClip;
  EXPECT_EQ(CheckSecAggSetup(PlanOf(c), setup), "");
  setup.weight_cap = 257;
  EXPECT_NE(CheckSecAggSetup(PlanOf(c), setup).find("plan allows 256"), std::string::npos);
  setup.weight_cap = 256;
  setup.clip = c.secagg_clip;  // the training clip is not the moments'
  EXPECT_NE(CheckSecAggSetup(PlanOf(c), setup).find("clip"), std::string::npos);
  setup.clip = kBnMomentClip;
  c.bn_recalibration_images = 0;
  EXPECT_NE(CheckSecAggSetup(PlanOf(c), setup).find("does not recalibrate"), std::string::npos);
}

class SiteGovernanceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    config_.site_id = "site-1";
    config_.state_dir = dir_.Sub("state");
  }
  static wire::Welcome WelcomeFor(const TrainingPlan& plan) {
    wire::Welcome w;
    w.accepted = true;
    w.run_id = "run-1";
    w.plan = plan.bytes;
    w.plan_hash = plan.hash;
    return w;
  }
  testing::TempDir dir_{"site-plan"};
  ClientConfig config_;
};

TEST_F(SiteGovernanceTest, UnapprovedPlanIsRefusedUntilApproved) {
  auto g = SiteGovernance::Create(config_, "");
  ASSERT_TRUE(g.ok()) << g.status();
  const CoordinatorConfig c = Coordinator();
  const TrainingPlan plan = PlanOf(c);
  const std::string why = (*g)->OnWelcome(WelcomeFor(plan));
  EXPECT_NE(why.find(plan.hash), std::string::npos) << why;
  EXPECT_NE(why.find("plan approve " + plan.hash), std::string::npos) << why;
  EXPECT_NE((*g)->Admit(TaskFor(c, 1)), "");

  // `plan show` prints the pending plan; `plan approve` of another hash is refused.
  std::ostringstream shown;
  ASSERT_TRUE(ShowPendingPlan(config_, false, shown).ok());
  EXPECT_NE(shown.str().find("NOT approved"), std::string::npos) << shown.str();
  std::ostringstream out;
  EXPECT_FALSE(ApprovePendingPlan(config_, std::string(64, 'b'), out).ok());
  ASSERT_TRUE(ApprovePendingPlan(config_, plan.hash, out).ok());
  EXPECT_EQ((*g)->Admit(TaskFor(c, 2)), "");  // re-read at the next task
  wire::TrainTask outside = TaskFor(c, 2);
  outside.train.local_epochs = 9;
  EXPECT_NE((*g)->Admit(outside).find("outside the approved training plan"), std::string::npos);

  // A changed plan needs its own approval.
  CoordinatorConfig changed = c;
  changed.train.local_epochs = 4;
  const TrainingPlan next = PlanOf(changed);
  EXPECT_NE((*g)->OnWelcome(WelcomeFor(next)).find(next.hash), std::string::npos);
  EXPECT_NE((*g)->Admit(TaskFor(changed, 1)), "");
  // `plan show` names what changed since the plan approved last: one setting here.
  std::ostringstream changes;
  ASSERT_TRUE(ShowPendingPlan(config_, false, changes).ok());
  EXPECT_NE(changes.str().find("changed since the plan this site approved last (" + plan.hash),
            std::string::npos)
      << changes.str();
  EXPECT_NE(changes.str().find("local_epochs: 2 -> 4"), std::string::npos) << changes.str();

  // Everything is in the site's audit log, and the chain holds.
  auto s = VerifyAudit(AuditFiles(SiteAuditLogPath(config_)));
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->chain_ok) << FormatAuditSummary(*s);
  EXPECT_EQ(s->kinds["plan_received"], 2u);
  EXPECT_EQ(s->kinds["plan_approved"], 1u);
  EXPECT_EQ(s->kinds["task_received"], 4u);
  EXPECT_EQ(s->plans.count(next.hash), 1u);
}

TEST_F(SiteGovernanceTest, ApprovedPlansFileAndCorruptPlans) {
  const TrainingPlan plan = PlanOf(Coordinator());
  config_.approved_plans = dir_.Sub("cm/approved_plans");
  ASSERT_TRUE(
      AppendApprovedPlan(config_.approved_plans, plan.hash, "from configuration management").ok());
  auto g = SiteGovernance::Create(config_, "");
  ASSERT_TRUE(g.ok());
  EXPECT_EQ((*g)->OnWelcome(WelcomeFor(plan)), "");
  wire::Welcome forged = WelcomeFor(plan);
  forged.plan_hash = std::string(64, 'c');
  EXPECT_NE((*g)->OnWelcome(forged).find("unusable"), std::string::npos);
  EXPECT_NE((*g)->Admit(TaskFor(Coordinator(), 1)), "");

  ASSERT_TRUE(WriteFileAtomic(config_.approved_plans, "not-a-hash\n").ok());
  EXPECT_FALSE(ReadApprovedPlans(config_.approved_plans).ok());
}

TEST_F(SiteGovernanceTest, ApprovalRequiredNeedsAPlaceForApprovals) {
  config_.state_dir.clear();
  EXPECT_FALSE(SiteGovernance::Create(config_, "").ok());
  config_.policy.require_plan_approval = false;
  auto g = SiteGovernance::Create(config_, "");
  ASSERT_TRUE(g.ok());
  const CoordinatorConfig c = Coordinator();
  EXPECT_EQ((*g)->OnWelcome(WelcomeFor(PlanOf(c))), "");
  wire::TrainTask outside = TaskFor(c, 1);
  outside.codec_up = "q8_delta";
  EXPECT_NE((*g)->Admit(outside), "");  // the published plan still bounds every task
}

}  // namespace
}  // namespace fedsmear
