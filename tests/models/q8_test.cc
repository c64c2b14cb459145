// The shared q8 block (models/q8.h): error bounds of both roundings, deltas against a
// reference, degenerate tensors and head validation. The uplink's unbiasedness over many draws
// is tested through the codec in codec_test.cc.
#include "models/q8.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

namespace fedsmear {
namespace {

std::vector<float> Ramp(int n, float lo, float hi) {
  std::vector<float> v(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) v[i] = lo + (hi - lo) * static_cast<float>(i) / (n - 1);
  return v;
}

std::vector<float> RoundTrip(const std::vector<float>& x, const float* ref, Q8Rounding r,
                             uint64_t seed, std::string* block = nullptr) {
  const int64_t n = static_cast<int64_t>(x.size());
  std::string b(Q8Bytes(n), '\0');
  EncodeQ8(x.data(), ref, n, r, seed, b.data());
  EXPECT_TRUE(Q8HeadValid(b.data()));
  std::vector<float> y(x.size());
  DecodeQ8(b.data(), ref, n, y.data());
  if (block) *block = b;
  return y;
}

float Head(const std::string& b, int at) {
  float f;
  std::memcpy(&f, b.data() + at, 4);
  return f;
}

TEST(Q8Test, NearestRoundingErrsByAtMostHalfAStepAndKeepsTheEnds) {
  const std::vector<float> x = Ramp(1000, -0.37f, 2.9f);
  const double step = (2.9 - -0.37) / 255;
  std::string block;
  const std::vector<float> y = RoundTrip(x, nullptr, Q8Rounding::kNearest, 0, &block);
  EXPECT_EQ(block.size(), 8u + 1000u);
  EXPECT_FLOAT_EQ(Head(block, 0), -0.37f);
  EXPECT_NEAR(Head(block, 4), step, 1e-7);
  double worst = 0;
  for (size_t i = 0; i < x.size(); ++i) worst = std::max(worst, std::fabs(double{y[i]} - x[i]));
  EXPECT_LE(worst, step / 2 * (1 + 1e-4));
  EXPECT_GT(worst, step / 4);  // a ramp of 1000 values does fall between grid points
  EXPECT_FLOAT_EQ(y.front(), -0.37f);
  EXPECT_NEAR(y.back(), 2.9f, 1e-5);
}

TEST(Q8Test, StochasticRoundingPicksANeighbourAndRepeatsForTheSameSeed) {
  const std::vector<float> x = Ramp(777, -1.f, 1.f);
  const double step = 2.0 / 255;
  const std::vector<float> a = RoundTrip(x, nullptr, Q8Rounding::kStochastic, 42);
  const std::vector<float> b = RoundTrip(x, nullptr, Q8Rounding::kStochastic, 42);
  const std::vector<float> c = RoundTrip(x, nullptr, Q8Rounding::kStochastic, 43);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  for (size_t i = 0; i < x.size(); ++i) EXPECT_LT(std::fabs(double{a[i]} - x[i]), step * 1.0001);
}

TEST(Q8Test, DeltasAgainstAReferenceQuantizeTheDifferenceOnly) {
  const std::vector<float> ref = Ramp(300, 10.f, 500.f);  // large values
  std::vector<float> x = ref;
  for (size_t i = 0; i < x.size(); ++i) x[i] += 0.001f * static_cast<float>(i % 7);  // small deltas
  const std::vector<float> y = RoundTrip(x, ref.data(), Q8Rounding::kNearest, 0);
  const double step = 0.006 / 255;
  for (size_t i = 0; i < x.size(); ++i) {
    // Relative to the reference's magnitude float32 itself rounds at ~3e-5; the grid is finer.
    EXPECT_NEAR(y[i], x[i], step / 2 + 6e-5) << i;
  }
}

TEST(Q8Test, ConstantEmptyAndNonFiniteTensors) {
  std::string block;
  const std::vector<float> same(50, 0.25f);
  EXPECT_EQ(RoundTrip(same, nullptr, Q8Rounding::kStochastic, 1, &block), same);
  EXPECT_EQ(Head(block, 4), 0.f);

  EXPECT_TRUE(RoundTrip({}, nullptr, Q8Rounding::kNearest, 0, &block).empty());
  EXPECT_EQ(block.size(), kQ8HeadBytes);

  // NaN or Inf anywhere: lo = NaN, so decoding yields NaN and the finiteness check refuses it.
  std::vector<float> bad = Ramp(10, 0.f, 1.f);
  bad[3] = std::numeric_limits<float>::infinity();
  const std::vector<float> y = RoundTrip(bad, nullptr, Q8Rounding::kNearest, 0, &block);
  EXPECT_TRUE(std::isnan(Head(block, 0)));
  for (float v : y) EXPECT_TRUE(std::isnan(v));
}

TEST(Q8Test, HeadValidationRefusesInfiniteOrNegativeRanges) {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  auto head = [](float lo, float step) {
    std::string b(kQ8HeadBytes, '\0');
    std::memcpy(b.data(), &lo, 4);
    std::memcpy(b.data() + 4, &step, 4);
    return Q8HeadValid(b.data());
  };
  EXPECT_TRUE(head(-3.f, 0.01f));
  EXPECT_TRUE(head(nan, 0.f));
  EXPECT_FALSE(head(inf, 0.01f));
  EXPECT_FALSE(head(-inf, 0.01f));
  EXPECT_FALSE(head(0.f, -0.01f));
  EXPECT_FALSE(head(0.f, nan));
  EXPECT_FALSE(head(0.f, inf));
}

}  // namespace
}  // namespace fedsmear
