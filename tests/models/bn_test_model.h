// A model state with one batch-norm layer of a few channels, for the tests of batch-norm
// statistics pooling (tests/models/bn_statistics_test.cc) and of their secure sum
// (tests/secagg/bn_session_test.cc). Header-only test helper.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "models/model_state.h"

namespace fedsmear::testing_bn {

inline NamedTensor Stat(const std::string& name, std::vector<float> v) {
  return {name, {static_cast<int64_t>(v.size())}, TensorKind::kStat, std::move(v)};
}

// bn.running_mean / bn.running_var as given, beside a trainable tensor that pooling leaves alone.
inline ModelState Model(std::vector<float> mean, std::vector<float> var) {
  ModelState s;
  s.meta.arch = "bdn-tiny";
  s.tensors.push_back({"bn.weight", {static_cast<int64_t>(mean.size())}, TensorKind::kFloat,
                       std::vector<float>(mean.size(), 1.f)});
  s.tensors.push_back(Stat("bn.running_mean", std::move(mean)));
  s.tensors.push_back(Stat("bn.running_var", std::move(var)));
  return s;
}

}  // namespace fedsmear::testing_bn
