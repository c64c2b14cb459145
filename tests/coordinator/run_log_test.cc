#include "coordinator/run_log.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <sstream>

#include "common/file_util.h"
#include "models/packed_model.h"
#include "tests/temp_dir.h"

namespace fedsmear {
namespace {

namespace fs = std::filesystem;

ModelState Model(float v) {
  ModelState s;
  s.meta = {"bdn-tiny", 2, 32, {"a", "b"}};
  s.tensors.push_back({"w", {2}, TensorKind::kFloat, {v, -v}});
  return s;
}

RoundRecord Round(int round, double macro_f1) {
  RoundRecord r;
  r.round = round;
  r.lr = 0.001;
  r.sites_selected = {"site-1", "site-2"};
  r.sites_reported = {"site-1", "site-2"};
  r.accuracy = macro_f1 + 0.05;
  r.macro_f1 = macro_f1;
  return r;
}

std::vector<int> RoundsIn(const std::string& metrics) {
  Result<std::string> text = ReadFile(metrics);
  EXPECT_TRUE(text.ok()) << text.status();
  std::vector<int> rounds;
  std::istringstream in(text.value_or(""));
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    Result<RoundRecord> r = ParseRoundRecord(line, n);
    EXPECT_TRUE(r.ok()) << r.status();
    if (r.ok()) rounds.push_back(r->round);
  }
  return rounds;
}

class RunLogTest : public ::testing::Test {
 protected:
  RunLog Log(int patience) { return RunLog(RunLogOptions{dir_, patience, 3}); }
  testing::TempDir tmp_{"fedsmear-runlog"};
  std::string dir_ = tmp_.path().string();
};

TEST_F(RunLogTest, KeepsTheBestModelAndStopsAfterPatienceRoundsWithoutGain) {
  RunLog log = Log(/*patience=*/2);
  ASSERT_TRUE(log.Record(Round(1, 0.50), Model(1)).ok());
  ASSERT_TRUE(log.Record(Round(2, 0.70), Model(2)).ok());
  EXPECT_FALSE(log.ShouldStopEarly());
  // A gain under 1e-4 is no gain.
  ASSERT_TRUE(log.Record(Round(3, 0.70005), Model(3)).ok());
  EXPECT_FALSE(log.ShouldStopEarly());
  ASSERT_TRUE(log.Record(Round(4, 0.60), Model(4)).ok());
  EXPECT_TRUE(log.ShouldStopEarly());
  EXPECT_EQ(log.best_round(), 2);
  EXPECT_DOUBLE_EQ(log.best_f1(), 0.70);
  Result<std::string> bytes = ReadFile(dir_ + "/best.model");
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  Result<ModelState> best = UnpackModel(*bytes);
  ASSERT_TRUE(best.ok()) << best.status();
  EXPECT_EQ(best->tensors[0].values, (std::vector<float>{2, -2}));
  EXPECT_EQ(RoundsIn(dir_ + "/metrics.jsonl"), (std::vector<int>{1, 2, 3, 4}));
}

TEST_F(RunLogTest, NeverStopsEarlyWithoutPatienceOrWithoutCentralScores) {
  RunLog log = Log(/*patience=*/0);
  for (int r = 1; r <= 5; ++r) {
    RoundRecord rec = Round(r, 0.5);
    rec.macro_f1.reset();
    rec.accuracy.reset();
    ASSERT_TRUE(log.Record(rec, Model(static_cast<float>(r))).ok());
  }
  EXPECT_FALSE(log.ShouldStopEarly());
  // Without central scores the first round counts as the best (macro-F1 0 > -1).
  EXPECT_EQ(log.best_round(), 1);
}

TEST_F(RunLogTest, ResumeRestoresTheCountersAndDropsRoundsAfterTheCheckpoint) {
  {
    RunLog log = Log(/*patience=*/3);
    ASSERT_TRUE(log.Record(Round(1, 0.6), Model(1)).ok());
    ASSERT_TRUE(log.Record(Round(2, 0.5), Model(2)).ok());
    ASSERT_TRUE(log.SaveCheckpoint(2, {{"run_id", "run-x"}}, "state", Model(2)).ok());
    // Round 3 reached metrics.jsonl, then the coordinator died before its checkpoint.
    ASSERT_TRUE(log.Record(Round(3, 0.4), Model(3)).ok());
  }
  RunLog log = Log(/*patience=*/3);
  Result<Checkpoint> c = log.Resume();
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->round, 2);
  EXPECT_EQ(c->header.at("run_id"), "run-x");
  EXPECT_EQ(c->strategy_state, "state");
  EXPECT_EQ(log.best_round(), 1);
  EXPECT_EQ(RoundsIn(dir_ + "/metrics.jsonl"), (std::vector<int>{1, 2}));
  // One round without gain before the checkpoint; two more stop the run.
  ASSERT_TRUE(log.Record(Round(3, 0.55), Model(3)).ok());
  EXPECT_FALSE(log.ShouldStopEarly());
  ASSERT_TRUE(log.Record(Round(4, 0.55), Model(4)).ok());
  EXPECT_TRUE(log.ShouldStopEarly());
}

TEST_F(RunLogTest, ResumeWithoutACheckpointIsNotFoundAndAFreshStartClearsMetrics) {
  RunLog log = Log(0);
  EXPECT_EQ(log.Resume().status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(log.Record(Round(1, 0.5), Model(1)).ok());
  ASSERT_TRUE(fs::exists(dir_ + "/metrics.jsonl"));
  ASSERT_TRUE(log.StartFresh().ok());
  EXPECT_FALSE(fs::exists(dir_ + "/metrics.jsonl"));
  EXPECT_TRUE(log.StartFresh().ok());  // nothing to remove is fine
}

TEST_F(RunLogTest, ACheckpointWithoutTheLogsCountersIsCorrupt) {
  Checkpoint c;
  c.round = 1;
  c.header = {{"run_id", "run-x"}};
  c.global = Model(1);
  ASSERT_TRUE(SaveCheckpoint(dir_, c, 3).ok());
  RunLog log = Log(0);
  Result<Checkpoint> r = log.Resume();
  EXPECT_EQ(r.status().code(), StatusCode::kCorrupt);
  EXPECT_NE(r.status().message().find("best_f1"), std::string::npos) << r.status();
}

}  // namespace
}  // namespace fedsmear
