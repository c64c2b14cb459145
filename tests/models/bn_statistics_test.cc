// Pooling sites' batch-norm statistics (models/bn_statistics.h): the union's mean and the sites'
// average variance, and refusal of statistics that do not fit the model.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "models/bn_statistics.h"
#include "tests/models/bn_test_model.h"

namespace fedsmear {
namespace {

using testing_bn::Model;
using testing_bn::Stat;

// Mean and population variance of xs.
std::pair<double, double> Moments(const std::vector<double>& xs) {
  double m = 0, v = 0;
  for (double x : xs) m += x / xs.size();
  for (double x : xs) v += (x - m) * (x - m) / xs.size();
  return {m, v};
}

// The mean is the union's; the variance is the sites' own spread, averaged by images, not the
// union's, which adds the spread between the sites' means that no training batch held.
TEST(BnStatisticsTest, PoolsTheUnionsMeanAndTheSitesVariance) {
  const std::vector<double> a = {1, 2, 3, 4}, b = {10, 12};  // channel 0 at two sites
  auto [ma, va] = Moments(a);
  auto [mb, vb] = Moments(b);
  std::vector<double> all = a;
  all.insert(all.end(), b.begin(), b.end());
  auto [m, union_var] = Moments(all);
  const double v = (4 * va + 2 * vb) / 6;
  ASSERT_GT(union_var, 10 * v) << "the sites' means lie far apart";
  std::vector<SiteBnStatistics> sites = {
      {BatchNormStatisticsOf(Model({float(ma), 0}, {float(va), 1})), 4},
      {BatchNormStatisticsOf(Model({float(mb), 0}, {float(vb), 1})), 2}};
  EXPECT_EQ(sites[0].stats.tensors.size(), 2u) << "only running statistics travel";
  ModelState global = Model({0, 0}, {1, 1});
  ASSERT_TRUE(PoolBatchNormStatistics(sites, &global).ok());
  EXPECT_NEAR(global.Find("bn.running_mean")->values[0], m, 1e-5);
  EXPECT_NEAR(global.Find("bn.running_var")->values[0], v, 1e-4);
  // Channel 1: same mean everywhere, so the pooled variance is the sites' variance.
  EXPECT_NEAR(global.Find("bn.running_var")->values[1], 1.0, 1e-6);
  EXPECT_EQ(global.Find("bn.weight")->values, (std::vector<float>{1, 1}));
}

TEST(BnStatisticsTest, RefusesStatisticsThatDoNotFitAndWritesNothing) {
  const ModelState original = Model({5, 5}, {2, 2});
  auto refused = [&](std::vector<SiteBnStatistics> sites) {
    ModelState global = original;
    Status st = PoolBatchNormStatistics(sites, &global);
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(global.Find("bn.running_mean")->values, original.Find("bn.running_mean")->values);
    return st.message();
  };
  const ModelState good = BatchNormStatisticsOf(Model({1, 1}, {1, 1}));
  EXPECT_NE(refused({}).find("no site"), std::string::npos);
  EXPECT_NE(refused({{good, 0}}).find("no images"), std::string::npos);
  ModelState wrong_shape = good;
  wrong_shape.tensors[0].shape = {3};
  wrong_shape.tensors[0].values = {1, 1, 1};
  EXPECT_NE(refused({{good, 3}, {wrong_shape, 3}}).find("wrong shape"), std::string::npos);
  ModelState missing = good;
  missing.tensors.pop_back();
  EXPECT_NE(refused({{missing, 3}}).find("lack"), std::string::npos);
  ModelState nan = good;
  nan.tensors[1].values[0] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_NE(refused({{good, 3}, {nan, 3}}).find("not finite"), std::string::npos);
  ModelState negative = good;
  negative.tensors[1].values[1] = -1;
  EXPECT_NE(refused({{negative, 3}}).find("negative"), std::string::npos);
  EXPECT_TRUE(CheckBatchNormStatistics(good, original).ok());
  EXPECT_FALSE(CheckBatchNormStatistics(negative, original).ok());
}

// The moments relative to a reference (what secure rounds sum) pool to the same statistics as
// pooling the sites' statistics directly, whatever the reference, and in any layer scale.
TEST(BnStatisticsTest, MomentsPoolLikeTheStatisticsWhateverTheReference) {
  const std::vector<SiteBnStatistics> sites = {
      {BatchNormStatisticsOf(Model({2.5f, -300.f}, {1.25f, 9000.f})), 4},
      {BatchNormStatisticsOf(Model({10.f, -250.f}, {4.f, 12000.f})), 2},
      {BatchNormStatisticsOf(Model({0.f, -280.f}, {0.f, 7000.f})), 3}};
  ModelState want = Model({0, 0}, {1, 1});
  ASSERT_TRUE(PoolBatchNormStatistics(sites, &want).ok());
  for (const ModelState& reference :
       {Model({0, 0}, {1, 1}), Model({3, -290}, {2, 9500}), Model({-1, 40}, {-1e-6f, 0})}) {
    ASSERT_EQ(BnMomentCount(reference), 4u);
    std::vector<double> pooled(4, 0.0);
    for (const SiteBnStatistics& s : sites) {
      Result<std::vector<double>> m = BnMomentsOf(s.stats, reference);
      ASSERT_TRUE(m.ok()) << m.status();
      for (size_t k = 0; k < 4; ++k) pooled[k] += s.images / 9.0 * (*m)[k];
    }
    ModelState got = reference;
    ASSERT_TRUE(ApplyBnMoments(pooled, &got).ok());
    for (const char* name : {"bn.running_mean", "bn.running_var"}) {
      for (size_t c = 0; c < 2; ++c) {
        const float w = want.Find(name)->values[c];
        EXPECT_NEAR(got.Find(name)->values[c], w, 1e-5 * std::max(1.f, std::fabs(w)))
            << name << "[" << c << "]";
      }
    }
    // Normalised by a reference of the same scale, channel 1's moments (d at 1, e at 3: first
    // moments, then second ones) stay small although its variance is in the thousands.
    if (reference.Find("bn.running_var")->values[1] > 1000) {
      EXPECT_LT(std::fabs(pooled[1]), 1.0);
      EXPECT_LT(std::fabs(pooled[3]), 4.0);
    }
  }
}

TEST(BnStatisticsTest, ApplyRefusesMomentsThatDoNotFitAndWritesNothing) {
  const ModelState original = Model({5, 5}, {2, 2});
  ModelState global = original;
  EXPECT_EQ(ApplyBnMoments({0, 0, 1}, &global).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ApplyBnMoments({0, std::nan(""), 1, 1}, &global).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(global.Find("bn.running_mean")->values, original.Find("bn.running_mean")->values);
  // A pool whose second moment is below 0 (rounding, a lying site) gives variance 0, not < 0.
  ASSERT_TRUE(ApplyBnMoments({0, 0, -0.5, 1}, &global).ok());
  EXPECT_EQ(global.Find("bn.running_var")->values[0], 0.f);
}

}  // namespace
}  // namespace fedsmear
