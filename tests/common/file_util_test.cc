#include "common/file_util.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "common/sha256.h"
#include "tests/temp_dir.h"

namespace fedsmear {
namespace {

TEST(FileUtilTest, AtomicWriteThenRead) {
  testing::TempDir tmp("fedsmear-file-util");
  const auto& dir = tmp.path();
  std::string path = (dir / "sub" / "state.bin").string();
  ASSERT_TRUE(WriteFileAtomic(path, "first").ok());
  ASSERT_TRUE(WriteFileAtomic(path, std::string("second\0x", 8)).ok());
  auto bytes = ReadFile(path);
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(*bytes, std::string("second\0x", 8));
  // No temp files are left behind.
  int files = 0;
  for (auto& e : std::filesystem::directory_iterator(dir / "sub")) files += e.is_regular_file();
  EXPECT_EQ(files, 1);
}

// Issue 16: latent weights and checkpoints are written 0600, and the temp name is not the
// predictable "<path>.tmp-<pid>" another user of a shared folder could plant a symlink at.
TEST(FileUtilTest, PrivateModeAndUnpredictableTempName) {
  testing::TempDir tmp("fedsmear-file-util");
  const std::string path = (tmp.path() / "latent.model").string();
  const std::string planted = path + ".tmp-" + std::to_string(::getpid());
  const std::string victim = (tmp.path() / "victim").string();
  ASSERT_TRUE(WriteFileAtomic(victim, "untouched").ok());
  std::filesystem::create_symlink(victim, planted);
  ASSERT_TRUE(WriteFileAtomic(path, "secret", 0600).ok());
  EXPECT_EQ(*ReadFile(victim), "untouched");  // old behaviour: written through the symlink
  const auto perms = std::filesystem::status(path).permissions();
  EXPECT_EQ(perms & (std::filesystem::perms::group_all | std::filesystem::perms::others_all),
            std::filesystem::perms::none);
  EXPECT_EQ(*ReadFile(path), "secret");
}

TEST(FileUtilTest, MissingAndOversizedFiles) {
  EXPECT_EQ(ReadFile("/nonexistent/fedsmear").status().code(), StatusCode::kNotFound);
  testing::TempDir tmp("fedsmear-file-util");
  const auto& dir = tmp.path();
  std::string path = (dir / "big").string();
  ASSERT_TRUE(WriteFileAtomic(path, std::string(100, 'x')).ok());
  EXPECT_EQ(ReadFile(path, 99).status().code(), StatusCode::kResourceExhausted);
  EXPECT_TRUE(ReadFile(path, 100).ok());
}

TEST(Sha256Test, KnownVectors) {
  EXPECT_EQ(ToHex(Sha256Of("")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(ToHex(Sha256Of("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  Sha256 h;
  h.Update("a");
  h.Update("bc");
  EXPECT_EQ(h.Final(), Sha256Of("abc"));
}

}  // namespace
}  // namespace fedsmear
