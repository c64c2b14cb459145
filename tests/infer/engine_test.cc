// The whole binary engine against LibTorch's eval-mode forward of the same model: identical
// predictions, logits within float rounding (the maximum difference is printed).
#include "infer/engine.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <cstdio>
#include <vector>

#include "common/file_util.h"
#include "models/densenet.h"
#include "models/packed_model.h"
#include "tests/infer/random_model.h"
#include "tests/temp_dir.h"

namespace fedsmear::infer {
namespace {

struct Comparison {
  double max_abs_diff = 0;
  double max_abs_logit = 0;
  int argmax_mismatches = 0;
};

Comparison Compare(DenseNet& model, const BinaryEngine& engine, const torch::Tensor& images) {
  torch::NoGradGuard g;
  torch::Tensor want = model->forward(images).contiguous();
  const int n = static_cast<int>(images.size(0));
  const int classes = engine.meta().classes;
  std::vector<float> got(static_cast<size_t>(n) * classes);
  torch::Tensor in = images.contiguous();
  engine.Forward(in.data_ptr<float>(), n, got.data());
  Comparison c;
  for (int i = 0; i < n; ++i) {
    int best_got = 0, best_want = 0;
    for (int k = 0; k < classes; ++k) {
      const float w = want[i][k].item<float>();
      const float v = got[static_cast<size_t>(i) * classes + k];
      c.max_abs_diff = std::max(c.max_abs_diff, static_cast<double>(std::fabs(w - v)));
      c.max_abs_logit = std::max(c.max_abs_logit, static_cast<double>(std::fabs(w)));
      if (v > got[static_cast<size_t>(i) * classes + best_got]) best_got = k;
      if (w > want[i][best_want].item<float>()) best_want = k;
    }
    c.argmax_mismatches += best_got != best_want;
  }
  return c;
}

struct Case {
  const char* arch;
  int size;
  int batch;
};

TEST(BinaryEngineTest, WholeModelMatchesLibTorch) {
  for (const Case& tc : {Case{"bdn-tiny", 32, 6}, Case{"bdn-tiny", 64, 4}, Case{"bdn28", 32, 3},
                         Case{"bdn28", 64, 3}}) {
    DenseNet model = RandomModel(tc.arch, 7, tc.size, 42);
    ModelState state = ExportState(model, Names(7));
    torch::Tensor images = torch::randn({tc.batch, 3, tc.size, tc.size});
    for (Isa isa : {Isa::kAvx512, Isa::kAvx2, Isa::kReference}) {
      if (!IsaSupported(isa)) continue;
      EngineOptions o;
      o.isa = isa;
      o.threads = isa == Isa::kReference ? 1 : 2;
      Result<BinaryEngine> engine = BinaryEngine::FromState(state, o);
      ASSERT_TRUE(engine.ok()) << engine.status();
      Comparison c = Compare(model, *engine, images);
      std::printf("%s %d px %s: max |logit diff| %.3g (max |logit| %.3g)\n", tc.arch, tc.size,
                  IsaName(engine->isa()), c.max_abs_diff, c.max_abs_logit);
      EXPECT_EQ(c.argmax_mismatches, 0) << tc.arch << " " << tc.size;
      EXPECT_LE(c.max_abs_diff, 1e-4 * (1.0 + c.max_abs_logit)) << tc.arch << " " << tc.size;
    }
  }
}

TEST(BinaryEngineTest, LoadsPackedModelFileAsTorchDoes) {
  DenseNet model = RandomModel("bdn-tiny", 4, 48, 9);
  testing::TempDir dir("infer");
  const std::string path = (dir.path() / "final.model").string();
  ASSERT_TRUE(WriteFileAtomic(path, PackModel(ExportState(model, Names(4)))).ok());
  Result<ModelState> unpacked = LoadModelFile(path);
  ASSERT_TRUE(unpacked.ok()) << unpacked.status();
  Result<DenseNet> torch_model = ModelFromState(*unpacked);
  ASSERT_TRUE(torch_model.ok());
  (*torch_model)->eval();
  Result<BinaryEngine> engine = BinaryEngine::Load(path);
  ASSERT_TRUE(engine.ok()) << engine.status();
  EXPECT_EQ(engine->meta().class_names, Names(4));
  EXPECT_GT(engine->WeightBytes(), 0u);
  torch::manual_seed(1);
  Comparison c = Compare(*torch_model, *engine, torch::randn({5, 3, 48, 48}));
  EXPECT_EQ(c.argmax_mismatches, 0);
  EXPECT_LE(c.max_abs_diff, 1e-4 * (1.0 + c.max_abs_logit));
}

TEST(BinaryEngineTest, RejectsFloatTwinsAndBadTensors) {
  torch::manual_seed(1);
  Result<DenseNet> twin = MakeModel("densenet-tiny", 3, 32);
  ASSERT_TRUE(twin.ok());
  Result<BinaryEngine> e = BinaryEngine::FromState(ExportState(*twin, Names(3)));
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.status().message().find("not binarized"), std::string::npos);

  Result<DenseNet> tiny = MakeModel("bdn-tiny", 3, 32);
  ModelState good = ExportState(*tiny, Names(3));
  ModelState missing = good;
  missing.tensors.erase(missing.tensors.begin() + 3);
  EXPECT_FALSE(BinaryEngine::FromState(missing).ok());
  ModelState reshaped = good;
  for (NamedTensor& t : reshaped.tensors) {
    if (t.name == "block2.layer1.conv.weight") t.shape[1] += 1;
  }
  Result<BinaryEngine> bad = BinaryEngine::FromState(reshaped);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("block2.layer1.conv.weight"), std::string::npos);
  EXPECT_FALSE(BinaryEngine::Load("/nonexistent/final.model").ok());
}

}  // namespace
}  // namespace fedsmear::infer
