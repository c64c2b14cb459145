// Plan approval through the programs: `fedsmear simulate --unapproved-sites 1` starts a site whose
// plan waits for approval; the secure run of three sites waits for it (approval is a state, not a
// failure) while its operator runs `fedsmear-client plan approve` (the daemon and the command
// append to the same audit log), and then every round has all three sites.
// `fedsmear audit verify` then checks every log.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "common/file_util.h"
#include "common/process.h"
#include "tests/json_lines.h"
#include "tests/temp_dir.h"

namespace fedsmear {
namespace {

namespace fs = std::filesystem;

std::vector<nlohmann::json> ReadJsonLines(const fs::path& path) {
  return testing::ReadJsonLines(path, /*skip_malformed=*/true);
}

// Runs a program to completion; returns its exit code (-1 when it hangs) and output.
std::pair<int, std::string> RunProgram(const std::vector<std::string>& argv,
                                       const std::string& log) {
  auto child = ChildProcess::Spawn(argv, log);
  if (!child.ok()) return {-1, child.status().ToString()};
  std::optional<int> code = child->Wait(std::chrono::seconds(60));
  return {code.value_or(-1), ReadFile(log).value_or("")};
}

TEST(SimulateGovernanceTest, UnapprovedSiteJoinsAfterItsOperatorApproves) {
  testing::TempDir dir("fedsmear-sim-plan");
  const fs::path run = dir.Sub("run");
  auto sim = ChildProcess::Spawn(
      {FEDSMEAR_BINARY_DIR "/tools/fedsmear", "simulate", "--sites", "3", "--rounds", "4",
       "--synthetic", "rbc", "--per-class", "60", "--arch", "bdn-tiny", "--local-epochs", "2",
       "--threads-per-site", "1", "--unapproved-sites", "1", "--out", run.string()},
      dir.Sub("simulate.log"));
  ASSERT_TRUE(sim.ok()) << sim.status();

  // Wait for site-3 to hold the run's plan as pending (a secure round of three sites cannot
  // start without it: the coordinator waits), then approve the plan `plan show` names.
  const fs::path pending = run / "state" / "site-3" / "pending_plan";
  for (int i = 0; i < 1200 && !fs::exists(pending) && sim->running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(fs::exists(pending)) << ReadFile(dir.Sub("simulate.log")).value_or("");
  // Waiting is not failing: give the coordinator time it would have used up retrying.
  std::this_thread::sleep_for(std::chrono::seconds(3));
  ASSERT_TRUE(sim->running()) << ReadFile(dir.Sub("simulate.log")).value_or("");
  const std::string client = FEDSMEAR_BINARY_DIR "/client/fedsmear-client";
  const std::string config = (run / "config" / "site-3.yaml").string();
  auto [show_code, shown] =
      RunProgram({client, "--config", config, "plan", "show"}, dir.Sub("show.log"));
  ASSERT_EQ(show_code, 0) << shown;
  ASSERT_NE(shown.find("NOT approved"), std::string::npos) << shown;
  const std::string hash = shown.substr(shown.find("training plan ") + 14, 64);
  ASSERT_EQ(hash.size(), 64u) << shown;
  auto [code, out] =
      RunProgram({client, "--config", config, "plan", "approve", hash}, dir.Sub("approve.log"));
  ASSERT_EQ(code, 0) << out;

  std::optional<int> sim_code = sim->Wait(std::chrono::minutes(6));
  const std::string log = ReadFile(dir.Sub("simulate.log")).value_or("");
  ASSERT_TRUE(sim_code.has_value()) << "simulation hung:\n" << log;
  ASSERT_EQ(*sim_code, 0) << log;

  // The secure rounds waited for site-3's approval instead of counting it as a failure: every
  // round has all three sites and nobody failed.
  auto rows = ReadJsonLines(run / "metrics.jsonl");
  ASSERT_EQ(rows.size(), 4u) << log;
  for (const auto& r : rows) {
    EXPECT_EQ(r["sites_reported"].size(), 3u) << r.dump();
    EXPECT_TRUE(!r.contains("sites_failed") || r["sites_failed"].empty()) << r.dump();
  }
  const std::string coordinator_log = ReadFile((run / "logs" / "coordinator.log").string())
                                          .value_or("");
  EXPECT_NE(coordinator_log.find("waiting for site-3 to approve training plan " + hash),
            std::string::npos)
      << coordinator_log;

  // Every audit log verifies; site-3's holds the approval written by the command.
  for (const std::string site : {"site-1", "site-2", "site-3"}) {
    std::vector<std::string> argv = {FEDSMEAR_BINARY_DIR "/tools/fedsmear", "audit", "verify"};
    for (const auto& e : fs::directory_iterator(run / "state" / site)) {
      if (e.path().filename().string().rfind("audit.jsonl", 0) == 0) argv.push_back(e.path());
    }
    auto [verify_code, summary] = RunProgram(argv, dir.Sub(site + "-verify.log"));
    EXPECT_EQ(verify_code, 0) << summary;
    EXPECT_NE(summary.find("chain OK"), std::string::npos) << summary;
    if (site == std::string("site-3")) {
      EXPECT_NE(summary.find("plan_approved=1"), std::string::npos) << summary;
      EXPECT_NE(summary.find("(approved in this log)"), std::string::npos) << summary;
    }
  }
  auto [coord_code, coord] = RunProgram(
      {FEDSMEAR_BINARY_DIR "/tools/fedsmear", "audit", "verify", (run / "audit.jsonl").string()},
      dir.Sub("coordinator-verify.log"));
  EXPECT_EQ(coord_code, 0) << coord;
  // Four rounds, and at most one more attempt: site-3 can be selected before its first
  // heartbeat says it waits, and that attempt is closed (and audited) as waiting.
  EXPECT_TRUE(coord.find("round_closed=4") != std::string::npos ||
              coord.find("round_closed=5") != std::string::npos)
      << coord;
}

}  // namespace
}  // namespace fedsmear
