#include "data/partition.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <numeric>

#include "tests/data/test_util.h"

namespace fedsmear {
namespace {

namespace fs = std::filesystem;

using testing::TempDir;

Dataset Fake(const std::vector<int>& counts, int group_size) {
  Dataset ds;
  for (size_t c = 0; c < counts.size(); ++c) {
    ds.class_names.push_back("c" + std::to_string(c));
    for (int i = 0; i < counts[c]; ++i) {
      ds.samples.push_back({"/x/" + std::to_string(c) + "/" + std::to_string(i),
                            static_cast<int>(c), "g" + std::to_string(i / group_size)});
    }
  }
  return ds;
}

std::vector<std::vector<int64_t>> Counts(const Dataset& ds,
                                         const std::vector<std::vector<size_t>>& parts) {
  std::vector<std::vector<int64_t>> out;
  for (const auto& p : parts) {
    std::vector<int64_t> c(ds.class_names.size(), 0);
    for (size_t i : p) ++c[ds.samples[i].label];
    out.push_back(c);
  }
  return out;
}

TEST(PartitionTest, ParseScheme) {
  EXPECT_EQ(ParsePartitionScheme("iid")->kind, PartitionScheme::Kind::kIid);
  EXPECT_EQ(ParsePartitionScheme("group")->kind, PartitionScheme::Kind::kGroup);
  EXPECT_EQ(ParsePartitionScheme("source")->kind, PartitionScheme::Kind::kSource);
  EXPECT_DOUBLE_EQ(ParsePartitionScheme("dirichlet:0.3")->alpha, 0.3);
  EXPECT_FALSE(ParsePartitionScheme("dirichlet:").ok());
  EXPECT_FALSE(ParsePartitionScheme("dirichlet:-1").ok());
  EXPECT_FALSE(ParsePartitionScheme("dirichlet:x").ok());
  EXPECT_FALSE(ParsePartitionScheme("random").ok());
}

TEST(PartitionTest, IidExactCounts) {
  Dataset ds = Fake({10, 7, 5}, 1);
  auto parts = PartitionIndices(ds, 3, {PartitionScheme::Kind::kIid, 0}, 1);
  ASSERT_TRUE(parts.ok()) << parts.status();
  EXPECT_EQ(Counts(ds, *parts), (std::vector<std::vector<int64_t>>{
                                    {4, 2, 2}, {3, 3, 1}, {3, 2, 2}}));
  // Same counts for any seed; different members.
  auto other = PartitionIndices(ds, 3, {PartitionScheme::Kind::kIid, 0}, 2);
  EXPECT_EQ(Counts(ds, *other), Counts(ds, *parts));
  EXPECT_NE(*other, *parts);
  EXPECT_EQ(*PartitionIndices(ds, 3, {PartitionScheme::Kind::kIid, 0}, 1), *parts);
}

TEST(PartitionTest, DirichletIsSeededCompleteAndSkewed) {
  Dataset ds = Fake({300, 300, 300, 300}, 1);
  PartitionScheme skew{PartitionScheme::Kind::kDirichlet, 0.1};
  auto a = PartitionIndices(ds, 5, skew, 7);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(*PartitionIndices(ds, 5, skew, 7), *a);
  EXPECT_NE(*PartitionIndices(ds, 5, skew, 8), *a);
  std::vector<int> seen(ds.samples.size(), 0);
  for (const auto& p : *a) {
    EXPECT_FALSE(p.empty());
    for (size_t i : p) ++seen[i];
  }
  for (int s : seen) EXPECT_EQ(s, 1);
  // Skew: with alpha 0.1 the largest site share of a class is big; with 100 it is near 1/5.
  auto max_share = [&](const std::vector<std::vector<size_t>>& parts) {
    double m = 0;
    for (const auto& row : Counts(ds, parts)) {
      for (int64_t n : row) m = std::max(m, n / 300.0);
    }
    return m;
  };
  EXPECT_GT(max_share(*a), 0.6);
  auto flat = PartitionIndices(ds, 5, {PartitionScheme::Kind::kDirichlet, 100.0}, 7);
  EXPECT_LT(max_share(*flat), 0.35);
}

TEST(PartitionTest, DirichletGoldenCounts) {
  // Pins the portable RNG: these counts must not change between builds or platforms.
  Dataset ds = Fake({20, 10}, 1);
  auto parts = PartitionIndices(ds, 3, {PartitionScheme::Kind::kDirichlet, 0.5}, 1);
  ASSERT_TRUE(parts.ok());
  EXPECT_EQ(Counts(ds, *parts), (std::vector<std::vector<int64_t>>{{2, 8}, {7, 2}, {11, 0}}));
}

TEST(PartitionTest, DirichletEverySiteGetsData) {
  Dataset ds = Fake({6}, 1);
  for (uint64_t seed = 0; seed < 20; ++seed) {
    auto parts = PartitionIndices(ds, 6, {PartitionScheme::Kind::kDirichlet, 0.01}, seed);
    ASSERT_TRUE(parts.ok());
    for (const auto& p : *parts) EXPECT_EQ(p.size(), 1u);
  }
}

TEST(PartitionTest, GroupsStayTogether) {
  Dataset ds = Fake({50, 31}, 4);  // groups g0..g12 span both classes
  auto parts = PartitionIndices(ds, 3, {PartitionScheme::Kind::kGroup, 0}, 3);
  ASSERT_TRUE(parts.ok());
  std::map<std::string, int> site_of;
  size_t total = 0;
  for (size_t s = 0; s < parts->size(); ++s) {
    EXPECT_FALSE((*parts)[s].empty());
    total += (*parts)[s].size();
    for (size_t i : (*parts)[s]) {
      auto [it, fresh] = site_of.emplace(ds.samples[i].group, static_cast<int>(s));
      EXPECT_EQ(it->second, static_cast<int>(s)) << ds.samples[i].group;
    }
  }
  EXPECT_EQ(total, ds.samples.size());
  EXPECT_FALSE(PartitionIndices(Fake({8}, 8), 2, {PartitionScheme::Kind::kGroup, 0}, 1).ok());
}

TEST(PartitionTest, TooFewSamples) {
  EXPECT_FALSE(PartitionIndices(Fake({2}, 1), 3, {PartitionScheme::Kind::kIid, 0}, 1).ok());
  EXPECT_FALSE(PartitionIndices(Fake({2}, 1), 0, {PartitionScheme::Kind::kIid, 0}, 1).ok());
}

TEST(PartitionTest, RootsToManifestsAndSourceScheme) {
  TempDir dir;
  auto make = [&](const std::string& root, const std::vector<std::string>& classes, int n) {
    for (const auto& c : classes) {
      for (int i = 0; i < n; ++i) {
        testing::WriteSolid(dir.path() / root / c / (std::to_string(i) + ".png"), 4, 4, {1, 2, 3});
      }
    }
  };
  make("A", {"x", "Y", "z"}, 4);
  make("B", {"y", "x"}, 3);
  const std::vector<std::string> roots = {dir.Sub("A"), dir.Sub("B")};
  // Source: one site per root, classes = intersection.
  auto src = PartitionRoots(roots, {}, 0, {PartitionScheme::Kind::kSource, 0}, 1);
  ASSERT_TRUE(src.ok()) << src.status();
  EXPECT_EQ(src->class_names, (std::vector<std::string>{"x", "Y"}));
  EXPECT_EQ(src->ClassCounts(), (std::vector<std::vector<int64_t>>{{4, 4}, {3, 3}}));
  EXPECT_EQ(src->unknown_classes, (std::vector<std::string>{"z"}));
  EXPECT_FALSE(PartitionRoots(roots, {}, 3, {PartitionScheme::Kind::kSource, 0}, 1).ok());
  // IID over the union, explicit class list.
  auto iid = PartitionRoots(roots, {"z", "x", "y"}, 2, {PartitionScheme::Kind::kIid, 0}, 1);
  ASSERT_TRUE(iid.ok()) << iid.status();
  EXPECT_EQ(iid->ClassCounts(), (std::vector<std::vector<int64_t>>{{2, 4, 3}, {2, 3, 4}}));
  ASSERT_TRUE(WritePartition(*iid, dir.Sub("out")).ok());
  for (int k = 1; k <= 2; ++k) {
    const std::string csv = dir.Sub("out/site-" + std::to_string(k) + ".csv");
    Result<Dataset> site = LoadManifest(csv, iid->class_names);
    ASSERT_TRUE(site.ok()) << site.status();
    EXPECT_EQ(site->ClassCounts(), iid->ClassCounts()[k - 1]);
    EXPECT_TRUE(site->skipped.empty());
    for (const auto& s : site->samples) EXPECT_TRUE(fs::path(s.path).is_absolute());
  }
  EXPECT_TRUE(fs::exists(dir.Sub("out/class_counts.csv")));
  const std::string table = FormatClassTable(*iid);
  EXPECT_NE(table.find("site-2"), std::string::npos);
  EXPECT_NE(table.find("total"), std::string::npos);
}

}  // namespace
}  // namespace fedsmear
