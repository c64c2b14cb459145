// train/optimizer_state: a site's Adam moments carried from one training call (round) to the
// next. The check of the maths: with full-batch steps and no augmentation every step sees the
// same images, so two calls of one step with the state kept must land where one call of two
// steps lands, and two fresh calls must not.
#include "train/optimizer_state.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>

#include "data/synth.h"
#include "train/trainer.h"

namespace fedsmear {
namespace {

namespace fs = std::filesystem;

class OptimizerStateTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("fedsmear_optstate_" + std::to_string(::getpid()));
    SynthOptions s;
    s.task = "rbc";
    s.per_class = 3;
    s.size = 32;
    ASSERT_TRUE(WriteSynthDataset(s, dir_.string()).ok());
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }

  void SetUp() override {
    auto d = OpenDataset(dir_.string(), {});
    ASSERT_TRUE(d.ok()) << d.status();
    data_ = std::move(*d);
    for (size_t k = 0; k < data_.samples.size(); ++k) all_.push_back(k);
  }

  // Full-batch steps on the same images each time: the order of batches cannot matter.
  TrainOptions Options(const std::string& mode, int steps, OptimizerState* state) const {
    TrainOptions o;
    o.train.batch_size = static_cast<int>(all_.size());
    o.train.local_epochs = steps;
    o.train.learning_rate = 1e-2;
    o.train.augment.hflip = o.train.augment.vflip = o.train.augment.rot90 = false;
    o.train.logit_adjustment = 0;
    o.train.optimizer_state = *settings::ParseEnum<OptimizerStateMode>(mode);
    o.input_size = 32;
    o.optimizer_state = state;
    return o;
  }
  DenseNet Fresh() const {
    torch::manual_seed(3);
    return *MakeModel("bdn-tiny", static_cast<int>(data_.class_names.size()), 32);
  }
  // Largest absolute difference between two models' trainable parameters.
  static double MaxDiff(DenseNet& a, DenseNet& b) {
    double worst = 0;
    auto pa = a->parameters(), pb = b->parameters();
    for (size_t i = 0; i < pa.size(); ++i) {
      worst = std::max(worst, (pa[i] - pb[i]).abs().max().item<double>());
    }
    return worst;
  }
  // Two calls (rounds) of one step each.
  void TrainTwice(DenseNet& model, const std::string& mode, OptimizerState* state) {
    ASSERT_TRUE(TrainLocal(model, data_, all_, Options(mode, 1, state)).ok());
    ASSERT_TRUE(TrainLocal(model, data_, all_, Options(mode, 1, state)).ok());
  }

  static fs::path dir_;
  Dataset data_;
  std::vector<size_t> all_;
};
fs::path OptimizerStateTest::dir_;

// Two kept calls of one step land where one call of two steps does (up to the summation order
// of a shuffled batch: about 1e-5 here); two fresh calls land about lr away, because the second
// call's Adam restarts its bias correction. (Over more steps a latent weight whose sign the
// rounding noise flips makes any two runs drift apart, so the check stays at two.)
TEST_F(OptimizerStateTest, KeptMomentsContinueAdamAcrossCalls) {
  DenseNet once = Fresh();
  ASSERT_TRUE(TrainLocal(once, data_, all_, Options("fresh", 2, nullptr)).ok());

  DenseNet kept = Fresh();
  OptimizerState state;
  TrainTwice(kept, "keep", &state);
  EXPECT_EQ(state.step, 2);
  EXPECT_EQ(state.first.tensors.size(), kept->parameters().size());
  EXPECT_EQ(state.second.tensors.size(), kept->parameters().size());
  EXPECT_LT(MaxDiff(once, kept), 1e-4) << "two kept calls of 1 step = one call of 2";

  DenseNet reset = Fresh();
  OptimizerState unused;
  TrainTwice(reset, "fresh", &unused);
  EXPECT_TRUE(unused.empty()) << "fresh keeps nothing";
  EXPECT_GT(MaxDiff(once, reset), 1e-3) << "a fresh optimizer restarts Adam's bias correction";
}

TEST_F(OptimizerStateTest, KeepScaleKeepsTheSecondMomentOnly) {
  DenseNet model = Fresh();
  OptimizerState state;
  ASSERT_TRUE(TrainLocal(model, data_, all_, Options("keep_scale", 2, &state)).ok());
  EXPECT_EQ(state.step, 2);
  EXPECT_TRUE(state.first.tensors.empty());
  EXPECT_EQ(state.second.tensors.size(), model->parameters().size());
  for (const NamedTensor& t : state.second.tensors) {
    for (float v : t.values) ASSERT_GE(v, 0.0f) << t.name << ": a second moment is a square";
  }
  ASSERT_TRUE(TrainLocal(model, data_, all_, Options("keep_scale", 2, &state)).ok());
  EXPECT_EQ(state.step, 4) << "the step count continues (bias correction)";

  // The same start with "keep" differs: the first moment is what keep_scale drops.
  DenseNet scale = Fresh(), full = Fresh();
  OptimizerState s1, s2;
  TrainTwice(scale, "keep_scale", &s1);
  TrainTwice(full, "keep", &s2);
  EXPECT_EQ(s2.first.tensors.size(), model->parameters().size());
  EXPECT_GT(MaxDiff(scale, full), 1e-4);
}

// State from a model of another shape (here another head) is used where names and sizes match
// and skipped where they do not; training still runs.
TEST_F(OptimizerStateTest, MismatchedParametersStartFresh) {
  DenseNet model = Fresh();
  OptimizerState state;
  ASSERT_TRUE(TrainLocal(model, data_, all_, Options("keep", 1, &state)).ok());
  torch::manual_seed(3);
  DenseNet other = *MakeModel("bdn-tiny", 3, 32);
  torch::optim::Adam adam(other->parameters(), torch::optim::AdamOptions(1e-3));
  const int restored = RestoreOptimizerState(state, OptimizerStateMode::kKeep, other->named_parameters(), adam);
  EXPECT_GT(restored, 0);
  EXPECT_LT(restored, static_cast<int>(other->parameters().size())) << "the head differs";
  EXPECT_EQ(RestoreOptimizerState(state, OptimizerStateMode::kFresh, other->named_parameters(), adam), 0);
  EXPECT_EQ(RestoreOptimizerState(OptimizerState{}, OptimizerStateMode::kKeep, other->named_parameters(), adam), 0);
}

// SGD keeps its momentum buffer under "keep"; keep_scale has nothing to keep for it.
TEST_F(OptimizerStateTest, SgdKeepsItsMomentumBuffer) {
  DenseNet model = Fresh();
  OptimizerState state;
  TrainOptions o = Options("keep", 2, &state);
  o.train.optimizer = Optimizer::kSgd;
  ASSERT_TRUE(TrainLocal(model, data_, all_, o).ok());
  EXPECT_EQ(state.step, 0);
  EXPECT_EQ(state.first.tensors.size(), model->parameters().size());
  EXPECT_TRUE(state.second.tensors.empty());
  o.train.optimizer_state = OptimizerStateMode::kKeepScale;
  OptimizerState none;
  o.optimizer_state = &none;
  ASSERT_TRUE(TrainLocal(model, data_, all_, o).ok());
  EXPECT_TRUE(none.empty());
}

}  // namespace
}  // namespace fedsmear
