// Batch-norm recalibration (train/bn_calibrate.h): the statistics it computes are the batch
// statistics of the model's own activations, whatever the running statistics held before, and
// pooling two sites' answers (models/bn_statistics.h) gives their union's mean and their own
// variance.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "data/loader.h"
#include "data/synth.h"
#include "infer/engine.h"
#include "models/bn_statistics.h"
#include "tests/temp_dir.h"
#include "train/bn_calibrate.h"

namespace fedsmear {
namespace {

class BnCalibrateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    SynthOptions s;
    s.task = "rbc";
    s.per_class = 8;  // 64 images
    s.size = 32;
    ASSERT_TRUE(WriteSynthDataset(s, dir_.Sub("train")).ok());
    auto d = OpenDataset(dir_.Sub("train"), {});
    ASSERT_TRUE(d.ok());
    data_ = std::move(*d);
    for (size_t i = 0; i < data_.samples.size(); ++i) all_.push_back(i);
  }
  // Every image of `indices` as one normalised batch, as the loader builds it.
  torch::Tensor Images(const std::vector<size_t>& indices) {
    LoaderOptions lo;
    lo.batch_size = static_cast<int>(indices.size());
    lo.input_size = 32;
    BatchLoader loader(data_, indices, lo);
    loader.StartEpoch(0);
    EXPECT_TRUE(loader.Next(&batch_));
    return torch::from_blob(batch_.images.data(), {batch_.n, 3, 32, 32}, torch::kFloat32);
  }
  static CalibrateOptions Options(int images, int batch) {
    CalibrateOptions o;
    o.input_size = 32;
    o.max_images = images;
    o.batch_size = batch;
    return o;
  }
  static ModelState Stats(DenseNet& m) { return BatchNormStatisticsOf(ExportState(m, {})); }

  testing::TempDir dir_{"fedsmear-bncal"};
  Dataset data_;
  std::vector<size_t> all_;
  Batch batch_;
};

// With one batch holding every image, the recalibrated model in eval mode computes what the
// model computes in training mode on that batch (up to var's n/(n-1) correction): the running
// statistics are that batch's statistics at every layer.
TEST_F(BnCalibrateTest, EvalModeReproducesTrainModeOnTheCalibrationBatch) {
  torch::manual_seed(3);
  DenseNet model = *MakeModel("bdn-tiny", 8, 32);
  torch::NoGradGuard no_grad;
  torch::Tensor x = Images(all_).clone();
  model->eval();
  const torch::Tensor before = model->forward(x);
  model->train();
  const torch::Tensor train_mode = model->forward(x);  // also moves the running stats a bit
  Result<CalibrateStats> st = CalibrateBatchNorm(model, data_, all_, Options(64, 64));
  ASSERT_TRUE(st.ok()) << st.status().message();
  EXPECT_EQ(st->images, 64);
  EXPECT_EQ(st->batches, 1);
  EXPECT_FALSE(model->is_training());
  const torch::Tensor after = model->forward(x);
  const double scale = train_mode.abs().max().item<double>();
  EXPECT_LT((after - train_mode).abs().max().item<double>(), 0.05 * scale);
  EXPECT_GT((before - train_mode).abs().max().item<double>(), 0.05 * scale)
      << "a fresh model's unit statistics must differ from its real ones, or this test shows nothing";
}

// The result does not depend on the statistics the model held before (they are reset), and the
// layers' momentum is as it was.
TEST_F(BnCalibrateTest, PreviousStatisticsAreReplacedAndMomentumRestored) {
  torch::manual_seed(4);
  DenseNet a = *MakeModel("bdn-tiny", 8, 32, /*bn_momentum=*/0.25);
  DenseNet b = *ModelFromState(ExportState(a, {}), 0.25);
  for (auto& buffer : b->named_buffers()) {
    if (buffer.key().find("running_") != std::string::npos) buffer.value().fill_(7.0);
  }
  ASSERT_TRUE(CalibrateBatchNorm(a, data_, all_, Options(48, 16)).ok());
  ASSERT_TRUE(CalibrateBatchNorm(b, data_, all_, Options(48, 16)).ok());
  const ModelState sa = Stats(a), sb = Stats(b);
  ASSERT_FALSE(sa.tensors.empty());
  for (size_t t = 0; t < sa.tensors.size(); ++t) {
    for (size_t i = 0; i < sa.tensors[t].values.size(); ++i) {
      ASSERT_NEAR(sa.tensors[t].values[i], sb.tensors[t].values[i], 1e-4) << sa.tensors[t].name;
    }
  }
  for (auto& m : a->modules(false)) {
    if (auto* bn = m->as<torch::nn::BatchNorm2dImpl>()) {
      ASSERT_TRUE(bn->options.momentum().has_value());
      EXPECT_DOUBLE_EQ(*bn->options.momentum(), 0.25);
    }
  }
}

TEST_F(BnCalibrateTest, TooFewImagesIsAnErrorAndLeavesTheStatistics) {
  torch::manual_seed(5);
  DenseNet model = *MakeModel("bdn-tiny", 8, 32);
  const ModelState before = Stats(model);
  Result<CalibrateStats> st = CalibrateBatchNorm(model, data_, {all_[0]}, Options(64, 32));
  EXPECT_EQ(st.status().code(), StatusCode::kFailedPrecondition);
  const ModelState after = Stats(model);
  for (size_t t = 0; t < before.tensors.size(); ++t) {
    EXPECT_EQ(before.tensors[t].values, after.tensors[t].values);
  }
}

// Two sites calibrate on their halves; in the first BN layer (whose input depends on no other BN
// layer) the pooled mean is that of one calibration over both halves, and the pooled variance the
// average of the halves' own (models/bn_statistics.h), which the union's exceeds by the spread of
// the halves' means.
TEST_F(BnCalibrateTest, PooledSitesKeepTheUnionsMeanAndTheirOwnVariance) {
  torch::manual_seed(6);
  DenseNet base = *MakeModel("bdn-tiny", 8, 32);
  const ModelState global = ExportState(base, {});
  std::vector<size_t> half_a, half_b;
  for (size_t i : all_) (i % 2 ? half_b : half_a).push_back(i);
  ASSERT_EQ(half_a.size(), half_b.size());
  std::vector<SiteBnStatistics> sites;
  for (const auto* half : {&half_a, &half_b}) {
    DenseNet m = *ModelFromState(global);
    // One batch per site: batch statistics are the site's exact statistics.
    ASSERT_TRUE(CalibrateBatchNorm(m, data_, *half, Options(32, 32)).ok());
    sites.push_back({Stats(m), static_cast<int64_t>(half->size())});
  }
  ModelState pooled = global;
  ASSERT_TRUE(PoolBatchNormStatistics(sites, &pooled).ok());
  DenseNet whole = *ModelFromState(global);
  ASSERT_TRUE(CalibrateBatchNorm(whole, data_, all_, Options(64, 64)).ok());
  const ModelState expected = Stats(whole);
  const NamedTensor& mean = expected.tensors[0];
  const NamedTensor& var = expected.tensors[1];
  ASSERT_NE(mean.name.find("running_mean"), std::string::npos);
  ASSERT_NE(var.name.find("running_var"), std::string::npos);
  const NamedTensor* got_mean = pooled.Find(mean.name);
  const NamedTensor* got_var = pooled.Find(var.name);
  ASSERT_NE(got_mean, nullptr);
  ASSERT_NE(got_var, nullptr);
  const std::vector<float>& var_a = sites[0].stats.Find(var.name)->values;
  const std::vector<float>& var_b = sites[1].stats.Find(var.name)->values;
  for (size_t i = 0; i < mean.values.size(); ++i) {
    EXPECT_NEAR(got_mean->values[i], mean.values[i], 1e-3 * std::abs(mean.values[i]) + 1e-4)
        << mean.name << "[" << i << "]";
    EXPECT_NEAR(got_var->values[i], (var_a[i] + var_b[i]) / 2, 1e-5 * var_a[i] + 1e-6)
        << var.name << "[" << i << "]";
    // running_var is unbiased per batch: n/(n-1) differs between 32- and 64-image batches.
    EXPECT_LE(got_var->values[i], var.values[i] * (1 + 0.04) + 1e-4)
        << "the union's variance adds the spread of the halves' means: " << var.name << "[" << i
        << "]";
  }
}

// Trained-looking affine parameters: a fresh model's beta of exactly 0 puts every constant
// (background) channel's normalised value on the sign's threshold, where the two engines' float
// roundings of its mean decide the sign; no trained model has that.
void TrainedLookingAffine(DenseNet& model) {
  torch::NoGradGuard g;
  for (auto& m : model->modules(false)) {
    if (auto* bn = m->as<torch::nn::BatchNorm2dImpl>()) {
      bn->weight.normal_(0.5, 1.0);
      bn->bias.normal_(0, 0.5);
    }
  }
}

// Whether a and b hold the same tensors (names and values) in the same order.
bool SameValues(const ModelState& a, const ModelState& b) {
  if (a.tensors.size() != b.tensors.size()) return false;
  for (size_t t = 0; t < a.tensors.size(); ++t) {
    if (a.tensors[t].name != b.tensors[t].name || a.tensors[t].values != b.tensors[t].values) {
      return false;
    }
  }
  return true;
}

// The 1-bit engine's recalibration reads the same images in the same batches and gives
// LibTorch's statistics within float rounding, for a subset and several batches; CalibrateState
// picks either by the setting and writes the statistics into the state.
TEST_F(BnCalibrateTest, BinaryEngineGivesLibTorchsStatistics) {
  for (const char* arch : {"bdn-tiny"}) {
    torch::manual_seed(11);
    DenseNet model = *MakeModel(arch, 8, 32);
    TrainedLookingAffine(model);
    const ModelState global = ExportState(model, {});
    const CalibrateOptions o = Options(/*images=*/48, /*batch=*/16);  // 16, 16, 16
    ModelState torched = global;
    auto torch_stats = CalibrateState(&torched, &model, data_, all_, o, EvalEngine::kTorch, 2);
    ASSERT_TRUE(torch_stats.ok()) << torch_stats.status();
    ModelState binary = global;
    auto engine_stats = CalibrateState(&binary, nullptr, data_, all_, o, EvalEngine::kAuto, 2);
    ASSERT_TRUE(engine_stats.ok()) << engine_stats.status();
    EXPECT_EQ(engine_stats->images, torch_stats->images);
    EXPECT_EQ(engine_stats->batches, torch_stats->batches);
    const ModelState want = Stats(model), got = BatchNormStatisticsOf(binary);
    EXPECT_TRUE(SameValues(BatchNormStatisticsOf(torched), want))
        << "LibTorch's statistics are written into the state";
    EXPECT_FALSE(SameValues(BatchNormStatisticsOf(global), want));
    ModelState float_arch = global;
    float_arch.meta.arch = "densenet28";
    EXPECT_EQ(CalibrateState(&float_arch, nullptr, data_, all_, o, EvalEngine::kBinary, 2)
                  .status().code(), StatusCode::kInvalidArgument);
    EXPECT_TRUE(SameValues(float_arch, global)) << "a refused calibration writes nothing";
    ASSERT_EQ(got.tensors.size(), want.tensors.size());
    // bdn28 is left out here: on these flat synthetic smears its deeper layers' statistics
    // differ from LibTorch's float32 ones (sign flips at float rounding compound with depth),
    // while random inputs match to 1e-6 (tests/infer/engine_bn_test.cc); the test below holds
    // both to the float64 statistics instead.
    size_t values = 0, off = 0;
    double worst = 0;
    for (size_t t = 0; t < want.tensors.size(); ++t) {
      ASSERT_EQ(got.tensors[t].name, want.tensors[t].name);
      for (size_t c = 0; c < want.tensors[t].values.size(); ++c) {
        const double w = want.tensors[t].values[c], g = got.tensors[t].values[c];
        const double rel = std::fabs(g - w) / (1 + std::fabs(w));
        worst = std::max(worst, rel);
        off += rel > 1e-3;
        ++values;
      }
    }
    std::printf("%s: %zu of %zu statistics differ by more than 1e-3, worst %.3g\n", arch, off,
                values, worst);
    EXPECT_EQ(off, 0u) << arch;
    EXPECT_LT(worst, 1e-5) << arch;
  }
}

// LibTorch's training-mode statistics of `state` over `batches`, computed in `dtype`.
ModelState TorchTrainModeStats(const ModelState& state, const std::vector<torch::Tensor>& batches,
                               torch::Dtype dtype) {
  DenseNet m = *ModelFromState(state);
  m->to(dtype);
  torch::NoGradGuard g;
  ResetBatchNormStatistics(m);
  m->train();
  for (const torch::Tensor& b : batches) m->forward(b.to(dtype));
  m->eval();
  m->to(torch::kFloat32);
  return BatchNormStatisticsOf(ExportState(m, {}));
}

// Mean over a model's statistics of |got - exact| / (1 + |exact|).
double MeanError(const ModelState& got, const ModelState& exact) {
  double sum = 0;
  size_t n = 0;
  for (const NamedTensor& e : exact.tensors) {
    const NamedTensor* g = got.Find(e.name);
    EXPECT_NE(g, nullptr) << e.name;
    if (g == nullptr) continue;
    for (size_t c = 0; c < e.values.size(); ++c) {
      sum += std::fabs(g->values[c] - e.values[c]) / (1.0 + std::fabs(e.values[c]));
      ++n;
    }
  }
  return n ? sum / static_cast<double>(n) : 0.0;
}

// What "LibTorch's statistics within float tolerance" can mean for a binarized network: a sign
// flips where a normalised activation lies within float rounding of zero, and such flips
// compound with depth, so on these flat synthetic smears two float32 computations of bdn28 part
// ways in its deeper layers. The exact statistics are LibTorch's in float64; the engine (float32
// activations, sums in double) must be at least about as close to them as LibTorch's own float32
// forward, the sites' default.
TEST_F(BnCalibrateTest, BinaryEngineIsAsCloseToExactStatisticsAsLibTorchFloat32) {
  for (const char* arch : {"bdn-tiny", "bdn28"}) {
    torch::manual_seed(11);
    DenseNet model = *MakeModel(arch, 8, 64);
    TrainedLookingAffine(model);
    const ModelState state = ExportState(model, {});
    LoaderOptions lo;
    lo.batch_size = 16;
    lo.input_size = 64;
    BatchLoader loader(data_, all_, lo);
    loader.StartEpoch(0);
    std::vector<torch::Tensor> batches;
    Batch b;
    while (batches.size() < 3 && loader.Next(&b)) {
      batches.push_back(
          torch::from_blob(b.images.data(), {b.n, 3, 64, 64}, torch::kFloat32).clone());
    }
    ASSERT_EQ(batches.size(), 3u);

    const ModelState exact = TorchTrainModeStats(state, batches, torch::kFloat64);
    const ModelState torch32 = TorchTrainModeStats(state, batches, torch::kFloat32);
    Result<infer::BinaryEngine> engine = infer::BinaryEngine::FromState(state, {});
    ASSERT_TRUE(engine.ok()) << engine.status();
    infer::BnStatistics stats;
    for (const torch::Tensor& t : batches) {
      ASSERT_TRUE(engine->AccumulateBatchNormStatistics(t.data_ptr<float>(),
                                                        static_cast<int>(t.size(0)), &stats)
                      .ok());
    }
    ModelState binary = state;
    ASSERT_TRUE(stats.WriteInto(&binary).ok());
    const double e_torch = MeanError(torch32, exact);
    const double e_engine = MeanError(BatchNormStatisticsOf(binary), exact);
    std::printf("%s: mean relative error against float64, LibTorch float32 %.3g, engine %.3g\n",
                arch, e_torch, e_engine);
    EXPECT_LE(e_engine, 2 * e_torch + 1e-6) << arch;
  }
}

}  // namespace
}  // namespace fedsmear
