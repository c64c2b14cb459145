#include "data/partition_manifest.h"

#include <gtest/gtest.h>

#include <fstream>

#include "data/partition.h"
#include "tests/data/test_util.h"

namespace fedsmear {
namespace {

using testing::TempDir;

bool SameSamples(const std::vector<Sample>& a, const std::vector<Sample>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].path != b[i].path || a[i].label != b[i].label || a[i].group != b[i].group) {
      return false;
    }
  }
  return true;
}

PartitionManifest Example() {
  PartitionManifest m;
  m.class_names = {"acanthocyte", "normal", "target"};
  // Paths with spaces, '#' and a comma, as rbc-tyas has (the comma needs quoting).
  m.holdout = {{"/d/normal/T1 objek#1.png", 1, "T1"}, {"/d/target/T2 objek#4.png", 2, "T2"}};
  m.sites = {{{"/d/acanthocyte/A, 1.png", 0, "A"}, {"/d/normal/x.png", 1, ""}},
             {{"/d/target/y.png", 2, "y"}},
             {{"/d/normal/z.png", 1, "z"}}};
  return m;
}

void WriteText(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

TEST(PartitionManifestTest, RoundTrips) {
  TempDir dir;
  const PartitionManifest m = Example();
  const std::string path = dir.Sub("partition.csv");
  ASSERT_TRUE(WritePartitionManifest(path, m).ok());
  for (const auto& classes : {m.class_names, std::vector<std::string>{}}) {
    Result<PartitionManifest> back = ReadPartitionManifest(path, classes);
    ASSERT_TRUE(back.ok()) << back.status();
    EXPECT_EQ(back->class_names, m.class_names);  // sorted labels are the same here
    EXPECT_TRUE(SameSamples(back->holdout, m.holdout));
    ASSERT_EQ(back->sites.size(), m.sites.size());
    for (size_t k = 0; k < m.sites.size(); ++k) EXPECT_TRUE(SameSamples(back->sites[k], m.sites[k]));
    // Written again, the same bytes: a replayed run's manifest equals the one it replayed.
    const std::string again = dir.Sub("again.csv");
    ASSERT_TRUE(WritePartitionManifest(again, *back).ok());
    std::ifstream a(path), b(again);
    EXPECT_EQ(std::string(std::istreambuf_iterator<char>(a), {}),
              std::string(std::istreambuf_iterator<char>(b), {}));
  }
}

TEST(PartitionManifestTest, ReplaysAPartitionExactly) {
  Dataset ds;
  ds.class_names = {"a", "b"};
  for (int i = 0; i < 60; ++i) ds.samples.push_back({"/p/" + std::to_string(i), i % 2, ""});
  PartitionScheme scheme;
  scheme.kind = PartitionScheme::Kind::kDirichlet;
  scheme.concentrate_class = "b";
  scheme.concentrate_site = 2;
  auto parts = PartitionIndices(ds, 3, scheme, 1);
  ASSERT_TRUE(parts.ok()) << parts.status();
  PartitionManifest m;
  m.class_names = ds.class_names;
  for (const auto& p : *parts) {
    m.sites.emplace_back();
    for (size_t i : p) m.sites.back().push_back(ds.samples[i]);
  }
  TempDir dir;
  ASSERT_TRUE(WritePartitionManifest(dir.Sub("p.csv"), m).ok());
  Result<PartitionManifest> back = ReadPartitionManifest(dir.Sub("p.csv"), {"a", "b"});
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_TRUE(back->holdout.empty());
  for (size_t k = 0; k < 3; ++k) EXPECT_TRUE(SameSamples(back->sites[k], m.sites[k]));
}

TEST(PartitionManifestTest, RelativePathsAreTheManifestsFolders) {
  TempDir dir;
  WriteText(dir.Sub("m.csv"), "site,path,label,group\nsite-1,img/a.png,x,\nholdout,b.png,x,g\n");
  Result<PartitionManifest> m = ReadPartitionManifest(dir.Sub("m.csv"), {});
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_EQ(m->sites[0][0].path, dir.Sub("img/a.png"));
  EXPECT_EQ(m->holdout[0].path, dir.Sub("b.png"));
}

TEST(PartitionManifestTest, RefusesWhatCannotBeReplayed) {
  TempDir dir;
  const std::string path = dir.Sub("m.csv");
  const std::string head = "site,path,label,group\n";
  auto refused = [&](const std::string& body, const std::string& why) {
    WriteText(path, head + body);
    Result<PartitionManifest> m = ReadPartitionManifest(path, {"x", "y"});
    ASSERT_FALSE(m.ok()) << why;
    EXPECT_EQ(m.status().code(), StatusCode::kCorrupt) << why;
  };
  refused("site-1,/a,x,\nsite-2,/a,x,\n", "an image at two sites");
  refused("site-1,/a,x,\nholdout,/a,x,\n", "an image both held out and at a site");
  refused("site-1,/a,x,\nsite-3,/b,x,\n", "site-2 empty");
  refused("holdout,/a,x,\n", "no site");
  refused("site-0,/a,x,\n", "site-0");
  refused("site-x,/a,x,\n", "site-x");
  refused("site-1,/a,z,\n", "unknown label");
  refused("site-1,/a,x\n", "three fields");
  WriteText(path, "path,label\n/a,x\n");
  EXPECT_FALSE(ReadPartitionManifest(path, {}).ok()) << "a plain manifest is not a partition";
  EXPECT_EQ(ReadPartitionManifest(dir.Sub("none.csv"), {}).status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace fedsmear
