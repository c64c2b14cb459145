// Optional checks against the shared real datasets; skipped when /work/shared/data is absent.
#include <gtest/gtest.h>

#include <filesystem>
#include <numeric>
#include <set>

#include "data/dataset.h"
#include "data/loader.h"
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

}  // namespace
}  // namespace fedsmear
