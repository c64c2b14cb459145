// Optional checks against the shared real datasets; skipped when /work/shared/data is absent.
#include <gtest/gtest.h>

#include <filesystem>
#include <numeric>
#include <set>

#include "data/dataset.h"
#include "data/loader.h"
#include "data/partition.h"
#include "data/split.h"

namespace fedsmear {
namespace {

namespace fs = std::filesystem;

std::string SharedData(const std::string& rel) {
  const char* env = std::getenv("FEDSMEAR_SHARED_DATA");
  const fs::path root = env != nullptr ? fs::path(env) : fs::path("/work/shared/data");
  return (root / rel).string();
}

TEST(RealDataTest, TyasNamesAndGroups) {
  const std::string root = SharedData("rbc-tyas");
  if (!fs::is_directory(root)) GTEST_SKIP() << root << " not present";
  const std::vector<std::string> model = {"acanthocyte", "elliptocyte", "hypochromic", "normal",
                                          "spherocyte",  "stomatocyte", "target",      "teardrop"};
  Result<Dataset> ds = ScanImageFolder(root, model);
  ASSERT_TRUE(ds.ok()) << ds.status();
  EXPECT_GT(ds->samples.size(), 5000u);
  EXPECT_EQ(ds->unknown_classes, (std::vector<std::string>{"pencil"}));
  Result<TrainValIndices> split = TrainValSplit(*ds, 0.2, 1, true);
  ASSERT_TRUE(split.ok());
  std::set<std::string> train_groups;
  for (size_t i : split->train) train_groups.insert(ds->samples[i].group);
  for (size_t i : split->val) EXPECT_EQ(train_groups.count(ds->samples[i].group), 0u);
  LoaderOptions o;
  o.batch_size = 64;
  o.threads = 2;
  std::vector<size_t> first(200);
  std::iota(first.begin(), first.end(), size_t{0});
  BatchLoader loader(*ds, first, o);
  loader.StartEpoch(0);
  Batch b;
  int64_t n = 0;
  while (loader.Next(&b)) n += b.n;
  EXPECT_EQ(n, 200);
}

TEST(RealDataTest, BccdGroupsAreOriginalCells) {
  const std::string root = SharedData("wbc-bccd/train");
  if (!fs::is_directory(root)) GTEST_SKIP() << root << " not present";
  Result<Dataset> ds = ScanImageFolder(root, {}, ScanOptions{8192, false});
  ASSERT_TRUE(ds.ok()) << ds.status();
  std::set<std::string> groups;
  for (const auto& s : ds->samples) groups.insert(s.group);
  EXPECT_EQ(groups.size(), 277u);  // README: about 277 original cells
}

// The concentrated scenarios of scripts/accuracy-table --scenario concentrated, built as
// `fedsmear simulate` builds them (held-out carve with holdout seed 1 first, then the pool dealt
// with the run's seed), from file names only: the chosen site holds >= 95% of the class for
// seeds 1-3, and the held-out set does not move with the seed. Prints the per-site counts.
void CheckConcentrated(const std::string& task, const std::vector<std::string>& classes,
                       const std::string& scheme_text, const std::string& cls) {
  const std::string root = SharedData(task);
  if (!fs::is_directory(root)) GTEST_SKIP() << root << " not present";
  Result<Dataset> all = ScanImageFolder(root, classes, ScanOptions{8192, false});
  ASSERT_TRUE(all.ok()) << all.status();
  Result<PartitionScheme> scheme = ParsePartitionScheme(scheme_text);
  ASSERT_TRUE(scheme.ok());
  const bool by_group = scheme->kind == PartitionScheme::Kind::kGroup;
  Result<TrainValIndices> split = TrainValSplit(*all, 0.15, 1, by_group);
  ASSERT_TRUE(split.ok());
  SitePartition part;
  part.class_names = all->class_names;
  Dataset pool;
  pool.class_names = all->class_names;
  for (size_t i : split->train) pool.samples.push_back(all->samples[i]);
  scheme->concentrate_class = cls;
  scheme->concentrate_site = 1;
  scheme->concentrate_share = 0.95;
  int c = -1;
  for (size_t k = 0; k < pool.class_names.size(); ++k) {
    if (pool.class_names[k] == cls) c = static_cast<int>(k);
  }
  ASSERT_GE(c, 0);
  PartitionScheme plain = *scheme;
  plain.concentrate_class.clear();
  auto unconcentrated = PartitionIndices(pool, 4, plain, 1);
  ASSERT_TRUE(unconcentrated.ok());
  std::printf("%s, %s, seed 1 without concentration: %s per site", task.c_str(),
              scheme_text.c_str(), cls.c_str());
  for (const auto& p : *unconcentrated) {
    int64_t n = 0;
    for (size_t i : p) n += pool.samples[i].label == c;
    std::printf(" %lld", static_cast<long long>(n));
  }
  std::printf("\n");
  for (uint64_t seed : {1, 2, 3}) {
    auto parts = PartitionIndices(pool, 4, *scheme, seed);
    ASSERT_TRUE(parts.ok()) << parts.status();
    part.sites.clear();
    for (const auto& p : *parts) {
      part.sites.emplace_back();
      for (size_t i : p) part.sites.back().push_back(pool.samples[i]);
    }
    const auto counts = part.ClassCounts();
    int64_t n = 0;
    for (const auto& site : counts) n += site[c];
    EXPECT_GE(counts[0][c], 0.95 * static_cast<double>(n)) << task << " seed " << seed;
    std::printf("%s, %s, %s at site-1, seed %d (held out: %zu images, holdout seed 1):\n%s\n",
                task.c_str(), scheme_text.c_str(), cls.c_str(), static_cast<int>(seed),
                split->val.size(), FormatClassTable(part).c_str());
  }
}

TEST(RealDataTest, ConcentratedWbcPbcMonocytes) {
  CheckConcentrated("wbc-pbc", {}, "dirichlet:0.5", "monocyte");
}

TEST(RealDataTest, ConcentratedRbcTyasAcanthocytes) {
  CheckConcentrated("rbc-tyas", {"acanthocyte", "elliptocyte", "hypochromic", "normal",
                                 "spherocyte", "stomatocyte", "target", "teardrop"},
                    "group", "acanthocyte");
}

}  // namespace
}  // namespace fedsmear
