// A small model state whose values come from SplitMix64 alone (no <random> distributions, whose
// output differs between standard libraries), for byte-exact format tests. Header-only.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "models/model_state.h"
#include "models/q8.h"

namespace fedsmear::testing {

inline ModelState GoldenState(uint64_t seed) {
  SplitMix64 rng(seed);
  auto next = [&rng] {  // uniform in [-1, 1), 24 bits
    return static_cast<float>(static_cast<int64_t>(rng.Next() >> 40) - (1 << 23)) /
           static_cast<float>(1 << 23);
  };
  ModelState s;
  s.meta = {"bdn-tiny", 3, 32, {"a", "b", "c"}};
  auto add = [&](std::string name, std::vector<int64_t> shape, TensorKind kind, float scale) {
    NamedTensor t{std::move(name), std::move(shape), kind, {}};
    t.values.resize(static_cast<size_t>(NumElements(t.shape)));
    for (float& v : t.values) v = scale * next();
    if (kind == TensorKind::kStat) {
      for (float& v : t.values) v = std::fabs(v) * 1000.f + 0.1f;
    }
    s.tensors.push_back(std::move(t));
  };
  add("conv.weight", {4, 3, 3, 3}, TensorKind::kBinary, 0.3f);  // 108: not a multiple of 8
  add("conv2.weight", {8, 8}, TensorKind::kBinary, 0.1f);
  add("fc.weight", {3, 5}, TensorKind::kFloat, 2.f);
  add("empty", {0}, TensorKind::kFloat, 1.f);
  add("bn.running_var", {5}, TensorKind::kStat, 1.f);
  add("head.bias", {3}, TensorKind::kFloat, 0.5f);
  return s;
}

}  // namespace fedsmear::testing
