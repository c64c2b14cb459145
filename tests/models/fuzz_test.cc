// Issue 16: mutation fuzzing of the model decoders a peer feeds: UnpackModel (what a site
// unpacks from the coordinator's task) and DecodeUpdate (what the coordinator reads from a
// site), seeded with real encodings in every codec (tests/fuzz_mutator.h; scripts/fuzz).
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "models/codec.h"
#include "models/packed_model.h"
#include "tests/fuzz_mutator.h"

namespace fedsmear {
namespace {

ModelState Sample(uint32_t seed) {
  ModelState s;
  s.meta = {"bdn-tiny", 3, 32, {"a", "b", "c"}};
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.f, 0.3f);
  auto add = [&](std::string name, std::vector<int64_t> shape, TensorKind kind) {
    int64_t n = 1;
    for (int64_t x : shape) n *= x;
    s.tensors.push_back({std::move(name), std::move(shape), kind, std::vector<float>(n)});
    for (float& v : s.tensors.back().values) v = kind == TensorKind::kStat ? std::fabs(d(rng)) : d(rng);
  };
  add("conv.weight", {4, 3, 3, 3}, TensorKind::kBinary);
  add("fc.weight", {3, 5}, TensorKind::kFloat);
  add("empty", {0}, TensorKind::kFloat);  // reached memcpy(nullptr, ..., 0) before issue 16
  add("bn.running_var", {5}, TensorKind::kStat);
  return s;
}

TEST(ModelFuzz, UnpackModelSurvivesMutatedModels) {
  const ModelState m = Sample(1);
  std::vector<std::string> seeds;
  for (const std::string& codec : DownlinkCodecNames()) {
    seeds.push_back(PackModel(m, *ParseDownlinkCodec(codec)));
  }
  const int ok = testing::FuzzDecoder(seeds, [](const std::string& bytes) {
    return UnpackModel(bytes, uint64_t{1} << 24).ok();
  });
  EXPECT_GE(ok, static_cast<int>(seeds.size()));
}

TEST(ModelFuzz, UnpackModelRespectsTheValueLimit) {
  const std::string packed = PackModel(Sample(2));
  EXPECT_TRUE(UnpackModel(packed, 200).ok());  // 108 + 15 + 0 + 5 values
  auto r = UnpackModel(packed, 100);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kResourceExhausted) << r.status();
}

TEST(ModelFuzz, DecodeUpdateSurvivesMutatedUpdates) {
  const ModelState global = Sample(3), trained = Sample(4);
  std::vector<std::string> seeds;
  for (const char* codec : {"f32", "sign1+f16", "sign1_scaled+q8", "q8_delta+q8", "f32+f16"}) {
    seeds.push_back(EncodeUpdate(trained, &global, *ParseCodecSpec(codec), 5));
  }
  const int ok = testing::FuzzDecoder(seeds, [&](const std::string& bytes) {
    return DecodeUpdate(bytes, global).ok();
  });
  EXPECT_GE(ok, static_cast<int>(seeds.size()));
}

}  // namespace
}  // namespace fedsmear
