// `fedsmear simulate --in-process`: a coordinator and 20 sites as threads of one process over the
// in-process transport, two SecAgg+ rounds with one site dropping out after the key shares of
// round 2 were relayed. The run must finish; round 2 recovers the dropout's masks.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "common/file_util.h"
#include "common/process.h"
#include "tests/json_lines.h"
#include "tests/temp_dir.h"

namespace fedsmear {
namespace {

namespace fs = std::filesystem;

using testing::ReadJsonLines;

TEST(SimulateInProcessTest, TwentySitesSecAggWithADropout) {
  testing::TempDir dir("fedsmear-sim-inproc");
  const std::string run = dir.Sub("run");
  auto sim = ChildProcess::Spawn(
      {FEDSMEAR_BINARY_DIR "/tools/fedsmear", "simulate", "--in-process", "--sites", "20",
       "--rounds", "2", "--arch", "bdn-tiny", "--input-size", "32", "--synthetic", "rbc",
       "--per-class", "3", "--secure-aggregation", "secagg+", "--dropouts", "1",
       "--dropout-round", "2", "--out", run},
      dir.Sub("simulate.log"));
  ASSERT_TRUE(sim.ok()) << sim.status();
  std::optional<int> code = sim->Wait(std::chrono::minutes(5));
  const std::string log = ReadFile(dir.Sub("simulate.log")).value_or("");
  ASSERT_TRUE(code.has_value()) << "simulation hung:\n" << log;
  ASSERT_EQ(*code, 0) << log;

  auto rows = ReadJsonLines(fs::path(run) / "metrics.jsonl");
  ASSERT_EQ(rows.size(), 2u) << log;
  EXPECT_EQ(rows[0]["sites_reported"].size(), 20u);
  EXPECT_TRUE(rows[0]["secure_aggregation"].get<bool>());
  EXPECT_EQ(rows[1]["sites_reported"].size(), 19u) << log;
  EXPECT_EQ(rows[1]["secagg"]["dropped"].size(), 1u) << log;
  // Per-round timing of the in-process run: round time, training wall time, overhead.
  auto timing = ReadJsonLines(fs::path(run) / "inprocess.jsonl");
  ASSERT_EQ(timing.size(), 2u);
  for (const auto& t : timing) {
    EXPECT_GT(t["round_s"].get<double>(), 0);
    EXPECT_GT(t["train_busy_s"].get<double>(), 0);
    EXPECT_NEAR(t["overhead_s"].get<double>(),
                t["round_s"].get<double>() - t["train_busy_s"].get<double>(), 1e-6);
  }
  EXPECT_NE(log.find("1 dropout(s)"), std::string::npos) << log;
}

}  // namespace
}  // namespace fedsmear
