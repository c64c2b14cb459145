#include "data/partition.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <numeric>
#include <set>

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

PartitionScheme Scheme(PartitionScheme::Kind kind, double alpha) {
  PartitionScheme s;
  s.kind = kind;
  s.alpha = alpha;
  return s;
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
  auto parts = PartitionIndices(ds, 3, Scheme(PartitionScheme::Kind::kIid, 0), 1);
  ASSERT_TRUE(parts.ok()) << parts.status();
  EXPECT_EQ(Counts(ds, *parts), (std::vector<std::vector<int64_t>>{
                                    {4, 2, 2}, {3, 3, 1}, {3, 2, 2}}));
  // Same counts for any seed; different members.
  auto other = PartitionIndices(ds, 3, Scheme(PartitionScheme::Kind::kIid, 0), 2);
  EXPECT_EQ(Counts(ds, *other), Counts(ds, *parts));
  EXPECT_NE(*other, *parts);
  EXPECT_EQ(*PartitionIndices(ds, 3, Scheme(PartitionScheme::Kind::kIid, 0), 1), *parts);
}

TEST(PartitionTest, DirichletIsSeededCompleteAndSkewed) {
  Dataset ds = Fake({300, 300, 300, 300}, 1);
  PartitionScheme skew = Scheme(PartitionScheme::Kind::kDirichlet, 0.1);
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
  auto flat = PartitionIndices(ds, 5, Scheme(PartitionScheme::Kind::kDirichlet, 100.0), 7);
  EXPECT_LT(max_share(*flat), 0.35);
}

TEST(PartitionTest, DirichletGoldenCounts) {
  // Pins the portable RNG: these counts must not change between builds or platforms.
  Dataset ds = Fake({20, 10}, 1);
  auto parts = PartitionIndices(ds, 3, Scheme(PartitionScheme::Kind::kDirichlet, 0.5), 1);
  ASSERT_TRUE(parts.ok());
  EXPECT_EQ(Counts(ds, *parts), (std::vector<std::vector<int64_t>>{{2, 8}, {7, 2}, {11, 0}}));
}

TEST(PartitionTest, DirichletEverySiteGetsData) {
  Dataset ds = Fake({6}, 1);
  for (uint64_t seed = 0; seed < 20; ++seed) {
    auto parts = PartitionIndices(ds, 6, Scheme(PartitionScheme::Kind::kDirichlet, 0.01), seed);
    ASSERT_TRUE(parts.ok());
    for (const auto& p : *parts) EXPECT_EQ(p.size(), 1u);
  }
}

TEST(PartitionTest, GroupsStayTogether) {
  Dataset ds = Fake({50, 31}, 4);  // groups g0..g12 span both classes
  auto parts = PartitionIndices(ds, 3, Scheme(PartitionScheme::Kind::kGroup, 0), 3);
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
  EXPECT_FALSE(PartitionIndices(Fake({8}, 8), 2, Scheme(PartitionScheme::Kind::kGroup, 0), 1).ok());
}

TEST(PartitionTest, TooFewSamples) {
  EXPECT_FALSE(PartitionIndices(Fake({2}, 1), 3, Scheme(PartitionScheme::Kind::kIid, 0), 1).ok());
  EXPECT_FALSE(PartitionIndices(Fake({2}, 1), 0, Scheme(PartitionScheme::Kind::kIid, 0), 1).ok());
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
  auto src = PartitionRoots(roots, {}, 0, Scheme(PartitionScheme::Kind::kSource, 0), 1);
  ASSERT_TRUE(src.ok()) << src.status();
  EXPECT_EQ(src->class_names, (std::vector<std::string>{"x", "Y"}));
  EXPECT_EQ(src->ClassCounts(), (std::vector<std::vector<int64_t>>{{4, 4}, {3, 3}}));
  EXPECT_EQ(src->unknown_classes, (std::vector<std::string>{"z"}));
  EXPECT_FALSE(PartitionRoots(roots, {}, 3, Scheme(PartitionScheme::Kind::kSource, 0), 1).ok());
  // IID over the union, explicit class list.
  auto iid = PartitionRoots(roots, {"z", "x", "y"}, 2, Scheme(PartitionScheme::Kind::kIid, 0), 1);
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

// Every sample in exactly one site.
void ExpectExactCover(const Dataset& ds, const std::vector<std::vector<size_t>>& parts) {
  std::vector<int> seen(ds.samples.size(), 0);
  for (const auto& p : parts) {
    for (size_t i : p) ++seen[i];
  }
  for (size_t i = 0; i < seen.size(); ++i) EXPECT_EQ(seen[i], 1) << "sample " << i;
}

PartitionScheme Concentrate(PartitionScheme::Kind kind, const std::string& cls, int site,
                            double share) {
  PartitionScheme s;
  s.kind = kind;
  s.alpha = 0.5;
  s.concentrate_class = cls;
  s.concentrate_site = site;
  s.concentrate_share = share;
  return s;
}

TEST(PartitionTest, ConcentratedSiteHoldsTheShareUnderEveryScheme) {
  Dataset ds = Fake({200, 57, 300, 41}, 3);
  for (auto kind : {PartitionScheme::Kind::kIid, PartitionScheme::Kind::kDirichlet,
                    PartitionScheme::Kind::kGroup}) {
    for (uint64_t seed : {1, 2, 3}) {
      const PartitionScheme scheme = Concentrate(kind, "C1", 3, 0.95);  // case-insensitive
      auto parts = PartitionIndices(ds, 4, scheme, seed);
      ASSERT_TRUE(parts.ok()) << parts.status();
      ExpectExactCover(ds, *parts);
      const auto counts = Counts(ds, *parts);
      EXPECT_GE(counts[2][1], 55) << "57 x 0.95 = 54.15, so at least 55; seed " << seed;
      for (const auto& p : *parts) EXPECT_FALSE(p.empty());
      EXPECT_EQ(*PartitionIndices(ds, 4, scheme, seed), *parts) << "same seed, same partition";
    }
  }
}

TEST(PartitionTest, ConcentrationKeepsGroupsWholeAndDealsTheRest) {
  Dataset ds = Fake({90, 60, 120}, 5);  // group g<k>: the k-th five samples of every class
  const PartitionScheme scheme = Concentrate(PartitionScheme::Kind::kGroup, "c0", 1, 0.95);
  auto parts = PartitionIndices(ds, 3, scheme, 4);
  ASSERT_TRUE(parts.ok()) << parts.status();
  std::map<std::string, std::set<size_t>> sites_of_group;
  for (size_t s = 0; s < parts->size(); ++s) {
    for (size_t i : (*parts)[s]) sites_of_group[ds.samples[i].group].insert(s);
  }
  for (const auto& [group, sites] : sites_of_group) EXPECT_EQ(sites.size(), 1u) << group;
  const auto counts = Counts(ds, *parts);
  EXPECT_GE(counts[0][0], 86);  // ceil(0.95 x 90)
  // The other sites still get data: the rest is dealt least-loaded first.
  EXPECT_GT((*parts)[1].size(), 0u);
  EXPECT_GT((*parts)[2].size(), 0u);
}

TEST(PartitionTest, ConcentrationDealsTheRestByTheScheme) {
  // Under iid, the classes not concentrated are dealt as evenly as ever.
  Dataset ds = Fake({40, 40, 40}, 1);
  auto parts = PartitionIndices(ds, 4, Concentrate(PartitionScheme::Kind::kIid, "c2", 2, 1.0), 9);
  ASSERT_TRUE(parts.ok()) << parts.status();
  const auto counts = Counts(ds, *parts);
  EXPECT_EQ(counts[1][2], 40);
  for (int s = 0; s < 4; ++s) {
    EXPECT_GE(counts[s][0], 9);
    EXPECT_LE(counts[s][0], 11);
    if (s != 1) {
      EXPECT_EQ(counts[s][2], 0);
    }
  }
  // A different seed changes who else gets what, never the concentrated site's share.
  auto other = PartitionIndices(ds, 4, Concentrate(PartitionScheme::Kind::kIid, "c2", 2, 1.0), 10);
  ASSERT_TRUE(other.ok());
  EXPECT_NE(*other, *parts);
  EXPECT_EQ(Counts(ds, *other)[1][2], 40);
}

TEST(PartitionTest, ConcentrationErrors) {
  Dataset ds = Fake({20, 20}, 1);
  using K = PartitionScheme::Kind;
  EXPECT_FALSE(PartitionIndices(ds, 2, Concentrate(K::kIid, "nope", 1, 0.95), 1).ok());
  EXPECT_FALSE(PartitionIndices(ds, 2, Concentrate(K::kIid, "c0", 3, 0.95), 1).ok());
  EXPECT_FALSE(PartitionIndices(ds, 2, Concentrate(K::kIid, "c0", 0, 0.95), 1).ok());
  EXPECT_FALSE(PartitionIndices(ds, 2, Concentrate(K::kIid, "c0", 1, 0), 1).ok());
  EXPECT_FALSE(PartitionIndices(ds, 2, Concentrate(K::kIid, "c0", 1, 1.5), 1).ok());
  EXPECT_FALSE(PartitionIndices(ds, 2, Concentrate(K::kSource, "c0", 1, 0.95), 1).ok());
  TempDir dir;
  const std::string root = dir.Sub("r");
  fs::create_directories(root + "/c0");
  std::ofstream(root + "/c0/a.csv");  // never opened: the scheme is refused first
  EXPECT_FALSE(PartitionRoots({root}, {}, 0, Concentrate(K::kSource, "c0", 1, 0.95), 1).ok());
}

TEST(PartitionTest, NoConcentrationLeavesTheSchemesAsTheyWere) {
  // The concentration fields at their defaults change nothing (runs made before them replay).
  Dataset ds = Fake({50, 30, 20}, 4);
  for (auto kind : {PartitionScheme::Kind::kIid, PartitionScheme::Kind::kDirichlet,
                    PartitionScheme::Kind::kGroup}) {
    PartitionScheme plain;
    plain.kind = kind;
    PartitionScheme with = plain;
    with.concentrate_site = 2;
    with.concentrate_share = 0.5;
    EXPECT_EQ(*PartitionIndices(ds, 3, with, 5), *PartitionIndices(ds, 3, plain, 5));
  }
}

}  // namespace
}  // namespace fedsmear
