// Latent weights kept on disk between site restarts (client/latent_store.h).
#include "client/latent_store.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "common/file_util.h"
#include "tests/temp_dir.h"

namespace fedsmear {
namespace {

using testing::TempDir;

ModelState Latent() {
  ModelState s;
  s.meta = {"bdn-tiny", 2, 32, {"a", "b"}};
  s.tensors.push_back({"conv.weight", {2, 3}, TensorKind::kBinary, {0.7f, -0.002f, 1.3f, -1.1f,
                                                                    0.001f, -0.4f}});
  s.tensors.push_back({"fc.weight", {2}, TensorKind::kFloat, {0.25f, -3.5f}});
  s.tensors.push_back({"bn.running_var", {1}, TensorKind::kStat, {91234.5f}});
  return s;
}

TEST(LatentStoreTest, NothingSavedIsNotAnError) {
  TempDir dir;
  auto loaded = LoadLatentState(dir.Sub("never-written"));
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_FALSE(loaded->has_value());
}

TEST(LatentStoreTest, SavedLatentWeightsComeBackExactly) {
  TempDir dir;
  const ModelState latent = Latent();
  ASSERT_TRUE(SaveLatentState(dir.Sub("state/site-1"), latent, "run-a").ok());  // makes folders
  auto loaded = LoadLatentState(dir.Sub("state/site-1"));
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  ASSERT_TRUE(loaded->has_value());
  EXPECT_EQ((*loaded)->run_id, "run-a");
  const ModelState& back = (*loaded)->latent;
  ASSERT_TRUE(CheckSameLayout(latent, back).ok());
  for (size_t i = 0; i < latent.tensors.size(); ++i) {
    EXPECT_EQ(back.tensors[i].values, latent.tensors[i].values) << latent.tensors[i].name;
  }
  // A second save replaces the first, run id included.
  ModelState next = latent;
  next.tensors[0].values[1] = 0.9f;
  ASSERT_TRUE(SaveLatentState(dir.Sub("state/site-1"), next, "run-b").ok());
  auto again = LoadLatentState(dir.Sub("state/site-1"));
  ASSERT_TRUE(again.ok() && again->has_value()) << again.status();
  EXPECT_EQ((*again)->latent.tensors[0].values[1], 0.9f);
  EXPECT_EQ((*again)->run_id, "run-b");
}

// Weights saved by a fedsmear from before run ids came with no latent.run: they load, with an
// unknown run (the site adopts them for the first run it joins).
TEST(LatentStoreTest, WeightsWithoutARunIdLoadWithAnUnknownRun) {
  TempDir dir;
  ASSERT_TRUE(SaveLatentState(dir.Sub("s"), Latent(), "run-a").ok());
  std::filesystem::remove(dir.Sub("s/latent.run"));
  auto loaded = LoadLatentState(dir.Sub("s"));
  ASSERT_TRUE(loaded.ok() && loaded->has_value()) << loaded.status();
  EXPECT_EQ((*loaded)->run_id, "");
  EXPECT_EQ((*loaded)->latent.tensors[0].values, Latent().tensors[0].values);
}

TEST(LatentStoreTest, DamagedFileIsCorruptAndNamed) {
  TempDir dir;
  ASSERT_TRUE(SaveLatentState(dir.Sub("s"), Latent(), "run-a").ok());
  const std::string path = LatentStatePath(dir.Sub("s"));
  std::string bytes = *ReadFile(path);
  bytes[bytes.size() - 3] ^= 0x40;
  ASSERT_TRUE(WriteFileAtomic(path, bytes).ok());
  auto loaded = LoadLatentState(dir.Sub("s"));
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), StatusCode::kCorrupt);
  EXPECT_NE(loaded.status().message().find("latent.model"), std::string::npos)
      << loaded.status();
}

TEST(LatentStoreTest, UnwritableFolderIsAnError) {
  TempDir dir;
  ASSERT_TRUE(WriteFileAtomic(dir.Sub("file"), "not a folder").ok());
  Status st = SaveLatentState(dir.Sub("file/state"), Latent(), "run-a");
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("state_dir"), std::string::npos) << st;
}

}  // namespace
}  // namespace fedsmear
