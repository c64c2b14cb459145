// Torch-free seeded BinaryDenseNet states for the engine's tests and benchmarks: the tensors
// models/densenet.cc builds for an architecture and input size (names, shapes, roles), filled
// with deterministic pseudo-random values (Glorot-scaled weights, batch-norm parameters with
// negative scales and shifted means, positive variances). Plain functions; thread-safe.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "models/arch.h"
#include "models/model_state.h"

namespace fedsmear::infer {

class SplitMix {
 public:
  explicit SplitMix(uint64_t seed) : x_(seed) {}
  uint64_t Next() {
    uint64_t z = (x_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  // Uniform in [lo, hi).
  float Uniform(float lo, float hi) {
    return lo + (hi - lo) * static_cast<float>(Next() >> 40) / 16777216.0f;
  }

 private:
  uint64_t x_;
};

inline Result<ModelState> RandomState(const std::string& arch_name, int classes, int input_size,
                                      uint64_t seed) {
  ASSIGN_OR_RETURN(ArchSpec arch, FindArch(arch_name));
  SplitMix rng(seed);
  ModelState s;
  s.meta = {arch_name, classes, input_size, {}};
  for (int c = 0; c < classes; ++c) s.meta.class_names.push_back("c" + std::to_string(c));
  auto add = [&](const std::string& name, std::vector<int64_t> shape, TensorKind kind, float lo,
                 float hi) {
    NamedTensor t{name, std::move(shape), kind, {}};
    t.values.resize(static_cast<size_t>(NumElements(t.shape)));
    for (float& v : t.values) v = rng.Uniform(lo, hi);
    s.tensors.push_back(std::move(t));
  };
  auto weights = [&](const std::string& name, std::vector<int64_t> shape, TensorKind kind) {
    int64_t fan_in = 1;
    for (size_t i = 1; i < shape.size(); ++i) fan_in *= shape[i];
    const float a = 1.0f / std::sqrt(static_cast<float>(fan_in));
    add(name, std::move(shape), kind, -a, a);
  };
  auto bn = [&](const std::string& name, int channels) {
    add(name + ".weight", {channels}, TensorKind::kFloat, -0.5f, 1.5f);
    add(name + ".bias", {channels}, TensorKind::kFloat, -0.5f, 0.5f);
    add(name + ".running_mean", {channels}, TensorKind::kStat, -0.3f, 0.3f);
    add(name + ".running_var", {channels}, TensorKind::kStat, 0.5f, 2.0f);
  };
  int channels = arch.initial_filters;
  const int stem_kernel = SmallInputStem(input_size) ? 3 : 7;
  weights("stem.conv.weight", {channels, 3, stem_kernel, stem_kernel}, TensorKind::kFloat);
  if (!SmallInputStem(input_size)) bn("stem.bn", channels);
  for (size_t b = 0; b < arch.layers.size(); ++b) {
    for (int i = 0; i < arch.layers[b]; ++i) {
      const std::string layer = "block" + std::to_string(b + 1) + ".layer" + std::to_string(i + 1);
      bn(layer + ".bn", channels);
      weights(layer + ".conv.weight", {arch.growth, channels, 3, 3}, TensorKind::kBinary);
      channels += arch.growth;
    }
    if (b + 1 < arch.layers.size()) {
      const std::string trans = "trans" + std::to_string(b + 1);
      const int out = TransitionChannels(channels, arch.reductions[b]);
      bn(trans + ".bn", channels);
      weights(trans + ".conv.weight", {out, channels, 1, 1}, TensorKind::kFloat);
      channels = out;
    }
  }
  bn("head.bn", channels);
  weights("head.fc.weight", {classes, channels}, TensorKind::kFloat);
  add("head.fc.bias", {classes}, TensorKind::kFloat, -0.1f, 0.1f);
  return s;
}

// n images of 3 x size x size values in [-2, 2).
inline std::vector<float> RandomImages(int n, int size, uint64_t seed) {
  SplitMix rng(seed);
  std::vector<float> v(static_cast<size_t>(n) * 3 * size * size);
  for (float& x : v) x = rng.Uniform(-2.0f, 2.0f);
  return v;
}

}  // namespace fedsmear::infer
