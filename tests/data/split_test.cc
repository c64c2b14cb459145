#include "data/split.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

namespace fedsmear {
namespace {

// Synthetic dataset without files: counts per class, groups of `group_size` within a class.
Dataset Fake(const std::vector<int>& counts, int group_size) {
  Dataset ds;
  for (size_t c = 0; c < counts.size(); ++c) {
    ds.class_names.push_back("c" + std::to_string(c));
    for (int i = 0; i < counts[c]; ++i) {
      ds.samples.push_back({"/x/" + std::to_string(c) + "/" + std::to_string(i),
                            static_cast<int>(c),
                            "g" + std::to_string(c) + "_" + std::to_string(i / group_size)});
    }
  }
  return ds;
}

TEST(SplitTest, CountsAndWeights) {
  Dataset ds = Fake({10, 30, 0, 60}, 1);
  EXPECT_EQ(CountClasses(ds), (std::vector<int64_t>{10, 30, 0, 60}));
  std::vector<size_t> some = {0, 1, 15};
  EXPECT_EQ(CountClasses(ds, &some), (std::vector<int64_t>{2, 1, 0, 0}));
  auto w = InverseFrequencyWeights(CountClasses(ds));
  ASSERT_EQ(w.size(), 4u);
  EXPECT_DOUBLE_EQ(w[2], 0.0);
  EXPECT_NEAR((w[0] + w[1] + w[3]) / 3.0, 1.0, 1e-12);
  EXPECT_NEAR(w[0] / w[1], 3.0, 1e-12);
  EXPECT_NEAR(w[0] / w[3], 6.0, 1e-12);
}

TEST(SplitTest, StratifiedProportions) {
  Dataset ds = Fake({100, 40, 7, 1}, 1);
  Result<TrainValIndices> s = TrainValSplit(ds, 0.2, 5, false);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(CountClasses(ds, &s->val), (std::vector<int64_t>{20, 8, 1, 0}));
  EXPECT_EQ(CountClasses(ds, &s->train), (std::vector<int64_t>{80, 32, 6, 1}));
  std::set<size_t> all(s->train.begin(), s->train.end());
  for (size_t i : s->val) EXPECT_TRUE(all.insert(i).second);
  EXPECT_EQ(all.size(), ds.samples.size());
  Result<TrainValIndices> same = TrainValSplit(ds, 0.2, 5, false);
  EXPECT_EQ(same->val, s->val);
  Result<TrainValIndices> other = TrainValSplit(ds, 0.2, 6, false);
  EXPECT_NE(other->val, s->val);
}

TEST(SplitTest, GroupsNeverStraddle) {
  Dataset ds = Fake({200, 120, 80}, 7);
  // Some groups also span classes (one smear, several cell types).
  for (size_t i = 0; i < ds.samples.size(); i += 13) ds.samples[i].group = "shared";
  Result<TrainValIndices> s = TrainValSplit(ds, 0.25, 9, true);
  ASSERT_TRUE(s.ok());
  std::map<std::string, int> side;
  for (size_t i : s->train) side[ds.samples[i].group] |= 1;
  for (size_t i : s->val) side[ds.samples[i].group] |= 2;
  for (const auto& [g, bits] : side) EXPECT_NE(bits, 3) << g;
  EXPECT_EQ(s->train.size() + s->val.size(), ds.samples.size());
  auto val = CountClasses(ds, &s->val);
  EXPECT_NEAR(val[0], 50, 10);
  EXPECT_NEAR(val[1], 30, 10);
  EXPECT_NEAR(val[2], 20, 10);
  EXPECT_EQ(TrainValSplit(ds, 0.25, 9, true)->val, s->val);
}

TEST(SplitTest, BadFraction) {
  Dataset ds = Fake({3}, 1);
  EXPECT_EQ(TrainValSplit(ds, 1.0, 1, false).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(TrainValSplit(ds, -0.1, 1, false).status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(TrainValSplit(ds, 0.0, 1, false)->val.empty());
}

}  // namespace
}  // namespace fedsmear
