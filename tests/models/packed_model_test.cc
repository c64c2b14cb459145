#include "models/packed_model.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

namespace fedsmear {
namespace {

ModelState SmallState() {
  ModelState s;
  s.meta = {"bdn-tiny", 3, 32, {"a", "b", "c"}};
  std::mt19937 rng(7);
  std::normal_distribution<float> dist(0, 0.3f);
  auto add = [&](std::string name, std::vector<int64_t> shape, TensorKind kind) {
    NamedTensor t{name, shape, kind, {}};
    t.values.resize(NumElements(shape));
    for (float& v : t.values) v = dist(rng);
    s.tensors.push_back(t);
  };
  add("conv.weight", {4, 3, 3, 3}, TensorKind::kBinary);  // 108 values: not a multiple of 8
  add("fc.weight", {3, 5}, TensorKind::kFloat);
  add("bn.running_var", {5}, TensorKind::kStat);
  return s;
}

TEST(PackedModelTest, RoundTripKeepsSignsAndFloats) {
  ModelState s = SmallState();
  auto back = UnpackModel(PackModel(s));
  ASSERT_TRUE(back.ok()) << back.status();
  ASSERT_TRUE(CheckSameLayout(s, *back).ok());
  EXPECT_EQ(back->meta.class_names, s.meta.class_names);
  const auto& orig = s.tensors[0].values;
  const auto& got = back->tensors[0].values;
  double mean_abs = 0;
  for (float v : orig) mean_abs += std::fabs(v);
  mean_abs /= orig.size();
  for (size_t i = 0; i < orig.size(); ++i) {
    EXPECT_EQ(orig[i] >= 0, got[i] >= 0) << i;
    EXPECT_NEAR(std::fabs(got[i]), mean_abs, 1e-6);
  }
  EXPECT_EQ(back->tensors[1].values, s.tensors[1].values);  // fp32 exact
  EXPECT_EQ(back->tensors[2].values, s.tensors[2].values);
}

TEST(PackedModelTest, LatentF32AndF16Codecs) {
  ModelState s = SmallState();
  auto latent = UnpackModel(PackModel(s, *ParseDownlinkCodec("f32")));
  ASSERT_TRUE(latent.ok());
  EXPECT_EQ(latent->tensors[0].values, s.tensors[0].values);
  auto half = UnpackModel(PackModel(s, *ParseDownlinkCodec("sign1+f16")));
  ASSERT_TRUE(half.ok());
  for (size_t i = 0; i < s.tensors[1].values.size(); ++i) {
    float v = s.tensors[1].values[i];
    EXPECT_NEAR(half->tensors[1].values[i], v, std::fabs(v) * 1e-3 + 1e-7);
  }
  EXPECT_LT(PackModel(s, *ParseDownlinkCodec("sign1+f16")).size(), PackModel(s).size());
  // BN statistics stay fp32 (a running variance may exceed fp16's 65,504).
  s.tensors[2].values[0] = 91234.5f;
  auto big = UnpackModel(PackModel(s, *ParseDownlinkCodec("sign1+f16")));
  ASSERT_TRUE(big.ok()) << big.status();
  EXPECT_EQ(big->tensors[2].values, s.tensors[2].values);
}

TEST(PackedModelTest, Q8FloatsWithinHalfAStep) {
  ModelState s = SmallState();
  s.tensors[2].values[0] = 91234.5f;  // BN statistics stay f32 under q8 too
  for (const std::string bc : {"sign1", "f32"}) {
    const std::string bytes = PackModel(s, *ParseDownlinkCodec(bc + "+q8"));
    auto back = UnpackModel(bytes);
    ASSERT_TRUE(back.ok()) << back.status();
    const auto& v = s.tensors[1].values;
    const auto [lo, hi] = std::minmax_element(v.begin(), v.end());
    const float step = (*hi - *lo) / 255.f;
    for (size_t i = 0; i < v.size(); ++i) {
      EXPECT_LE(std::fabs(back->tensors[1].values[i] - v[i]), step / 2 + 1e-6f) << i;
    }
    // Extremes are grid points: nearest rounding keeps them exactly.
    const size_t at_lo = static_cast<size_t>(lo - v.begin());
    EXPECT_EQ(back->tensors[1].values[at_lo], *lo);
    EXPECT_EQ(back->tensors[2].values, s.tensors[2].values);
    if (bc == "f32") {
      EXPECT_EQ(back->tensors[0].values, s.tensors[0].values);
    }
    // Deterministic: every site receives the same bytes.
    EXPECT_EQ(PackModel(s, *ParseDownlinkCodec(bc + "+q8")), bytes);
    EXPECT_LT(bytes.size(), PackModel(s, *ParseDownlinkCodec(bc + "+f16")).size());
  }
  // A constant tensor (step 0) and a non-finite one.
  std::fill(s.tensors[1].values.begin(), s.tensors[1].values.end(), 0.25f);
  auto flat = UnpackModel(PackModel(s, *ParseDownlinkCodec("sign1+q8")));
  ASSERT_TRUE(flat.ok()) << flat.status();
  for (float v : flat->tensors[1].values) EXPECT_EQ(v, 0.25f);
  s.tensors[1].values[3] = std::nanf("");
  auto bad = UnpackModel(PackModel(s, *ParseDownlinkCodec("sign1+q8")));
  ASSERT_TRUE(bad.ok()) << bad.status();
  EXPECT_FALSE(CheckFinite(*bad).ok());
}

TEST(PackedModelTest, DownlinkCodecNamesParse) {
  for (const std::string& name : DownlinkCodecNames()) {
    EXPECT_TRUE(ParseDownlinkCodec(name).ok()) << name;
  }
  auto q8 = ParseDownlinkCodec("sign1+q8");
  ASSERT_TRUE(q8.ok());
  EXPECT_EQ(q8->binary->name, "sign1");
  EXPECT_EQ(q8->floats->name, "q8");
  EXPECT_NE(ParseDownlinkCodec("sign1+q4").status().message().find("sign1+q8"),
            std::string::npos);
}

TEST(PackedModelTest, CorruptionIsDetected) {
  std::string bytes = PackModel(SmallState());
  for (size_t cut : {size_t{0}, size_t{10}, size_t{44}, bytes.size() - 1}) {
    auto r = UnpackModel(std::string_view(bytes).substr(0, cut));
    EXPECT_EQ(r.status().code(), StatusCode::kCorrupt) << cut;
  }
  std::string flipped = bytes;
  flipped[bytes.size() / 2] ^= 0x10;
  auto r = UnpackModel(flipped);
  EXPECT_EQ(r.status().code(), StatusCode::kCorrupt);
  EXPECT_NE(r.status().message().find("checksum"), std::string::npos);
  std::string wrong_version = bytes;
  wrong_version[8] = 9;
  EXPECT_NE(UnpackModel(wrong_version).status().message().find("version"), std::string::npos);
  EXPECT_FALSE(UnpackModel("definitely not a model").ok());
}

TEST(PackedModelTest, HalfConversionEdgeCases) {
  for (float v : {0.f, -0.f, 1.f, -2.5f, 65504.f, 6.1035156e-05f, 5.9604645e-08f, 0.333333f}) {
    EXPECT_NEAR(HalfToFloat(FloatToHalf(v)), v, std::fabs(v) * 1e-3) << v;
  }
  EXPECT_TRUE(std::isinf(HalfToFloat(FloatToHalf(1e6f))));
  EXPECT_TRUE(std::isnan(HalfToFloat(FloatToHalf(std::nanf("")))));
  EXPECT_EQ(FloatToHalf(1.0f), 0x3c00);
  EXPECT_EQ(FloatToHalf(-2.0f), 0xc000);
}

TEST(PackedModelTest, SignBitsAreLsbFirst) {
  float v[10] = {1, -1, -1, 1, 0, -0.5f, 2, -3, -1, 1};
  uint8_t bits[2] = {0, 0};
  PackSigns(v, 10, bits);
  EXPECT_EQ(bits[0], 0b01011001);
  EXPECT_EQ(bits[1], 0b10);
  float out[10];
  UnpackSigns(bits, 10, 0.5f, out);
  for (int i = 0; i < 10; ++i) EXPECT_EQ(out[i], v[i] >= 0 ? 0.5f : -0.5f);
}

TEST(ModelStateTest, FiniteCheck) {
  ModelState s = SmallState();
  EXPECT_TRUE(CheckFinite(s).ok());
  s.tensors[1].values[2] = std::nanf("");
  EXPECT_NE(CheckFinite(s).message().find("fc.weight"), std::string::npos);
}

TEST(ModelStateTest, AllFiniteSeesEveryNonFiniteValue) {
  std::vector<float> v(1027, 1.5f);
  EXPECT_TRUE(AllFinite(v.data(), v.size()));
  EXPECT_TRUE(AllFinite(v.data(), 0));
  v[5] = -0.f;
  v[6] = std::numeric_limits<float>::max();
  v[7] = std::numeric_limits<float>::denorm_min();
  EXPECT_TRUE(AllFinite(v.data(), v.size()));
  for (float bad : {std::nanf(""), -std::nanf(""), std::numeric_limits<float>::infinity(),
                    -std::numeric_limits<float>::infinity()}) {
    for (size_t at : {size_t{0}, size_t{513}, v.size() - 1}) {
      std::vector<float> w = v;
      w[at] = bad;
      EXPECT_FALSE(AllFinite(w.data(), w.size())) << at;
      EXPECT_TRUE(AllFinite(w.data(), at)) << at;  // only the first `at` values are read
    }
  }
}

}  // namespace
}  // namespace fedsmear
