// Quantization: stochastic rounding, overflow bound, dequantized mean, sign-vote widths.
#include "secagg/quantize.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

namespace fedsmear::secagg {
namespace {

TEST(QuantizeTest, StochasticRoundingIsUnbiased) {
  const QuantizationParams p{1.0f, 8, 1};  // R = 127: half the ring is headroom
  ASSERT_EQ(*QuantizationLevels(p), 127u);
  const size_t draws = 200000;
  for (float v : {0.3f, -0.77f, 0.001f}) {
    const std::vector<float> values(draws, v);
    auto q = Quantize(values.data(), draws, p, 42);
    ASSERT_TRUE(q.ok());
    const double exact = (static_cast<double>(v) + 1.0) / 2.0 * 127.0;
    double mean = 0;
    for (uint32_t w : *q) {
      ASSERT_TRUE(w == std::floor(exact) || w == std::ceil(exact)) << w;
      mean += w;
    }
    mean /= draws;
    const double frac = exact - std::floor(exact);
    const double sd = std::sqrt(frac * (1 - frac) / draws);
    EXPECT_NEAR(mean, exact, 5 * sd + 1e-9) << "v=" << v;
  }
}

TEST(QuantizeTest, SeededAndClipped) {
  const QuantizationParams p{2.0f, 16, 4};
  const std::vector<float> v = {-5.f, -2.f, -0.3f, 0.f, 0.7f, 2.f, 9.f, 1.2345f};
  auto a = Quantize(v.data(), v.size(), p, 1);
  auto b = Quantize(v.data(), v.size(), p, 1);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*a, *b);
  const uint32_t r = *QuantizationLevels(p);
  EXPECT_EQ((*a)[0], 0u);  // clipped to -c
  EXPECT_EQ((*a)[1], 0u);
  EXPECT_EQ((*a)[5], r);  // clipped to +c
  EXPECT_EQ((*a)[6], r);
  for (uint32_t w : *a) EXPECT_LE(w, r);
  const std::vector<float> many(10000, 0.123f);
  EXPECT_NE(*Quantize(many.data(), many.size(), p, 1), *Quantize(many.data(), many.size(), p, 2));
  const std::vector<float> nan = {std::nanf("")};
  EXPECT_EQ(Quantize(nan.data(), 1, p, 1).status().code(), StatusCode::kInvalidArgument);
}

TEST(QuantizeTest, SumOfNSitesNeverWraps) {
  for (uint32_t bits : {8u, 16u, 20u, 32u}) {
    for (uint32_t n : {1u, 2u, 7u, 50u, 127u}) {
      const QuantizationParams p{1.0f, bits, n};
      auto r = QuantizationLevels(p);
      ASSERT_TRUE(r.ok());
      EXPECT_LT(2 * static_cast<uint64_t>(n) * *r, uint64_t{1} << bits) << bits << " " << n;
    }
  }
  EXPECT_EQ(QuantizationLevels({1.0f, 8, 128}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(QuantizationLevels({0.0f, 8, 2}).status().code(), StatusCode::kInvalidArgument);
}

TEST(QuantizeTest, DequantizedMeanMatchesFloatMean) {
  const uint32_t n = 10;
  const size_t len = 2000;
  const QuantizationParams p{1.0f, 32, n};
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> dist(-1.2f, 1.2f);  // some values get clipped
  std::vector<uint32_t> sum(len, 0);
  std::vector<double> mean(len, 0);
  for (uint32_t i = 0; i < n; ++i) {
    std::vector<float> v(len);
    for (auto& x : v) x = dist(rng);
    auto q = Quantize(v.data(), len, p, 100 + i);
    ASSERT_TRUE(q.ok());
    for (size_t j = 0; j < len; ++j) {
      sum[j] += (*q)[j];
      mean[j] += std::clamp(v[j], -1.0f, 1.0f) / n;
    }
  }
  auto deq = DequantizeMean(sum, p, n);
  ASSERT_TRUE(deq.ok());
  for (size_t j = 0; j < len; ++j) EXPECT_NEAR((*deq)[j], mean[j], 1e-6) << j;
  EXPECT_EQ(DequantizeMean(sum, p, n + 1).status().code(), StatusCode::kInvalidArgument);
  // A sum no n inputs in [0, R] make: refused, naming the value.
  std::vector<uint32_t> spoiled = sum;
  spoiled[7] = static_cast<uint32_t>(uint64_t{n} * *QuantizationLevels(p) + 1);
  auto bad = DequantizeMean(spoiled, p, n);
  EXPECT_EQ(bad.status().code(), StatusCode::kCorrupt);
  EXPECT_NE(bad.status().message().find("value 7"), std::string::npos) << bad.status();
  // With fewer contributors (dropouts) the bound is theirs: (n-1)R + 1 is possible for n only.
  std::vector<uint32_t> edge(4, 0);
  edge[2] = static_cast<uint32_t>(uint64_t{n - 1} * *QuantizationLevels(p) + 1);
  EXPECT_TRUE(DequantizeMean(edge, p, n).ok());
  EXPECT_EQ(DequantizeMean(edge, p, n - 1).status().code(), StatusCode::kCorrupt);
}

TEST(QuantizeTest, SignVoteBits) {
  EXPECT_EQ(SignVoteBits(0, 5), 0u);
  EXPECT_EQ(SignVoteBits(1, 1), 1u);   // 0..1
  EXPECT_EQ(SignVoteBits(3, 1), 2u);   // 0..3
  EXPECT_EQ(SignVoteBits(4, 1), 3u);   // 0..4
  EXPECT_EQ(SignVoteBits(10, 3), 5u);  // 0..30
  EXPECT_EQ(SignVoteBits(50, 1), 6u);  // 0..50
  EXPECT_EQ(SignVoteBits(65535, 65537), 32u);
  for (uint32_t n = 1; n < 300; ++n) {
    const uint32_t b = SignVoteBits(n, 2);
    EXPECT_EQ(b, static_cast<uint32_t>(std::ceil(std::log2(2.0 * n + 1))));
  }
}

}  // namespace
}  // namespace fedsmear::secagg
