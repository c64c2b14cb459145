// common/net/allowlist_edit.h: admitting, rotating and revoking keep the rest of the file, stay
// valid allowlists, and keep the file's mode.
#include "common/net/allowlist_edit.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "common/file_util.h"
#include "tests/temp_dir.h"

namespace fedsmear {
namespace {

class AllowlistEditTest : public ::testing::Test {
 protected:
  std::string Path() const { return dir_.Sub("allowed_sites"); }
  std::string Text() const { return ReadFile(Path()).value_or("<unreadable>"); }

  testing::TempDir dir_{"fedsmear-allowlist"};
  const AllowedSite a_{"site-a", GenerateKeyPair().public_key, std::string(64, 'a')};
  const AllowedSite b_{"site-b", GenerateKeyPair().public_key, std::string(64, 'b')};
};

TEST_F(AllowlistEditTest, AdmitCreatesTheFileAndAppends) {
  ASSERT_EQ(*AdmitSite(Path(), a_, false), AllowlistChange::kAdded);
  struct stat st {};
  ASSERT_EQ(::stat(Path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0640u);
  ASSERT_TRUE(WriteFileAtomic(Path(), "# consortium\n" + Text() + "\n", 0640).ok());
  ASSERT_EQ(*AdmitSite(Path(), b_, false), AllowlistChange::kAdded);
  EXPECT_EQ(Text(), "# consortium\n" + AllowlistLine(a_) + "\n\n" + AllowlistLine(b_) + "\n");
  auto sites = LoadAllowedSites(Path());
  ASSERT_TRUE(sites.ok()) << sites.status();
  ASSERT_EQ(sites->size(), 2u);
  EXPECT_EQ((*sites)[1].site_id, "site-b");
  EXPECT_EQ((*sites)[1].sign_public_key, b_.sign_public_key);
}

TEST_F(AllowlistEditTest, SameKeysAreUnchangedOtherKeysNeedReplace) {
  ASSERT_TRUE(AdmitSite(Path(), a_, false).ok());
  EXPECT_EQ(*AdmitSite(Path(), a_, false), AllowlistChange::kUnchanged);
  const AllowedSite rotated{"site-a", GenerateKeyPair().public_key, std::string(64, 'c')};
  auto refused = AdmitSite(Path(), rotated, false);
  EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find("--replace"), std::string::npos);
  ASSERT_TRUE(::chmod(Path().c_str(), 0604) == 0);
  ASSERT_EQ(*AdmitSite(Path(), rotated, true), AllowlistChange::kReplaced);
  auto sites = LoadAllowedSites(Path());
  ASSERT_TRUE(sites.ok()) << sites.status();
  ASSERT_EQ(sites->size(), 1u);
  EXPECT_EQ((*sites)[0].public_key, rotated.public_key);
  EXPECT_NE(Text().find("# rotated "), std::string::npos) << Text();
  struct stat st {};
  ASSERT_EQ(::stat(Path().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0604u);  // the old file's mode is kept
}

TEST_F(AllowlistEditTest, AKeyUnderTwoIdsIsRefused) {
  ASSERT_TRUE(AdmitSite(Path(), a_, false).ok());
  const AllowedSite thief{"site-x", a_.public_key, std::string(64, 'd')};
  EXPECT_EQ(AdmitSite(Path(), thief, false).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Text(), AllowlistLine(a_) + "\n");
}

TEST_F(AllowlistEditTest, RevokeCommentsTheLineOut) {
  ASSERT_TRUE(AdmitSite(Path(), a_, false).ok());
  ASSERT_TRUE(AdmitSite(Path(), b_, false).ok());
  ASSERT_EQ(*RevokeSite(Path(), "site-a"), AllowlistChange::kRemoved);
  auto sites = LoadAllowedSites(Path());
  ASSERT_TRUE(sites.ok()) << sites.status();
  ASSERT_EQ(sites->size(), 1u);
  EXPECT_EQ((*sites)[0].site_id, "site-b");
  EXPECT_NE(Text().find("# revoked "), std::string::npos);
  EXPECT_EQ(RevokeSite(Path(), "site-a").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(RevokeSite(dir_.Sub("absent"), "site-a").status().code(), StatusCode::kNotFound);
}

TEST_F(AllowlistEditTest, ABrokenFileIsNotEdited) {
  ASSERT_TRUE(WriteFileAtomic(Path(), "site-a not-a-key\n", 0640).ok());
  EXPECT_FALSE(AdmitSite(Path(), b_, false).ok());
  EXPECT_FALSE(RevokeSite(Path(), "site-a").ok());
  EXPECT_EQ(Text(), "site-a not-a-key\n");
}

}  // namespace
}  // namespace fedsmear
