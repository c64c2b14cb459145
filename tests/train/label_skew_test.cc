// Label skew: a class that lives at one site must survive averaging. Tests the logit adjustment
// (data/split.h LogitAdjustmentOffsets, applied in train/trainer.cc) by its maths and by
// its effect: a site without a class leaves that class's scores alone, and the average of a site
// that holds the class with one that does not still recognises it.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "data/split.h"
#include "data/synth.h"
#include "train/trainer.h"

namespace fedsmear {
namespace {

namespace fs = std::filesystem;

TEST(LogitAdjustmentTest, OffsetsAreTauTimesLogPrior) {
  // 30 / 10 / 0 samples: priors 3/4 and 1/4; the absent class is masked out of the softmax.
  std::vector<double> off = LogitAdjustmentOffsets({30, 10, 0}, 1.0);
  ASSERT_EQ(off.size(), 3u);
  EXPECT_NEAR(off[0], std::log(0.75), 1e-12);
  EXPECT_NEAR(off[1], std::log(0.25), 1e-12);
  EXPECT_EQ(off[2], kAbsentClassOffset);
  EXPECT_LT(std::exp(off[2]), 1e-300) << "exp underflows to 0: no gradient reaches the class";
  // tau scales; differences between classes are tau * log of count ratios.
  std::vector<double> half = LogitAdjustmentOffsets({30, 10, 0}, 0.5);
  EXPECT_NEAR(half[0] - half[1], 0.5 * std::log(3.0), 1e-12);
  // Off, or nothing to count: no offsets.
  EXPECT_EQ(LogitAdjustmentOffsets({30, 10, 0}, 0), std::vector<double>(3, 0.0));
  EXPECT_EQ(LogitAdjustmentOffsets({0, 0}, 1.0), std::vector<double>(2, 0.0));
  // Balanced data: equal offsets, so the argmax and the loss's gradients are unchanged.
  std::vector<double> even = LogitAdjustmentOffsets({5, 5, 5, 5}, 1.0);
  for (double v : even) EXPECT_NEAR(v, std::log(0.25), 1e-12);
}

// With the pooled prior as target, the offsets are tau * log(local / pooled): a site whose
// classes come in the pool's proportions trains with plain cross-entropy (equal offsets), and a
// class the site has more of than the pool gets a positive offset (its own score learns less).
TEST(LogitAdjustmentTest, PooledTargetOffsetsAreTheLogRatioToThePool) {
  const std::vector<double> pool = {0.5, 0.25, 0.25};
  std::vector<double> off = LogitAdjustmentOffsets({30, 10, 0}, 1.0, pool);
  ASSERT_EQ(off.size(), 3u);
  EXPECT_NEAR(off[0], std::log(0.75 / 0.5), 1e-12);
  EXPECT_NEAR(off[1], std::log(0.25 / 0.25), 1e-12);
  EXPECT_EQ(off[2], kAbsentClassOffset) << "a class the site lacks stays masked";
  std::vector<double> half = LogitAdjustmentOffsets({30, 10, 0}, 0.5, pool);
  EXPECT_NEAR(half[0], 0.5 * std::log(1.5), 1e-12);
  std::vector<double> same = LogitAdjustmentOffsets({20, 10, 10}, 1.0, pool);
  for (double v : same) EXPECT_NEAR(v, 0.0, 1e-12);
  // A pooled share of 0 (a site that joined after the counts were pooled) is floored.
  std::vector<double> floored = LogitAdjustmentOffsets({10, 10}, 1.0, {1.0, 0.0});
  EXPECT_NEAR(floored[1], std::log(0.5 / kMinTargetPrior), 1e-9);
  // A prior of another length is ignored: the balanced target.
  EXPECT_EQ(LogitAdjustmentOffsets({30, 10, 0}, 1.0, {1.0}), LogitAdjustmentOffsets({30, 10, 0}, 1.0));
}

class LabelSkewTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = fs::temp_directory_path() / ("fedsmear_skew_" + std::to_string(::getpid()));
    SynthOptions s;
    s.task = "rbc";
    s.per_class = 40;
    s.size = 32;
    ASSERT_TRUE(WriteSynthDataset(s, (dir_ / "train").string()).ok());
    s.per_class = 20;
    s.seed = 9;
    ASSERT_TRUE(WriteSynthDataset(s, (dir_ / "test").string()).ok());
  }
  static void TearDownTestSuite() { fs::remove_all(dir_); }

  // Indices of `d` whose label is (or, with `without`, is not) `cls`.
  static std::vector<size_t> Where(const Dataset& d, int cls, bool without) {
    std::vector<size_t> out;
    for (size_t i = 0; i < d.samples.size(); ++i) {
      if ((d.samples[i].label == cls) != without) out.push_back(i);
    }
    return out;
  }

  static TrainOptions Options(double tau, int epochs) {
    TrainOptions o;
    o.train.local_epochs = epochs;
    o.train.batch_size = 16;
    o.train.learning_rate = 3e-3;
    o.train.logit_adjustment = tau;
    o.input_size = 32;
    o.seed = 5;
    return o;
  }
  static constexpr int kRounds = 6;
  static fs::path dir_;
};
fs::path LabelSkewTest::dir_;

// A site with no image of class k: plain cross-entropy pushes k's classifier row against every
// local image's features (that is what erased monocytes in the sign-vote run, docs/accuracy.md);
// with the adjustment, k gets no gradient at all and its row leaves the site as it came.
TEST_F(LabelSkewTest, SiteWithoutAClassLeavesItsClassifierRowAlone) {
  auto train = OpenDataset((dir_ / "train").string(), {});
  ASSERT_TRUE(train.ok());
  const int k = 3;
  const std::vector<size_t> absent = Where(*train, k, /*without=*/true);
  double moved[2], others_moved[2];
  for (int la = 0; la < 2; ++la) {
    torch::manual_seed(11);
    DenseNet model = *MakeModel("bdn-tiny", 8, 32);
    const torch::Tensor before = model->named_parameters()["head.fc.weight"].clone();
    ASSERT_TRUE(TrainLocal(model, *train, absent, Options(la ? 1.0 : 0.0, 1)).ok());
    const torch::Tensor after = model->named_parameters()["head.fc.weight"];
    moved[la] = (after[k] - before[k]).abs().max().item<double>();
    others_moved[la] = (after - before).abs().max().item<double>();
  }
  EXPECT_GT(moved[0], 1e-3) << "plain CE moves the absent class's row";
  EXPECT_EQ(moved[1], 0.0) << "with the adjustment the absent class's row must not move";
  EXPECT_GT(others_moved[1], 1e-3) << "the present classes still learn";
}

// The rare-class case: one (small) site holds every image of class k, a larger one holds the
// rest. A few rounds of FedAvg (train both from the global model, average by samples) keep k
// recognisable with the adjustment and lose more of it without.
TEST_F(LabelSkewTest, OneSiteHoldsAClassAndTheAverageStillRecallsIt) {
  auto train = OpenDataset((dir_ / "train").string(), {});
  auto test = OpenDataset((dir_ / "test").string(), train->class_names);
  ASSERT_TRUE(train.ok() && test.ok());
  const int k = 5;
  std::vector<size_t> big = Where(*train, k, /*without=*/true);     // 7 classes
  std::vector<size_t> small = Where(*train, k, /*without=*/false);  // class k
  for (size_t i = 0; i < big.size(); i += 4) small.push_back(big[i]);  // and a quarter of the rest
  std::sort(small.begin(), small.end());
  const double wa = static_cast<double>(big.size()), wb = static_cast<double>(small.size());
  double recall[2], accuracy[2];
  for (int la = 0; la < 2; ++la) {
    torch::manual_seed(13);
    DenseNet init = *MakeModel("bdn-tiny", 8, 32);
    ModelState global = ExportState(init, train->class_names);
    for (int round = 0; round < kRounds; ++round) {
      DenseNet a = *ModelFromState(global), b = *ModelFromState(global);
      ASSERT_TRUE(TrainLocal(a, *train, big, Options(la ? 1.0 : 0.0, 1)).ok());
      ASSERT_TRUE(TrainLocal(b, *train, small, Options(la ? 1.0 : 0.0, 1)).ok());
      ModelState sa = ExportState(a, train->class_names);
      ModelState sb = ExportState(b, train->class_names);
      for (size_t t = 0; t < sa.tensors.size(); ++t) {
        std::vector<float>& x = sa.tensors[t].values;
        const std::vector<float>& y = sb.tensors[t].values;
        for (size_t i = 0; i < x.size(); ++i) {
          x[i] = static_cast<float>((wa * x[i] + wb * y[i]) / (wa + wb));
        }
      }
      global = std::move(sa);
    }
    DenseNet avg = *ModelFromState(global);
    auto ev = Evaluate(avg, *test, Where(*test, -1, true), 32, PreprocessConfig{});
    ASSERT_TRUE(ev.ok());
    recall[la] = ev->confusion.PerClass()[k].recall;
    accuracy[la] = ev->confusion.Accuracy();
  }
  std::printf("rare-class recall with the adjustment %.3f, without %.3f; accuracy %.3f / %.3f\n",
              recall[1], recall[0], accuracy[1], accuracy[0]);
  EXPECT_GT(recall[1], recall[0] + 0.2) << "recall of the rare class with " << recall[1]
                                        << " without " << recall[0] << "; accuracy "
                                        << accuracy[1] << " / " << accuracy[0];
}

}  // namespace
}  // namespace fedsmear
