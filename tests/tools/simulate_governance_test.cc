// Plan approval through the programs: `fedsmear simulate --unapproved-sites 1` starts a site that
// refuses its tasks; its operator runs `fedsmear-client plan approve` while the run goes on (the
// daemon and the command append to the same audit log), and the site joins the next round.
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

  // Wait for site-3 to refuse a task, then approve the plan `plan show` names.
  const fs::path site_log = run / "state" / "site-3" / "audit.jsonl";
  bool refused = false;
  for (int i = 0; i < 1200 && !refused && sim->running(); ++i) {
    for (const auto& e : ReadJsonLines(site_log)) {
      refused |= e["kind"] == "task_received" && e["fields"]["admitted"] == false;
    }
    if (!refused) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_TRUE(refused) << ReadFile(dir.Sub("simulate.log")).value_or("");
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

  // Round 1 went on without site-3, which refused for want of approval; from the approval on it
  // takes part, so the last round has all three sites and nobody failed for another reason.
  auto rows = ReadJsonLines(run / "metrics.jsonl");
  ASSERT_EQ(rows.size(), 4u) << log;
  ASSERT_TRUE(rows[0]["sites_failed"].contains("site-3")) << rows[0].dump();
  EXPECT_EQ(rows[0]["sites_reported"].size(), 2u) << rows[0].dump();
  bool joined = false;
  for (const auto& r : rows) {
    const bool reported = r["sites_reported"].size() == 3u;
    EXPECT_FALSE(joined && !reported) << "site-3 left again: " << r.dump();
    joined |= reported;
    for (const auto& [site, why] : r["sites_failed"].items()) {
      EXPECT_EQ(site, "site-3") << r.dump();
      EXPECT_NE(why.get<std::string>().find("not approved"), std::string::npos) << r.dump();
    }
  }
  EXPECT_TRUE(joined);
  EXPECT_EQ(rows.back()["sites_reported"].size(), 3u) << rows.back().dump();

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
  EXPECT_NE(coord.find("round_closed=4"), std::string::npos) << coord;
}

}  // namespace
}  // namespace fedsmear
