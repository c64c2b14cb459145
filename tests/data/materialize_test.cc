#include "data/materialize.h"

#include <gtest/gtest.h>

#include "common/file_util.h"
#include "tests/data/test_util.h"

namespace fedsmear {
namespace {

using testing::TempDir;
using testing::WriteBytes;

TEST(MaterializeTest, BuildsAClassFolderTreeAndKeepsCollidingNames) {
  TempDir dir;
  WriteBytes(dir.path() / "a" / "cell.png", "first");
  WriteBytes(dir.path() / "b" / "cell.png", "second");
  WriteBytes(dir.path() / "b" / "other.png", "third");
  std::vector<Sample> samples = {{dir.Sub("a/cell.png"), 1, ""},
                                 {dir.Sub("b/cell.png"), 1, ""},
                                 {dir.Sub("b/other.png"), 0, ""}};
  auto stats = MaterializeSamples(samples, {"basophil", "eosinophil"}, dir.Sub("out"));
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->linked + stats->copied, 3u);
  EXPECT_EQ(*ReadFile(dir.Sub("out/eosinophil/cell.png")), "first");
  EXPECT_EQ(*ReadFile(dir.Sub("out/eosinophil/2_cell.png")), "second");
  EXPECT_EQ(*ReadFile(dir.Sub("out/basophil/other.png")), "third");
  // The tree opens as a dataset with the same classes and counts.
  auto ds = OpenDataset(dir.Sub("out"), {"basophil", "eosinophil"});
  ASSERT_TRUE(ds.ok()) << ds.status();
}

TEST(MaterializeTest, ErrorsNameTheProblem) {
  TempDir dir;
  WriteBytes(dir.path() / "x.png", "x");
  auto bad_label = MaterializeSamples({{dir.Sub("x.png"), 3, ""}}, {"a"}, dir.Sub("out"));
  EXPECT_EQ(bad_label.status().code(), StatusCode::kInvalidArgument);
  auto missing = MaterializeSamples({{dir.Sub("gone.png"), 0, ""}}, {"a"}, dir.Sub("out"));
  ASSERT_EQ(missing.status().code(), StatusCode::kIoError);
  EXPECT_NE(missing.status().message().find("gone.png"), std::string::npos) << missing.status();
}

}  // namespace
}  // namespace fedsmear
