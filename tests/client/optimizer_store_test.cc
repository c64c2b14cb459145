// A site's optimizer state kept on disk between site restarts (client/optimizer_store.h).
#include "client/optimizer_store.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "common/file_util.h"
#include "tests/temp_dir.h"

namespace fedsmear {
namespace {

using testing::TempDir;

OptimizerState Moments() {
  OptimizerState s;
  s.step = 57;
  s.first.tensors.push_back({"features.conv0.weight", {2, 3}, TensorKind::kFloat,
                             {0.5f, -1e-7f, 3.25f, -0.f, 1e-30f, -2.f}});
  s.first.tensors.push_back({"classifier.bias", {2}, TensorKind::kFloat, {0.1f, -0.2f}});
  s.second.tensors.push_back({"features.conv0.weight", {2, 3}, TensorKind::kFloat,
                              {1e-8f, 2e-9f, 0.f, 4.f, 5e-12f, 6.f}});
  s.second.tensors.push_back({"classifier.bias", {2}, TensorKind::kFloat, {1e-3f, 0.5f}});
  return s;
}

TEST(OptimizerStoreTest, NothingSavedIsNotAnError) {
  TempDir dir;
  auto loaded = LoadOptimizerState(dir.Sub("never-written"));
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_FALSE(loaded->has_value());
}

TEST(OptimizerStoreTest, SavedMomentsComeBackExactlyWithTheirRun) {
  TempDir dir;
  const OptimizerState s = Moments();
  ASSERT_TRUE(SaveOptimizerState(dir.Sub("state/site-1"), s, "run-a").ok());  // makes folders
  auto loaded = LoadOptimizerState(dir.Sub("state/site-1"));
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  ASSERT_TRUE(loaded->has_value());
  const SavedOptimizerState& back = **loaded;
  EXPECT_EQ(back.run_id, "run-a");
  EXPECT_EQ(back.state.step, 57);
  ASSERT_EQ(back.state.first.tensors.size(), 2u);
  ASSERT_EQ(back.state.second.tensors.size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ(back.state.first.tensors[i].name, s.first.tensors[i].name);
    EXPECT_EQ(back.state.first.tensors[i].shape, s.first.tensors[i].shape);
    EXPECT_EQ(back.state.first.tensors[i].values, s.first.tensors[i].values);
    EXPECT_EQ(back.state.second.tensors[i].values, s.second.tensors[i].values);
  }
  // SGD keeps no second moment: an empty list round-trips as empty.
  OptimizerState sgd;
  sgd.first = s.first;
  ASSERT_TRUE(SaveOptimizerState(dir.Sub("state/site-1"), sgd, "run-b").ok());
  auto again = LoadOptimizerState(dir.Sub("state/site-1"));
  ASSERT_TRUE(again.ok() && again->has_value()) << again.status();
  EXPECT_EQ((*again)->run_id, "run-b");
  EXPECT_EQ((*again)->state.step, 0);
  EXPECT_TRUE((*again)->state.second.tensors.empty());
  EXPECT_EQ((*again)->state.first.tensors.size(), 2u);
}

TEST(OptimizerStoreTest, DamagedFileIsCorruptAndNamed) {
  TempDir dir;
  ASSERT_TRUE(SaveOptimizerState(dir.Sub("s"), Moments(), "run-a").ok());
  const std::string path = OptimizerStatePath(dir.Sub("s"));
  std::string bytes = *ReadFile(path);
  bytes[bytes.size() / 2] ^= 0x40;
  ASSERT_TRUE(WriteFileAtomic(path, bytes).ok());
  auto loaded = LoadOptimizerState(dir.Sub("s"));
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), StatusCode::kCorrupt);
  EXPECT_NE(loaded.status().message().find("optimizer.state"), std::string::npos)
      << loaded.status();
  EXPECT_NE(loaded.status().message().find("checksum"), std::string::npos) << loaded.status();
  // Truncated, and not one of our files at all.
  ASSERT_TRUE(WriteFileAtomic(path, bytes.substr(0, 20)).ok());
  EXPECT_EQ(LoadOptimizerState(dir.Sub("s")).status().code(), StatusCode::kCorrupt);
  ASSERT_TRUE(WriteFileAtomic(path, "FSCKPT2\nsomething else entirely").ok());
  EXPECT_EQ(LoadOptimizerState(dir.Sub("s")).status().code(), StatusCode::kCorrupt);
}

TEST(OptimizerStoreTest, AnotherFormatIsRefusedForWhatItIs) {
  TempDir dir;
  ASSERT_TRUE(SaveOptimizerState(dir.Sub("s"), Moments(), "run-a").ok());
  const std::string path = OptimizerStatePath(dir.Sub("s"));
  std::string bytes = *ReadFile(path);
  bytes[6] = '7';  // "FSOPTS7\n": a newer fedsmear's file
  ASSERT_TRUE(WriteFileAtomic(path, bytes).ok());
  auto loaded = LoadOptimizerState(dir.Sub("s"));
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(loaded.status().message().find("format 7"), std::string::npos) << loaded.status();
}

TEST(OptimizerStoreTest, UnwritableFolderIsAnError) {
  TempDir dir;
  ASSERT_TRUE(WriteFileAtomic(dir.Sub("file"), "not a folder").ok());
  Status st = SaveOptimizerState(dir.Sub("file/state"), Moments(), "run-a");
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("state_dir"), std::string::npos) << st;
}

}  // namespace
}  // namespace fedsmear
