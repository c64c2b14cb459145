// A whole simulation with faults, run through the fedsmear program: a site killed and restarted,
// a connection cut, the coordinator killed and resumed, a straggler. The run must finish, with
// every round recorded once and the participation the faults imply.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
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

std::set<std::string> Reported(const nlohmann::json& row) {
  return row["sites_reported"].get<std::set<std::string>>();
}

TEST(SimulateFaultsTest, RunFinishesThroughKillsCutsAndACoordinatorRestart) {
  testing::TempDir dir("fedsmear-sim-faults");
  const std::string schedule = dir.Sub("faults.yaml");
  std::ofstream(schedule) << "faults:\n"
                             "  - {kind: kill_site, site: 2, round: 2, restart_round: 3}\n"
                             "  - {kind: cut_site, site: 3, round: 2, seconds: 10}\n"
                             "  - {kind: kill_coordinator, round: 3, after_s: 1, seconds: 1}\n"
                             "  - {kind: delay_site, site: 4, round: 4, seconds: 2}\n";
  const std::string run = dir.Sub("run");
  auto sim = ChildProcess::Spawn(
      {FEDSMEAR_BINARY_DIR "/tools/fedsmear", "simulate", "--sites", "4", "--rounds", "4",
       "--synthetic", "wbc", "--per-class", "120", "--local-epochs", "3", "--threads-per-site",
       "1", "--faults", schedule, "--secure-aggregation", "off", "--out", run},
      dir.Sub("simulate.log"));
  ASSERT_TRUE(sim.ok()) << sim.status();
  std::optional<int> code = sim->Wait(std::chrono::minutes(6));
  const std::string log = ReadFile(dir.Sub("simulate.log")).value_or("");
  ASSERT_TRUE(code.has_value()) << "simulation hung:\n" << log;
  ASSERT_EQ(*code, 0) << log;

  auto rows = ReadJsonLines(fs::path(run) / "metrics.jsonl");
  std::map<int, nlohmann::json> by_round;
  for (const auto& r : rows) {
    EXPECT_TRUE(by_round.emplace(r["round"].get<int>(), r).second)
        << "round " << r["round"] << " recorded twice";
  }
  ASSERT_EQ(by_round.size(), 4u) << log;
  EXPECT_EQ(Reported(by_round[1]).size(), 4u);
  // Round 2: site-2 was killed and site-3 cut off as it began; the others carried it.
  EXPECT_EQ(Reported(by_round[2]), (std::set<std::string>{"site-1", "site-4"})) << log;
  // By round 4 the restarted site and the reconnected one are back; the straggler counts.
  EXPECT_EQ(Reported(by_round[4]),
            (std::set<std::string>{"site-1", "site-2", "site-3", "site-4"}))
      << log;
  EXPECT_TRUE(fs::exists(fs::path(run) / "final.model"));

  auto faults = ReadJsonLines(fs::path(run) / "faults.log");
  std::vector<std::string> what;
  for (const auto& f : faults) what.push_back(f["fault"].get<std::string>());
  for (const char* expected :
       {"killed site-2", "cut site-3's connection", "restored site-3's connection",
        "restarted site-2", "killed the coordinator", "resumed the coordinator", "froze site-4",
        "thawed site-4"}) {
    EXPECT_NE(std::find(what.begin(), what.end(), expected), what.end()) << expected << "\n" << log;
  }
  // The resumed coordinator logged that it continued rather than starting over.
  std::string coordinator_log = ReadFile(run + "/logs/coordinator.log").value_or("");
  EXPECT_NE(coordinator_log.find("resumed run"), std::string::npos);
}

}  // namespace
}  // namespace fedsmear
