// Batch-norm statistics under SecAgg+ (wire::SecAggPurpose::kBnStatistics): the quantized moments
// of the sites sum to the pooled statistics a plain round would compute, the session's purpose is
// part of the signed transcript, and each purpose is summed at most once per round.
#include <gtest/gtest.h>

#include <cmath>

#include "common/sha256.h"
#include "models/bn_statistics.h"
#include "secagg/quantize.h"
#include "secagg/session_ledger.h"
#include "secagg/site_secagg.h"
#include "secagg/site_policy.h"
#include "secagg/site_secagg_wire.h"
#include "tests/models/bn_test_model.h"

namespace fedsmear {
namespace {

using testing_bn::Model;
using testing_bn::Stat;

wire::SecAggSetup BnSetup(const std::vector<uint64_t>& weights, uint64_t cap) {
  wire::SecAggSetup s;
  s.round = 4;
  s.task_id = 77;
  s.purpose = wire::SecAggPurpose::kBnStatistics;
  for (size_t i = 0; i < weights.size(); ++i) {
    s.sites.push_back({"site-" + std::to_string(i + 1), static_cast<uint32_t>(i + 1),
                       std::string(32, 'k'), 0, weights[i]});
    s.total_weight += weights[i];
  }
  s.weight_cap = cap;
  s.threshold = 2;
  s.neighbours = 2;
  s.mask_bits = 32;
  s.graph_seed = std::string(32, '\x01');
  s.clip = kBnMomentClip;
  s.stat_clip = kBnMomentClip;
  s.vector_length = 4;
  return s;
}

// Three sites' statistics of one reference model, quantized and summed as the masks would
// leave them, decode to the pooled statistics of a plain round.
TEST(BnSessionTest, QuantizedMomentsSumToThePooledStatistics) {
  const ModelState reference = Model({1.f, -200.f}, {2.f, 5000.f});
  const std::vector<ModelState> stats = {
      BatchNormStatisticsOf(Model({1.5f, -180.f}, {2.5f, 4000.f})),
      BatchNormStatisticsOf(Model({0.2f, -230.f}, {1.0f, 6500.f})),
      BatchNormStatisticsOf(Model({3.0f, -190.f}, {0.5f, 5200.f}))};
  const std::vector<uint64_t> images = {256, 100, 256};
  const wire::SecAggSetup setup = BnSetup(images, 256);
  std::vector<uint32_t> sum(4, 0);
  // A site keeps only the received model's statistics as the reference (client/site_tasks.cc).
  const ModelState reference_stats = BatchNormStatisticsOf(reference);
  for (size_t i = 0; i < stats.size(); ++i) {
    size_t clipped = 99;
    Result<std::vector<uint32_t>> q =
        QuantizeBnMoments(stats[i], reference_stats, images[i], setup, 1000 + i, &clipped);
    ASSERT_TRUE(q.ok()) << q.status();
    EXPECT_EQ(clipped, 0u);
    ASSERT_EQ(q->size(), 4u);
    for (size_t k = 0; k < 4; ++k) sum[k] += (*q)[k];  // masks cancel in the modular sum
  }
  const secagg::QuantizationParams params{kBnMomentClip, 32, 3};
  Result<std::vector<float>> mean = secagg::DequantizeMean(sum, params, 3);
  ASSERT_TRUE(mean.ok()) << mean.status();
  std::vector<double> pooled(4);
  for (size_t k = 0; k < 4; ++k) pooled[k] = 3.0 * (*mean)[k];  // all survived: W_S = W
  ModelState secure = reference;
  ASSERT_TRUE(ApplyBnMoments(pooled, &secure).ok());

  std::vector<SiteBnStatistics> plain_sites;
  for (size_t i = 0; i < stats.size(); ++i) {
    plain_sites.push_back({stats[i], static_cast<int64_t>(images[i])});
  }
  ModelState plain = reference;
  ASSERT_TRUE(PoolBatchNormStatistics(plain_sites, &plain).ok());
  for (const char* name : {"bn.running_mean", "bn.running_var"}) {
    for (size_t c = 0; c < 2; ++c) {
      const float want = plain.Find(name)->values[c];
      EXPECT_NEAR(secure.Find(name)->values[c], want, 1e-4 * std::max(1.f, std::fabs(want)))
          << name << "[" << c << "]";
    }
  }
}

// A site whose statistics lie far from the reference's (a variance 10^4 times the model's) has
// its second moment clipped, and says how many values were.
TEST(BnSessionTest, MomentsBeyondTheClipAreCounted) {
  const ModelState reference = Model({0.f, 0.f}, {1.f, 1.f});
  const ModelState stats = BatchNormStatisticsOf(Model({1.f, 0.5f}, {1e4f, 2.f}));
  const wire::SecAggSetup setup = BnSetup({10, 10}, 256);  // each site sends half its moments
  size_t clipped = 0;
  ASSERT_TRUE(QuantizeBnMoments(stats, reference, 10, setup, 1, &clipped).ok());
  EXPECT_EQ(clipped, 1u);  // e = 10^4 / (1 + 1e-3), halved: beyond 1024; the rest are small
}

TEST(BnSessionTest, MomentsGoOnlyIntoAStatisticsSessionOfTheirLength) {
  const ModelState reference = Model({0, 0}, {1, 1});
  const ModelState stats = BatchNormStatisticsOf(Model({1, 1}, {1, 1}));
  wire::SecAggSetup training = BnSetup({10, 10, 10}, 256);
  training.purpose = wire::SecAggPurpose::kTraining;
  EXPECT_FALSE(QuantizeBnMoments(stats, reference, 10, training, 1).ok());
  wire::SecAggSetup longer = BnSetup({10, 10, 10}, 256);
  longer.vector_length = 6;
  EXPECT_FALSE(QuantizeBnMoments(stats, reference, 10, longer, 1).ok());
  ModelState foreign = stats;
  foreign.tensors.pop_back();
  EXPECT_FALSE(QuantizeBnMoments(foreign, reference, 10, BnSetup({10, 10, 10}, 256), 1).ok());
}

// A training setup and a statistics setup that agree everywhere else are different transcripts:
// a site's signatures for one are no use in the other.
TEST(BnSessionTest, ThePurposeIsPartOfTheTranscript) {
  wire::SecAggSetup bn = BnSetup({10, 10, 10}, 256);
  wire::SecAggSetup training = bn;
  training.purpose = wire::SecAggPurpose::kTraining;
  EXPECT_NE(SetupTranscript(bn, "run-1"), SetupTranscript(training, "run-1"));
}

// The task's model is bound into the session: a site refuses a task whose model is not the one
// the setup (and so every peer's signed transcript) names. Attack: a coordinator hands the victim
// the real model and its peers one with huge batch-norm variances, which shrink the peers'
// normalised moments to about nothing, and reads the victim's statistics from the sum.
TEST(BnSessionTest, MaliciousPerSiteModelIsRefusedAndTheHashIsInTheTranscript) {
  wire::SecAggSetup setup = BnSetup({10, 10, 10}, 256);
  const std::string model = "the model blob every site gets";
  const Digest256 digest = Sha256Of(model);
  setup.model_sha256 = std::string(reinterpret_cast<const char*>(digest.data()), digest.size());
  EXPECT_TRUE(CheckSessionModel(setup, model).ok());
  Status other = CheckSessionModel(setup, "a model made for one site");
  EXPECT_EQ(other.code(), StatusCode::kPermissionDenied);
  EXPECT_NE(other.message().find("model_sha256"), std::string::npos) << other;
  EXPECT_FALSE(CheckSessionModel(wire::SecAggSetup{}, model).ok()) << "no hash, no input";
  wire::SecAggSetup another = setup;
  another.model_sha256[0] ^= 1;
  EXPECT_NE(SetupTranscript(setup, "run-1"), SetupTranscript(another, "run-1"));
}

// A site masks one training input and one statistics input per round, never a second of either.
TEST(BnSessionTest, EachPurposeIsSummedOncePerRound) {
  using P = wire::SecAggPurpose;
  SessionLedger ledger;
  ASSERT_TRUE(ledger.Admit("run-1", 3, P::kTraining, 10).ok());
  ledger.Masked("run-1", 3, P::kTraining);
  Status again = ledger.Admit("run-1", 3, P::kTraining, 11);
  EXPECT_EQ(again.code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(again.message().rfind(kRoundSpentRefusal, 0), 0u) << again;
  ASSERT_TRUE(ledger.Admit("run-1", 3, P::kBnStatistics, 12).ok());
  ledger.Masked("run-1", 3, P::kBnStatistics);
  Status second = ledger.Admit("run-1", 3, P::kBnStatistics, 13);
  EXPECT_EQ(second.code(), StatusCode::kPermissionDenied);
  EXPECT_NE(second.message().find("batch-norm"), std::string::npos) << second;
  // Task ids stay single-use across purposes.
  EXPECT_FALSE(ledger.Admit("run-1", 4, P::kBnStatistics, 10).ok());
  EXPECT_TRUE(ledger.Admit("run-1", 4, P::kBnStatistics, 14).ok());
}

}  // namespace
}  // namespace fedsmear
