#include "coordinator/checkpoint.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "common/file_util.h"

namespace fedsmear {
namespace {

namespace fs = std::filesystem;

ModelState Model(float v) {
  ModelState s;
  s.meta = {"bdn-tiny", 2, 32, {"a", "b"}};
  s.tensors.push_back({"w", {2}, TensorKind::kFloat, {v, -v}});
  return s;
}

class CheckpointTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (fs::temp_directory_path() / ("fedsmear_ckpt_" + std::to_string(::getpid()))).string();
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string dir_;
};

TEST_F(CheckpointTest, SaveLoadAndKeepTheLastFew) {
  for (int r = 1; r <= 5; ++r) {
    Checkpoint c;
    c.round = r;
    c.header = {{"rng", "state" + std::to_string(r)}};
    c.strategy_state = std::string("adam\0moments", 12);
    c.global = Model(static_cast<float>(r));
    ASSERT_TRUE(SaveCheckpoint(dir_, c, 3).ok());
  }
  int files = 0;
  for (auto& e : fs::directory_iterator(fs::path(dir_) / "checkpoints")) files += e.is_regular_file();
  EXPECT_EQ(files, 3);
  auto latest = LoadLatestCheckpoint(dir_);
  ASSERT_TRUE(latest.ok()) << latest.status();
  EXPECT_EQ(latest->round, 5);
  EXPECT_EQ(latest->header["rng"], "state5");
  EXPECT_EQ(latest->strategy_state, std::string("adam\0moments", 12));
  EXPECT_EQ(latest->global.tensors[0].values, (std::vector<float>{5, -5}));
}

TEST_F(CheckpointTest, CorruptLatestFallsBackToThePrevious) {
  for (int r = 1; r <= 2; ++r) {
    Checkpoint c;
    c.round = r;
    c.global = Model(static_cast<float>(r));
    ASSERT_TRUE(SaveCheckpoint(dir_, c, 3).ok());
  }
  std::string latest = dir_ + "/checkpoints/round-000002.ckpt";
  std::string bytes = *ReadFile(latest);
  bytes[bytes.size() / 2] ^= 1;
  ASSERT_TRUE(WriteFileAtomic(latest, bytes).ok());
  EXPECT_EQ(LoadCheckpointFile(latest).status().code(), StatusCode::kCorrupt);
  auto c = LoadLatestCheckpoint(dir_);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->round, 1);
  // Truncation is caught too.
  ASSERT_TRUE(WriteFileAtomic(latest, bytes.substr(0, 20)).ok());
  EXPECT_EQ(LoadLatestCheckpoint(dir_)->round, 1);
}

TEST_F(CheckpointTest, NothingToResume) {
  EXPECT_EQ(LoadLatestCheckpoint(dir_).status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace fedsmear
