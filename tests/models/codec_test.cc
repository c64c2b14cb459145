#include "models/codec.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <iostream>
#include <limits>
#include <random>

#include "models/arch.h"

namespace fedsmear {
namespace {

void Fill(NamedTensor* t, std::mt19937& rng, float stddev) {
  std::normal_distribution<float> dist(0, stddev);
  t->values.resize(static_cast<size_t>(NumElements(t->shape)));
  for (float& v : t->values) v = dist(rng);
}

ModelState SmallState(uint32_t seed = 7) {
  ModelState s;
  s.meta = {"bdn-tiny", 3, 32, {"a", "b", "c"}};
  std::mt19937 rng(seed);
  auto add = [&](std::string name, std::vector<int64_t> shape, TensorKind kind, float sd) {
    s.tensors.push_back({name, shape, kind, {}});
    Fill(&s.tensors.back(), rng, sd);
  };
  add("conv.weight", {4, 3, 3, 3}, TensorKind::kBinary, 0.3f);  // 108: not a multiple of 8
  add("conv2.weight", {8, 8}, TensorKind::kBinary, 0.1f);
  add("fc.weight", {3, 5}, TensorKind::kFloat, 1.f);
  add("empty", {0}, TensorKind::kFloat, 1.f);
  add("bn.running_var", {5}, TensorKind::kStat, 2.f);
  for (float& v : s.tensors.back().values) v = std::fabs(v);
  return s;
}

// The real bdn28 tensor layout (64 px input: 7x7 stem with BN), in ExportState's order:
// parameters as torch registers them, then BN running statistics.
ModelState Bdn28(int classes, uint32_t seed) {
  ArchSpec arch = FindArch("bdn28").value();
  ModelState s;
  s.meta = {"bdn28", classes, 64, {}};
  std::vector<std::string> bns;
  auto param = [&s](std::string name, std::vector<int64_t> shape, TensorKind kind) {
    s.tensors.push_back({std::move(name), std::move(shape), kind, {}});
  };
  auto bn = [&](const std::string& prefix, int64_t c) {
    param(prefix + ".weight", {c}, TensorKind::kFloat);
    param(prefix + ".bias", {c}, TensorKind::kFloat);
    bns.push_back(prefix);
  };
  int64_t c = arch.initial_filters;
  param("stem.conv.weight", {c, 3, 7, 7}, TensorKind::kFloat);
  bn("stem.bn", c);
  for (size_t b = 0; b < arch.layers.size(); ++b) {
    const std::string block = "block" + std::to_string(b + 1);
    for (int i = 0; i < arch.layers[b]; ++i) {
      const std::string layer = block + ".layer" + std::to_string(i + 1);
      bn(layer + ".bn", c);
      param(layer + ".conv.weight", {arch.growth, c, 3, 3}, TensorKind::kBinary);
      c += arch.growth;
    }
    if (b + 1 < arch.layers.size()) {
      const std::string trans = "trans" + std::to_string(b + 1);
      int64_t out = TransitionChannels(static_cast<int>(c), arch.reductions[b]);
      bn(trans + ".bn", c);
      param(trans + ".conv.weight", {out, c, 1, 1}, TensorKind::kFloat);
      c = out;
    }
  }
  bn("head.bn", c);
  param("head.fc.weight", {classes, c}, TensorKind::kFloat);
  param("head.fc.bias", {classes}, TensorKind::kFloat);
  for (const std::string& prefix : bns) {
    const int64_t ch = s.Find(prefix + ".weight")->shape[0];
    param(prefix + ".running_mean", {ch}, TensorKind::kStat);
    param(prefix + ".running_var", {ch}, TensorKind::kStat);
  }
  std::mt19937 rng(seed);
  for (NamedTensor& t : s.tensors) Fill(&t, rng, t.kind == TensorKind::kBinary ? 0.05f : 0.5f);
  return s;
}

double Range(const std::vector<float>& v) {
  if (v.empty()) return 0;
  auto [lo, hi] = std::minmax_element(v.begin(), v.end());
  return static_cast<double>(*hi) - *lo;
}

TEST(CodecSpecTest, ParsesAndNamesEveryCombination) {
  EXPECT_EQ(AllCodecSpecs().size(), 12u);
  for (const CodecSpec& spec : AllCodecSpecs()) {
    auto back = ParseCodecSpec(CodecSpecName(spec));
    ASSERT_TRUE(back.ok()) << CodecSpecName(spec);
    EXPECT_TRUE(*back == spec) << CodecSpecName(spec);
  }
  EXPECT_EQ(CodecSpecName({}), "f32");
  EXPECT_TRUE(*ParseCodecSpec("f32") == (CodecSpec{}));
  auto s = ParseCodecSpec("sign1+f16");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->binary->name, "sign1");
  EXPECT_EQ(s->floats->name, "f16");
  EXPECT_EQ(ParseCodecSpec("sign1")->floats->name, "f32");
  EXPECT_EQ(CodecSpecName(*ParseCodecSpec("q8_delta+q8")), "q8_delta+q8");
  for (const char* bad :
       {"", "sign2", "sign1+", "+f16", "sign1+f16+q8", "q8", "f16+f32", "SIGN1"}) {
    EXPECT_EQ(ParseCodecSpec(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

// Checks one decoded tensor against what its encoding promises.
void ExpectWithinContract(const CodecSpec& spec, const NamedTensor& trained,
                          const NamedTensor& ref, const NamedTensor& got) {
  const std::vector<float>& x = trained.values;
  const std::vector<float>& y = got.values;
  ASSERT_EQ(x.size(), y.size());
  if (trained.kind == TensorKind::kBinary) {
    double mean_abs = 0;
    for (float v : x) mean_abs += std::fabs(v);
    mean_abs /= static_cast<double>(x.size());
    std::vector<float> delta(x.size());
    for (size_t k = 0; k < x.size(); ++k) delta[k] = x[k] - ref.values[k];
    const double step = Range(delta) / 255;
    const std::string& binary = spec.binary->name;
    for (size_t k = 0; k < x.size(); ++k) {
      if (binary == "sign1") {
        EXPECT_EQ(y[k], x[k] >= 0 ? 1.f : -1.f) << trained.name << k;
      } else if (binary == "sign1_scaled") {
        EXPECT_EQ(y[k] >= 0, x[k] >= 0) << trained.name << k;
        EXPECT_NEAR(std::fabs(y[k]), mean_abs, 1e-6);
      } else if (binary == "q8_delta") {
        EXPECT_LE(std::fabs(y[k] - x[k]), step * (1 + 1e-5) + 1e-7) << trained.name << k;
      } else {
        ASSERT_EQ(binary, "f32");
        EXPECT_EQ(y[k], x[k]);
      }
    }
    return;
  }
  const double step = Range(x) / 255;
  const std::string& floats = spec.floats->name;
  for (size_t k = 0; k < x.size(); ++k) {
    if (floats == "f32") {
      EXPECT_EQ(y[k], x[k]);
    } else if (floats == "f16") {  // half precision: 11 significant bits, round to nearest
      EXPECT_NEAR(y[k], x[k], std::fabs(x[k]) * std::ldexp(1.0, -11) + std::ldexp(1.0, -25));
    } else {
      ASSERT_EQ(floats, "q8");
      EXPECT_LE(std::fabs(y[k] - x[k]), step * (1 + 1e-5) + 1e-7) << trained.name << k;
    }
  }
}

TEST(CodecTest, RoundTripEveryCombination) {
  const ModelState reference = SmallState(7);
  ModelState trained = reference;
  std::mt19937 rng(11);
  std::normal_distribution<float> step(0, 0.02f);
  for (NamedTensor& t : trained.tensors) {
    for (float& v : t.values) v += step(rng);
  }
  for (const CodecSpec& spec : AllCodecSpecs()) {
    SCOPED_TRACE(CodecSpecName(spec));
    std::string bytes = EncodeUpdate(trained, &reference, spec, 42);
    EXPECT_EQ(bytes.size(), EncodedUpdateSize(reference, spec));
    EXPECT_EQ(bytes, EncodeUpdate(trained, &reference, spec, 42));  // deterministic
    auto back = DecodeUpdate(bytes, reference);
    ASSERT_TRUE(back.ok()) << back.status();
    ASSERT_TRUE(CheckSameLayout(reference, *back).ok());
    EXPECT_EQ(back->meta.class_names, reference.meta.class_names);
    for (size_t i = 0; i < trained.tensors.size(); ++i) {
      ExpectWithinContract(spec, trained.tensors[i], reference.tensors[i], back->tensors[i]);
    }
  }
}

TEST(CodecTest, StochasticRoundingIsUnbiased) {
  ModelState s;
  s.meta = {"bdn-tiny", 3, 32, {}};
  s.tensors.push_back({"w", {257}, TensorKind::kFloat, {}});
  std::vector<float>& x = s.tensors[0].values;
  x.resize(257);
  for (size_t k = 0; k < x.size(); ++k) x[k] = -1.f + 2.f * static_cast<float>(k) / 256.f + 0.003f;
  x[0] = -1.f;
  x[256] = 1.003f;
  const double step = Range(x) / 255;
  const int draws = 4000;
  const CodecSpec spec = *ParseCodecSpec("f32+q8");
  std::vector<double> sum_err(x.size(), 0);
  std::vector<int> distinct(x.size(), 0);
  std::vector<float> first(x.size());
  for (int d = 0; d < draws; ++d) {
    auto back = DecodeUpdate(EncodeUpdate(s, nullptr, spec, 1000 + d), s);
    ASSERT_TRUE(back.ok());
    for (size_t k = 0; k < x.size(); ++k) {
      const float y = back->tensors[0].values[k];
      ASSERT_LE(std::fabs(y - x[k]), step * (1 + 1e-5));
      sum_err[k] += static_cast<double>(y) - x[k];
      if (d == 0) first[k] = y;
      if (y != first[k]) distinct[k] = 1;
    }
  }
  // Each error is a two-point variable with |err| < step: its sd is at most step / 2.
  const double sd_mean = step / 2 / std::sqrt(static_cast<double>(draws));
  double total = 0;
  int rounded_both_ways = 0;
  for (size_t k = 0; k < x.size(); ++k) {
    EXPECT_LE(std::fabs(sum_err[k] / draws), 5.5 * sd_mean) << k;
    total += sum_err[k];
    rounded_both_ways += distinct[k];
  }
  EXPECT_LE(std::fabs(total / draws / x.size()), 5 * sd_mean / std::sqrt(257.0));
  EXPECT_GT(rounded_both_ways, 200);  // stochastic, not round-to-nearest
  EXPECT_NE(EncodeUpdate(s, nullptr, spec, 1), EncodeUpdate(s, nullptr, spec, 2));
}

TEST(CodecTest, HalfPrecisionValues) {
  ModelState s;
  s.meta = {"bdn-tiny", 3, 32, {}};
  s.tensors.push_back({"f", {8}, TensorKind::kFloat, {1.f, -2.5f, 0.1f, 65504.f, 1e-8f, 0.f,
                                                      -3.14159f, 6.1e-5f}});
  auto back = DecodeUpdate(EncodeUpdate(s, nullptr, *ParseCodecSpec("f32+f16"), 0), s);
  ASSERT_TRUE(back.ok());
  const std::vector<float>& y = back->tensors[0].values;
  EXPECT_EQ(y[0], 1.f);
  EXPECT_EQ(y[1], -2.5f);
  EXPECT_EQ(y[3], 65504.f);
  EXPECT_EQ(y[5], 0.f);
  EXPECT_NEAR(y[2], 0.1f, 0.1 * std::ldexp(1.0, -11));
  EXPECT_NEAR(y[4], 1e-8f, std::ldexp(1.0, -25));  // subnormal in half
  EXPECT_NEAR(y[6], -3.14159f, 3.15 * std::ldexp(1.0, -11));
  EXPECT_NEAR(y[7], 6.1e-5f, std::ldexp(1.0, -25));
}

TEST(CodecTest, NonFiniteValuesStayNonFinite) {
  ModelState s = SmallState();
  s.tensors[2].values[3] = std::numeric_limits<float>::quiet_NaN();
  for (const char* name : {"f32+q8", "f32+f16", "f32"}) {
    auto back = DecodeUpdate(EncodeUpdate(s, nullptr, *ParseCodecSpec(name), 3), s);
    ASSERT_TRUE(back.ok()) << name;
    EXPECT_FALSE(CheckFinite(*back).ok()) << name;
  }
}

TEST(CodecTest, RejectsCorruptTruncatedAndOversizedInputs) {
  const ModelState s = SmallState();
  const std::string good = EncodeUpdate(s, &s, *ParseCodecSpec("q8_delta+f16"), 5);
  ASSERT_TRUE(DecodeUpdate(good, s).ok());
  auto expect_corrupt = [&s](const std::string& bytes, const std::string& what) {
    auto r = DecodeUpdate(bytes, s);
    ASSERT_FALSE(r.ok()) << what;
    EXPECT_EQ(r.status().code(), StatusCode::kCorrupt) << what << ": " << r.status();
  };
  for (size_t cut : {size_t{0}, size_t{3}, kCodecHeaderBytes - 1, kCodecHeaderBytes,
                     good.size() / 2, good.size() - 1}) {
    expect_corrupt(good.substr(0, cut), "truncated to " + std::to_string(cut));
  }
  expect_corrupt(good + '\0', "trailing byte");
  for (size_t at = 0; at < good.size(); at += 7) {  // any flipped bit: header check or checksum
    std::string bad = good;
    bad[at] = static_cast<char>(bad[at] ^ 0x10);
    expect_corrupt(bad, "bit flipped at " + std::to_string(at));
  }
  auto patched = [&good](size_t at, const void* v, size_t n) {
    std::string bad = good;
    std::memcpy(&bad[at], v, n);
    return bad;
  };
  const uint32_t huge_count = 0xffffffffu;
  expect_corrupt(patched(8, &huge_count, 4), "oversized tensor count");
  const uint64_t huge_payload = ~uint64_t{0};
  expect_corrupt(patched(20, &huge_payload, 8), "oversized payload length");
  const uint8_t bad_ids[] = {kCodecVersion, 9, 0, 0};
  expect_corrupt(patched(4, bad_ids, 4), "unknown binary encoding");
  const uint8_t v2 = kCodecVersion + 1;
  expect_corrupt(patched(4, &v2, 1), "future version");
  expect_corrupt(std::string(200, 'x'), "garbage");
  // Right bytes, wrong model: another layout is refused before any value is read.
  ModelState other = s;
  other.tensors[1].shape = {4, 16};
  auto r = DecodeUpdate(good, other);
  EXPECT_EQ(r.status().code(), StatusCode::kCorrupt);
}

// Running variances as trained BinaryDenseNets have them (0.14 to beyond fp16's 65,504 in one
// tensor) come back exactly under the f16 and q8 float codecs.
TEST(CodecTest, BnStatisticsSurviveReducedFloatCodecs) {
  ModelState s;
  s.meta.arch = "test";
  std::vector<float> var = {0.1407f, 0.5f, 1.49f, 6.3f, 668.f, 3769.7f, 91234.5f};
  s.tensors.push_back({"bn.running_var", {7}, TensorKind::kStat, var});
  s.tensors.push_back({"fc.weight", {6}, TensorKind::kFloat, {0.1f, 0.5f, 1.5f, 6.3f, 66.f, 377.f}});
  for (const char* codec : {"sign1+q8", "sign1+f16"}) {
    auto back = DecodeUpdate(EncodeUpdate(s, &s, *ParseCodecSpec(codec), 3), s);
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(back->tensors[0].values, var) << codec;
  }
  // Ordinary float tensors are still q8: within one 8-bit step, no better.
  auto q8 = DecodeUpdate(EncodeUpdate(s, &s, *ParseCodecSpec("sign1+q8"), 3), s);
  EXPECT_NEAR(q8->tensors[1].values[0], 0.1f, (377.0 - 0.1) / 255);
}

TEST(CodecTest, Bdn28BytesPerUpdate) {
  const ModelState global = Bdn28(8, 1);
  EXPECT_EQ(global.NumValues(TensorKind::kBinary), 4202496);
  EXPECT_EQ(global.NumValues(TensorKind::kBinary) + global.NumValues(TensorKind::kFloat),
            4559112);  // tests/models/densenet_test.cc: CountParameters(bdn28, 8 classes)
  ModelState trained = global;
  std::mt19937 rng(2);
  std::normal_distribution<float> step(0, 0.01f);
  for (NamedTensor& t : trained.tensors) {
    for (float& v : t.values) v += step(rng);
  }
  size_t sign_bytes = 0, binary_tensors = 0, other = 0, other_tensors = 0, stats = 0,
         stat_tensors = 0;
  for (const NamedTensor& t : global.tensors) {
    const size_t n = t.values.size();
    if (t.kind == TensorKind::kBinary) {
      sign_bytes += (n + 7) / 8;
      ++binary_tensors;
    } else {
      other += n;
      ++other_tensors;
    }
    if (t.kind == TensorKind::kStat) {
      stats += n;
      ++stat_tensors;
    }
  }
  const size_t binary_n = static_cast<size_t>(global.NumValues(TensorKind::kBinary));
  auto binary_bytes = [&](const TensorCodec* e) -> size_t {
    if (e->name == "sign1") return sign_bytes;
    if (e->name == "sign1_scaled") return sign_bytes + 4 * binary_tensors;
    if (e->name == "q8_delta") return binary_n + 8 * binary_tensors;
    if (e->name == "f32") return 4 * binary_n;
    return 0;
  };
  auto float_bytes = [&](const TensorCodec* e) -> size_t {
    if (e->name == "f32") return 4 * other;  // BN statistics are f32 in every case
    if (e->name == "f16") return 2 * (other - stats) + 4 * stats;
    if (e->name == "q8") return (other - stats) + 8 * (other_tensors - stat_tensors) + 4 * stats;
    return 0;
  };
  EXPECT_EQ(kCodecHeaderBytes, 60u);
  std::cout << "bdn28 (8 classes): " << binary_n << " binary values in " << binary_tensors
            << " tensors, " << other << " float+stat values in " << other_tensors << " tensors\n";
  for (const CodecSpec& spec : AllCodecSpecs()) {
    SCOPED_TRACE(CodecSpecName(spec));
    const std::string bytes = EncodeUpdate(trained, &global, spec, 9);
    const size_t expected = kCodecHeaderBytes + binary_bytes(spec.binary) +
                            float_bytes(spec.floats);
    EXPECT_EQ(bytes.size(), expected);
    EXPECT_EQ(EncodedUpdateSize(global, spec), expected);
    std::cout << "  " << CodecSpecName(spec) << ": " << bytes.size() << " bytes ("
              << bytes.size() / 1048576.0 << " MiB)\n";
    auto back = DecodeUpdate(bytes, global);
    ASSERT_TRUE(back.ok()) << back.status();
    ASSERT_TRUE(CheckSameLayout(global, *back).ok());
  }
  // sign1: ceil(n/8) bytes per binary tensor plus the header and the float part.
  EXPECT_LE(EncodedUpdateSize(global, *ParseCodecSpec("sign1+f32")),
            kCodecHeaderBytes + (binary_n + 7) / 8 + binary_tensors + 4 * other);
}

}  // namespace
}  // namespace fedsmear
