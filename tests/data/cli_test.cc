// Runs the data subcommands through CLI11 exactly as tools/main.cc wires them.
#include <gtest/gtest.h>

#include "data/dataset.h"
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
