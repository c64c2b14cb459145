// A three-tensor ModelState for tests of what is done to binary, float and statistics tensors
// (vote, latent reinitialisation): a binary [2, 2] kernel, one float and one BN statistic.
#pragma once

#include <utility>
#include <vector>

#include "models/model_state.h"

namespace fedsmear::testing {

inline ModelState TinyModelState(std::vector<float> binary, float f, float stat) {
  ModelState s;
  s.meta = {"bdn-tiny", 2, 32, {}};
  s.tensors.push_back({"conv.weight", {2, 2}, TensorKind::kBinary, std::move(binary)});
  s.tensors.push_back({"fc.bias", {1}, TensorKind::kFloat, {f}});
  s.tensors.push_back({"bn.running_mean", {1}, TensorKind::kStat, {stat}});
  return s;
}

}  // namespace fedsmear::testing
