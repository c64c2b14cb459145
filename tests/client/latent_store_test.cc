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
  ASSERT_TRUE(SaveLatentState(dir.Sub("state/site-1"), latent).ok());  // creates the folders
  auto loaded = LoadLatentState(dir.Sub("state/site-1"));
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  ASSERT_TRUE(loaded->has_value());
  ASSERT_TRUE(CheckSameLayout(latent, **loaded).ok());
  for (size_t i = 0; i < latent.tensors.size(); ++i) {
    EXPECT_EQ((*loaded)->tensors[i].values, latent.tensors[i].values) << latent.tensors[i].name;
  }
  // A second save replaces the first.
  ModelState next = latent;
  next.tensors[0].values[1] = 0.9f;
  ASSERT_TRUE(SaveLatentState(dir.Sub("state/site-1"), next).ok());
  EXPECT_EQ((*LoadLatentState(dir.Sub("state/site-1")))->tensors[0].values[1], 0.9f);
}

TEST(LatentStoreTest, DamagedFileIsCorruptAndNamed) {
  TempDir dir;
  ASSERT_TRUE(SaveLatentState(dir.Sub("s"), Latent()).ok());
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
  Status st = SaveLatentState(dir.Sub("file/state"), Latent());
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("state_dir"), std::string::npos) << st;
}

}  // namespace
}  // namespace fedsmear
