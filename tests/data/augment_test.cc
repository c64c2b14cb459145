#include "data/augment.h"

#include <gtest/gtest.h>

#include <numeric>

#include "tests/data/test_util.h"

namespace fedsmear {
namespace {

AugmentConfig Everything() {
  AugmentConfig a;
  a.hflip = a.vflip = a.rot90 = true;
  a.rotate_deg = 30;
  a.zoom = 0.2;
  a.translate = 0.1;
  a.brightness = 0.2;
  a.contrast = 0.3;
  a.hue = 0.1;
  return a;
}

cv::Mat RgbPattern() {
  cv::Mat bgr = testing::Pattern(32, 32);
  cv::Mat rgb;
  cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
  return rgb;
}

TEST(AugmentTest, PreservesShapeAndIsDeterministic) {
  Augmenter aug(Everything());
  ASSERT_TRUE(aug.enabled());
  const cv::Mat base = RgbPattern();
  int changed = 0;
  for (uint32_t seed = 0; seed < 20; ++seed) {
    cv::Mat a = base.clone(), b = base.clone();
    std::mt19937 r1(seed), r2(seed);
    aug.Apply(&a, r1);
    aug.Apply(&b, r2);
    EXPECT_EQ(a.size(), base.size());
    EXPECT_EQ(a.type(), CV_8UC3);
    EXPECT_EQ(cv::norm(a, b, cv::NORM_INF), 0) << "seed " << seed;
    if (cv::norm(a, base, cv::NORM_INF) > 0) ++changed;
  }
  EXPECT_GE(changed, 18);
}

TEST(AugmentTest, DisabledIsIdentity) {
  AugmentConfig none;
  none.hflip = none.vflip = none.rot90 = false;
  Augmenter aug(none);
  EXPECT_FALSE(aug.enabled());
  cv::Mat a = RgbPattern();
  std::mt19937 rng(3);
  aug.Apply(&a, rng);
  EXPECT_EQ(cv::norm(a, RgbPattern(), cv::NORM_INF), 0);
}

TEST(AugmentTest, FlipOnlyGivesOneOfFourImages) {
  AugmentConfig f;
  f.hflip = f.vflip = true;
  f.rot90 = false;
  Augmenter aug(f);
  const cv::Mat base = RgbPattern();
  cv::Mat h, v, hv;
  cv::flip(base, h, 1);
  cv::flip(base, v, 0);
  cv::flip(base, hv, -1);
  std::vector<int> seen(4, 0);
  for (uint32_t seed = 0; seed < 64; ++seed) {
    cv::Mat a = base.clone();
    std::mt19937 rng(seed);
    aug.Apply(&a, rng);
    int which = -1;
    const cv::Mat* options[] = {&base, &h, &v, &hv};
    for (int k = 0; k < 4; ++k) {
      if (cv::norm(a, *options[k], cv::NORM_INF) == 0) which = k;
    }
    ASSERT_GE(which, 0);
    ++seen[which];
  }
  for (int k = 0; k < 4; ++k) EXPECT_GT(seen[k], 5);
}

TEST(AugmentTest, CutMixKeepsLabelsAndReportsLambda) {
  const int n = 6, s = 16;
  std::vector<float> images(n * 3 * s * s);
  for (int i = 0; i < n; ++i) {
    std::fill(images.begin() + i * 3 * s * s, images.begin() + (i + 1) * 3 * s * s,
              static_cast<float>(i));
  }
  const std::vector<int64_t> labels = {0, 1, 2, 3, 4, 5};
  std::mt19937 rng(11);
  CutMixResult r = ApplyCutMix(images.data(), n, s, labels, 1.0, rng);
  ASSERT_TRUE(r.applied);
  EXPECT_EQ(r.label_a, labels);
  ASSERT_EQ(r.label_b.size(), static_cast<size_t>(n));
  ASSERT_EQ(r.lambda.size(), static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    // lambda = share of pixels still showing image i's own value.
    int own = 0;
    for (int p = 0; p < 3 * s * s; ++p) own += images[i * 3 * s * s + p] == static_cast<float>(i);
    const int partner = static_cast<int>(r.label_b[i]);
    if (partner != i) {
      EXPECT_NEAR(r.lambda[i], own / (3.0 * s * s), 1e-6);
    }
    EXPECT_GE(r.lambda[i], 0.f);
    EXPECT_LE(r.lambda[i], 1.f);
  }
  std::vector<int64_t> sorted_b = r.label_b;
  std::sort(sorted_b.begin(), sorted_b.end());
  EXPECT_EQ(sorted_b, labels);  // a permutation
  std::mt19937 rng0(11);
  std::vector<float> untouched(n * 3 * s * s, 1.f);
  EXPECT_FALSE(ApplyCutMix(untouched.data(), n, s, labels, 0.0, rng0).applied);
  EXPECT_EQ(std::accumulate(untouched.begin(), untouched.end(), 0.0), n * 3.0 * s * s);
}

}  // namespace
}  // namespace fedsmear
