// Training-mode batch-norm statistics: the binary engine (infer/engine_bn.cc) against LibTorch's
// forward in training mode with momentum None, the pass train/bn_calibrate.h runs, on the same
// model and batches. Every BN layer's running mean and variance agree within float rounding.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <cstdio>
#include <vector>

#include "infer/engine.h"
#include "models/densenet.h"
#include "tests/infer/random_model.h"

namespace fedsmear::infer {
namespace {

// LibTorch's recalibration: fresh statistics, cumulative average over the batches.
void TorchStatistics(DenseNet& model, const std::vector<torch::Tensor>& batches) {
  torch::NoGradGuard g;
  for (auto& m : model->modules(false)) {
    if (auto* bn = m->as<torch::nn::BatchNorm2dImpl>()) {
      bn->reset_running_stats();
      bn->options.momentum(c10::nullopt);
    }
  }
  model->train();
  for (const torch::Tensor& b : batches) model->forward(b);
  model->eval();
}

struct Case {
  const char* arch;
  int size;
  int batch;
  int batches;
};

TEST(EngineBnTest, TrainingModeStatisticsMatchLibTorch) {
  for (const Case& tc : {Case{"bdn-tiny", 32, 8, 3}, Case{"bdn-tiny", 64, 5, 2},
                         Case{"bdn28", 32, 4, 2}, Case{"bdn28", 64, 6, 2}}) {
    DenseNet model = RandomModel(tc.arch, 7, tc.size, 7);
    const ModelState before = ExportState(model, Names(7));
    std::vector<torch::Tensor> batches;
    for (int b = 0; b < tc.batches; ++b) {
      batches.push_back(torch::randn({tc.batch, 3, tc.size, tc.size}).contiguous());
    }
    for (int threads : {1, 2}) {
      EngineOptions o;
      o.threads = threads;
      Result<BinaryEngine> engine = BinaryEngine::FromState(before, o);
      ASSERT_TRUE(engine.ok()) << engine.status();
      BnStatistics stats;
      for (const torch::Tensor& b : batches) {
        ASSERT_TRUE(engine->AccumulateBatchNormStatistics(b.data_ptr<float>(), tc.batch, &stats)
                        .ok());
      }
      ModelState got = before;
      ASSERT_TRUE(stats.WriteInto(&got).ok());

      DenseNet reference = RandomModel(tc.arch, 7, tc.size, 7);
      TorchStatistics(reference, batches);
      const ModelState want = ExportState(reference, Names(7));
      int compared = 0;
      double worst = 0;
      for (const NamedTensor& w : want.tensors) {
        const bool stat = w.name.size() > 13 && (w.name.find(".running_mean") != std::string::npos ||
                                                 w.name.find(".running_var") != std::string::npos);
        if (!stat) continue;
        const NamedTensor* g = got.Find(w.name);
        ASSERT_NE(g, nullptr) << w.name;
        ASSERT_EQ(g->values.size(), w.values.size()) << w.name;
        for (size_t c = 0; c < w.values.size(); ++c) {
          const double diff = std::fabs(g->values[c] - w.values[c]);
          worst = std::max(worst, diff / (1.0 + std::fabs(w.values[c])));
          ASSERT_LE(diff, 1e-5 * (1.0 + std::fabs(w.values[c])))
              << tc.arch << " " << tc.size << " px " << w.name << "[" << c << "]";
        }
        // Statistics that were not recomputed would still equal the random model's.
        const NamedTensor* old = before.Find(w.name);
        ASSERT_NE(old, nullptr);
        EXPECT_NE(old->values, g->values) << w.name << " was not recomputed";
        ++compared;
      }
      EXPECT_GT(compared, 4);
      std::printf("%s %d px, %d thread(s): %d BN tensors, max relative difference %.3g\n",
                  tc.arch, tc.size, threads, compared, worst);
    }
  }
}

TEST(EngineBnTest, RefusesBatchesOfOneAndWritesNothingWithoutBatches) {
  DenseNet model = RandomModel("bdn-tiny", 3, 32, 1);
  ModelState state = ExportState(model, Names(3));
  Result<BinaryEngine> engine = BinaryEngine::FromState(state);
  ASSERT_TRUE(engine.ok());
  std::vector<float> one(3 * 32 * 32, 0.5f);
  BnStatistics stats;
  EXPECT_FALSE(engine->AccumulateBatchNormStatistics(one.data(), 1, &stats).ok());
  const ModelState copy = state;
  EXPECT_FALSE(stats.WriteInto(&state).ok());
  EXPECT_EQ(state.tensors.size(), copy.tensors.size());
}

}  // namespace
}  // namespace fedsmear::infer
