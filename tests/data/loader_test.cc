#include "data/loader.h"

#include <gtest/gtest.h>

#include <numeric>
#include <set>

#include "tests/data/test_util.h"

namespace fedsmear {
namespace {

namespace fs = std::filesystem;

using testing::Encode;
using testing::TempDir;
using testing::WriteBytes;

// 3 classes x 7 images of varied sizes and formats, plus one truncated JPEG in class b.
Dataset MakeData(const TempDir& dir, bool with_bad) {
  const char* exts[] = {".png", ".jpg", ".bmp"};
  for (int c = 0; c < 3; ++c) {
    for (int i = 0; i < 7; ++i) {
      const std::string name = std::string(1, static_cast<char>('a' + c));
      WriteBytes(dir.path() / name / (std::to_string(i) + exts[i % 3]),
                 Encode(testing::Pattern(20 + 3 * i, 16 + 2 * c, i + 10 * c), exts[i % 3]));
    }
  }
  if (with_bad) {
    const std::string jpg = Encode(testing::Pattern(48, 48), ".jpg");
    WriteBytes(dir.path() / "b" / "zz_truncated.jpg", jpg.substr(0, jpg.size() * 2 / 3));
  }
  Result<Dataset> ds = ScanImageFolder(dir.path().string(), {});
  EXPECT_TRUE(ds.ok()) << ds.status();
  return *ds;
}

std::vector<size_t> All(const Dataset& ds) {
  std::vector<size_t> v(ds.samples.size());
  std::iota(v.begin(), v.end(), size_t{0});
  return v;
}

LoaderOptions TrainOptions(int threads) {
  LoaderOptions o;
  o.batch_size = 4;
  o.input_size = 16;
  o.train = true;
  o.seed = 42;
  o.threads = threads;
  o.aug.rotate_deg = 20;
  o.aug.brightness = 0.1;
  o.aug.cutmix = 0.5;
  return o;
}

std::vector<Batch> RunEpoch(BatchLoader& loader, int epoch) {
  loader.StartEpoch(epoch);
  std::vector<Batch> out;
  Batch b;
  while (loader.Next(&b)) out.push_back(b);
  return out;
}

TEST(LoaderTest, ShapesLabelsAndCoverage) {
  TempDir dir;
  Dataset ds = MakeData(dir, false);
  LoaderOptions o;
  o.batch_size = 5;
  o.input_size = 12;
  BatchLoader loader(ds, All(ds), o);
  EXPECT_EQ(loader.BatchesPerEpoch(), 5);
  auto batches = RunEpoch(loader, 0);
  ASSERT_EQ(batches.size(), 5u);
  std::vector<size_t> seen;
  for (const auto& b : batches) {
    EXPECT_EQ(b.images.size(), static_cast<size_t>(b.n) * 3 * 12 * 12);
    EXPECT_EQ(b.labels.size(), static_cast<size_t>(b.n));
    EXPECT_TRUE(b.lambda.empty());
    for (int i = 0; i < b.n; ++i) {
      EXPECT_EQ(b.labels[i], ds.samples[b.indices[i]].label);
      seen.push_back(b.indices[i]);
    }
  }
  EXPECT_EQ(batches.back().n, 1);
  EXPECT_EQ(seen, All(ds));  // eval: in order, each once
  EXPECT_EQ(loader.stats().images, 21);
  EXPECT_EQ(loader.stats().skipped, 0);
}

TEST(LoaderTest, DeterministicAcrossThreadCounts) {
  TempDir dir;
  Dataset ds = MakeData(dir, true);
  std::vector<std::vector<Batch>> runs;
  for (int threads : {0, 1, 2, 4}) {
    BatchLoader loader(ds, All(ds), TrainOptions(threads));
    runs.push_back(RunEpoch(loader, 3));
    EXPECT_EQ(loader.stats().skipped, 1) << threads;
  }
  bool any_mix = false;
  for (size_t r = 1; r < runs.size(); ++r) {
    ASSERT_EQ(runs[r].size(), runs[0].size());
    for (size_t b = 0; b < runs[0].size(); ++b) {
      EXPECT_EQ(runs[r][b].n, runs[0][b].n);
      EXPECT_EQ(runs[r][b].labels, runs[0][b].labels);
      EXPECT_EQ(runs[r][b].labels_b, runs[0][b].labels_b);
      EXPECT_EQ(runs[r][b].lambda, runs[0][b].lambda);
      EXPECT_EQ(runs[r][b].images, runs[0][b].images) << "run " << r << " batch " << b;
      any_mix |= !runs[0][b].lambda.empty();
    }
  }
  EXPECT_TRUE(any_mix);
}

TEST(LoaderTest, EpochsShuffleDifferentlyAndCoverEverything) {
  TempDir dir;
  Dataset ds = MakeData(dir, false);
  BatchLoader loader(ds, All(ds), TrainOptions(2));
  auto order = [](const std::vector<Batch>& bs) {
    std::vector<size_t> v;
    for (const auto& b : bs) v.insert(v.end(), b.indices.begin(), b.indices.end());
    return v;
  };
  auto e0 = order(RunEpoch(loader, 0));
  auto e1 = order(RunEpoch(loader, 1));
  EXPECT_NE(e0, e1);
  std::sort(e0.begin(), e0.end());
  std::sort(e1.begin(), e1.end());
  EXPECT_EQ(e0, All(ds));
  EXPECT_EQ(e1, All(ds));
}

TEST(LoaderTest, SkipsAreCountedAndLoggedOnce) {
  TempDir dir;
  Dataset ds = MakeData(dir, true);
  LoaderOptions o;
  o.batch_size = 8;
  o.input_size = 8;
  o.threads = 2;
  BatchLoader loader(ds, All(ds), o);
  int64_t delivered = 0;
  for (int e = 0; e < 3; ++e) {
    for (const auto& b : RunEpoch(loader, e)) delivered += b.n;
  }
  EXPECT_EQ(delivered, 3 * 21);
  EXPECT_EQ(loader.stats().images, 3 * 21);
  EXPECT_EQ(loader.stats().skipped, 3);
  ASSERT_EQ(loader.failures().size(), 1u);
  EXPECT_NE(loader.failures()[0].reason.find("truncated"), std::string::npos);
  EXPECT_GE(loader.stats().wait_seconds, 0.0);
}

TEST(LoaderTest, CacheFillsAndGivesSameBatches) {
  TempDir dir;
  Dataset ds = MakeData(dir, false);
  LoaderOptions o = TrainOptions(2);
  BatchLoader cached(ds, All(ds), o);
  o.cache = false;
  BatchLoader uncached(ds, All(ds), o);
  RunEpoch(cached, 0);
  EXPECT_EQ(cached.cached_images(), ds.samples.size());
  auto a = RunEpoch(cached, 1);
  auto b = RunEpoch(uncached, 1);
  EXPECT_EQ(uncached.cached_images(), 0u);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i].images, b[i].images);
}

TEST(LoaderTest, DropLastAndSubsetIndices) {
  TempDir dir;
  Dataset ds = MakeData(dir, false);
  LoaderOptions o;
  o.batch_size = 4;
  o.input_size = 8;
  o.drop_last = true;
  o.threads = 1;
  BatchLoader loader(ds, {0, 2, 4, 6, 8, 10, 12}, o);
  auto bs = RunEpoch(loader, 0);
  ASSERT_EQ(bs.size(), 1u);
  EXPECT_EQ(bs[0].indices, (std::vector<size_t>{0, 2, 4, 6}));
}

TEST(LoaderTest, RestartMidEpochAndDestroyWhileRunning) {
  TempDir dir;
  Dataset ds = MakeData(dir, false);
  LoaderOptions o = TrainOptions(2);
  o.batch_size = 2;
  o.prefetch = 1;
  {
    BatchLoader loader(ds, All(ds), o);
    loader.StartEpoch(0);
    Batch b;
    ASSERT_TRUE(loader.Next(&b));
    loader.StartEpoch(0);  // restart: same first batch
    Batch again;
    ASSERT_TRUE(loader.Next(&again));
    EXPECT_EQ(b.images, again.images);
    loader.StartEpoch(1);  // destroyed with workers blocked on the prefetch bound
  }
  BatchLoader idle(ds, All(ds), o);
  Batch b;
  EXPECT_FALSE(idle.Next(&b));  // before StartEpoch
}

}  // namespace
}  // namespace fedsmear
