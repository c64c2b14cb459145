#include "models/densenet.h"

#include <gtest/gtest.h>

namespace fedsmear {
namespace {

TEST(DenseNetTest, ParameterCountsMatchLarqZoo) {
  auto bdn28 = MakeModel("bdn28", 8, 64);
  ASSERT_TRUE(bdn28.ok());
  auto [all28, binary28] = CountParameters(*bdn28);
  EXPECT_EQ(all28, 4559112);
  EXPECT_EQ(binary28, 4202496);
  auto bdn45 = MakeModel("bdn45", 8, 64);
  ASSERT_TRUE(bdn45.ok());
  EXPECT_EQ(CountParameters(*bdn45).first, 13094920);
  // The float twin has the same tensors, none binary.
  auto twin = MakeModel("densenet28", 8, 64);
  EXPECT_EQ(CountParameters(*twin).first, 4559112);
  EXPECT_EQ(CountParameters(*twin).second, 0);
}

TEST(DenseNetTest, OutputShapesForLargeAndSmallInputs) {
  torch::NoGradGuard g;
  for (int size : {32, 64, 96}) {
    auto m = MakeModel("bdn-tiny", 5, size);
    ASSERT_TRUE(m.ok());
    (*m)->eval();
    auto y = (*m)->forward(torch::randn({2, 3, size, size}));
    EXPECT_EQ(y.sizes(), (std::vector<int64_t>{2, 5})) << size;
  }
  auto m28 = MakeModel("bdn28", 8, 64);
  (*m28)->eval();
  EXPECT_EQ((*m28)->forward(torch::randn({1, 3, 64, 64})).sizes(),
            (std::vector<int64_t>{1, 8}));
  // Small-input stem has no BN and a 3x3 kernel.
  auto small = MakeModel("bdn28", 8, 32);
  auto params = (*small)->named_parameters();
  EXPECT_EQ(params["stem.conv.weight"].sizes(), (std::vector<int64_t>{64, 3, 3, 3}));
  EXPECT_EQ(params.find("stem.bn.weight"), nullptr);
  auto big = (*m28)->named_parameters();
  EXPECT_EQ(big["stem.conv.weight"].sizes(), (std::vector<int64_t>{64, 3, 7, 7}));
  EXPECT_EQ(big["trans1.conv.weight"].sizes(), (std::vector<int64_t>{160, 448, 1, 1}));
  EXPECT_EQ(big["head.fc.weight"].sizes(), (std::vector<int64_t>{8, 576}));
}

TEST(DenseNetTest, BadArgumentsAreErrors) {
  EXPECT_FALSE(MakeModel("bdn99", 8, 64).ok());
  EXPECT_FALSE(MakeModel("bdn28", 1, 64).ok());
  EXPECT_FALSE(MakeModel("bdn28", 8, 6).ok());
}

TEST(SteSignTest, ForwardIsSignAndGradientPassesInsideClip) {
  auto x = torch::tensor({-2.0f, -1.3f, -0.5f, 0.0f, 0.7f, 1.3f, 1.31f}).requires_grad_();
  auto y = SteSign(x);
  EXPECT_TRUE(torch::equal(y, torch::tensor({-1.f, -1.f, -1.f, 1.f, 1.f, 1.f, 1.f})));
  y.sum().backward();
  EXPECT_TRUE(torch::equal(x.grad(), torch::tensor({0.f, 1.f, 1.f, 1.f, 1.f, 1.f, 0.f})));
}

TEST(DenseNetTest, BinaryConvSeesOnlySignsAndClipBoundsLatents) {
  torch::manual_seed(3);
  auto m = MakeModel("bdn-tiny", 3, 32);
  ASSERT_TRUE(m.ok());
  DenseNet model = *m;
  model->eval();
  auto x = torch::randn({2, 3, 32, 32});
  auto before = model->forward(x);
  // Rescaling latent weights without changing signs does not change the output.
  {
    torch::NoGradGuard g;
    for (auto& p : model->named_parameters()) {
      if (model->IsBinaryParam(p.key())) p.value().mul_(0.37);
    }
  }
  EXPECT_TRUE(torch::allclose(before, model->forward(x), 1e-5, 1e-5));
  // One SGD step with a large learning rate pushes latents past the clip; ClipLatentWeights
  // brings them back to [-1.3, 1.3] and leaves float parameters alone.
  model->train();
  torch::optim::SGD opt(model->parameters(), torch::optim::SGDOptions(100.0));
  auto loss = torch::nn::functional::cross_entropy(model->forward(x), torch::tensor({0, 2}));
  loss.backward();
  opt.step();
  model->ClipLatentWeights();
  bool float_outside = false;
  for (auto& p : model->named_parameters()) {
    float maxabs = p.value().abs().max().item<float>();
    if (model->IsBinaryParam(p.key())) {
      EXPECT_LE(maxabs, 1.3f + 1e-6) << p.key();
    } else if (maxabs > 1.3f) {
      float_outside = true;
    }
  }
  EXPECT_TRUE(float_outside);
}

TEST(DenseNetTest, TrainingReducesLossOnAFixedBatch) {
  torch::manual_seed(1);
  auto m = MakeModel("bdn-tiny", 2, 32);
  DenseNet model = *m;
  auto x = torch::randn({16, 3, 32, 32});
  auto y = (x.mean({1, 2, 3}) > 0).to(torch::kLong);
  torch::optim::Adam opt(model->parameters(), torch::optim::AdamOptions(1e-2));
  float first = 0, last = 0;
  for (int step = 0; step < 30; ++step) {
    opt.zero_grad();
    auto loss = torch::nn::functional::cross_entropy(model->forward(x), y);
    loss.backward();
    opt.step();
    model->ClipLatentWeights();
    if (step == 0) first = loss.item<float>();
    last = loss.item<float>();
  }
  EXPECT_LT(last, first * 0.5f);
}

}  // namespace
}  // namespace fedsmear
