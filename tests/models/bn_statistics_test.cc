// Pooling sites' batch-norm statistics (models/bn_statistics.h): the law of total variance, and
// refusal of statistics that do not fit the model.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "models/bn_statistics.h"

namespace fedsmear {
namespace {

NamedTensor Stat(const std::string& name, std::vector<float> v) {
  return {name, {static_cast<int64_t>(v.size())}, TensorKind::kStat, std::move(v)};
}

// A model with one BN layer of 2 channels (and a trainable tensor that pooling leaves alone).
ModelState Model(std::vector<float> mean, std::vector<float> var) {
  ModelState s;
  s.meta.arch = "bdn-tiny";
  s.tensors.push_back({"bn.weight", {2}, TensorKind::kFloat, {1, 1}});
  s.tensors.push_back(Stat("bn.running_mean", std::move(mean)));
  s.tensors.push_back(Stat("bn.running_var", std::move(var)));
  return s;
}

// Mean and population variance of xs.
std::pair<double, double> Moments(const std::vector<double>& xs) {
  double m = 0, v = 0;
  for (double x : xs) m += x / xs.size();
  for (double x : xs) v += (x - m) * (x - m) / xs.size();
  return {m, v};
}

TEST(BnStatisticsTest, PoolsMeansAndVariancesOfTheUnion) {
  const std::vector<double> a = {1, 2, 3, 4}, b = {10, 12};  // channel 0 at two sites
  auto [ma, va] = Moments(a);
  auto [mb, vb] = Moments(b);
  std::vector<double> all = a;
  all.insert(all.end(), b.begin(), b.end());
  auto [m, v] = Moments(all);
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

}  // namespace
}  // namespace fedsmear
