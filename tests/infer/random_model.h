// Seeded BinaryDenseNets with non-trivial batch-norm statistics for the engine's tests against
// LibTorch (tests/infer/).
#pragma once

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <string>
#include <vector>

#include "models/densenet.h"

namespace fedsmear::infer {

inline std::vector<std::string> Names(int classes) {
  std::vector<std::string> names;
  for (int i = 0; i < classes; ++i) names.push_back("c" + std::to_string(i));
  return names;
}

// A seeded model whose BN running statistics come from a train-mode pass (momentum 1) over
// random images, then are randomised further (affine parameters with negative scales, shifted
// means), in eval mode.
inline DenseNet RandomModel(const std::string& arch, int classes, int size, uint64_t seed) {
  torch::manual_seed(seed);
  Result<DenseNet> made = MakeModel(arch, classes, size, /*bn_momentum=*/1.0);
  EXPECT_TRUE(made.ok()) << made.status();
  DenseNet model = *made;
  model->train();
  {
    torch::NoGradGuard g;
    model->forward(torch::randn({4, 3, size, size}));
    for (auto& m : model->modules(false)) {
      if (auto* bn = m->as<torch::nn::BatchNorm2dImpl>()) {
        bn->weight.normal_(0.5, 1.0);
        bn->bias.normal_(0, 0.5);
        bn->running_mean.add_(torch::randn_like(bn->running_mean) * bn->running_var.sqrt() * 0.2);
        bn->running_var.mul_(torch::rand_like(bn->running_var) + 0.5);
      }
    }
  }
  model->eval();
  return model;
}

}  // namespace fedsmear::infer
