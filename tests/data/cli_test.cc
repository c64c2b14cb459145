// Runs the data subcommands through CLI11 exactly as tools/main.cc wires them.
#include <gtest/gtest.h>

#include "data/dataset.h"
#include "data/partition_manifest.h"
#include "tests/data/test_util.h"
#include "tools/data_commands.h"

namespace fedsmear {
namespace {

using testing::TempDir;

int RunTool(const std::string& command_line) {
  CLI::App app{"fedsmear"};
  app.require_subcommand(1);
  std::vector<Command> commands = {AddSynthCommand(app), AddPartitionCommand(app),
                                   AddDataInfoCommand(app)};
  try {
    app.parse(command_line, /*program_name_included=*/false);
  } catch (const CLI::ParseError&) {
    return 2;
  }
  for (auto& c : commands) {
    if (c.app->parsed()) return c.run();
  }
  return 2;
}

TEST(CliTest, SynthPartitionDataInfo) {
  TempDir dir;
  const std::string data = dir.Sub("rbc");
  ASSERT_EQ(RunTool("synth --task rbc --per-class 5 --size 32 --seed 3 --out " + data), 0);
  Result<Dataset> ds = ScanImageFolder(data, {});
  ASSERT_TRUE(ds.ok());
  EXPECT_EQ(ds->samples.size(), 40u);

  const std::string out = dir.Sub("sites");
  ASSERT_EQ(RunTool("partition --data " + data +
                    " --sites 2 --scheme dirichlet:0.5 --seed 1 --out " + out +
                    " --classes normal,target,teardrop"),
            0);
  Result<Dataset> s1 = LoadManifest(out + "/site-1.csv", {"normal", "target", "teardrop"});
  Result<Dataset> s2 = LoadManifest(out + "/site-2.csv", {"normal", "target", "teardrop"});
  ASSERT_TRUE(s1.ok() && s2.ok());
  EXPECT_EQ(s1->samples.size() + s2->samples.size(), 15u);

  EXPECT_EQ(RunTool("data-info " + data), 0);
  EXPECT_EQ(RunTool("data-info --json " + out + "/site-1.csv"), 0);
}

// The scenario of `fedsmear simulate`: held-out set first, then the sites, one of them holding
// the class; partition.csv lists every image once.
TEST(CliTest, PartitionCarvesHoldoutThenConcentrates) {
  TempDir dir;
  const std::string data = dir.Sub("wbc");
  ASSERT_EQ(RunTool("synth --task wbc --per-class 20 --size 32 --seed 2 --out " + data), 0);
  const std::string out = dir.Sub("scenario");
  ASSERT_EQ(RunTool("partition --data " + data + " --sites 3 --scheme dirichlet:0.5 --seed 2" +
                    " --holdout 0.15 --holdout-seed 1 --concentrate-class monocyte" +
                    " --concentrate-site 2 --out " + out),
            0);
  Result<Dataset> all = ScanImageFolder(data, {});
  Result<Dataset> held = LoadManifest(out + "/holdout.csv", all->class_names);
  Result<PartitionManifest> m = ReadPartitionManifest(out + "/partition.csv", all->class_names);
  ASSERT_TRUE(all.ok() && held.ok() && m.ok()) << m.status();
  EXPECT_EQ(held->samples.size(), m->holdout.size());
  size_t total = m->holdout.size();
  for (const auto& site : m->sites) total += site.size();
  EXPECT_EQ(total, all->samples.size());
  int mono = -1;
  for (size_t c = 0; c < m->class_names.size(); ++c) {
    if (m->class_names[c] == "monocyte") mono = static_cast<int>(c);
  }
  ASSERT_GE(mono, 0);
  int64_t at_2 = 0, pooled = 0;
  for (size_t k = 0; k < m->sites.size(); ++k) {
    for (const Sample& s : m->sites[k]) {
      pooled += s.label == mono;
      at_2 += k == 1 && s.label == mono;
    }
  }
  EXPECT_GE(at_2, 0.95 * static_cast<double>(pooled));
  // Another seed deals the sites differently but holds out the same images.
  const std::string out3 = dir.Sub("scenario3");
  ASSERT_EQ(RunTool("partition --data " + data + " --sites 3 --scheme dirichlet:0.5 --seed 3" +
                    " --holdout 0.15 --concentrate-class monocyte --concentrate-site 2 --out " +
                    out3),
            0);
  Result<PartitionManifest> m3 = ReadPartitionManifest(out3 + "/partition.csv", all->class_names);
  ASSERT_TRUE(m3.ok());
  ASSERT_EQ(m3->holdout.size(), m->holdout.size());
  for (size_t i = 0; i < m->holdout.size(); ++i) EXPECT_EQ(m3->holdout[i].path, m->holdout[i].path);
  EXPECT_NE(m3->sites[0].size(), m->sites[0].size());
}

TEST(CliTest, ErrorsAreNonZero) {
  TempDir dir;
  EXPECT_EQ(RunTool("data-info " + dir.Sub("missing")), 1);
  EXPECT_EQ(
      RunTool("partition --data " + dir.Sub("missing") + " --sites 2 --out " + dir.Sub("o")), 1);
  EXPECT_EQ(RunTool("partition --data " + dir.Sub("x") + " --sites 2 --scheme magic --out x"), 1);
  EXPECT_EQ(RunTool("synth --task plt --out " + dir.Sub("x")), 2);  // CLI11 validation
}

}  // namespace
}  // namespace fedsmear
