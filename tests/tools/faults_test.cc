#include "tools/faults.h"

#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include "tests/temp_dir.h"

namespace fedsmear {
namespace {

std::string WriteSchedule(const testing::TempDir& dir, const std::string& text) {
  std::string path = dir.Sub("faults.yaml");
  std::ofstream(path) << text;
  return path;
}

TEST(FaultScheduleTest, ShippedExampleLoads) {
  auto events = LoadFaultSchedule(FEDSMEAR_SOURCE_DIR "/configs/faults-example.yaml", 4, 5);
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_EQ(events->size(), 4u);
  EXPECT_EQ((*events)[1].kind, FaultKind::kKillSite);
  EXPECT_EQ((*events)[1].restart_round, 4);
  EXPECT_EQ((*events)[3].kind, FaultKind::kKillCoordinator);
  EXPECT_DOUBLE_EQ((*events)[3].seconds, 2.0);  // default downtime
  EXPECT_EQ(DescribeFault((*events)[1]), "kill site-2 in round 2 (restart in round 4)");
  EXPECT_EQ(SitesWithCuts(*events), std::set<int>({3}));
}

TEST(FaultScheduleTest, MistakesAreNamedWithTheirEntry) {
  testing::TempDir dir;
  struct Case {
    std::string yaml, needle;
  };
  for (const Case& c : std::vector<Case>{
           {"faults:\n  - {kind: kill_site, site: 5, round: 1}\n", "site"},
           {"faults:\n  - {kind: kill_site, site: 1, round: 9}\n", "round"},
           {"faults:\n  - {kind: kill_coordinator, round: 1}\n", "checkpoint"},
           {"faults:\n  - {kind: kill_site, site: 1, round: 3, restart_round: 2}\n", "restart_round"},
           {"faults:\n  - {kind: cut_site, site: 1, round: 2}\n", "seconds"},
           {"faults:\n  - {kind: nap_site, site: 1}\n", "kind"},
           {"faults:\n  - {kind: kill_site, site: 1, rounds: 2}\n", "rounds"},
           {"fault:\n  - {kind: kill_site, site: 1}\n", "fault"},
       }) {
    auto events = LoadFaultSchedule(WriteSchedule(dir, c.yaml), 4, 5);
    ASSERT_FALSE(events.ok()) << c.yaml;
    EXPECT_NE(events.status().message().find(c.needle), std::string::npos)
        << c.yaml << " -> " << events.status();
  }
}

TEST(FaultInjectorTest, FiresEachFaultInItsRoundAndUndoesLastingOnes) {
  std::vector<FaultEvent> events(4);
  events[0] = {FaultKind::kKillSite, 2, 2, 0, 3, 0, 0};
  events[1] = {FaultKind::kDelaySite, 1, 1, 2, 0, 0, 0.05};
  events[2] = {FaultKind::kCutSite, 3, 2, 0, 0, 0, 30};
  events[3] = {FaultKind::kKillCoordinator, 0, 3, 0, 0, 0, 0.05};
  std::vector<std::string> log;
  FaultActions a;
  a.kill_site = [&](int k) { log.push_back("kill " + std::to_string(k)); return Status::Ok(); };
  a.start_site = [&](int k) { log.push_back("start " + std::to_string(k)); return Status::Ok(); };
  a.freeze_site = [&](int k, bool f) {
    log.push_back((f ? "freeze " : "thaw ") + std::to_string(k));
    return Status::Ok();
  };
  a.cut_site = [&](int k, bool c) {
    log.push_back((c ? "cut " : "uncut ") + std::to_string(k));
    return Status::Ok();
  };
  a.kill_coordinator = [&] { log.push_back("kill coordinator"); return Status::Ok(); };
  a.resume_coordinator = [&] { log.push_back("resume coordinator"); return Status::Ok(); };
  FaultInjector f(events, a);
  auto settle = [&] {
    for (int i = 0; i < 20; ++i) {
      ASSERT_TRUE(f.Tick().ok());
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  };
  f.RoundStarted(1);
  settle();
  EXPECT_EQ(log, (std::vector<std::string>{"freeze 1", "thaw 1"}));
  log.clear();
  f.RoundStarted(2);
  settle();  // the cut lasts 30 s: still pending
  EXPECT_EQ(log, (std::vector<std::string>{"kill 2", "freeze 1", "cut 3", "thaw 1"}));
  log.clear();
  f.RoundStarted(2);  // a round seen again (after a resume) fires nothing twice
  f.RoundStarted(3);
  settle();
  EXPECT_EQ(log, (std::vector<std::string>{"start 2", "kill coordinator", "resume coordinator"}));
  log.clear();
  ASSERT_TRUE(f.Finish().ok());
  EXPECT_EQ(log, (std::vector<std::string>{"uncut 3"}));
  EXPECT_TRUE(f.idle());
}

}  // namespace
}  // namespace fedsmear
