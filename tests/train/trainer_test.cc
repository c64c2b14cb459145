#include "train/trainer.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "data/split.h"
#include "data/synth.h"

namespace fedsmear {
namespace {

namespace fs = std::filesystem;

class TrainerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("fedsmear_trainer_" + std::to_string(::getpid()));
    SynthOptions s;
    s.task = "rbc";
    s.per_class = 60;
    s.size = 64;
    ASSERT_TRUE(WriteSynthDataset(s, (dir_ / "train").string()).ok());
    s.per_class = 20;
    s.seed = 7;
    ASSERT_TRUE(WriteSynthDataset(s, (dir_ / "test").string()).ok());
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }
  static std::vector<size_t> All(const Dataset& d) {
    std::vector<size_t> i(d.samples.size());
    for (size_t k = 0; k < i.size(); ++k) i[k] = k;
    return i;
  }
  static fs::path dir_;
};
fs::path TrainerTest::dir_;

// The check: a small network learns the synthetic RBC set well above chance quickly.
TEST_F(TrainerTest, SmallNetworkLearnsSyntheticRbc) {
  torch::manual_seed(1);
  auto train = OpenDataset((dir_ / "train").string(), {});
  auto test = OpenDataset((dir_ / "test").string(), train->class_names);
  ASSERT_TRUE(train.ok() && test.ok());
  DenseNet model = *MakeModel("bdn-tiny", 8, 64);
  TrainOptions o;
  o.train.local_epochs = 4;
  o.train.batch_size = 16;
  o.train.learning_rate = 3e-3;
  o.input_size = 64;
  int epochs_seen = 0;
  o.on_epoch = [&](int, const TrainStats&) {
    ++epochs_seen;
    return Status::Ok();
  };
  auto stats = TrainLocal(model, *train, All(*train), o);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(epochs_seen, 4);
  auto ev = Evaluate(model, *test, All(*test), 64, PreprocessConfig{});
  ASSERT_TRUE(ev.ok());
  EXPECT_GT(ev->confusion.Accuracy(), 0.4) << "chance is 0.125";
  EXPECT_EQ(ev->confusion.total(), 160);
}

// train.local_steps caps the optimizer steps of a call across epochs: 480 images in batches of
// 16 are 30 steps per epoch, so 40 steps are one full epoch and 10 batches of the second.
TEST_F(TrainerTest, LocalStepsCapTheRoundAcrossEpochs) {
  torch::manual_seed(3);
  auto train = OpenDataset((dir_ / "train").string(), {});
  ASSERT_TRUE(train.ok());
  DenseNet model = *MakeModel("bdn-tiny", 8, 64);
  TrainOptions o;
  o.train.local_epochs = 3;
  o.train.local_steps = 40;
  o.train.batch_size = 16;
  o.input_size = 64;
  std::vector<int64_t> seen_per_epoch;
  int64_t batches = 0;
  o.on_epoch = [&](int, const TrainStats& s) {
    seen_per_epoch.push_back(s.samples);
    return Status::Ok();
  };
  o.progress = [&](const ProgressTick&) { ++batches; };
  auto stats = TrainLocal(model, *train, All(*train), o);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(batches, 40);
  EXPECT_EQ(seen_per_epoch, (std::vector<int64_t>{480, 160})) << "the third epoch never starts";
  EXPECT_EQ(stats->samples, 160);

  // A cap above the epochs' batches changes nothing: local_epochs still bounds the call.
  o.train.local_epochs = 1;
  o.train.local_steps = 1000;
  batches = 0;
  seen_per_epoch.clear();
  stats = TrainLocal(model, *train, All(*train), o);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(batches, 30);
  EXPECT_EQ(seen_per_epoch, (std::vector<int64_t>{480}));
}

TEST_F(TrainerTest, ClassWeightsCutMixSgdAndProxTermRun) {
  torch::manual_seed(2);
  auto train = OpenDataset((dir_ / "train").string(), {});
  DenseNet model = *MakeModel("bdn-tiny", 8, 64);
  ModelState anchor = ExportState(model, {});
  TrainOptions o;
  o.train.optimizer = Optimizer::kSgd;
  o.train.learning_rate = 0.05;
  o.train.class_weights = true;
  o.train.augment.cutmix = 1.0;
  o.train.fedprox_mu = 0.1;
  o.proximal_anchor = &anchor;
  o.input_size = 64;
  auto stats = TrainLocal(model, *train, All(*train), o);
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_TRUE(std::isfinite(stats->loss));
  EXPECT_EQ(stats->samples, 480);
  // Binary latents stay clipped after SGD steps.
  for (auto& p : model->named_parameters()) {
    if (model->IsBinaryParam(p.key())) {
      EXPECT_LE(p.value().abs().max().item<float>(), 1.3f + 1e-6);
    }
  }
}

TEST_F(TrainerTest, DivergenceIsAnErrorNotACrash) {
  auto train = OpenDataset((dir_ / "train").string(), {});
  DenseNet model = *MakeModel("densenet-tiny", 8, 64);
  TrainOptions o;
  o.train.optimizer = Optimizer::kSgd;
  o.train.learning_rate = 1e12;
  o.input_size = 64;
  auto stats = TrainLocal(model, *train, All(*train), o);
  ASSERT_FALSE(stats.ok());
  EXPECT_NE(stats.status().message().find("diverged"), std::string::npos) << stats.status();
}

TEST_F(TrainerTest, NothingToTrainOn) {
  auto train = OpenDataset((dir_ / "train").string(), {});
  DenseNet model = *MakeModel("bdn-tiny", 8, 64);
  TrainOptions o;
  o.input_size = 64;
  auto stats = TrainLocal(model, *train, {0}, o);
  EXPECT_EQ(stats.status().code(), StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace fedsmear
