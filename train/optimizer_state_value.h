// OptimizerState, the plain value of a site's optimizer moments between rounds, torch-free so
// that code which only stores it (client/optimizer_store.h) does not compile against LibTorch.
// What it holds and how it is used: train/optimizer_state.h.
//
// Thread-safety: plain value. Ownership: values.
#pragma once

#include <cstdint>

#include "models/model_state.h"

namespace fedsmear {

struct OptimizerState {
  int64_t step = 0;  // Adam's step count (bias correction); 0 for SGD
  ModelState first;   // Adam exp_avg, SGD momentum_buffer
  ModelState second;  // Adam exp_avg_sq (empty for SGD and keep-nothing)
  bool empty() const { return first.tensors.empty() && second.tensors.empty(); }
};

}  // namespace fedsmear
