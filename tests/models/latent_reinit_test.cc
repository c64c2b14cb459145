#include "models/latent_reinit.h"

#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>
#include <vector>

#include "tests/models/tiny_model_state.h"

namespace fedsmear {
namespace {

using testing::TinyModelState;

TEST(ReinitLatentTest, KeepsAgreeingMagnitudesAndRestartsFlips) {
  const float eps = 1e-3f;
  ModelState received = TinyModelState({0.4f, 0.4f, -0.4f, -0.4f}, 7.f, 8.f);
  ModelState site = TinyModelState({0.9f, -0.2f, -0.05f, 0.3f}, 1.f, 2.f);
  ReinitLatentFromSigns(received, &site, eps);
  EXPECT_EQ(site.tensors[0].values, (std::vector<float>{0.9f, eps, -0.05f, -eps}));
  EXPECT_EQ(site.tensors[1].values[0], 7.f);  // floats and statistics come from the global model
  EXPECT_EQ(site.tensors[2].values[0], 8.f);
  ASSERT_TRUE(CheckSameLayout(received, site).ok());
}

TEST(ReinitLatentTest, FirstRoundAndMismatchedTensorsStartAtEpsilon) {
  const float eps = 0.01f;
  ModelState received = TinyModelState({1.f, -1.f, 0.f, -2.f}, 7.f, 8.f);
  ModelState empty;
  ReinitLatentFromSigns(received, &empty, eps);
  EXPECT_EQ(empty.tensors[0].values, (std::vector<float>{eps, -eps, eps, -eps}));
  EXPECT_EQ(empty.meta.arch, "bdn-tiny");
  ModelState stale = TinyModelState({5.f, -5.f, 5.f, -5.f}, 0, 0);
  stale.tensors[0].values.resize(3);  // not the same tensor any more
  ReinitLatentFromSigns(received, &stale, eps);
  EXPECT_EQ(stale.tensors[0].values, (std::vector<float>{eps, -eps, eps, -eps}));
  ModelState nan_site = TinyModelState({std::nanf(""), -5.f, 5.f, -5.f}, 0, 0);
  ReinitLatentFromSigns(received, &nan_site, eps);
  EXPECT_EQ(nan_site.tensors[0].values, (std::vector<float>{eps, -5.f, 5.f, -5.f}));
  EXPECT_THROW(ReinitLatentFromSigns(received, &empty, 0.f), std::invalid_argument);
}

TEST(ReinitLatentTest, GlorotStartGivesStatelessWeightsAnInitialiserMagnitude) {
  // A [64, 128, 3, 3] kernel: fans 1152 and 576, std sqrt(2 / 1728), E|w| = std * sqrt(2 / pi).
  const double expected = std::sqrt(2.0 / 1728) * std::sqrt(2.0 / 3.14159265358979);
  EXPECT_NEAR(GlorotMeanMagnitude({64, 128, 3, 3}), expected, 1e-7);
  EXPECT_NEAR(GlorotMeanMagnitude({8, 4}), std::sqrt(2.0 / 12) * std::sqrt(2 / 3.14159265), 1e-7);
  EXPECT_GT(GlorotMeanMagnitude({5}), 0.f);
  EXPECT_EQ(GlorotMeanMagnitude({}), 0.f);
  EXPECT_EQ(GlorotMeanMagnitude({0, 0, 3, 3}), 0.f);

  const float eps = 1e-3f;
  const float m = GlorotMeanMagnitude({2, 2});
  ModelState received = TinyModelState({1.f, -1.f, 0.f, -2.f}, 7.f, 8.f);
  ModelState empty;
  ReinitLatentFromSigns(received, &empty, eps, FreshLatent::kGlorot);
  EXPECT_EQ(empty.tensors[0].values, (std::vector<float>{m, -m, m, -m}));
  // A site with state is unchanged by the choice: agreeing signs keep, flips restart at eps.
  ModelState site = TinyModelState({0.9f, 0.2f, -0.05f, 0.3f}, 1.f, 2.f);
  ReinitLatentFromSigns(received, &site, eps, FreshLatent::kGlorot);
  EXPECT_EQ(site.tensors[0].values, (std::vector<float>{0.9f, -eps, eps, -eps}));

  EXPECT_EQ(*ParseFreshLatent("glorot"), FreshLatent::kGlorot);
  EXPECT_EQ(*ParseFreshLatent("epsilon"), FreshLatent::kEpsilon);
  EXPECT_FALSE(ParseFreshLatent("Glorot").ok());
}

// latent_flip glorot: a weight the federation flipped restarts at the layer's initialiser
// magnitude instead of +-epsilon; agreeing weights keep the site's values either way, and the
// counts say which weights were which.
TEST(ReinitLatentTest, GlorotFlipGivesOverriddenWeightsAnInitialiserMagnitude) {
  const float eps = 1e-3f;
  const float m = GlorotMeanMagnitude({2, 2});
  ASSERT_GT(m, 100 * eps);
  const ModelState received = TinyModelState({0.4f, 0.4f, -0.4f, -0.4f}, 7.f, 8.f);
  ModelState site = TinyModelState({0.9f, -0.2f, -0.05f, 0.3f}, 1.f, 2.f);
  const LatentReinitCounts c =
      ReinitLatentFromSigns(received, &site, eps, FreshLatent::kEpsilon, FreshLatent::kGlorot);
  EXPECT_EQ(site.tensors[0].values, (std::vector<float>{0.9f, m, -0.05f, -m}));
  EXPECT_EQ(c.kept, 2);
  EXPECT_EQ(c.flipped, 2);
  EXPECT_EQ(c.fresh, 0);
  EXPECT_EQ(site.tensors[1].values[0], 7.f);

  // The first round counts as fresh and takes latent_start's magnitude, not latent_flip's.
  ModelState empty;
  const LatentReinitCounts first =
      ReinitLatentFromSigns(received, &empty, eps, FreshLatent::kEpsilon, FreshLatent::kGlorot);
  EXPECT_EQ(empty.tensors[0].values, (std::vector<float>{eps, eps, -eps, -eps}));
  EXPECT_EQ(first.fresh, 4);
  EXPECT_EQ(first.kept + first.flipped, 0);
}

TEST(ReinitLatentTest, CompareBinarySignsCountsDisagreementsOnBinaryTensorsOnly) {
  const ModelState a = TinyModelState({0.4f, 0.f, -0.4f, -0.4f}, 7.f, 8.f);
  const ModelState b = TinyModelState({1.f, -1e-6f, -1.f, 2.f}, -7.f, -8.f);
  const SignAgreement s = CompareBinarySigns(a, b);
  EXPECT_EQ(s.differ, 2);  // weight 1 (0 counts as +) and weight 3; floats are not counted
  EXPECT_EQ(s.total, 4);
  EXPECT_DOUBLE_EQ(s.share(), 0.5);
  ModelState other = b;
  other.tensors[0].values.resize(3);  // not the same tensor: skipped
  EXPECT_EQ(CompareBinarySigns(a, other).total, 0);
  EXPECT_DOUBLE_EQ(CompareBinarySigns(a, other).share(), 0.0);
}

}  // namespace
}  // namespace fedsmear
