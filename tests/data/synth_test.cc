#include "data/synth.h"

#include <gtest/gtest.h>


#include "data/dataset.h"
#include "data/preprocess.h"
#include "data/random.h"
#include "tests/data/test_util.h"

namespace fedsmear {
namespace {

using testing::TempDir;

TEST(SynthTest, WritesRequestedCounts) {
  TempDir dir;
  SynthOptions o;
  o.task = "wbc";
  o.per_class = 12;
  o.size = 48;
  ASSERT_TRUE(WriteSynthDataset(o, dir.Sub("wbc")).ok());
  Result<Dataset> ds = ScanImageFolder(dir.Sub("wbc"), {});
  ASSERT_TRUE(ds.ok()) << ds.status();
  EXPECT_EQ(ds->class_names, (std::vector<std::string>{"eosinophil", "lymphocyte", "monocyte",
                                                       "neutrophil"}));
  EXPECT_EQ(ds->ClassCounts(), (std::vector<int64_t>{12, 12, 12, 12}));
  Result<cv::Mat> img = DecodeImage(ds->samples[0].path, 8192);
  ASSERT_TRUE(img.ok());
  EXPECT_EQ(img->size(), cv::Size(48, 48));
  EXPECT_EQ(SynthClassNames("rbc").size(), 8u);
  EXPECT_FALSE(WriteSynthDataset({"plt", 1, 64, 1}, dir.Sub("x")).ok());
  EXPECT_FALSE(WriteSynthDataset({"rbc", 0, 64, 1}, dir.Sub("x")).ok());
}

TEST(SynthTest, DeterministicPerSeed) {
  std::mt19937 a(MixSeed(5, 1, 2)), b(MixSeed(5, 1, 2)), c(MixSeed(6, 1, 2));
  cv::Mat x = *RenderSynthCell("rbc", 3, 64, a);
  cv::Mat y = *RenderSynthCell("rbc", 3, 64, b);
  cv::Mat z = *RenderSynthCell("rbc", 3, 64, c);
  EXPECT_EQ(cv::norm(x, y, cv::NORM_INF), 0);
  EXPECT_GT(cv::norm(x, z, cv::NORM_INF), 0);
}

// Nearest class-mean classifier on normalised 32x32 pixels: far above chance if the classes
// carry their shapes; the network-level test lives elsewhere.
double NearestCentroidAccuracy(const std::string& task, int train_per_class, int test_per_class) {
  const int k = static_cast<int>(SynthClassNames(task).size());
  const int s = 32, dim = 3 * s * s;
  PreprocessConfig pre;
  auto features = [&](int cls, int n, uint64_t seed) {
    std::mt19937 rng(MixSeed(seed, cls, n));
    cv::Mat img = *RenderSynthCell(task, cls, 64, rng);
    std::vector<float> f(dim);
    ToTensorCHW(img, s, pre, f.data());
    return f;
  };
  std::vector<std::vector<double>> centroid(k, std::vector<double>(dim, 0));
  for (int c = 0; c < k; ++c) {
    for (int n = 0; n < train_per_class; ++n) {
      auto f = features(c, n, 1);
      for (int d = 0; d < dim; ++d) centroid[c][d] += f[d] / train_per_class;
    }
  }
  int correct = 0;
  for (int c = 0; c < k; ++c) {
    for (int n = 0; n < test_per_class; ++n) {
      auto f = features(c, n, 2);
      int best = -1;
      double best_d = 1e300;
      for (int j = 0; j < k; ++j) {
        double d = 0;
        for (int i = 0; i < dim; ++i) d += (f[i] - centroid[j][i]) * (f[i] - centroid[j][i]);
        if (d < best_d) best_d = d, best = j;
      }
      correct += best == c;
    }
  }
  return static_cast<double>(correct) / (k * test_per_class);
}

TEST(SynthTest, ClassesAreDistinguishable) {
  const double rbc = NearestCentroidAccuracy("rbc", 60, 40);
  const double wbc = NearestCentroidAccuracy("wbc", 60, 40);
  RecordProperty("rbc_accuracy", std::to_string(rbc));
  RecordProperty("wbc_accuracy", std::to_string(wbc));
  std::printf("nearest-centroid accuracy: rbc %.3f (chance 0.125), wbc %.3f (chance 0.25)\n", rbc,
              wbc);
  EXPECT_GT(rbc, 0.125 * 3);
  EXPECT_GT(wbc, 0.25 * 2);
  EXPECT_LT(rbc, 0.999);  // not trivial
}

}  // namespace
}  // namespace fedsmear
